using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Generalized cross-entropy for noisy labels (Zhang &amp; Sabuncu, 2018): ℓ = (1 − p_y^q)/q with p = softmax(x),
/// q ∈ (0, 1]. q → 0 gives cross-entropy, q = 1 the MAE-like 1 − p_y, which ignores confidently wrong (noisy) labels.
/// </summary>
/// <remarks>
/// Derivation: ∂p_y/∂x_j = p_y(δ_jy − p_j), so ∂ℓ/∂x_j = −p_y^(q−1)·p_y(δ_jy − p_j) = −p_y^q(δ_jy − p_j).
/// p_y^q = exp(q(x_y − lse(x))) never overflows, so the loss is finite for every finite input; the value is taken as
/// −expm1(q·log p_y)/q so that a confident row keeps its small loss.
/// </remarks>
public sealed class GeneralizedCrossEntropy : IndexedRowLoss, ILossDefinition
{
    private readonly double _q;

    public GeneralizedCrossEntropy(double q = 0.7, Reduction reduction = Reduction.Mean) : base(reduction)
    {
        if (!(q > 0 && q <= 1)) throw LossArgumentException.Value($"GeneralizedCrossEntropy: q must be in (0, 1], got {q}");
        _q = q;
    }

    /// <summary>(1 − p_y^q)/q = −expm1(q·log p_y)/q: exact where p_y is near 1, where 1 − p_y^q would cancel.</summary>
    protected override T RowValue<T>(ReadOnlySpan<T> x, int y)
    {
        // q in double: a q below float's smallest subnormal would be 0 in float32 (0/0), one near it keeps no digits.
        T logSum = Stable.ShiftedLogSumExp(x, out T max);
        return T.CreateTruncating(-Stable.Expm1(_q * double.CreateTruncating(x[y] - max - logSum)) / _q);
    }

    protected override void RowGradient<T>(ReadOnlySpan<T> x, int y, T scale, Span<T> g)
    {
        T logSum = Stable.ShiftedLogSumExp(x, out T max), pq = T.CreateTruncating(Math.Exp(_q * double.CreateTruncating(x[y] - max - logSum)));
        // δ_jy − p_j, with 1 − p_y = −expm1(log p_y) (its digits kept near p_y = 1).
        for (int j = 0; j < x.Length; j++) g[j] = -scale * pq * (j == y ? -Stable.Expm1(x[j] - max - logSum) : -T.Exp(x[j] - max - logSum));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "GeneralizedCrossEntropy",
        Aliases = ["generalized_cross_entropy", "gce"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs = ScoresAndLabels,
        Options = [OptionSpec.Reduction("none", "mean", "sum"), OptionSpec.Float("q", 0.7, "robustness exponent in (0, 1]")],
        Sample = Sample,
        Formula = "ℓ = (1 − p_y^q)/q,  p = softmax(x)",
        Gradient = "∂ℓ/∂x_j = −p_y^q(δ_jy − p_j)",
        Reference = "Zhang & Sabuncu, Generalized Cross Entropy Loss for Training Deep Neural Networks with Noisy Labels, NeurIPS 2018",
        Stability = "finite for every finite input (p_y^q from log-space)",
        Libraries = "paper reference code (noisy-label literature); Keras (CategoricalGeneralizedCrossEntropy)",
        Factory = o => new GeneralizedCrossEntropy(o.Float("q"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
