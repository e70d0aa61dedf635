using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Focal loss on logits (RetinaNet): ℓ = α_t·BCE(x, y)·(1 − p_t)^γ with p = σ(x), p_t = p·y + (1 − p)(1 − y),
/// α_t = α·y + (1 − α)(1 − y) (no α factor when α &lt; 0).
/// </summary>
/// <remarks>
/// <para>torchvision <c>torchvision.ops.sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction='none')</c>
/// (Lin et al., Focal Loss for Dense Object Detection, 2017). The default reduction is <c>none</c>.</para>
/// <para>Derivation, with ce = softplus(x) − y·x (∂ce/∂x = p − y, ∂ce/∂y = −x), q = 1 − p_t = p(1 − y) + (1 − p)y
/// (∂q/∂x = p(1 − p)(1 − 2y), ∂q/∂y = 1 − 2p):
/// ∂ℓ/∂x = α_t[(p − y)q^γ + γ·ce·q^(γ−1)·p(1 − p)(1 − 2y)],
/// ∂ℓ/∂y = (2α − 1)·ce·q^γ + α_t[−x·q^γ + γ·ce·q^(γ−1)(1 − 2p)].</para>
/// <para>Stability: every quantity is computed in double from softplus and sigmoids (1 − p is σ(−x), never 1 − σ(x)), and the
/// γ·q^(γ−1) terms are taken at their limit 0 where q = 0, so value and gradient are finite for every γ ≥ 0 and
/// every finite logit, including ±1e4 (Optax and kornia give NaN for γ &lt; 1 there: kornia#918, optax#1267).</para>
/// </remarks>
public sealed class SigmoidFocalLoss : ElementwiseLoss<SigmoidFocalLoss.Kernel>, ILossDefinition
{
    private readonly Kernel _kernel;

    public SigmoidFocalLoss() : this(new Options()) { }

    public SigmoidFocalLoss(Options options) : base(options.Reduction, null)
    {
        if (!(options.Gamma >= 0)) throw LossArgumentException.Value($"SigmoidFocalLoss: gamma must be ≥ 0, got {options.Gamma}");
        _kernel = new Kernel(options.Alpha, options.Gamma);
    }

    public sealed record Options
    {
        /// <summary>torchvision's default is <see cref="Reduction.None"/>.</summary>
        public Reduction Reduction { get; init; } = Reduction.None;

        /// <summary>Weight of positives in [0, 1]; negative disables the α_t factor.</summary>
        public double Alpha { get; init; } = 0.25;

        /// <summary>Focusing exponent γ ≥ 0 (0 gives α-weighted BCE).</summary>
        public double Gamma { get; init; } = 2;
    }

    public readonly struct Kernel(double alpha, double gamma) : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            var t = Terms(double.CreateTruncating(x), double.CreateTruncating(y));
            return T.CreateTruncating(t.AlphaT * t.Ce * t.Focus);
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            double xd = double.CreateTruncating(x), yd = double.CreateTruncating(y);
            var t = Terms(xd, yd);
            // γ·ce·q^(γ−1), taken as its limit 0 when q = 0 (then ce vanishes with q) or γ = 0.
            double ceDFocus = gamma == 0 || t.Q == 0 || t.Ce == 0 ? 0 : gamma * t.Ce * Math.Pow(t.Q, gamma - 1);
            // p − y as (1 − y)p − y(1 − p): no cancellation for a confident correct logit.
            double dx = t.AlphaT * (((1 - yd) * t.P - yd * t.OneMinusP) * t.Focus + ceDFocus * t.P * t.OneMinusP * (1 - 2 * yd));
            double dAlpha = alpha >= 0 ? 2 * alpha - 1 : 0;
            double dy = dAlpha * t.Ce * t.Focus + t.AlphaT * (-xd * t.Focus + ceDFocus * (1 - 2 * t.P));
            return (T.CreateTruncating(dx), T.CreateTruncating(dy));
        }

        private (double P, double OneMinusP, double Ce, double Q, double Focus, double AlphaT) Terms(double x, double y)
        {
            double p = Stable.SigmoidPair(x, out double oneMinusP);
            // softplus(x) − y·x as (1 − y)·softplus(x) + y·softplus(−x): for y in [0, 1] two non-negative terms, where
            // (1 − y)·x − log σ(x) cancels to 0 at x ≲ −33 (e.g. 3.4e-15 at x = −33.3, y = 0, and with it the
            // γ·ce·q^(γ−1) term of the gradient).
            double ce = (1 - y) * Stable.SoftplusPair(x, out double softplusNegative) + y * softplusNegative;
            double q = p * (1 - y) + oneMinusP * y;                     // 1 − p_t without cancellation
            double focus = gamma == 0 ? 1 : Math.Pow(q, gamma);
            double alphaT = alpha >= 0 ? alpha * y + (1 - alpha) * (1 - y) : 1;
            return (p, oneMinusP, Math.Max(ce, 0), q, focus, alphaT);
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "SigmoidFocalLoss",
        Aliases = ["sigmoid_focal_loss", "focal_loss", "binary_focal_loss"],
        Family = LossFamily.Classification,
        Task = LossTask.BinaryClassification,
        Inputs = [new("inputs", InputKind.Floating, true, "logits, any shape"), new("targets", InputKind.Floating, true, "labels in [0, 1], same shape")],
        Options =
        [
            OptionSpec.Choice("reduction", "none", "how per-element losses are combined: none, mean, sum", "none", "mean", "sum"),
            OptionSpec.Float("alpha", 0.25, "weight of positives in [0, 1]; < 0 disables"),
            OptionSpec.Float("gamma", 2.0, "focusing exponent ≥ 0"),
        ],
        Sample = (r, s) => new LossInputs().Add("inputs", Samples.Normal(r, Samples.Or(s, 3, 4), 2)).Add("targets", Samples.Bernoulli(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = α_t·BCE(x, y)·(1 − p_t)^γ,  p_t = p·y + (1 − p)(1 − y)",
        Gradient = "∂ℓ/∂x = α_t[(p − y)(1 − p_t)^γ + γ·BCE·(1 − p_t)^(γ−1)·p(1 − p)(1 − 2y)]",
        Reference = "torchvision.ops.sigmoid_focal_loss (Lin et al., 2017)",
        Stability = "finite value and gradient for every γ ≥ 0 and every finite logit (±1e4 included)",
        Libraries = "torchvision, TorchSharp (torchvision.ops), Keras (BinaryFocalCrossentropy), Optax (sigmoid_focal_loss)",
        Factory = o => new SigmoidFocalLoss(new Options { Reduction = o.Reduction, Alpha = o.Float("alpha"), Gamma = o.Float("gamma") }),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => _kernel;

    protected override (string Input, string Target) InputNames => ("inputs", "targets");
}
