using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Taylor cross-entropy for noisy labels (Feng et al., Can Cross Entropy Loss Be Robust to Label Noise?, IJCAI 2020):
/// the first t terms of the Taylor series of −log p_y around p_y = 1, ℓ = Σ_{k=1}^{t} (1 − p_y)^k / k. t = 1 is the mean
/// absolute error 1 − p_y (robust, slow to fit); as t grows it approaches cross-entropy (fits fast, memorizes noise).
/// </summary>
/// <remarks>
/// <b>Gradient:</b> ∂ℓ/∂p_y = −Σ_{k=1}^{t} (1 − p_y)^{k−1} = −(1 − (1 − p_y)^t)/p_y, and ∂p_y/∂x_j = p_y(δ_jy − p_j), so
/// ∂ℓ/∂x_j = −(1 − (1 − p_y)^t)·(δ_jy − p_j): cross-entropy's gradient damped by 1 − (1 − p_y)^t, which is small
/// for a row the model finds unlikely (a possibly noisy label). 1 − p_y is taken as −expm1(log p_y).
/// </remarks>
public sealed class TaylorCrossEntropy : IndexedRowLoss, ILossDefinition
{
    private readonly int _order;

    public TaylorCrossEntropy(int order = 2, Reduction reduction = Reduction.Mean) : base(reduction)
    {
        if (order < 1 || order > 1000) throw LossArgumentException.Value($"TaylorCrossEntropy: t must be an order in [1, 1000], got {order}");
        if (reduction == Reduction.BatchMean) throw LossArgumentException.Value("TaylorCrossEntropy: reduction must be none, mean or sum");
        _order = order;
    }

    protected override T RowValue<T>(ReadOnlySpan<T> x, int y)
    {
        double q = -Stable.Expm1(RowSoftmax(x).Lp[y]), term = 1, total = 0;   // 1 − p_y, exact near p_y = 1
        for (int k = 1; k <= _order; k++) { term *= q; total += term / k; }
        return T.CreateTruncating(total);
    }

    protected override void RowGradient<T>(ReadOnlySpan<T> x, int y, T scale, Span<T> g)
    {
        var (lp, p) = RowSoftmax(x);
        double damp = 1 - Math.Pow(-Stable.Expm1(lp[y]), _order), s = double.CreateTruncating(scale);
        // [j = y] − p_j, with 1 − p_y = −expm1(log p_y) (its digits kept near p_y = 1).
        for (int j = 0; j < x.Length; j++) g[j] = T.CreateTruncating(-s * damp * (j == y ? -Stable.Expm1(lp[j]) : -p[j]));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "TaylorCrossEntropy",
        Aliases = ["taylor_cross_entropy", "taylor_ce", "t_ce"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs = ScoresAndLabels,
        Options = [OptionSpec.Reduction("none", "mean", "sum"), OptionSpec.Int("t", 2, "the order: the terms of −log p_y's series kept (1: MAE; large: cross-entropy)")],
        Sample = Sample,
        Formula = "ℓ = Σ_{k=1}^{t} (1 − p_y)^k / k,  p = softmax(x)",
        Gradient = "∂ℓ/∂x_j = −(1 − (1 − p_y)^t)·(δ_jy − p_j)",
        Reference = "Feng et al., Can Cross Entropy Loss Be Robust to Label Noise?, IJCAI 2020 (Taylor cross-entropy)",
        Stability = "log-softmax in double, 1 − p_y by expm1: finite for every finite logit",
        LowerBound = 0,
        Libraries = "the paper's reference code; noisy-label toolkits",
        Factory = o => new TaylorCrossEntropy((int)Math.Clamp(o.Int("t"), int.MinValue, int.MaxValue), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
