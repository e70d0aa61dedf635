using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>mean_absolute_percentage_error</c>: mean over the last axis of 100·|y − ŷ| / max(|y|, ε), ε = float32(1e-7).
/// ∂/∂ŷ = 100·sgn(ŷ − y)/m, m = max(|y|, ε); ∂/∂y = 100·(sgn(y − ŷ)/|y| − |y − ŷ|·sgn(y)/y²) = 100·sgn(y − ŷ)·sgn(y)·ŷ/y²
/// for |y| &gt; ε (computed in that form: no cancellation), 100·sgn(y − ŷ)/ε below.
/// </summary>
public sealed class KerasMape(string reduction = "sum_over_batch_size", TensorData? sampleWeight = null)
    : KerasMeanLoss<KerasMape.Kernel>(reduction, sampleWeight), ILossDefinition
{
    public readonly struct Kernel : IElementwiseKernel
    {
        public T Value<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T>
            => T.CreateTruncating(100) * T.Abs(y - p) / T.Max(T.Abs(y), Epsilon<T>());

        public (T Dx, T Dy) Derivative<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T hundred = T.CreateTruncating(100), m = T.Max(T.Abs(y), Epsilon<T>());
            T dp = hundred * Stable.Sign(p - y) / m;
            // Above ε, sgn(y − ŷ)/|y| − |y − ŷ|·sgn(y)/y² is exactly sgn(y − ŷ)·sgn(y)·ŷ/y²: the same derivative without
            // the difference of two near-equal terms, which lost float32 digits where ŷ is small against y.
            T dy = T.Abs(y) > Epsilon<T>()
                ? hundred * Stable.Sign(y - p) * Stable.Sign(y) * (p / y / y)
                : hundred * Stable.Sign(y - p) / m;
            return (dy, dp);
        }
    }

    protected override Kernel ElementKernel => default;

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasMeanAbsolutePercentageError",
        Aliases = ["keras.mean_absolute_percentage_error", "keras.MeanAbsolutePercentageError", "keras.mape", "mape"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = TrueAndPred,
        Options = [ReductionOption, SampleWeightOption],
        Sample = (r, s) => new LossInputs().Add("y_true", Samples.Uniform(r, Samples.Or(s, 3, 4), 1, 5)).Add("y_pred", Samples.Uniform(r, Samples.Or(s, 3, 4), 6, 9)),
        Formula = "ℓ = mean_last(100·|y − ŷ| / max(|y|, 1e-7))",
        Gradient = "∂ℓ/∂ŷ = 100·sgn(ŷ − y)/(max(|y|, ε)·L)",
        Reference = "keras.losses.mean_absolute_percentage_error",
        Stability = "finite for every finite input (the denominator is at least 1e-7)",
        Libraries = "Keras",
        Factory = o => new KerasMape(o.Choice("reduction"), o.Tensor("sample_weight")),
    };

    public override LossDescriptor Descriptor => Entry;
}
