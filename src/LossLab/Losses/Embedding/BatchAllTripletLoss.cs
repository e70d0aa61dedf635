using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using LossLab.Losses.Core;
using LossLab.Losses.MetricLearning;
using LossLab.Numerics;
using LossLab.Numerics.Simd;

namespace LossLab.Losses.Embedding;

/// <summary>
/// sentence-transformers' <c>BatchAllTripletLoss(distance_metric=eucledian_distance, margin=5)</c>: every valid triplet
/// of a labelled batch (anchor i, positive j ≠ i of its label, negative k of another label), t_ijk = max(0, d_ij − d_ik
/// + m), summed and divided by the number of triplets with t &gt; 10⁻¹⁶ (plus 10⁻¹⁶, so that a batch without one gives 0).
/// </summary>
/// <remarks>
/// <b>Gradient:</b> each triplet with t ≥ 0 adds 1/(count + 10⁻¹⁶) to ∂/∂d_ij and subtracts it from ∂/∂d_ik (the count is
/// not differentiated), then through the distance. O(N³) time over the triplets (each anchor–positive pair against a row
/// of the anchor's negatives, on double lanes), O(N²) memory for the distances.
/// </remarks>
public sealed class BatchAllTripletLoss : SentenceEmbeddingLoss, ILossDefinition
{
    private readonly BatchDistanceMetric _metric;
    private readonly double _margin;

    public BatchAllTripletLoss(BatchDistanceMetric metric = BatchDistanceMetric.Euclidean, double margin = 5)
    {
        if (!double.IsFinite(margin)) throw LossArgumentException.Value($"BatchAllTripletLoss: margin must be finite, got {margin}");
        (_metric, _margin) = (metric, margin);
    }

    protected override string[] EmbeddingInputs => ["embeddings"];

    protected override LossResult ComputeEmbeddings<T>(LossInputs inputs, bool computeGradients)
    {
        var b = new BatchTriplets(inputs, "BatchAllTripletLoss", _metric);
        if (b.HasNaN) return NaNResult<T>(b, computeGradients);
        int n = b.N;
        long[] y = b.Labels;
        double sum = 0;
        long count = 0;
        // One pass: for each anchor, its negatives' distances gathered into one row, and each positive against that row.
        // The gradient's weight 1/(count + 10⁻¹⁶) is known only at the end, so the pass counts each pair's triplets with
        // t ≥ 0 (for d_ij as the positive, for d_ik as the negative) and scales once.
        double[]? slopes = computeGradients ? new double[n * n] : null;
        var negatives = new int[n];
        var negativeDistances = new double[n];
        var negativeActive = new double[n];
        for (int i = 0; i < n; i++)
        {
            int m = 0;
            for (int k = 0; k < n; k++)
                if (y[k] != y[i]) { negatives[m] = k; negativeDistances[m++] = b[i, k]; }
            if (m == 0) continue;
            Span<double> active = computeGradients ? negativeActive.AsSpan(0, m) : default;
            active.Clear();
            for (int j = 0; j < n; j++)
            {
                if (j == i || y[j] != y[i]) continue;
                var (rowSum, positive, ge) = Row(b[i, j], _margin, negativeDistances.AsSpan(0, m), active);
                sum += rowSum;
                count += positive;
                if (slopes is not null) slopes[i * n + j] = ge;
            }
            if (slopes is not null)
                for (int q = 0; q < m; q++) slopes[i * n + negatives[q]] = -active[q];
        }
        TensorData value = FromDoubles<T>([sum / (count + 1e-16)], Shape.Scalar);
        if (slopes is null) return Result(value);
        TensorPrimitives.Multiply<double>(slopes, 1 / (count + 1e-16), slopes);
        return Result(value, ("embeddings", FromDoubles<T>(b.Backward(slopes), b.Shape)));
    }

