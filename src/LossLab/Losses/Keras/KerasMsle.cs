using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>mean_squared_logarithmic_error</c>: mean over the last axis of (log(max(ŷ, ε) + 1) − log(max(y, ε) + 1))².
/// Values below ε are replaced by ε, so their gradient is 0. ∂/∂ŷ = 2δ/(ŷ + 1) where ŷ &gt; ε, δ the log difference.
/// </summary>
public sealed class KerasMsle(string reduction = "sum_over_batch_size", TensorData? sampleWeight = null)
    : KerasMeanLoss<KerasMsle.Kernel>(reduction, sampleWeight), ILossDefinition
{
    public readonly struct Kernel : IElementwiseKernel
    {
        public T Value<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T d = T.Log(T.Max(p, Epsilon<T>()) + T.One) - T.Log(T.Max(y, Epsilon<T>()) + T.One);
            return d * d;
        }

        public (T Dx, T Dy) Derivative<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T mp = T.Max(p, Epsilon<T>()), my = T.Max(y, Epsilon<T>());
            T d = T.Log(mp + T.One) - T.Log(my + T.One);
            T dp = p > Epsilon<T>() ? (d + d) / (mp + T.One) : T.Zero;
            T dy = y > Epsilon<T>() ? -(d + d) / (my + T.One) : T.Zero;
            return (dy, dp);
        }
    }

    protected override Kernel ElementKernel => default;

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasMeanSquaredLogarithmicError",
        Aliases = ["keras.mean_squared_logarithmic_error", "keras.MeanSquaredLogarithmicError", "keras.msle", "msle"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = TrueAndPred,
        Options = [ReductionOption, SampleWeightOption],
        Sample = (r, s) => new LossInputs().Add("y_true", Samples.Uniform(r, Samples.Or(s, 3, 4), 0.1, 5)).Add("y_pred", Samples.Uniform(r, Samples.Or(s, 3, 4), 0.1, 5)),
        Formula = "ℓ = mean_last((log(max(ŷ, ε) + 1) − log(max(y, ε) + 1))²)",
        Gradient = "∂ℓ/∂ŷ = 2δ/((ŷ + 1)·L) where ŷ > ε",
        Reference = "keras.losses.mean_squared_logarithmic_error",
        Stability = "finite for every finite input (values below 1e-7 are clamped)",
        Libraries = "Keras",
        Factory = o => new KerasMsle(o.Choice("reduction"), o.Tensor("sample_weight")),
    };

    public override LossDescriptor Descriptor => Entry;
}
