using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Regression;

/// <summary>
/// Barron's general robust loss (A General and Adaptive Robust Loss Function, CVPR 2019; its reference
/// <c>robust_loss_pytorch.general.lossfun(x, alpha, scale)</c>), one family whose shape parameter α moves between the
/// common robust losses: α = 2 is L2, α = 1 pseudo-Huber / Charbonnier, α = 0 Cauchy (Lorentzian), α = −2 Geman–McClure,
/// α → −∞ Welsch, and every α between. The residual x = input − target is measured in units of the scale c.
/// </summary>
/// <remarks>
/// <para><b>Math</b> (u = (x/c)²): ρ = u/2 at α = 2; log1p(u/2) at α = 0; 1 − e^{−u/2} at α = −∞; e^{u/2} − 1 at
/// α = +∞; otherwise ρ = (b/α)·((u/b + 1)^{α/2} − 1) with b = max(ε, |α − 2|), ε the float32 machine epsilon (the
/// reference's guard near 2). Computed as (b/α)·expm1((α/2)·log1p(u/b)), which keeps the digits of small residuals
/// that the power minus 1 loses, and needs no guard near 0: expm1(αz/2)/α tends to z/2, the Cauchy loss. (The
/// reference divides by max(ε, |α|) there, so for 0 &lt; |α| &lt; ε its loss falls toward 0 by the factor |α|/ε.)</para>
/// <para><b>Gradient:</b> ∂ρ/∂x = (x/c²)·(u/b + 1)^{α/2 − 1} (x/c² at α = 2, (x/c²)/(u/2 + 1) at 0, (x/c²)·e^{∓u/2} at
/// ∓∞); ∂ρ/∂target is its negative. Above α = 2 the gradient grows with the residual; at α ≤ 1 it is bounded, and below
/// 0 it falls back to 0 for outliers (redescending). As the reference does, the α = 0 and α = +∞ cases clamp their
/// argument (u/2 at 3·10³⁷ and 87.5), where the value stops growing and the gradient is 0. α and c are options; the
/// reference's adaptive loss, which learns them through the normalized distribution's log partition function, is
/// <see cref="AdaptiveRobustLoss"/>.</para>
/// </remarks>
public sealed class GeneralRobustLoss : ElementwiseLoss<GeneralRobustLoss.Kernel>, ILossDefinition
{
    private const string Name = "GeneralRobustLoss";
    private readonly Kernel _kernel;

    public GeneralRobustLoss() : this(new Options()) { }

    public GeneralRobustLoss(Options options) : base(options.Reduction, null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (double.IsNaN(options.Alpha)) throw LossArgumentException.Value($"{Name}: alpha must be a number (±inf included), got NaN");
        if (!(options.Scale > 0) || !double.IsFinite(options.Scale)) throw LossArgumentException.Value($"{Name}: scale must be a finite number > 0, got {options.Scale}");
        _kernel = new Kernel(options.Alpha, options.Scale);
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>α, the shape: 2 is L2, 1 Charbonnier, 0 Cauchy, −2 Geman–McClure, −∞ Welsch (any number, ±∞ included).</summary>
        public double Alpha { get; init; } = 1;

        /// <summary>c &gt; 0: the residual's unit; the loss is quadratic for |x| well below it.</summary>
        public double Scale { get; init; } = 1;
    }

