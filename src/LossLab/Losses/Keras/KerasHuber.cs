using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>huber</c>: mean over the last axis of ½d² where |d| ≤ δ and δ|d| − ½δ² elsewhere, d = ŷ − y.
/// ∂/∂ŷ = clamp(d, −δ, δ)/L = −∂/∂y. (PyTorch's huber_loss is the same per element but averages over all elements.)
/// </summary>
public sealed class KerasHuber(double delta = 1.0, string reduction = "sum_over_batch_size", TensorData? sampleWeight = null)
    : KerasMeanLoss<KerasHuber.Kernel>(reduction, sampleWeight), ILossDefinition
{
    public readonly struct Kernel(double delta) : IElementwiseKernel
    {
        public T Value<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T d = T.Abs(p - y), dl = T.CreateTruncating(delta), half = T.CreateTruncating(0.5);
            return d <= dl ? half * d * d : dl * d - half * dl * dl;
        }

        public (T Dx, T Dy) Derivative<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T dl = T.CreateTruncating(delta), g = T.Clamp(p - y, -dl, dl);
            return (-g, g);
        }
    }

    private readonly Kernel kernel = new(delta > 0 && double.IsFinite(delta) ? delta
        : throw LossArgumentException.Value($"KerasHuber: delta must be a positive finite number, got {delta}"));

    protected override Kernel ElementKernel => kernel;

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasHuber",
        Aliases = ["keras.huber", "keras.Huber"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = TrueAndPred,
        Options = [ReductionOption, SampleWeightOption, OptionSpec.Float("delta", 1.0, "where the loss turns from quadratic to linear")],
        Sample = (r, s) => new LossInputs().Add("y_true", Samples.Normal(r, Samples.Or(s, 3, 4), 2)).Add("y_pred", Samples.Normal(r, Samples.Or(s, 3, 4), 2)),
        Formula = "ℓ = mean_last(½d² if |d| ≤ δ else δ|d| − ½δ²),  d = ŷ − y",
        Gradient = "∂ℓ/∂ŷ = clamp(d, −δ, δ)/L",
        Reference = "keras.losses.huber",
        Stability = "finite for every finite input",
        Libraries = "Keras, PyTorch (huber_loss), Optax (huber_loss)",
        Factory = o => new KerasHuber(o.Float("delta"), o.Choice("reduction"), o.Tensor("sample_weight")),
    };

    public override LossDescriptor Descriptor => Entry;
}
