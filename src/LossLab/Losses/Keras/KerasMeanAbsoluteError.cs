using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>mean_absolute_error</c>: mean over the last axis of |ŷ − y|. ∂/∂ŷ = sign(ŷ − y)/L (0 at a tie) = −∂/∂y.
/// </summary>
public sealed class KerasMeanAbsoluteError(string reduction = "sum_over_batch_size", TensorData? sampleWeight = null)
    : KerasMeanLoss<KerasMeanAbsoluteError.Kernel>(reduction, sampleWeight), ILossDefinition
{
    public readonly struct Kernel : IElementwiseKernel
    {
        public T Value<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T> => T.Abs(p - y);

        public (T Dx, T Dy) Derivative<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T s = Stable.Sign(p - y);
            return (-s, s);
        }
    }

    protected override Kernel ElementKernel => default;

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasMeanAbsoluteError",
        Aliases = ["keras.mean_absolute_error", "keras.MeanAbsoluteError", "keras.mae"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = TrueAndPred,
        Options = [ReductionOption, SampleWeightOption],
        Sample = (r, s) => new LossInputs().Add("y_true", Samples.Normal(r, Samples.Or(s, 3, 4))).Add("y_pred", Samples.Normal(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = mean_last(|ŷ − y|)",
        Gradient = "∂ℓ/∂ŷ = sign(ŷ − y)/L",
        Reference = "keras.losses.mean_absolute_error",
        Stability = "finite for every finite input",
        Libraries = "Keras, PyTorch (l1_loss)",
        Factory = o => new KerasMeanAbsoluteError(o.Choice("reduction"), o.Tensor("sample_weight")),
    };

    public override LossDescriptor Descriptor => Entry;
}
