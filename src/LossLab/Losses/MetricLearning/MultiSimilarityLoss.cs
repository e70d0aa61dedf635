using System.Numerics;
using System.Numerics.Tensors;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Multi-similarity loss (Wang et al., 2019; pytorch-metric-learning <c>MultiSimilarityLoss(alpha=2, beta=50,
/// base=0.5)</c>, without a miner): per anchor a, ℓ_a = (1/α)·log(1 + Σ_{p∈P(a)} e^{−α(s_ap − λ)}) +
/// (1/β)·log(1 + Σ_{n∈N(a)} e^{β(s_an − λ)}), s the cosine similarity, λ = base. Mean over anchors (pml's MeanReducer).
/// </summary>
/// <remarks>
/// log(1 + Σe^z) is computed as softplus(lse(z)), finite for any similarity. Derivation: ∂ℓ_a/∂s_ap =
/// −e^{−α(s_ap − λ)}/(1 + Σ_P), ∂ℓ_a/∂s_an = e^{β(s_an − λ)}/(1 + Σ_N), through the normalization.
/// Memory O(N·D + B·N): blocks of B anchor rows at a time (<see cref="SimilarityBlocks"/>).
/// </remarks>
public sealed class MultiSimilarityLoss : Loss, ILossDefinition
{
    private readonly double _alpha, _beta, _base;
    private readonly Reduction _reduction;

    public MultiSimilarityLoss(double alpha = 2, double beta = 50, double @base = 0.5, Reduction reduction = Reduction.Mean)
    {
        if (!(alpha > 0) || !(beta > 0) || !double.IsFinite(alpha + beta + @base))
            throw LossArgumentException.Value($"MultiSimilarityLoss: alpha and beta must be > 0 and base finite, got alpha = {alpha}, beta = {beta}, base = {@base}");
        (_alpha, _beta, _base, _reduction) = (alpha, beta, @base, reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "MultiSimilarityLoss");
        var (unit, norms) = Embeddings.Normalize(x, n, d);
        var (members, group) = Embeddings.Groups(labels);
        var perAnchor = new double[n];
        Reducer.Reduced reducedScale = Reducer.Reduce<double>(new double[n], _reduction, n);
        var blocks = new SimilarityBlocks(unit, n, d, computeGradients, scratchRows: 2);
        blocks.Run(1, (a, row, g, scratch) =>
        {
            // −α(s − λ) at the positives and β(s − λ) at the negatives, −∞ elsewhere; then e^{· − max}.
            Span<double> eP = scratch[..n], eN = scratch[n..];
            for (int j = 0; j < n; j++)
            {
                bool positive = group[j] == group[a];
                eP[j] = positive && j != a ? -_alpha * (row[j] - _base) : double.NegativeInfinity;
                eN[j] = positive ? double.NegativeInfinity : _beta * (row[j] - _base);
            }
            var (lseP, maxP) = Embeddings.ExpAndLse(eP);
            var (lseN, maxN) = Embeddings.ExpAndLse(eN);
            double spP = double.IsNegativeInfinity(lseP) ? 0 : Stable.Softplus(lseP), spN = double.IsNegativeInfinity(lseN) ? 0 : Stable.Softplus(lseN);
            perAnchor[a] = spP / _alpha + spN / _beta;
            if (g.IsEmpty) return;
            // log(1 + Σe^z) = softplus(lse): ∂/∂z_j = e^{z_j − softplus(lse)} = e^{z_j − max}·e^{max − softplus(lse)}.
            if (!double.IsNegativeInfinity(lseP)) TensorPrimitives.Multiply(eP, -reducedScale.Scale * Math.Exp(maxP - spP), g);
            if (!double.IsNegativeInfinity(lseN)) TensorPrimitives.MultiplyAdd(eN, reducedScale.Scale * Math.Exp(maxN - spN), g, g);
        });
        Reducer.Reduced reduced = Reducer.Reduce<double>(perAnchor, _reduction, n);
        TensorData value = _reduction == Reduction.None
            ? Wrap(perAnchor.Select(T.CreateTruncating).ToArray(), new Shape(n))
            : Wrap(new[] { T.CreateTruncating(reduced.Value) }, Shape.Scalar);
        if (!computeGradients) return Result(value);
        double[] gx = Embeddings.BackThroughNormalize(blocks.UnitGradient(), unit, norms, n, d);
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "MultiSimilarityLoss",
        Aliases = ["multi_similarity_loss", "pml.MultiSimilarityLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("alpha", 2.0, "scale of the positive term"),
            OptionSpec.Float("beta", 50.0, "scale of the negative term"),
            OptionSpec.Float("base", 0.5, "λ: the similarity margin"),
        ],
        Sample = Embeddings.Sample,
        Formula = "ℓ_a = (1/α)log(1 + Σ_P e^{−α(s − λ)}) + (1/β)log(1 + Σ_N e^{β(s − λ)})",
        Gradient = "∂ℓ_a/∂s_ap = −e^{−α(s_ap − λ)}/(1 + Σ_P); ∂ℓ_a/∂s_an = e^{β(s_an − λ)}/(1 + Σ_N)",
        Reference = "pytorch_metric_learning.losses.MultiSimilarityLoss (Wang et al., CVPR 2019)",
        Stability = "softplus of a log-sum-exp: finite for every finite embedding; O(N·D) memory",
        Libraries = "pytorch-metric-learning",
        Factory = o => new MultiSimilarityLoss(o.Float("alpha"), o.Float("beta"), o.Float("base"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
