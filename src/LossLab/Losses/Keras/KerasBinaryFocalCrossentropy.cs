using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>binary_focal_crossentropy</c>: mean over the last axis of w·(1 − p_t)^γ·bce, where the target is smoothed to
/// t' = t(1 − ls) + ls/2, p = σ(ŷ) with from_logits, bce uses p clipped to [ε, 1 − ε] but p_t = t'p + (1 − t')(1 − p)
/// uses the unclipped p, and w = αt' + (1 − α)(1 − t') only with apply_class_balancing.
/// </summary>
/// <remarks>
/// Derivation: with F = (1 − p_t)^γ, ∂F/∂p = −γ(1 − p_t)^(γ−1)(2t' − 1), ∂bce/∂p = (−t'/c + (1 − t')/(1 − c)) inside the
/// clip, ∂ℓ/∂p = w(∂F/∂p·bce + F·∂bce/∂p); ∂ℓ/∂t' = ∂w/∂t'·F·bce + w(−γ(1 − p_t)^(γ−1)(2p − 1)·bce + F(log(1 − c) − log c));
/// ∂ℓ/∂t = (1 − ls)·∂ℓ/∂t'; with logits ∂ℓ/∂ŷ = ∂ℓ/∂p·p(1 − p).
/// </remarks>
public sealed class KerasBinaryFocalCrossentropy(KerasBinaryFocalCrossentropy.Kernel kernel, string reduction = "sum_over_batch_size", TensorData? sampleWeight = null)
    : KerasMeanLoss<KerasBinaryFocalCrossentropy.Kernel>(reduction, sampleWeight), ILossDefinition
{
    public readonly struct Kernel(bool balancing, double alpha, double gamma, bool fromLogits, double smoothing) : IElementwiseKernel
    {
        public T Value<T>(T y, T yPred, T a) where T : struct, IFloatingPointIeee754<T> => Terms(y, yPred).Loss;

        public (T Dx, T Dy) Derivative<T>(T y, T yPred, T a) where T : struct, IFloatingPointIeee754<T>
        {
            var r = Terms(y, yPred);
            return (r.DTrue, r.DPred);
        }

        private (T Loss, T DTrue, T DPred) Terms<T>(T y, T yPred) where T : struct, IFloatingPointIeee754<T>
        {
            T one = T.One, two = one + one, ls = T.CreateTruncating(smoothing), al = T.CreateTruncating(alpha), g = T.CreateTruncating(gamma);
            T t = y * (one - ls) + ls / two;
            T p = fromLogits ? Stable.Sigmoid(yPred) : yPred;
            T c = KerasLoss.ClipProbability(p);
            bool inside = KerasLoss.InsideClip(p);
            T bce = -(t * T.Log(c) + (one - t) * T.Log(one - c));
            T q = one - (t * p + (one - t) * (one - p));                       // 1 − p_t
            // γ = 2 (the default) as products: q·q and 2·q are pow's correctly rounded results, without two pow calls.
            T f = gamma == 0 ? one : gamma == 2 ? q * q : T.Pow(q, g);
            T fPrime = gamma == 0 || (q == T.Zero && gamma < 1) ? T.Zero : gamma == 2 ? two * q : g * T.Pow(q, g - one);   // d(q^γ)/dq
            T w = balancing ? al * t + (one - al) * (one - t) : one;
            T dBceDp = inside ? -t / c + (one - t) / (one - c) : T.Zero;
            T dPred = w * (-fPrime * (two * t - one) * bce + f * dBceDp);
            if (fromLogits) dPred *= p * (one - p);
            T dWdt = balancing ? two * al - one : T.Zero;
            T dTrue = dWdt * f * bce + w * (-fPrime * (two * p - one) * bce + f * (T.Log(one - c) - T.Log(c)));
            return (w * f * bce, dTrue * (one - ls), dPred);
        }
    }

    protected override Kernel ElementKernel => kernel;

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasBinaryFocalCrossentropy",
        Aliases = ["keras.binary_focal_crossentropy", "keras.BinaryFocalCrossentropy"],
        Family = LossFamily.Classification,
        Task = LossTask.BinaryClassification,
        Inputs = TrueAndPred,
        Options =
        [
            ReductionOption, SampleWeightOption,
            OptionSpec.Bool("apply_class_balancing", false, "weight positives by α and negatives by 1 − α"),
            OptionSpec.Float("alpha", 0.25, "class-balancing weight"),
            OptionSpec.Float("gamma", 2.0, "focusing exponent"),
            OptionSpec.Bool("from_logits", false, "y_pred holds logits"),
            OptionSpec.Float("label_smoothing", 0.0, "t → t(1 − ls) + ls/2"),
        ],
        Sample = (r, s) => new LossInputs().Add("y_true", Samples.Bernoulli(r, Samples.Or(s, 3, 4))).Add("y_pred", Samples.Uniform(r, Samples.Or(s, 3, 4), 0.05, 0.95)),
        Formula = "ℓ = mean_last(w·(1 − p_t)^γ·bce(t', clip(p)))",
        Gradient = "∂ℓ/∂p = w(∂F/∂p·bce + F·∂bce/∂p)/L",
        Reference = "keras.losses.binary_focal_crossentropy (Lin et al., 2017)",
        Stability = "finite for probabilities in [0, 1] and for every finite logit (clipped bce)",
        Libraries = "Keras, torchvision (sigmoid_focal_loss), Optax",
        Factory = o => new KerasBinaryFocalCrossentropy(new Kernel(o.Bool("apply_class_balancing"), o.Float("alpha"), o.Float("gamma"), o.Bool("from_logits"), CheckedSmoothing("KerasBinaryFocalCrossentropy", o.Float("label_smoothing"))),
            o.Choice("reduction"), o.Tensor("sample_weight")),
    };

    public override LossDescriptor Descriptor => Entry;
}