    /// <summary>
    /// One anchor–positive pair against the anchor's negatives' distances: t_k = d_ij − d_ik + m; returns Σ max(t_k, 0),
    /// the number of t_k &gt; 10⁻¹⁶ and of t_k ≥ 0, and adds 1 to <paramref name="active"/>[k] where t_k ≥ 0 (unless
    /// empty). The scalar loop is the specification; the vector form (double lanes) is tested against it at every
    /// length 0..300.
    /// </summary>
    internal static (double Sum, long Positive, long Active) Row(double dij, double margin, ReadOnlySpan<double> negatives, Span<double> active,
        SimdWidth width = (SimdWidth)(-1))
    {
        if ((int)width < 0) width = Simd.Best;
        return width switch
        {
            SimdWidth.V512 => RowVector<D512>(dij, margin, negatives, active),
            SimdWidth.V256 => RowVector<D256>(dij, margin, negatives, active),
            SimdWidth.V128 => RowVector<D128>(dij, margin, negatives, active),
            _ => RowScalar(0, dij, margin, negatives, active, 0, 0, 0),
        };
    }

    private static (double Sum, long Positive, long Active) RowScalar(int from, double dij, double margin, ReadOnlySpan<double> negatives,
        Span<double> active, double sum, long positive, long ge)
    {
        for (int k = from; k < negatives.Length; k++)
        {
            double t = dij - negatives[k] + margin;
            if (t > 0) sum += t;
            if (t > 1e-16) positive++;
            if (t >= 0)
            {
                ge++;
                if (!active.IsEmpty) active[k] += 1;
            }
        }
        return (sum, positive, ge);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (double Sum, long Positive, long Active) RowVector<TV>(double dij, double margin, ReadOnlySpan<double> negatives, Span<double> active)
        where TV : struct, IDVec<TV>
    {
        TV d = TV.Splat(dij), mv = TV.Splat(margin), zero = TV.Splat(0), one = TV.Splat(1), tiny = TV.Splat(1e-16);
        TV sum = zero, positive = zero, ge = zero;   // the counts in lanes: exact below 2⁵³
        int k = 0;
        for (; k <= negatives.Length - TV.Count; k += TV.Count)
        {
            TV t = d - TV.Load(negatives, k) + mv;
            sum += TV.Select(TV.LessThan(zero, t), t, zero);
            positive += TV.Select(TV.LessThan(tiny, t), one, zero);
            TV on = TV.Select(TV.LessThan(t, zero), zero, one);   // t ≥ 0 (distances are not NaN here)
            ge += on;
            if (!active.IsEmpty) TV.Store(TV.Load(active, k) + on, active, k);
        }
        return RowScalar(k, dij, margin, negatives, active, TV.Sum(sum), (long)TV.Sum(positive), (long)TV.Sum(ge));
    }


    public static LossDescriptor Entry { get; } = new()
    {
        Name = "BatchAllTripletLoss",
        Aliases = ["batch_all_triplet_loss", "st.BatchAllTripletLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options = [OptionSpec.Float("margin", 5.0, "negatives should be this much farther than positives"), BatchTriplets.MetricOption, .. MatryoshkaOptions],
        Sample = BatchTriplets.Sample,
        Formula = "ℓ = Σ_{valid (i,j,k)} max(0, d_ij − d_ik + m) / (#{t > 1e-16} + 1e-16)",
        Gradient = "±1/(count + 1e-16) on d_ij and d_ik of each triplet with t ≥ 0, through the distance",
        Reference = "sentence-transformers BatchAllTripletLoss (after Moindrot's online triplet mining)",
        Stability = "distances in double: finite for any finite input",
        Libraries = "sentence-transformers (BatchAllTripletLoss); one value per batch",
        Factory = o => new BatchAllTripletLoss(BatchTriplets.ParseMetric(o.Choice("distance_metric")), o.Float("margin")) { Matryoshka = MatryoshkaDims.From(o, "BatchAllTripletLoss") },
    };

    public override LossDescriptor Descriptor => Entry;
}
