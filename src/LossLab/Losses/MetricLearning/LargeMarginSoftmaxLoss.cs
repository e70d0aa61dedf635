using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// L-Softmax, the large-margin softmax loss (Liu et al., ICML 2016), as pytorch-metric-learning's
/// <c>LargeMarginSoftmaxLoss(num_classes, embedding_size, margin=4, scale=1)</c>: the linear logit ‖x‖·‖w_j‖·cos θ_j,
/// with the target class's angle multiplied by the integer margin m, cos θ_y → ψ(θ_y), so that the target must win
/// by an angle m times smaller.
/// </summary>
/// <remarks>
/// <para><b>Target logit:</b> ψ(θ) = (−1)^k·cos(mθ) − 2k for θ in [kπ/m, (k + 1)π/m] (k = ⌊θm/π⌋ held constant, as
/// pytorch-metric-learning's no_grad floor), which keeps ψ decreasing and continuous over [0, π]. cos(mθ) is the
/// Chebyshev polynomial T_m(c) of c = cos θ (the paper's multiple-angle formula), so neither the value nor the
/// gradient needs arccos, which only picks k: ψ′(c) = (−1)^k·m·U_{m−1}(c).</para>
/// <para><b>Logits:</b> s·‖x_i‖·‖w_j‖·ĉ_ij. <b>Gradient:</b> with ∂ℓ/∂z_ij = s(p_ij − [j = y]), the cosines get
/// ‖x_i‖‖w_j‖·that (times ψ′ at the target) through both normalizations, and the lengths get Σ_j that·‖w_j‖ĉ_ij along
/// x̂_i and Σ_i that·‖x_i‖ĉ_ij along ŵ_j. Shared parts: <see cref="AngularMarginLoss"/>. m = 1 is the plain softmax of
/// the linear logits xᵀW.</para>
/// <para><b>λ</b> (<c>lambd</c>, default 0 = pytorch-metric-learning): the papers train with the target logit blended
/// towards the plain one, ĉ_y = (λ·c + ψ)/(1 + λ), λ annealed from about 1000 down to about 5, because ψ with m = 4 is
/// hard to optimize from a random start. The option holds λ fixed; a schedule sets it per epoch.</para>
/// </remarks>
public sealed class LargeMarginSoftmaxLoss : AngularMarginLoss, ILossDefinition
{
    private readonly MultiplicativeMargin _margin;

    public LargeMarginSoftmaxLoss(long margin = 4, double scale = 1, Reduction reduction = Reduction.Mean, double lambda = 0) : base("LargeMarginSoftmaxLoss", scale, reduction)
    {
        _margin = new MultiplicativeMargin("LargeMarginSoftmaxLoss", margin, lambda);
    }

    protected override (double F, double Df) Target(double c) => _margin.Apply(c);

    protected override (bool Embedding, bool Weight) Magnitudes => (true, true);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "LargeMarginSoftmaxLoss",
        Aliases = ["large_margin_softmax_loss", "l_softmax", "lsoftmax"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = AngularInputs,
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Int("margin", 4, "m ≥ 1, the integer multiplying the target class's angle"),
            OptionSpec.Float("scale", 1, "s, the logits' scale"),
            OptionSpec.Float("lambd", 0, "λ ≥ 0: the target logit (λ·cos θ + ψ)/(1 + λ), the papers' annealing (0: none, as pytorch-metric-learning)"),
        ],
        Sample = AngularSample,
        Formula = "ℓ = −log softmax(s·‖x‖·‖w_j‖·ĉ_j)_y,  ĉ_j = cos θ_j (j ≠ y), ĉ_y = (−1)^k·cos(mθ_y) − 2k, k = ⌊θ_y·m/π⌋",
        Gradient = "∂ℓ/∂z_j = s(p_j − [j = y]); to the cosines (ψ′ = (−1)^k·m·U_{m−1}(c) at the target) and to both lengths",
        Reference = "Liu et al., Large-Margin Softmax Loss for Convolutional Neural Networks, ICML 2016; pytorch-metric-learning LargeMarginSoftmaxLoss",
        Stability = "finite for every finite input (Chebyshev recurrences, no arccos in the gradient; norms clamped at 1e-12)",
        Libraries = "pytorch-metric-learning (LargeMarginSoftmaxLoss)",
        Factory = o => new LargeMarginSoftmaxLoss(o.Int("margin"), o.Float("scale"), o.Reduction, o.Float("lambd")),
    };

    public override LossDescriptor Descriptor => Entry;
}

/// <summary>
/// L-Softmax's and SphereFace's target logit ψ(c) = (−1)^k·T_m(c) − 2k with k = ⌊m·arccos(c)/π⌋, and ψ′(c) =
/// (−1)^k·m·U_{m−1}(c): T and U, the Chebyshev polynomials of the first and second kind, by their three-term recurrences.
/// With λ > 0 the papers' blend (λ·c + ψ)/(1 + λ) and its derivative (λ + ψ′)/(1 + λ).
/// </summary>
internal readonly struct MultiplicativeMargin
{
    private readonly int _m;
    private readonly double _lambda;

    public MultiplicativeMargin(string loss, long margin, double lambda)
    {
        if (margin is < 1 or > 64) throw LossArgumentException.Value($"{loss}: margin must be an integer in [1, 64], got {margin}");
        if (!(lambda >= 0) || !double.IsFinite(lambda)) throw LossArgumentException.Value($"{loss}: lambd must be a finite number ≥ 0, got {lambda}");
        _m = (int)margin;
        _lambda = lambda;
    }

    public (double F, double Df) Apply(double c)
    {
        double k = Math.Floor(Math.Acos(Math.Clamp(c, -1, 1)) / (Math.PI / _m));
        double t0 = 1, t1 = c, u0 = 1, u1 = 2 * c;   // T_0, T_1, U_0, U_1
        for (int n = 1; n < _m; n++)
        {
            (t0, t1) = (t1, 2 * c * t1 - t0);
            if (n < _m - 1) (u0, u1) = (u1, 2 * c * u1 - u0);
        }
        double uPrev = _m == 1 ? 1 : u1;   // U_{m−1}
        double sign = k % 2 == 0 ? 1 : -1;
        double psi = sign * t1 - 2 * k, dPsi = sign * _m * uPrev;
        return _lambda == 0 ? (psi, dPsi) : ((_lambda * c + psi) / (1 + _lambda), (_lambda + dPsi) / (1 + _lambda));
    }
}
