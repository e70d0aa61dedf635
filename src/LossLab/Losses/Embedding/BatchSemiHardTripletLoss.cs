using LossLab.Losses.Core;
using LossLab.Losses.MetricLearning;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// sentence-transformers' <c>BatchSemiHardTripletLoss(distance_metric=eucledian_distance, margin=5)</c>, TensorFlow
/// Addons' semi-hard triplet loss (Schroff et al. 2015, FaceNet): for every positive pair (i, j ≠ i of i's label) the
/// negative is the nearest row of another label that is farther from i than j (semi-hard); when none is, the farthest
/// negative of i; when i has no negative at all, the smallest distance in i's row. ℓ = Σ_pairs max(0, d_ij − d_in + m)
/// divided by the number of positive pairs.
/// </summary>
/// <remarks>
/// <para><b>Gradient:</b> +1 on d_ij and −1 on the chosen negative's d_in per pair with a positive term, divided by the
/// number of pairs, then through the distance; the choice is not differentiated (TensorFlow's masked minimum passes the
/// gradient to the chosen entry alone).</para>
/// <para>A batch without a positive pair gives 0 with no gradient; sentence-transformers divides 0 by 0 (NaN).</para>
/// </remarks>
public sealed class BatchSemiHardTripletLoss : SentenceEmbeddingLoss, ILossDefinition
{
    private readonly BatchDistanceMetric _metric;
    private readonly double _margin;

    public BatchSemiHardTripletLoss(BatchDistanceMetric metric = BatchDistanceMetric.Euclidean, double margin = 5)
    {
        if (!double.IsFinite(margin)) throw LossArgumentException.Value($"BatchSemiHardTripletLoss: margin must be finite, got {margin}");
        (_metric, _margin) = (metric, margin);
    }

    protected override string[] EmbeddingInputs => ["embeddings"];

    protected override LossResult ComputeEmbeddings<T>(LossInputs inputs, bool computeGradients)
    {
        var b = new BatchTriplets(inputs, "BatchSemiHardTripletLoss", _metric);
        int n = b.N;
        long[] y = b.Labels;
        long pairs = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) if (j != i && y[j] == y[i]) pairs++;
        double w = pairs == 0 ? 0 : 1.0 / pairs, sum = 0;
        double[]? slopes = computeGradients ? new double[n * n] : null;
        if (b.HasNaN) return NaNResult<T>(b, computeGradients);
        // Each anchor's negatives by distance (ties by index), so that a positive's semi-hard negative — the nearest one
        // farther than the positive, the first index among equals — is one binary search: O(N² log N), not O(N³).
        var negatives = new int[n];
        var distances = new double[n];
        var order = new (double Distance, int Index)[n];   // sorted as tuples: by distance, then index, without a delegate per comparison
        for (int i = 0; i < n; i++)
        {
            // The fallbacks: i's farthest negative, or (no negative) the smallest distance in its row.
            int farthest = -1, nearestAny = 0, m = 0;
            for (int k = 0; k < n; k++)
            {
                if (b[i, k] < b[i, nearestAny]) nearestAny = k;
                if (y[k] == y[i]) continue;
                if (farthest < 0 || b[i, k] > b[i, farthest]) farthest = k;
                negatives[m++] = k;
            }
            for (int q = 0; q < m; q++) order[q] = (b[i, negatives[q]], negatives[q]);
            order.AsSpan(0, m).Sort();
            for (int q = 0; q < m; q++) (distances[q], negatives[q]) = order[q];
            for (int j = 0; j < n; j++)
            {
                if (j == i || y[j] != y[i]) continue;
                int at = FirstAbove(distances.AsSpan(0, m), b[i, j]);
                int chosen = at < m ? negatives[at] : farthest >= 0 ? farthest : nearestAny;
                double t = b[i, j] - b[i, chosen] + _margin;
                if (t <= 0) continue;
                sum += t;
                if (slopes is null) continue;
                slopes[i * n + j] += w;
                slopes[i * n + chosen] -= w;
            }
        }
        TensorData value = FromDoubles<T>([sum * w], Shape.Scalar);
        if (slopes is null) return Result(value);
        return Result(value, ("embeddings", FromDoubles<T>(b.Backward(slopes), b.Shape)));
    }

    /// <summary>The first position of ascending <paramref name="sorted"/> holding a value above <paramref name="x"/> (its length when none).</summary>
    internal static int FirstAbove(ReadOnlySpan<double> sorted, double x)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] > x) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "BatchSemiHardTripletLoss",
        Aliases = ["batch_semi_hard_triplet_loss", "st.BatchSemiHardTripletLoss", "semi_hard_triplet_loss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options = [OptionSpec.Float("margin", 5.0, "the negative should be this much farther than the positive"), BatchTriplets.MetricOption, .. MatryoshkaOptions],
        Sample = BatchTriplets.Sample,
        Formula = "ℓ = Σ_{(i,j) positive} max(0, d_ij − d_in + m) / #pairs,  n: the nearest negative farther than j (semi-hard)",
        Gradient = "±1/#pairs on d_ij and the chosen d_in of each pair with a positive term, through the distance",
        Reference = "sentence-transformers BatchSemiHardTripletLoss; TensorFlow Addons triplet_semihard_loss; Schroff et al. 2015",
        Stability = "distances in double: finite for any finite input",
        Libraries = "sentence-transformers (BatchSemiHardTripletLoss), TensorFlow Addons; one value per batch",
        Factory = o => new BatchSemiHardTripletLoss(BatchTriplets.ParseMetric(o.Choice("distance_metric")), o.Float("margin")) { Matryoshka = MatryoshkaDims.From(o, "BatchSemiHardTripletLoss") },
    };

    public override LossDescriptor Descriptor => Entry;
}
