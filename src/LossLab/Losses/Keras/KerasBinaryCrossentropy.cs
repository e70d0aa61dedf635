using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>binary_crossentropy</c>: mean over the last axis of −(t'·log c + (1 − t')·log(1 − c)), with the target
/// smoothed to t' = t(1 − ls) + ls/2 and c = clip(ŷ, ε, 1 − ε). With from_logits it is the exact softplus(z) − t'z
/// (no clipping), so large logits stay finite and exact.
/// </summary>
/// <remarks>
/// Probabilities: ∂/∂ŷ = −t'/c + (1 − t')/(1 − c) inside the clip and 0 outside; ∂/∂t = (1 − ls)(log(1 − c) − log c).
/// Logits: ∂/∂z = σ(z) − t'; ∂/∂t = −(1 − ls)·z.
/// </remarks>
public sealed class KerasBinaryCrossentropy(bool fromLogits = false, double smoothing = 0, string reduction = "sum_over_batch_size", TensorData? sampleWeight = null)
    : KerasMeanLoss<KerasBinaryCrossentropy.Kernel>(reduction, sampleWeight), ILossDefinition
{
    public readonly struct Kernel(bool fromLogits, double smoothing) : IElementwiseKernel
    {
        public T Value<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T t = Smooth(y);
            // softplus(p) − t·p as (1 − t)·softplus(p) + t·softplus(−p): no cancellation for a confident correct logit.
            if (fromLogits) return (T.One - t) * Stable.SoftplusPair(p, out T softplusNegative) + t * softplusNegative;
            T c = ClipProbability(p);
            return -(t * T.Log(c) + (T.One - t) * T.Log(T.One - c));
        }

        public (T Dx, T Dy) Derivative<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T t = Smooth(y), keep = T.One - T.CreateTruncating(smoothing);
            if (fromLogits) return (-keep * p, (T.One - t) * Stable.SigmoidPair(p, out T sigmoidNegative) - t * sigmoidNegative);
            T c = ClipProbability(p);
            bool inside = InsideClip(p);
            return (keep * (T.Log(T.One - c) - T.Log(c)), inside ? -t / c + (T.One - t) / (T.One - c) : T.Zero);
        }

        private T Smooth<T>(T y) where T : struct, IFloatingPointIeee754<T>
        {
            T ls = T.CreateTruncating(smoothing);
            return y * (T.One - ls) + ls / (T.One + T.One);
        }
    }

    private readonly Kernel kernel = new(fromLogits, CheckedSmoothing("KerasBinaryCrossentropy", smoothing));

    protected override Kernel ElementKernel => kernel;

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasBinaryCrossentropy",
        Aliases = ["keras.binary_crossentropy", "keras.BinaryCrossentropy"],
        Family = LossFamily.Classification,
        Task = LossTask.BinaryClassification,
        Inputs = TrueAndPred,
        Options =
        [
            ReductionOption, SampleWeightOption,
            OptionSpec.Bool("from_logits", false, "y_pred holds logits"),
            OptionSpec.Float("label_smoothing", 0.0, "t → t(1 − ls) + ls/2"),
        ],
        Sample = (r, s) => new LossInputs().Add("y_true", Samples.Bernoulli(r, Samples.Or(s, 3, 4))).Add("y_pred", Samples.Uniform(r, Samples.Or(s, 3, 4), 0.05, 0.95)),
        Formula = "ℓ = mean_last(−(t·log c + (1 − t)·log(1 − c))),  c = clip(ŷ, ε, 1 − ε)",
        Gradient = "∂ℓ/∂ŷ = (−t/c + (1 − t)/(1 − c))/L inside the clip; logits: (σ(z) − t)/L",
        Reference = "keras.losses.binary_crossentropy",
        Stability = "clipped probabilities; exact softplus form for logits",
        Libraries = "Keras, PyTorch (binary_cross_entropy[_with_logits]), Optax (sigmoid_binary_cross_entropy)",
        Factory = o => new KerasBinaryCrossentropy(o.Bool("from_logits"), o.Float("label_smoothing"), o.Choice("reduction"), o.Tensor("sample_weight")),
    };

    public override LossDescriptor Descriptor => Entry;
}
