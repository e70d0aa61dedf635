using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>mean_squared_error</c>: mean over the last axis of (ŷ − y)², then Keras's reduction with sample_weight
/// (PyTorch's <c>mse_loss</c> averages over every element and has no sample_weight). ∂/∂ŷ = 2(ŷ − y)/L = −∂/∂y.
/// </summary>
public sealed class KerasMeanSquaredError(string reduction = "sum_over_batch_size", TensorData? sampleWeight = null)
    : KerasMeanLoss<KerasMeanSquaredError.Kernel>(reduction, sampleWeight), ILossDefinition
{
    public readonly struct Kernel : IElementwiseKernel
    {
        public T Value<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T> => (p - y) * (p - y);

        public (T Dx, T Dy) Derivative<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T d = p - y;
            return (-(d + d), d + d);
        }
    }

    protected override Kernel ElementKernel => default;

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasMeanSquaredError",
        Aliases = ["keras.mean_squared_error", "keras.MeanSquaredError", "keras.mse"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = TrueAndPred,
        Options = [ReductionOption, SampleWeightOption],
        Sample = (r, s) => new LossInputs().Add("y_true", Samples.Normal(r, Samples.Or(s, 3, 4))).Add("y_pred", Samples.Normal(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = mean_last((ŷ − y)²)",
        Gradient = "∂ℓ/∂ŷ = 2(ŷ − y)/L",
        Reference = "keras.losses.mean_squared_error",
        Stability = "overflows only where (ŷ − y)² does",
        Libraries = "Keras, PyTorch (mse_loss), Optax (squared_error)",
        Factory = o => new KerasMeanSquaredError(o.Choice("reduction"), o.Tensor("sample_weight")),
    };

    public override LossDescriptor Descriptor => Entry;
}
