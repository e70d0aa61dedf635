using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Symmetric cross-entropy for noisy labels (Wang et al., 2019): ℓ = α·CE + β·RCE with CE = −log p_y and the reverse
/// cross-entropy RCE = −Σ_c p_c·log q_c, where q is the one-hot label clamped to [A, 1] (A = 1e-4 in the paper), so
/// RCE = −log(A)·(1 − p_y).
/// </summary>
/// <remarks>
/// Derivation: ∂CE/∂x_j = p_j − δ_jy; ∂(1 − p_y)/∂x_j = −p_y(δ_jy − p_j). The reference code also clamps p to
/// [1e-7, 1] inside RCE; LossLab does not (the two differ by less than 1e-7·(C − 1)·|log A|), which keeps the gradient
/// exact. Finite for every finite input.
/// </remarks>
public sealed class SymmetricCrossEntropy : IndexedRowLoss, ILossDefinition
{
    private readonly double _alpha, _beta, _minusLogA;

    public SymmetricCrossEntropy(double alpha = 0.1, double beta = 1.0, double labelClamp = 1e-4, Reduction reduction = Reduction.Mean) : base(reduction)
    {
        if (!(alpha >= 0) || !(beta >= 0) || !double.IsFinite(alpha + beta))
            throw LossArgumentException.Value($"SymmetricCrossEntropy: alpha and beta must be finite and ≥ 0, got alpha = {alpha}, beta = {beta}");
        if (!(labelClamp > 0 && labelClamp < 1)) throw LossArgumentException.Value($"SymmetricCrossEntropy: label_clamp must be in (0, 1), got {labelClamp}");
        (_alpha, _beta, _minusLogA) = (alpha, beta, -Math.Log(labelClamp));
    }

    protected override T RowValue<T>(ReadOnlySpan<T> x, int y)
    {
        T logSum = Stable.ShiftedLogSumExp(x, out T max), logPy = x[y] - max - logSum;
        return T.CreateTruncating(_alpha) * -logPy + T.CreateTruncating(_beta * _minusLogA) * -Stable.Expm1(logPy);
    }

    protected override void RowGradient<T>(ReadOnlySpan<T> x, int y, T scale, Span<T> g)
    {
        T logSum = Stable.ShiftedLogSumExp(x, out T max), py = T.Exp(x[y] - max - logSum), a = T.CreateTruncating(_alpha), b = T.CreateTruncating(_beta * _minusLogA);
        for (int j = 0; j < x.Length; j++)
        {
            // p_j − [j = y], with p_y − 1 = expm1(log p_y): its digits kept near p_y = 1.
            T lp = x[j] - max - logSum, pMinusD = j == y ? Stable.Expm1(lp) : T.Exp(lp);
            g[j] = scale * (a * pMinusD + b * py * pMinusD);
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "SymmetricCrossEntropy",
        Aliases = ["symmetric_cross_entropy", "sce"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs = ScoresAndLabels,
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("alpha", 0.1, "weight of the cross-entropy"),
            OptionSpec.Float("beta", 1.0, "weight of the reverse cross-entropy"),
            OptionSpec.Float("label_clamp", 1e-4, "A: the one-hot label is clamped to [A, 1] so that log 0 is finite"),
        ],
        Sample = Sample,
        Formula = "ℓ = −α·log p_y − β·log(A)·(1 − p_y),  p = softmax(x)",
        Gradient = "∂ℓ/∂x_j = α(p_j − δ_jy) + β·log(A)·p_y(δ_jy − p_j)",
        Reference = "Wang et al., Symmetric Cross Entropy for Robust Learning with Noisy Labels, ICCV 2019",
        Stability = "finite for every finite input (log-softmax and expm1)",
        Libraries = "paper reference code (noisy-label literature)",
        Factory = o => new SymmetricCrossEntropy(o.Float("alpha"), o.Float("beta"), o.Float("label_clamp"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
