using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>poisson</c> on a rate prediction: mean over the last axis of ŷ − y·log(ŷ + ε), ε = float32(1e-7), no clipping.
/// ∂/∂ŷ = 1 − y/(ŷ + ε); ∂/∂y = −log(ŷ + ε).
/// </summary>
public sealed class KerasPoisson(string reduction = "sum_over_batch_size", TensorData? sampleWeight = null)
    : KerasMeanLoss<KerasPoisson.Kernel>(reduction, sampleWeight), ILossDefinition
{
    public readonly struct Kernel : IElementwiseKernel
    {
        public T Value<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T> => p - y * T.Log(p + Epsilon<T>());

        public (T Dx, T Dy) Derivative<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T>
            => (-T.Log(p + Epsilon<T>()), T.One - y / (p + Epsilon<T>()));
    }

    protected override Kernel ElementKernel => default;

    /// <summary>A rate with ŷ + ε ≤ 0 has no log: Keras returns NaN for it; here it is an error naming the element.</summary>
    protected override T[] PerSample<T>(T[] yTrue, T[] yPred, Shape shape, out Shape valueShape)
    {
        for (int i = 0; i < yPred.Length; i++)
        {
            if (!(yPred[i] + Epsilon<T>() > T.Zero) && !T.IsNaN(yPred[i]))
                throw LossArgumentException.Value($"{Descriptor.Name}: y_pred holds {yPred[i]} at index {i}{shape.PositionText(i)}; a Poisson rate must be > −1e-7 (Keras takes log(y_pred + 1e-7))");
        }
        return base.PerSample(yTrue, yPred, shape, out valueShape);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasPoisson",
        Aliases = ["keras.poisson", "keras.Poisson"],
        Family = LossFamily.Regression,
        Task = LossTask.CountRegression,
        Inputs = TrueAndPred,
        Options = [ReductionOption, SampleWeightOption],
        Sample = (r, s) => new LossInputs().Add("y_true", Samples.Counts(r, Samples.Or(s, 3, 4))).Add("y_pred", Samples.Uniform(r, Samples.Or(s, 3, 4), 0.5, 4)),
        Formula = "ℓ = mean_last(ŷ − y·log(ŷ + 1e-7))",
        Gradient = "∂ℓ/∂ŷ = (1 − y/(ŷ + ε))/L",
        Reference = "keras.losses.poisson",
        Stability = "finite for ŷ > −1e-7",
        LowerBound = double.NegativeInfinity,   // ŷ − y·log ŷ has its minimum y − y·log y
        Libraries = "Keras, PyTorch (poisson_nll_loss, log_input=False)",
        Factory = o => new KerasPoisson(o.Choice("reduction"), o.Tensor("sample_weight")),
    };

    public override LossDescriptor Descriptor => Entry;
}
