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
        // Each anchor needs only its own row of distances: streamed in blocks (never N × N; the rows may run on two
        // threads, each writing only its anchor's entries), and the gradient is a list of the chosen pairs' slopes.
        var b = new BatchTriplets(inputs, "BatchSemiHardTripletLoss", _metric, matrix: false);
        int n = b.N;
        long[] y = b.Labels;
        long pairs = 0;
        foreach (var group in y.GroupBy(label => label)) pairs += (long)group.Count() * (group.Count() - 1);
        double w = pairs == 0 ? 0 : 1.0 / pairs;
        var sums = new double[n];
        var terms = computeGradients ? new (int, int, double)[n][] : null;
        bool nan = b.ForEachRow((i, row) => sums[i] = Anchor(i, row, y, w, terms));
        if (nan) return NaNResult<T>(b, computeGradients);
        double sum = 0;
        foreach (double v in sums) sum += v;
        TensorData value = FromDoubles<T>([sum * w], Shape.Scalar);
        if (terms is null) return Result(value);
        var all = new (int, int, double)[terms.Sum(t => t.Length)];
        int at = 0;
        foreach (var t in terms)
        {
            t.CopyTo(all, at);
            at += t.Length;
        }
        return Result(value, ("embeddings", FromDoubles<T>(b.Backward(all), b.Shape)));
    }

    /// <summary>
    /// Anchor i's terms from its row of distances: each anchor's negatives sorted by distance (ties by index), so that a
    /// positive's semi-hard negative — the nearest one farther than the positive, the first index among equals — is one
    /// binary search (O(N log N) a row, not O(N²)). Returns Σ max(0, t) over its positive pairs and, when
    /// <paramref name="terms"/> is given, sets terms[i] to the slopes (i, j, +w) and (i, chosen, −w) of each pair with t &gt; 0.
    /// </summary>
    private double Anchor(int i, ReadOnlySpan<double> row, long[] y, double w, (int, int, double)[][]? terms)
    {
        int n = row.Length;
        var order = System.Buffers.ArrayPool<(double Distance, int Index)>.Shared.Rent(n);
        var chosenFor = System.Buffers.ArrayPool<int>.Shared.Rent(n);   // each positive's chosen negative, −1 where its term is 0
        var distances = System.Buffers.ArrayPool<double>.Shared.Rent(n);
        // The fallbacks: i's farthest negative, or (no negative) the smallest distance in its row.
        int farthest = -1, nearestAny = 0, m = 0;
        for (int k = 0; k < n; k++)
        {
            if (row[k] < row[nearestAny]) nearestAny = k;
            if (y[k] == y[i]) continue;
            if (farthest < 0 || row[k] > row[farthest]) farthest = k;
            order[m++] = (row[k], k);
        }
        order.AsSpan(0, m).Sort();   // by distance, then index: tuples, without a delegate per comparison
        for (int q = 0; q < m; q++) distances[q] = order[q].Distance;
        double sum = 0;
        // The row's slopes, ∂L/∂d_ik summed per column (a negative chosen by several positives once), then kept as the
        // list of its non-zero entries: O(active pairs) memory, not N × N. The distances' buffer is reused for them.
        Span<double> slopes = distances.AsSpan(0, n);
        for (int j = 0; j < n; j++)
        {
            chosenFor[j] = -1;
            if (j == i || y[j] != y[i]) continue;
            int at = FirstAbove(distances.AsSpan(0, m), row[j]);
            int chosen = at < m ? order[at].Index : farthest >= 0 ? farthest : nearestAny;
            double t = row[j] - row[chosen] + _margin;
            if (t <= 0) continue;
            sum += t;
            chosenFor[j] = chosen;
        }
        if (terms is not null)
        {
            slopes.Clear();
            for (int j = 0; j < n; j++)
            {
                if (chosenFor[j] < 0) continue;
                slopes[j] += w;
                slopes[chosenFor[j]] -= w;
            }
            int count = 0;
            foreach (double v in slopes) if (v != 0) count++;
            var list = new (int, int, double)[count];
            count = 0;
            for (int k = 0; k < n; k++) if (slopes[k] != 0) list[count++] = (i, k, slopes[k]);
            terms[i] = list;
        }
        System.Buffers.ArrayPool<(double, int)>.Shared.Return(order);
        System.Buffers.ArrayPool<double>.Shared.Return(distances);
        System.Buffers.ArrayPool<int>.Shared.Return(chosenFor);
        return sum;
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
