using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Regression;

/// <summary>
/// Wing loss (Feng et al., CVPR 2018, for facial landmarks), as segmentation_models_pytorch's
/// <c>wing_loss(output, target, width=5, curvature=0.5, reduction='mean')</c>: logarithmic for small errors, so that
/// they keep a large gradient where L1 and L2 fade, and L1 beyond the width.
/// </summary>
/// <remarks>
/// <para><b>Math</b> (d = |target − output|, w = width, ε = curvature): ℓ = w·ln(1 + d/ε) for d &lt; w, else d − C with
/// C = w − w·ln(1 + w/ε), which joins the two pieces continuously at d = w. <b>Gradient:</b> ∂ℓ/∂output =
/// sgn(output − target)·w/(ε + d) inside, sgn(output − target) outside (0 at d = 0, as autograd's |·|), and
/// ∂ℓ/∂target its negative. The slope jumps at d = w from w/(ε + w) to 1 (the paper's loss is not smooth there).
/// ln(1 + d/ε) is computed as log1p, exact for small errors.</para>
/// </remarks>
public sealed class WingLoss : ElementwiseLoss<WingLoss.Kernel>, ILossDefinition
{
    private readonly Kernel _kernel;

    public WingLoss() : this(new Options()) { }

    public WingLoss(Options options) : base(options.Reduction, null)
    {
        if (!(options.Width > 0) || !double.IsFinite(options.Width)) throw LossArgumentException.Value($"WingLoss: width must be a finite number > 0, got {options.Width}");
        if (!(options.Curvature > 0) || !double.IsFinite(options.Curvature)) throw LossArgumentException.Value($"WingLoss: curvature must be a finite number > 0, got {options.Curvature}");
        _kernel = new Kernel(options.Width, options.Curvature);
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>w &gt; 0: where the logarithmic part ends.</summary>
        public double Width { get; init; } = 5;

        /// <summary>ε &gt; 0: how sharply the logarithm bends near 0.</summary>
        public double Curvature { get; init; } = 0.5;
    }

    /// <summary>ℓ(d) = w·log1p(d/ε) for d &lt; w, d − C beyond; derivative w/(ε + d) or 1 times sgn(output − target).</summary>
    public readonly struct Kernel(double width, double curvature) : IElementwiseKernel
    {
        private readonly double _c = width - width * Stable.Log1p(width / curvature);

        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T d = T.Abs(y - x), w = T.CreateTruncating(width);
            return d < w ? w * Stable.Log1p(d / T.CreateTruncating(curvature)) : d - T.CreateTruncating(_c);
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T diff = x - y, d = T.Abs(diff), w = T.CreateTruncating(width);
            T sign = diff > T.Zero ? T.One : diff < T.Zero ? -T.One : T.Zero;
            T g = sign * (d < w ? w / (T.CreateTruncating(curvature) + d) : T.One);
            return (g, -g);
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "WingLoss",
        Aliases = ["wing_loss", "smp.wing_loss"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = [new("output", InputKind.Floating, true, "predictions (landmark coordinates...), any shape"), new("target", InputKind.Floating, true, "targets, same shape")],
        Options =
        [
            OptionSpec.Reduction(StandardReductions),
            OptionSpec.Float("width", 5, "w > 0: the errors below it take the logarithmic part"),
            OptionSpec.Float("curvature", 0.5, "ε > 0: the logarithm's curvature"),
        ],
        Sample = (r, s) => new LossInputs().Add("output", Samples.Normal(r, Samples.Or(s, 3, 4), 4)).Add("target", Samples.Normal(r, Samples.Or(s, 3, 4), 4)),
        Formula = "ℓ = w·ln(1 + d/ε) if d < w else d − (w − w·ln(1 + w/ε)),  d = |y − x|",
        Gradient = "∂ℓ/∂x = sgn(x − y)·w/(ε + d) if d < w else sgn(x − y)",
        Reference = "Feng et al., Wing Loss for Robust Facial Landmark Localisation with CNNs, CVPR 2018; segmentation_models_pytorch.losses._functional.wing_loss",
        Stability = "finite for every finite input (log1p for small errors)",
        Libraries = "segmentation_models_pytorch (functional wing_loss), pytorch-toolbelt (WingLoss)",
        Factory = o => new WingLoss(new Options { Reduction = o.Reduction, Width = o.Float("width"), Curvature = o.Float("curvature") }),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override (string Input, string Target) InputNames => ("output", "target");

    protected override Kernel ElementKernel => _kernel;
}
