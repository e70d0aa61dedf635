using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Regression;

/// <summary>
/// Squared error ℓ = (x − y)². Gradient ∂ℓ/∂x = 2(x − y) = −∂ℓ/∂y.
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.mse_loss(input, target, reduction='mean', weight=None)</c>. With a
/// <c>weight</c> of the input's shape each term is multiplied by wᵢ and the mean divides by Σwᵢ (not numel).
/// Input and target must have the same shape (PyTorch only warns and broadcasts). Finite for |x − y| ≤ 1.8e19 in float32.
/// </remarks>
public sealed class MseLoss(MseLoss.Options options) : ElementwiseLoss<MseLoss.Kernel>(options.Reduction, options.Weight), ILossDefinition
{
    public MseLoss() : this(new Options()) { }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>Per-element weights of the input's shape; the weighted mean is Σwℓ / Σw.</summary>
        public TensorData? Weight { get; init; }
    }

    /// <summary>ℓ = (x − y)²; ∂ℓ/∂x = 2(x − y).</summary>
    public readonly struct Kernel : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T d = x - y;
            return d * d;
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T g = (T.One + T.One) * (x - y);
            return (g, -g);
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "MseLoss",
        Aliases = ["mse_loss", "MSELoss", "mse", "squared_error"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = [new("input", InputKind.Floating, true, "predictions, any shape"), new("target", InputKind.Floating, true, "targets, same shape")],
        Options = [OptionSpec.Reduction(StandardReductions), OptionSpec.Tensor("weight", "per-element weights (input's shape); mean = Σwℓ/Σw")],
        Sample = (r, s) => new LossInputs().Add("input", Samples.Normal(r, Samples.Or(s, 3, 4))).Add("target", Samples.Normal(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = w·(x − y)²",
        Gradient = "∂ℓ/∂x = 2w(x − y) = −∂ℓ/∂y",
        Reference = "torch.nn.functional.mse_loss",
        Stability = "finite while (x − y)² is finite: |x − y| ≤ 1.8e19 (float32)",
        Libraries = "PyTorch, TorchSharp, Keras (MeanSquaredError), Optax (squared_error), ML.NET (SquaredLoss)",
        Factory = o => new MseLoss(new Options { Reduction = o.Reduction, Weight = o.Tensor("weight") }),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => default;

    protected override WeightedMean WeightedMean => WeightedMean.SumOfWeights;
}
