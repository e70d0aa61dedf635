using LossLab.Losses.Core;
using LossLab.Losses.MetricLearning;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// sentence-transformers' <c>BatchAllTripletLoss(distance_metric=eucledian_distance, margin=5)</c>: every valid triplet
/// of a labelled batch (anchor i, positive j ≠ i of its label, negative k of another label), t_ijk = max(0, d_ij − d_ik
/// + m), summed and divided by the number of triplets with t &gt; 10⁻¹⁶ (plus 10⁻¹⁶, so that a batch without one gives 0).
/// </summary>
/// <remarks>
/// <b>Gradient:</b> each triplet with t ≥ 0 adds 1/(count + 10⁻¹⁶) to ∂/∂d_ij and subtracts it from ∂/∂d_ik (the count is
/// not differentiated), then through the distance. O(N³) time over the triplets, O(N²) memory for the distances.
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
        if (b.HasNaN)
        {
            TensorData nan = FromDoubles<T>([double.NaN], Shape.Scalar);
            return computeGradients ? Result(nan, ("embeddings", FromDoubles<T>(Enumerable.Repeat(double.NaN, b.N * b.D).ToArray(), b.Shape))) : Result(nan);
        }
        int n = b.N;
        long[] y = b.Labels;
        double sum = 0;
        long count = 0;
        // Pass 1: the sum and the count of positive triplets; pass 2 (gradients) needs the count first.
        for (int pass = 0; pass < (computeGradients ? 2 : 1); pass++)
        {
            double[]? slopes = pass == 1 ? new double[n * n] : null;
            double w = 1 / (count + 1e-16);
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    if (j == i || y[j] != y[i]) continue;
                    for (int k = 0; k < n; k++)
                    {
                        if (y[k] == y[i]) continue;
                        double t = b[i, j] - b[i, k] + _margin;
                        if (pass == 0)
                        {
                            if (t > 0) sum += t;
                            if (t > 1e-16) count++;
                        }
                        else if (t >= 0)
                        {
                            slopes![i * n + j] += w;
                            slopes[i * n + k] -= w;
                        }
                    }
                }
            }
            if (slopes is not null)
                return Result(FromDoubles<T>([sum / (count + 1e-16)], Shape.Scalar), ("embeddings", FromDoubles<T>(b.Backward(slopes), b.Shape)));
        }
        return Result(FromDoubles<T>([sum / (count + 1e-16)], Shape.Scalar));
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
