using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>log_cosh</c>: mean over the last axis of log cosh(ŷ − y). ∂/∂ŷ = tanh(d) = −∂/∂y. Keras computes
/// d + softplus(−2d) − log 2, which keeps only absolute accuracy for tiny d; the terms here are
/// <see cref="Regression.LogCoshLoss"/>'s, exact at both ends.
/// </summary>
public sealed class KerasLogCosh(string reduction = "sum_over_batch_size", TensorData? sampleWeight = null)
    : KerasMeanLoss<KerasLogCosh.Kernel>(reduction, sampleWeight), ILossDefinition
{
    public readonly struct Kernel : IElementwiseKernel
    {
        public T Value<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T> => default(Regression.LogCoshLoss.Kernel).Value(p, y, a);

        public (T Dx, T Dy) Derivative<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T t = T.Tanh(p - y);
            return (-t, t);
        }
    }

    protected override Kernel ElementKernel => default;

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasLogCosh",
        Aliases = ["keras.log_cosh", "keras.LogCosh", "log_cosh"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = TrueAndPred,
        Options = [ReductionOption, SampleWeightOption],
        Sample = (r, s) => new LossInputs().Add("y_true", Samples.Normal(r, Samples.Or(s, 3, 4))).Add("y_pred", Samples.Normal(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = mean_last(log cosh(ŷ − y))",
        Gradient = "∂ℓ/∂ŷ = tanh(ŷ − y)/L",
        Reference = "keras.losses.log_cosh",
        Stability = "finite for every finite input (softplus form)",
        Libraries = "Keras, Optax (log_cosh)",
        Factory = o => new KerasLogCosh(o.Choice("reduction"), o.Tensor("sample_weight")),
    };

    public override LossDescriptor Descriptor => Entry;
}
