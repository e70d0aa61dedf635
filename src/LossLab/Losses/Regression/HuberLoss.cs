using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Regression;

/// <summary>
/// Huber: ℓ = 0.5d² for |d| &lt; δ, δ(|d| − 0.5δ) otherwise (d = x − y). Gradient d inside, δ·sgn(d) outside.
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.huber_loss(input, target, reduction='mean', delta=1.0, weight=None)</c>.
/// δ must be positive. Unlike mse/l1, the weighted mean divides by numel: mean(w·ℓ). Huber(δ) = δ·SmoothL1(β=δ).
/// Finite for every finite input.
/// </remarks>
public sealed class HuberLoss : ElementwiseLoss<HuberLoss.Kernel>, ILossDefinition
{
    private readonly Kernel _kernel;

    public HuberLoss() : this(new Options()) { }

    public HuberLoss(Options options) : base(options.Reduction, options.Weight)
    {
        if (!(options.Delta > 0)) throw LossArgumentException.Value($"HuberLoss: delta must be > 0, got {options.Delta}");
        _kernel = new Kernel(options.Delta);
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>Where the quadratic zone ends (&gt; 0).</summary>
        public double Delta { get; init; } = 1.0;

        /// <summary>Per-element weights of the input's shape; the weighted mean is mean(w·ℓ).</summary>
        public TensorData? Weight { get; init; }
    }

    /// <summary>ℓ = 0.5d² if |d| &lt; δ else δ(|d| − δ/2); ∂ℓ/∂x = d inside, ±δ outside (continuous at |d| = δ).</summary>
    public readonly struct Kernel(double delta) : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T dl = T.CreateTruncating(delta);
            T d = T.Abs(x - y);
            T half = T.CreateTruncating(0.5);
            return d < dl ? half * d * d : dl * (d - half * dl);
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T dl = T.CreateTruncating(delta);
            T d = x - y;
            T g = d < -dl ? -dl : d > dl ? dl : d;
            return (g, -g);
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "HuberLoss",
        Aliases = ["huber_loss", "huber"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = [new("input", InputKind.Floating, true, "predictions, any shape"), new("target", InputKind.Floating, true, "targets, same shape")],
        Options =
        [
            OptionSpec.Reduction(StandardReductions),
            OptionSpec.Float("delta", 1.0, "end of the quadratic zone (> 0)"),
            OptionSpec.Tensor("weight", "per-element weights (input's shape); mean = mean(wℓ)"),
        ],
        Sample = (r, s) => new LossInputs().Add("input", Samples.Normal(r, Samples.Or(s, 3, 4))).Add("target", Samples.Normal(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = 0.5·d² if |d| < δ else δ·(|d| − 0.5·δ),  d = x − y",
        Gradient = "∂ℓ/∂x = d if |d| ≤ δ else δ·sgn(d)",
        Reference = "torch.nn.functional.huber_loss (Huber, 1964)",
        Stability = "finite for every finite input",
        Libraries = "PyTorch, TorchSharp, Keras (Huber), Optax (huber_loss)",
        Factory = o => new HuberLoss(new Options { Reduction = o.Reduction, Delta = o.Float("delta"), Weight = o.Tensor("weight") }),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => _kernel;
}
