using System.Numerics;
using System.Numerics.Tensors;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Circle loss (Sun et al., CVPR 2020; pytorch-metric-learning <c>CircleLoss(m=0.4, gamma=80)</c>) per anchor a:
/// ℓ_a = softplus(lse_{n}(γ·α_n(s_an − m)) + lse_{p}(−γ·α_p(s_ap − 1 + m))) with α_p = max(0, 1 + m − s_ap) and
/// α_n = max(0, s_an + m), s the cosine similarity. An anchor without a positive or without a negative gives 0.
/// </summary>
/// <remarks>
/// <para>The paper and its reference code treat α as constants in the backward pass (<c>detach_weights</c>, default
/// true); that gradient is then not the derivative of the value, like PyTorch's CTC convention. With
/// detach_weights = false the returned gradient is the true one (the contract's finite-difference check uses it; the
/// detached gradient is checked against autograd with detached weights). <c>mean</c> averages the non-zero anchors
/// (pml's AvgNonZeroReducer); <c>sum</c>; <c>none</c> gives ℓ_a (N). Memory O(N·D + B·N): blocks of B anchor rows
/// (<see cref="SimilarityBlocks"/>).</para>
/// <para>Derivation: with Z = lse_n + lse_p, ∂ℓ_a/∂Z = σ(Z); ∂lse_p/∂s_ap = softmax_p·(−γ)(α_p + [not detached]·(s_ap − 1 + m)·∂α_p/∂s)
/// with ∂α_p/∂s = −[α_p &gt; 0], and ∂lse_n/∂s_an = softmax_n·γ(α_n + [not detached]·(s_an − m)·[α_n &gt; 0]).</para>
/// </remarks>
public sealed class CircleLoss : Loss, ILossDefinition
{
    private readonly double _m, _gamma;
    private readonly bool _detach;
    private readonly Reduction _reduction;

    public CircleLoss(double m = 0.4, double gamma = 80, bool detachWeights = true, Reduction reduction = Reduction.Mean)
    {
        if (!double.IsFinite(m) || !(gamma > 0) || !double.IsFinite(gamma)) throw LossArgumentException.Value($"CircleLoss: m must be finite and gamma > 0, got m = {m}, gamma = {gamma}");
        (_m, _gamma, _detach, _reduction) = (m, gamma, detachWeights, reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "CircleLoss");
        var (unit, norms) = Embeddings.Normalize(x, n, d);
        var (members, group) = Embeddings.Groups(labels);
        var perAnchor = new double[n];
        var blocks = new SimilarityBlocks(unit, n, d, computeGradients, scratchRows: 3);
        blocks.Run(1, (a, row, g, scratch) =>
        {
            // Positives' and negatives' logits (−∞ elsewhere; then e^{· − max}) and ∂logit_j/∂s_aj.
            Span<double> eP = scratch[..n], eN = scratch.Slice(n, n), dLogit = scratch[(2 * n)..];
            Logits(row, group, a, eP, eN, dLogit);
            var (lseP, maxP) = Embeddings.ExpAndLse(eP);
            var (lseN, maxN) = Embeddings.ExpAndLse(eN);
            bool active = !double.IsNegativeInfinity(lseP) && !double.IsNegativeInfinity(lseN);
            perAnchor[a] = active ? Stable.Softplus(lseP + lseN) : 0;
            // Mean is AvgNonZero: an anchor with ℓ_a = 0 is left out, and so is its gradient; 1/count comes at the end.
            if (g.IsEmpty || !active || (_reduction == Reduction.Mean && !(perAnchor[a] > 0))) return;
            // ∂ℓ_a/∂s_aj = σ(lseP + lseN)·e^{logit_j − lse}·∂logit_j/∂s_aj, lse the one of j's kind.
            double outer = Stable.Sigmoid(lseP + lseN);
            TensorPrimitives.Multiply(eP, outer * Math.Exp(maxP - lseP), g);
            TensorPrimitives.MultiplyAdd(eN, outer * Math.Exp(maxN - lseN), g, g);
            TensorPrimitives.Multiply(g, dLogit, g);
        });
        var (values, shape, gradientScale) = Embeddings.AvgNonZero(perAnchor, _reduction);
        TensorData value = Wrap(values.Select(T.CreateTruncating).ToArray(), shape);
        if (!computeGradients) return Result(value);
        double[] gUnit = blocks.UnitGradient(gradientScale);
        double[] gx = Embeddings.BackThroughNormalize(gUnit, unit, norms, n, d);
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));
    }

    /// <summary>Anchor a's logits from its similarity row: positives into <paramref name="p"/>, negatives into
    /// <paramref name="q"/> (−∞ elsewhere and at a itself), and ∂logit_j/∂s_aj (0 at a).</summary>
    private void Logits(ReadOnlySpan<double> s, int[] group, int a, Span<double> p, Span<double> q, Span<double> dLogit)
    {
        for (int j = 0; j < s.Length; j++)
        {
            p[j] = q[j] = double.NegativeInfinity;
            dLogit[j] = 0;
            if (j == a) continue;
            if (group[j] == group[a])
            {
                double alpha = Math.Max(0, 1 + _m - s[j]);
                p[j] = -_gamma * alpha * (s[j] - (1 - _m));
                dLogit[j] = -_gamma * (alpha - (_detach || alpha <= 0 ? 0 : s[j] - (1 - _m)));
            }
            else
            {
                double alpha = Math.Max(0, s[j] + _m);
                q[j] = _gamma * alpha * (s[j] - _m);
                dLogit[j] = _gamma * (alpha + (_detach || alpha <= 0 ? 0 : s[j] - _m));
            }
        }
    }


    public static LossDescriptor Entry { get; } = new()
    {
        Name = "CircleLoss",
        Aliases = ["circle_loss", "pml.CircleLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("m", 0.4, "relaxation margin"),
            OptionSpec.Float("gamma", 80.0, "scale"),
            OptionSpec.Bool("detach_weights", true, "treat α_p, α_n as constants in the backward pass (the paper's gradient)"),
        ],
        Sample = Embeddings.Sample,
        TrueGradientOptions = new Dictionary<string, object?> { ["detach_weights"] = false },
        Formula = "ℓ_a = softplus(lse_n γα_n(s_an − m) + lse_p −γα_p(s_ap − 1 + m)),  α_p = [1 + m − s_ap]₊, α_n = [s_an + m]₊",
        Gradient = "σ(Z)·softmax·(∓γα) per pair (α detached by default), through the normalization",
        Reference = "pytorch_metric_learning.losses.CircleLoss (Sun et al., Circle Loss, CVPR 2020)",
        Stability = "softplus of log-sum-exps in double: finite for every finite embedding; O(N·D) memory",
        Libraries = "pytorch-metric-learning, Keras (Circle, with Keras reductions)",
        Factory = o => new CircleLoss(o.Float("m"), o.Float("gamma"), o.Bool("detach_weights"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
