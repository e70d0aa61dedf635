using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Regression;

/// <summary>
/// Smooth L1: ℓ = 0.5d²/β for |d| &lt; β, |d| − 0.5β otherwise (d = x − y). Gradient d/β inside, sgn(d) outside
/// (continuous at |d| = β). β = 0 is exactly L1 with sgn(0) = 0.
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.smooth_l1_loss(input, target, reduction='mean', beta=1.0)</c>. Since
/// pytorch#97022 β = 0 is routed to <c>l1_loss</c>, so a tie has gradient 0 (PyTorch 1.13 gave −1). β &lt; 0 is
/// rejected. Huber(δ) = β·SmoothL1(β) with δ = β. Finite for every finite input.
/// </remarks>
public sealed class SmoothL1Loss : ElementwiseLoss<SmoothL1Loss.Kernel>, ILossDefinition
{
    private readonly Kernel _kernel;

    public SmoothL1Loss() : this(new Options()) { }

    public SmoothL1Loss(Options options) : base(options.Reduction, null)
    {
        if (!(options.Beta >= 0)) throw LossArgumentException.Value($"SmoothL1Loss: beta must be ≥ 0, got {options.Beta}");
        _kernel = new Kernel(options.Beta);
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>Where the quadratic zone ends (≥ 0; 0 gives L1).</summary>
        public double Beta { get; init; } = 1.0;
    }

    /// <summary>ℓ = 0.5d²/β if |d| &lt; β else |d| − β/2; ∂ℓ/∂x = d/β inside, sgn(d) outside; β = 0 → |d|, sgn(d).</summary>
    public readonly struct Kernel(double beta) : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T b = T.CreateTruncating(beta);
            T d = T.Abs(x - y);
            if (b == T.Zero) return d;
            T half = T.CreateTruncating(0.5);
            return d < b ? half * d * d / b : d - half * b;
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T b = T.CreateTruncating(beta);
            T d = x - y;
            T g = b == T.Zero ? Numerics.Stable.Sign(d) : d <= -b ? -T.One : d >= b ? T.One : d / b;
            return (g, -g);
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "SmoothL1Loss",
        Aliases = ["smooth_l1_loss", "smooth_l1"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = [new("input", InputKind.Floating, true, "predictions, any shape"), new("target", InputKind.Floating, true, "targets, same shape")],
        Options = [OptionSpec.Reduction(StandardReductions), OptionSpec.Float("beta", 1.0, "end of the quadratic zone (≥ 0; 0 = L1)")],
        Sample = (r, s) => new LossInputs().Add("input", Samples.Normal(r, Samples.Or(s, 3, 4))).Add("target", Samples.Normal(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = 0.5·d²/β if |d| < β else |d| − 0.5·β,  d = x − y",
        Gradient = "∂ℓ/∂x = d/β if |d| < β else sgn(d)",
        Reference = "torch.nn.functional.smooth_l1_loss (Girshick, Fast R-CNN, 2015)",
        Stability = "finite for every finite input",
        Libraries = "PyTorch, TorchSharp",
        Factory = o => new SmoothL1Loss(new Options { Reduction = o.Reduction, Beta = o.Float("beta") }),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => _kernel;
}
