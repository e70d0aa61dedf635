using LossLab.Losses.Core;
using LossLab.Losses.MetricLearning;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// sentence-transformers' <c>BatchHardTripletLoss(distance_metric=eucledian_distance, margin=5)</c> (Hermans, Beyer and
/// Leibe 2017, "In Defense of the Triplet Loss"), and with <c>soft_margin</c> its <c>BatchHardSoftMarginTripletLoss</c>:
/// every row of a labelled batch is an anchor with its hardest positive (the farthest row of its label) and hardest
/// negative (the nearest row of another label); ℓ_i = max(0, d_ip − d_in + m), or log(1 + e^{d_ip − d_in}) for the soft
/// margin, averaged over all N anchors. An anchor without a positive takes d_ip = 0; without a negative, d_in is its
/// largest distance, as sentence-transformers' masked minimum gives.
/// </summary>
/// <remarks>
/// <b>Gradient:</b> ±1 (or ±σ(d_ip − d_in)) on the two chosen distances of each anchor, the choice not differentiated;
/// then through the distance (‖x_i − x_j‖, its square, or 1 − cos). torch's in-place clamp passes the gradient at
/// exactly 0 too; so does this.
/// </remarks>
public sealed class BatchHardTripletLoss : SentenceEmbeddingLoss, ILossDefinition
{
    private readonly BatchDistanceMetric _metric;
    private readonly double _margin;
    private readonly bool _soft;

    public BatchHardTripletLoss(BatchDistanceMetric metric = BatchDistanceMetric.Euclidean, double margin = 5, bool softMargin = false)
    {
        if (!double.IsFinite(margin)) throw LossArgumentException.Value($"BatchHardTripletLoss: margin must be finite, got {margin}");
        (_metric, _margin, _soft) = (metric, margin, softMargin);
    }

    protected override string[] EmbeddingInputs => ["embeddings"];

    protected override LossResult ComputeEmbeddings<T>(LossInputs inputs, bool computeGradients)
    {
        // Each anchor needs only its own row of distances: streamed in blocks, never N × N (the rows may run on two
        // threads; each writes only its anchor's entries).
        var b = new BatchTriplets(inputs, "BatchHardTripletLoss", _metric, matrix: false);
        int n = b.N;
        var terms = new double[n];
        int[] positiveAt = new int[n], negativeAt = new int[n];
        double[] slope = new double[n];   // ±slope on the hardest positive and negative distances, the mean's 1/N included
        bool nan = b.ForEachRow((i, row) =>
        {
            var (hp, hpAt, hn, hnAt) = b.Hardest(i, row);
            double t = hp - hn, g;
            if (_soft)
            {
                terms[i] = Stable.Softplus(t);
                g = Stable.Sigmoid(t);
            }
            else
            {
                t += _margin;
                terms[i] = Math.Max(0, t);
                g = t >= 0 ? 1 : 0;
            }
            (positiveAt[i], negativeAt[i], slope[i]) = (hpAt, hnAt, g / n);
        });
        double sum = 0;
        foreach (double t in terms) sum += t;
        TensorData value = FromDoubles<T>([n == 0 || nan ? double.NaN : sum / n], Shape.Scalar);
        if (!computeGradients) return Result(value);
        // ∂L/∂D: each anchor's slope on its hardest positive (none without one) and minus it on its hardest negative: 2N terms.
        var pairs = new List<(int, int, double)>(2 * n);
        for (int i = 0; i < n; i++)
        {
            if (slope[i] == 0) continue;
            if (positiveAt[i] >= 0) pairs.Add((i, positiveAt[i], slope[i]));
            pairs.Add((i, negativeAt[i], -slope[i]));
        }
        return Result(value, ("embeddings", FromDoubles<T>(b.Backward(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pairs)), b.Shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "BatchHardTripletLoss",
        Aliases = ["batch_hard_triplet_loss", "st.BatchHardTripletLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options =
        [
            OptionSpec.Float("margin", 5.0, "the hardest negative should be this much farther than the hardest positive"),
            BatchTriplets.MetricOption,
            OptionSpec.Bool("soft_margin", false, "log(1 + e^{d_ap − d_an}) without a margin: BatchHardSoftMarginTripletLoss"),
            .. MatryoshkaOptions,
        ],
        Sample = BatchTriplets.Sample,
        Formula = "ℓ = mean_i max(0, max_{p} d_ip − min_{n} d_in + m)  (soft margin: log(1 + e^{d_ip − d_in}))",
        Gradient = "±1 (soft: ±σ) on each anchor's hardest positive and negative distance, through the distance",
        Reference = "sentence-transformers BatchHardTripletLoss, BatchHardSoftMarginTripletLoss; Hermans, Beyer and Leibe 2017",
        Stability = "distances in double, the soft margin as a stable softplus: finite for any finite input",
        Libraries = "sentence-transformers (BatchHardTripletLoss; soft_margin: BatchHardSoftMarginTripletLoss); one value per batch",
        Factory = o => new BatchHardTripletLoss(BatchTriplets.ParseMetric(o.Choice("distance_metric")), o.Float("margin"), o.Bool("soft_margin")) { Matryoshka = MatryoshkaDims.From(o, "BatchHardTripletLoss") },
    };

    public override LossDescriptor Descriptor => Entry;
}
