using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Generalized lifted structure loss (Hermans, Beyer &amp; Leibe, 2017, page 4; pytorch-metric-learning
/// <c>GeneralizedLiftedStructureLoss(neg_margin=1, pos_margin=0)</c> with its default <c>LpDistance(p=2,
/// normalize_embeddings=True)</c>): per anchor a, ℓ_a = relu(log Σ_{p∈P(a)} e^{d_ap − m⁺} + log Σ_{n∈N(a)} e^{m⁻ − d_an}),
/// d = ‖x̂_a − x̂_j‖, P(a) the other rows with a's label, N(a) the rows with another label; an empty sum's log counts 0.
/// </summary>
/// <remarks>
/// <para><c>mean</c> averages ℓ_a over all N anchors (pytorch-metric-learning's MeanReducer on per-element losses),
/// <c>sum</c> adds them, <c>none</c> gives ℓ (N). The log-sum-exps are taken after their maximum, so any finite
/// distance and margin stay finite.</para>
/// <para>Gradient: for an active anchor (ℓ_a &gt; 0) ∂ℓ_a/∂d_ap = softmax over P(a) of d − m⁺, ∂ℓ_a/∂d_an = −softmax over N(a)
/// of m⁻ − d; then ∂d/∂x̂_a = (x̂_a − x̂_j)/d (<see cref="PairDistances"/>) and back through the normalization. The row
/// of anchor a also adds the terms of the other anchors j that involve d_ja (their softmax weights are known from pass 1),
/// so that each row's diagonal part is complete without writing into other rows.</para>
/// </remarks>
public sealed class GeneralizedLiftedStructureLoss : Loss, ILossDefinition
{
    private readonly double _posMargin, _negMargin;
    private readonly bool _normalize;
    private readonly Reduction _reduction;

    public GeneralizedLiftedStructureLoss(double negMargin = 1, double posMargin = 0, bool normalizeEmbeddings = true, Reduction reduction = Reduction.Mean)
    {
        if (!double.IsFinite(posMargin) || !double.IsFinite(negMargin))
            throw LossArgumentException.Value($"GeneralizedLiftedStructureLoss: margins must be finite, got pos_margin = {posMargin}, neg_margin = {negMargin}");
        (_posMargin, _negMargin, _normalize, _reduction) = (posMargin, negMargin, normalizeEmbeddings, reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "GeneralizedLiftedStructureLoss");
        var (unit, norms) = _normalize ? Embeddings.Normalize(x, n, d) : (x, Enumerable.Repeat(1.0, n).ToArray());
        var (_, group) = Embeddings.Groups(labels);
        var distances = new PairDistances(unit, n, d);
        // Pass 1: each anchor's two log-sum-exps (−∞ for an empty set) and its loss.
        double[] lseP = new double[n], lseN = new double[n], perAnchor = new double[n];
        new SimilarityBlocks(unit, n, d, gradients: false, scratchRows: 2).Run(1, (a, s, unused, scratch) =>
        {
            Span<double> zP = scratch[..n], zN = scratch[n..];
            for (int j = 0; j < n; j++)
            {
                bool positive = group[j] == group[a];
                double dist = j == a ? 0 : distances.Between(s[j], a, j);
                zP[j] = positive && j != a ? dist - _posMargin : double.NegativeInfinity;
                zN[j] = positive ? double.NegativeInfinity : _negMargin - dist;
            }
            lseP[a] = Embeddings.ExpAndLse(zP).Lse;
            lseN[a] = Embeddings.ExpAndLse(zN).Lse;
            perAnchor[a] = Math.Max(0, Finite(lseP[a]) + Finite(lseN[a]));
        });
        Reducer.Reduced reduced = Reducer.Reduce<double>(perAnchor, _reduction, n);
        TensorData value = _reduction == Reduction.None
            ? Wrap(perAnchor.Select(T.CreateTruncating).ToArray(), new Shape(n))
            : Wrap(new[] { T.CreateTruncating(reduced.Value) }, Shape.Scalar);
        if (!computeGradients) return Result(value);

        // Pass 2: w_aj = ∂ℓ_a/∂d_aj (0 unless ℓ_a > 0), and w_ja from anchor j's log-sum-exps.
        double scale = reduced.Scale;
        double[] gUnit = distances.Backward((i, j, dist) => scale * Weight(i, group[j] == group[i], dist));
        double[] gx = _normalize ? Embeddings.BackThroughNormalize(gUnit, unit, norms, n, d) : gUnit;
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));

        // ∂ℓ_i/∂d for a pair of anchor i at distance dist: its softmax weight in the positive or the negative sum.
        double Weight(int i, bool positive, double dist) => perAnchor[i] <= 0 ? 0
            : positive ? Math.Exp(dist - _posMargin - lseP[i]) : -Math.Exp(_negMargin - dist - lseN[i]);
    }

    /// <summary>pytorch-metric-learning's masked log-sum-exp counts an empty set as 0.</summary>
    private static double Finite(double lse) => double.IsNegativeInfinity(lse) ? 0 : lse;

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "GeneralizedLiftedStructureLoss",
        Aliases = ["generalized_lifted_structure_loss", "pml.GeneralizedLiftedStructureLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("neg_margin", 1.0, "m⁻: negatives closer than this weigh most"),
            OptionSpec.Float("pos_margin", 0.0, "m⁺: subtracted from the positive distances"),
            OptionSpec.Bool("normalize_embeddings", true, "L2-normalize the embeddings first (pytorch-metric-learning's default)"),
        ],
        Sample = Embeddings.Sample,
        Formula = "ℓ_a = relu(log Σ_P e^{d_ap − m⁺} + log Σ_N e^{m⁻ − d_an}),  d = ‖x̂_a − x̂_j‖",
        Gradient = "∂ℓ_a/∂d_ap = softmax_P(d − m⁺), ∂ℓ_a/∂d_an = −softmax_N(m⁻ − d) when ℓ_a > 0; (x̂_a − x̂_j)/d, then through the normalization",
        Reference = "pytorch_metric_learning.losses.GeneralizedLiftedStructureLoss (Hermans, Beyer & Leibe, 2017, In Defense of the Triplet Loss)",
        Stability = "log-sum-exps after their maximum: finite for every finite embedding (zero distance gets gradient 0); O(N·D) memory",
        Libraries = "pytorch-metric-learning",
        Factory = o => new GeneralizedLiftedStructureLoss(o.Float("neg_margin"), o.Float("pos_margin"), o.Bool("normalize_embeddings"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
