using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// sentence-transformers' <c>OnlineContrastiveLoss(distance_metric=COSINE_DISTANCE, margin=0.5)</c>: the contrastive
/// loss on the batch's hard pairs only. A similar pair (label 1) counts when its distance exceeds the smallest distance
/// of a dissimilar pair (label 0), a dissimilar pair when its distance is below the largest of a similar pair; with at
/// most one pair of the other kind, the threshold is the mean distance of the pair's own kind instead (for the
/// dissimilar pairs when at most one similar pair exists, and the other way round), as sentence-transformers computes
/// it. ℓ = Σ_hard similar d² + Σ_hard dissimilar max(0, m − d)², one value per batch (no ½, no mean).
/// </summary>
/// <remarks>
/// <b>Gradient:</b> 2d for each hard similar pair, −2·max(0, m − d) for each hard dissimilar one, through the distance;
/// the selection is not differentiated. Labels other than 0 and 1 take no part, as there.
/// </remarks>
public sealed class OnlineContrastiveLoss : SentenceEmbeddingLoss, ILossDefinition
{
    private readonly IEmbeddingDistance _distance;
    private readonly double _margin;

    public OnlineContrastiveLoss(IEmbeddingDistance distance, double margin = 0.5)
    {
        ArgumentNullException.ThrowIfNull(distance);
        if (!double.IsFinite(margin)) throw LossArgumentException.Value($"OnlineContrastiveLoss: margin must be finite, got {margin}");
        (_distance, _margin) = (distance, margin);
    }

    protected override string[] EmbeddingInputs => ["embeddings1", "embeddings2"];

    protected override LossResult ComputeEmbeddings<T>(LossInputs inputs, bool computeGradients)
    {
        var (n, d, u, v, y) = PairContrastiveLoss.ReadPairs(inputs, "OnlineContrastiveLoss");
        var dist = new double[n];
        for (int k = 0; k < n; k++) dist[k] = _distance.Distance(u.AsSpan(k * d, d), v.AsSpan(k * d, d));
        double[] poss = [.. Enumerable.Range(0, n).Where(k => y[k] == 1).Select(k => dist[k])];
        double[] negs = [.. Enumerable.Range(0, n).Where(k => y[k] == 0).Select(k => dist[k])];
        // sentence-transformers' thresholds; the mean of no value is NaN there, which no comparison passes.
        double negThreshold = poss.Length > 1 ? poss.Max() : negs.Length == 0 ? double.NaN : negs.Average();
        double posThreshold = negs.Length > 1 ? negs.Min() : poss.Length == 0 ? double.NaN : poss.Average();
        double loss = 0;
        double[] gu = computeGradients ? new double[u.Length] : [], gv = computeGradients ? new double[v.Length] : [];
        for (int k = 0; k < n; k++)
        {
            double g;
            if (y[k] == 1 && dist[k] > posThreshold)
            {
                loss += dist[k] * dist[k];
                g = 2 * dist[k];
            }
            else if (y[k] == 0 && dist[k] < negThreshold)
            {
                double hinge = Math.Max(0, _margin - dist[k]);
                loss += hinge * hinge;
                g = -2 * hinge;
            }
            else
            {
                continue;
            }
            if (computeGradients && g != 0) _distance.Backward(u.AsSpan(k * d, d), v.AsSpan(k * d, d), g, gu.AsSpan(k * d, d), gv.AsSpan(k * d, d));
        }
        // A NaN distance fails every comparison and would drop out of the selection: it makes the loss NaN instead.
        if (dist.Any(double.IsNaN)) loss = double.NaN;
        TensorData value = FromDoubles<T>([loss], Shape.Scalar);
        if (!computeGradients) return Result(value);
        return Result(value, ("embeddings1", FromDoubles<T>(gu, inputs["embeddings1"].Shape)), ("embeddings2", FromDoubles<T>(gv, inputs["embeddings2"].Shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "OnlineContrastiveLoss",
        Aliases = ["online_contrastive_loss", "st.OnlineContrastiveLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = PairContrastiveLoss.PairInputs,
        Options = [OptionSpec.Float("margin", 0.5, "hard dissimilar pairs closer than this are pushed apart"), PairContrastiveLoss.MetricOption, .. MatryoshkaOptions],
        Sample = PairContrastiveLoss.PairSample,
        Formula = "ℓ = Σ_{hard y=1} d² + Σ_{hard y=0} max(0, m − d)²,  hard: beyond the other kind's closest (or farthest) distance",
        Gradient = "2d or −2·max(0, m − d) per hard pair, through the distance; the selection not differentiated",
        Reference = "sentence-transformers OnlineContrastiveLoss",
        Stability = "distances in double: finite for any finite input",
        Libraries = "sentence-transformers (OnlineContrastiveLoss); one value per batch",
        Factory = o => new OnlineContrastiveLoss(PairContrastiveLoss.Metric(o.Choice("distance_metric")), o.Float("margin")) { Matryoshka = MatryoshkaDims.From(o, "OnlineContrastiveLoss") },
    };

    public override LossDescriptor Descriptor => Entry;
}
