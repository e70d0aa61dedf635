using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Binary cross-entropy on probabilities: ℓ = −w[y·log x + (1 − y)·log(1 − x)], each log clamped at −100.
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.binary_cross_entropy(input, target, weight=None, reduction='mean')</c>.
/// The clamp keeps x = 0, y = 1 at 100 instead of ∞. The input gradient is PyTorch's kernel formula
/// w(x − y)/max(x(1 − x), 1e-12) (not the derivative of the clamped loss), so it is ±1e12·w at x ∈ {0, 1}; the target
/// gradient is −w·logit(x) = w(log(1 − x) − log x), unclamped (±∞ at x ∈ {0, 1}). Inputs outside [0, 1] are
/// rejected. <c>weight</c> broadcasts to the input's shape. Prefer <see cref="BinaryCrossEntropyWithLogits"/> for
/// training: it is exact where this one saturates.
/// </remarks>
public sealed class BinaryCrossEntropy(BinaryCrossEntropy.Options options)
    : ElementwiseLoss<BinaryCrossEntropy.Kernel>(options.Reduction, options.Weight), ILossDefinition
{
    public BinaryCrossEntropy() : this(new Options()) { }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>Rescaling weight broadcast to the input's shape.</summary>
        public TensorData? Weight { get; init; }
    }

    /// <summary>ℓ = −(y·max(log x, −100) + (1 − y)·max(log1p(−x), −100)).</summary>
    public readonly struct Kernel : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T floor = T.CreateTruncating(-100);
            T logX = T.Max(T.Log(x), floor);
            T log1mX = T.Max(Stable.Log1p(-x), floor);
            return -(y * logX + (T.One - y) * log1mX);
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T dx = (x - y) / T.Max((T.One - x) * x, T.CreateTruncating(1e-12));
            T dy = Stable.Log1p(-x) - T.Log(x);
            return (dx, dy);
        }
    }

    protected override bool WeightBroadcasts => true;

    protected override void Validate<T>(T[] input, T[] target)
    {
        for (int i = 0; i < input.Length; i++)
        {
            T x = input[i];
            if (!(x >= T.Zero && x <= T.One)) throw NotAProbability(i, x);
        }
    }

    /// <summary>The error for an input outside [0, 1] (or NaN) at flat index <paramref name="index"/>; the fused kernel raises the same.</summary>
    internal static LossArgumentException NotAProbability<T>(int index, T value)
        => LossArgumentException.Value($"BinaryCrossEntropy: 'input' holds probabilities and must be in [0, 1]; input[{index}] = {value}");

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "BinaryCrossEntropy",
        Aliases = ["binary_cross_entropy", "BCELoss", "bce"],
        Family = LossFamily.Classification,
        Task = LossTask.BinaryClassification,
        Inputs = [new("input", InputKind.Floating, true, "probabilities in [0, 1]"), new("target", InputKind.Floating, true, "labels in [0, 1], same shape")],
        Options = [OptionSpec.Reduction(StandardReductions), OptionSpec.Tensor("weight", "rescaling weight, broadcast to the input's shape")],
        Sample = (r, s) => new LossInputs().Add("input", Samples.Uniform(r, Samples.Or(s, 3, 4), 0.05, 0.95)).Add("target", Samples.Uniform(r, Samples.Or(s, 3, 4), 0, 1)),
        Formula = "ℓ = −w·[y·log x + (1 − y)·log(1 − x)], logs clamped ≥ −100",
        Gradient = "∂ℓ/∂x = w(x − y)/max(x(1 − x), 1e-12); ∂ℓ/∂y = −w·logit(x)",
        Reference = "torch.nn.functional.binary_cross_entropy",
        Stability = "value ≤ 100·w for every x in [0, 1]; input gradient ≤ 1e12·w",
        Libraries = "PyTorch, TorchSharp, Keras (BinaryCrossentropy)",
        Factory = o => new BinaryCrossEntropy(new Options { Reduction = o.Reduction, Weight = o.Tensor("weight") }),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => default;
}
