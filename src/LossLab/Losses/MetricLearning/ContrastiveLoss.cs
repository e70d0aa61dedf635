using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Contrastive loss over labeled embeddings (pytorch-metric-learning <c>ContrastiveLoss(pos_margin=0, neg_margin=1)</c>
/// with its default <c>LpDistance(normalize_embeddings=True, p=2)</c>; Hadsell et al., 2006): over ordered pairs
/// i ≠ j, positives (same label) cost max(0, d_ij − m⁺) and negatives max(0, m⁻ − d_ij), d = ‖x̂_i − x̂_j‖.
/// </summary>
/// <remarks>
/// <para><c>mean</c> is pytorch-metric-learning's AvgNonZeroReducer: the positive and the negative terms are each
/// averaged over their non-zero pairs (0 when none), then added. <c>sum</c> adds every pair; <c>none</c> gives each
/// anchor's sum (N). The dot products come a block of anchors at a time from one double matrix product
/// (<see cref="SimilarityBlocks"/>), the distances from them except for close pairs (see <see cref="PairDistances"/>); memory
/// O(N·D + B·N), never an N×N matrix.</para>
/// <para>Gradient: ∂d_ij/∂x̂_i = (x̂_i − x̂_j)/d_ij (0 at d = 0), ±1 through the active hinge, then through the
/// normalization (g − (g·x̂)x̂)/‖x‖; with normalize_embeddings = false, x̂ = x.</para>
/// </remarks>
public sealed class ContrastiveLoss : Loss, ILossDefinition
{
    private readonly double _posMargin, _negMargin;
    private readonly bool _normalize;
    private readonly Reduction _reduction;

    public ContrastiveLoss(double posMargin = 0, double negMargin = 1, bool normalizeEmbeddings = true, Reduction reduction = Reduction.Mean)
    {
        if (!double.IsFinite(posMargin) || !double.IsFinite(negMargin))
            throw LossArgumentException.Value($"ContrastiveLoss: margins must be finite, got pos_margin = {posMargin}, neg_margin = {negMargin}");
        (_posMargin, _negMargin, _normalize, _reduction) = (posMargin, negMargin, normalizeEmbeddings, reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "ContrastiveLoss");
        var (unit, norms) = _normalize ? Embeddings.Normalize(x, n, d) : (x, Enumerable.Repeat(1.0, n).ToArray());

        var distances = new PairDistances(unit, n, d);
        // Pass 1: per-anchor sums, and per anchor the sums and non-zero counts of its positive and negative terms (each
        // anchor writes only its own entries: the blocks' two parts may run at once).
        var perAnchor = new double[n];
        double[] posA = new double[n], negA = new double[n];
        long[] posN = new long[n], negN = new long[n];
        new SimilarityBlocks(unit, n, d, gradients: false, scratchRows: 0).Run(1, (a, s, unused, scratch) =>
        {
            for (int j = 0; j < n; j++)
            {
                if (j == a) continue;
                double l = Term(labels[a] == labels[j], distances.Between(s[j], a, j));
                perAnchor[a] += l;
                if (l <= 0) continue;
                if (labels[a] == labels[j]) (posA[a], posN[a]) = (posA[a] + l, posN[a] + 1);
                else (negA[a], negN[a]) = (negA[a] + l, negN[a] + 1);
            }
        });
        double posSum = posA.Sum(), negSum = negA.Sum();
        long posCount = posN.Sum(), negCount = negN.Sum();
        double posScale = _reduction == Reduction.Mean ? (posCount == 0 ? 0 : 1.0 / posCount) : 1;
        double negScale = _reduction == Reduction.Mean ? (negCount == 0 ? 0 : 1.0 / negCount) : 1;
        TensorData value = _reduction switch
        {
            Reduction.None => Wrap(perAnchor.Select(T.CreateTruncating).ToArray(), new Shape(n)),
            Reduction.Sum => Wrap(new[] { T.CreateTruncating(posSum + negSum) }, Shape.Scalar),
            _ => Wrap(new[] { T.CreateTruncating(posSum * posScale + negSum * negScale) }, Shape.Scalar),
        };
        if (!computeGradients) return Result(value);
        // Pass 2: ±scale through every active hinge (both ordered pairs of a pair have the same term).
        double[] gUnit = distances.Backward((a, j, dist) =>
        {
            bool positive = labels[a] == labels[j];
            return Term(positive, dist) <= 0 ? 0 : positive ? posScale : -negScale;
        });
        double[] gx = _normalize ? Embeddings.BackThroughNormalize(gUnit, unit, norms, n, d) : gUnit;
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));
    }

    private double Term(bool positive, double dist) => positive ? Math.Max(0, dist - _posMargin) : Math.Max(0, _negMargin - dist);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "ContrastiveLoss",
        Aliases = ["contrastive_loss", "pml.ContrastiveLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("pos_margin", 0.0, "positive pairs cost nothing closer than this"),
            OptionSpec.Float("neg_margin", 1.0, "negative pairs cost nothing farther than this"),
            OptionSpec.Bool("normalize_embeddings", true, "L2-normalize the embeddings first (pytorch-metric-learning's default)"),
        ],
        Sample = Embeddings.Sample,
        Formula = "pos: max(0, d − m⁺), neg: max(0, m⁻ − d),  d = ‖x̂_i − x̂_j‖; mean = avg of non-zero pos + avg of non-zero neg",
        Gradient = "±(x̂_i − x̂_j)/d through each active hinge, then through the normalization",
        Reference = "pytorch_metric_learning.losses.ContrastiveLoss (Hadsell, Chopra & LeCun, 2006)",
        Stability = "finite for every finite embedding (zero distance gets gradient 0); O(N·D) memory",
        Libraries = "pytorch-metric-learning, TensorFlow Addons (contrastive_loss)",
        Factory = o => new ContrastiveLoss(o.Float("pos_margin"), o.Float("neg_margin"), o.Bool("normalize_embeddings"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