    /// <summary>ρ(x − y) and ±∂ρ/∂x, in double whatever T is.</summary>
    public readonly struct Kernel(double alpha, double scale) : IElementwiseKernel
    {
        private const double Epsilon = 1.1920928955078125e-7;   // float32's machine epsilon, the reference's guard
        private readonly double _b = Math.Max(Epsilon, Math.Abs(alpha - 2));

        public T Value<T>(T x, T y, T unused) where T : struct, IFloatingPointIeee754<T>
        {
            double d = double.CreateTruncating(x) - double.CreateTruncating(y), r = d / scale, u = r * r;
            double v = alpha switch
            {
                2 => 0.5 * u,
                0 => Stable.Log1p(Math.Min(0.5 * u, 3e37)),
                double.NegativeInfinity => -Stable.Expm1(-0.5 * u),
                double.PositiveInfinity => Stable.Expm1(Math.Min(0.5 * u, 87.5)),
                _ => _b / alpha * Stable.Expm1(0.5 * alpha * LogS(d, u)),
            };
            return T.CreateTruncating(v);
        }

        /// <summary>
        /// log(u/b + 1), u = (d/c)²: by log1p while u is a double, else from the logs (a residual far beyond a tiny
        /// scale, where u overflows but ρ, which grows as u^{α/2}, may not).
        /// </summary>
        private double LogS(double d, double u)
            => double.IsFinite(u) || !double.IsFinite(d) ? Stable.Log1p(u / _b) : 2 * (Math.Log(Math.Abs(d)) - Math.Log(scale)) - Math.Log(_b);

        public (T Dx, T Dy) Derivative<T>(T x, T y, T unused) where T : struct, IFloatingPointIeee754<T>
        {
            double d = double.CreateTruncating(x) - double.CreateTruncating(y), r = d / scale, u = r * r, slope = r / scale;   // (d/c)/c: c² underflows below 1e-154
            double g = alpha switch
            {
                2 => slope,
                0 => 0.5 * u < 3e37 ? slope / (0.5 * u + 1) : 0,
                double.NegativeInfinity => double.IsFinite(u) ? slope * Math.Exp(-0.5 * u) : 0,
                double.PositiveInfinity => 0.5 * u < 87.5 ? slope * Math.Exp(0.5 * u) : 0,
                // slope·(u/b + 1)^{α/2 − 1}; where the slope d/c² or u overflows, as one exponential of the logs.
                _ => double.IsFinite(u) && double.IsFinite(slope) || !double.IsFinite(d)
                    ? slope * Math.Exp((0.5 * alpha - 1) * Stable.Log1p(u / _b))
                    : Math.Sign(d) * Math.Exp(Math.Log(Math.Abs(d)) - 2 * Math.Log(scale) + (0.5 * alpha - 1) * LogS(d, u)),
            };
            return (T.CreateTruncating(g), T.CreateTruncating(-g));
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["general_robust_loss", "barron_loss", "robust_loss", "adaptive_robust_loss.general"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = [new("input", InputKind.Floating, true, "predictions, any shape"), new("target", InputKind.Floating, true, "targets, same shape")],
        Options =
        [
            OptionSpec.Reduction(StandardReductions),
            OptionSpec.Float("alpha", 1, "α, the shape: 2 L2, 1 Charbonnier / pseudo-Huber, 0 Cauchy, −2 Geman–McClure, -inf Welsch"),
            OptionSpec.Float("scale", 1, "c > 0: the residual's unit (quadratic well below it)"),
        ],
        Sample = (r, s) => new LossInputs().Add("input", Samples.Normal(r, Samples.Or(s, 3, 4), 2)).Add("target", Samples.Normal(r, Samples.Or(s, 3, 4), 2)),
        Formula = "ρ = (b/a)·((u/b + 1)^{α/2} − 1),  u = ((x − y)/c)²,  b = |α − 2|, a = α  (α ∈ {2, 0, ±∞}: the limits)",
        Gradient = "∂ρ/∂x = ((x − y)/c²)·(u/b + 1)^{α/2 − 1}",
        Reference = "Barron, A General and Adaptive Robust Loss Function, CVPR 2019 (robust_loss_pytorch general.lossfun)",
        Stability = "expm1/log1p in double: exact for small residuals; the α = 0 and +∞ cases clamp as the reference",
        LowerBound = 0,
        Libraries = "robust_loss_pytorch, google-research robust_loss (TensorFlow, JAX)",
        Factory = o => new GeneralRobustLoss(new Options { Reduction = o.Reduction, Alpha = o.Float("alpha"), Scale = o.Float("scale") }),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => _kernel;
}
