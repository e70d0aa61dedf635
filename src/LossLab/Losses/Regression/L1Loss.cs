using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Regression;

/// <summary>
/// Absolute error ℓ = |x − y|. Gradient ∂ℓ/∂x = sgn(x − y) = −∂ℓ/∂y, with the subgradient 0 at x = y
/// (PyTorch's <c>sgn</c>).
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.l1_loss(input, target, reduction='mean', weight=None)</c>; weighted mean Σwℓ/Σw.
/// Finite for every finite input.
/// </remarks>
public sealed class L1Loss(L1Loss.Options options) : ElementwiseLoss<L1Loss.Kernel>(options.Reduction, options.Weight), ILossDefinition
{
    public L1Loss() : this(new Options()) { }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>Per-element weights of the input's shape; the weighted mean is Σwℓ / Σw.</summary>
        public TensorData? Weight { get; init; }
    }

    /// <summary>ℓ = |x − y|; ∂ℓ/∂x = sgn(x − y), 0 at a tie.</summary>
    public readonly struct Kernel : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T> => T.Abs(x - y);

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T s = Stable.Sign(x - y);
            return (s, -s);
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "L1Loss",
        Aliases = ["l1_loss", "mae", "absolute_error"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = [new("input", InputKind.Floating, true, "predictions, any shape"), new("target", InputKind.Floating, true, "targets, same shape")],
        Options = [OptionSpec.Reduction(StandardReductions), OptionSpec.Tensor("weight", "per-element weights (input's shape); mean = Σwℓ/Σw")],
        Sample = (r, s) => new LossInputs().Add("input", Samples.Normal(r, Samples.Or(s, 3, 4))).Add("target", Samples.Normal(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = w·|x − y|",
        Gradient = "∂ℓ/∂x = w·sgn(x − y) (0 at x = y) = −∂ℓ/∂y",
        Reference = "torch.nn.functional.l1_loss",
        Stability = "finite for every finite input",
        Libraries = "PyTorch, TorchSharp, Keras (MeanAbsoluteError)",
        Factory = o => new L1Loss(new Options { Reduction = o.Reduction, Weight = o.Tensor("weight") }),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => default;

    protected override WeightedMean WeightedMean => WeightedMean.SumOfWeights;
}
