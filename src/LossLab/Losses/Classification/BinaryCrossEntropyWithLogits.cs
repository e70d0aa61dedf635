using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Binary cross-entropy on logits: ℓ = w[(1 − y)·x − (1 + (p − 1)y)·log σ(x)], p = pos_weight.
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.binary_cross_entropy_with_logits(input, target, weight=None, reduction='mean', pos_weight=None)</c>.
/// Derivation: with c = 1 + (p − 1)y and d/dx log σ(x) = 1 − σ(x),
/// ∂ℓ/∂x = w[(1 − y) − c(1 − σ(x))] = w[c·σ(x) − p·y];  ∂ℓ/∂y = w[−x − (p − 1)·log σ(x)] = w[log σ(−x) − p·log σ(x)].
/// log σ is computed as min(x, 0) − log1p(e^−|x|), so the value and gradients are exact for logits ±1e4 (no overflow,
/// pytorch#13773). <c>weight</c> and <c>pos_weight</c> broadcast to the input's shape (pos_weight usually has the
/// class dim's length, the documented recipe being #negatives/#positives).
/// </remarks>
public sealed class BinaryCrossEntropyWithLogits(BinaryCrossEntropyWithLogits.Options options)
    : ElementwiseLoss<BinaryCrossEntropyWithLogits.Kernel>(options.Reduction, options.Weight), ILossDefinition
{
    private readonly TensorData? _posWeight = options.PosWeight;

    public BinaryCrossEntropyWithLogits() : this(new Options()) { }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>Rescaling weight broadcast to the input's shape.</summary>
        public TensorData? Weight { get; init; }

        /// <summary>Weight of positive examples, broadcast to the input's shape (typically one per class).</summary>
        public TensorData? PosWeight { get; init; }

        /// <summary>ε in [0, 1]: targets become y(1 − ε) + ε/2, as Keras's label_smoothing (not a PyTorch option; 0 = PyTorch).</summary>
        public double LabelSmoothing { get; init; }
    }

    /// <summary>
    /// ℓ = (1 − y')x − (1 + (p − 1)y')·log σ(x) with p the per-element pos_weight and y' = y(1 − ε) + ε/2 (ε = label
    /// smoothing, 0 by default), taken as (1 − y')·softplus(x) + p·y'·softplus(−x) (x = softplus(x) − softplus(−x)):
    /// two non-negative terms for y' in [0, 1], where the first form cancels to 0 for a confident correct logit
    /// (3.4e-15 at x = −33.3, y = 0). ∂ℓ/∂x = (1 − y')σ(x) − p·y'·σ(−x), ∂ℓ/∂y' = p·softplus(−x) − softplus(x), and
    /// ∂ℓ/∂y = (1 − ε)·∂ℓ/∂y'.
    /// </summary>
    public readonly struct Kernel(double smoothing) : IElementwiseKernel
    {
        private T Smooth<T>(T y) where T : struct, IFloatingPointIeee754<T>
            => smoothing == 0 ? y : y * (T.One - T.CreateTruncating(smoothing)) + T.CreateTruncating(smoothing / 2);

        public T Value<T>(T x, T y, T p) where T : struct, IFloatingPointIeee754<T>
        {
            y = Smooth(y);
            T softplus = Stable.SoftplusPair(x, out T softplusNegative);
            return (T.One - y) * softplus + p * y * softplusNegative;
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T p) where T : struct, IFloatingPointIeee754<T>
        {
            y = Smooth(y);
            T sigmoid = Stable.SigmoidPair(x, out T sigmoidNegative), softplus = Stable.SoftplusPair(x, out T softplusNegative);
            T dx = (T.One - y) * sigmoid - p * y * sigmoidNegative;
            T dy = (p * softplusNegative - softplus) * (T.One - T.CreateTruncating(smoothing));
            return (dx, dy);
        }
    }

    private readonly Kernel _kernel = new(options.LabelSmoothing is >= 0 and <= 1 ? options.LabelSmoothing
        : throw LossArgumentException.Value($"BinaryCrossEntropyWithLogits: label_smoothing must be in [0, 1], got {options.LabelSmoothing}"));

    protected override bool WeightBroadcasts => true;

    protected override T[]? Aux<T>(Shape shape) => BroadcastOption<T>(_posWeight, "pos_weight", shape);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "BinaryCrossEntropyWithLogits",
        Aliases = ["binary_cross_entropy_with_logits", "BCEWithLogitsLoss", "sigmoid_binary_cross_entropy", "log_loss"],
        Family = LossFamily.Classification,
        Task = LossTask.BinaryClassification,
        Inputs = [new("input", InputKind.Floating, true, "logits"), new("target", InputKind.Floating, true, "labels in [0, 1], same shape")],
        Options =
        [
            OptionSpec.Reduction(StandardReductions),
            OptionSpec.Tensor("weight", "rescaling weight, broadcast to the input's shape"),
            OptionSpec.Tensor("pos_weight", "weight of positives, broadcast to the input's shape (one per class)"),
            OptionSpec.Float("label_smoothing", 0.0, "ε in [0, 1]: y → y(1 − ε) + ε/2 (Keras's; not a PyTorch option)"),
        ],
        Sample = (r, s) => new LossInputs().Add("input", Samples.Normal(r, Samples.Or(s, 3, 4), 2)).Add("target", Samples.Uniform(r, Samples.Or(s, 3, 4), 0, 1)),
        Formula = "ℓ = w·[(1 − y)·x − (1 + (p − 1)·y)·log σ(x)]",
        Gradient = "∂ℓ/∂x = w·[(1 + (p − 1)y)·σ(x) − p·y]",
        Reference = "torch.nn.functional.binary_cross_entropy_with_logits",
        Stability = "exact for |x| ≤ 1e4 and beyond: no exp of a positive number is ever taken",
        Libraries = "PyTorch, TorchSharp, Keras (from_logits), Optax (sigmoid_binary_cross_entropy), ML.NET (LogLoss)",
        Factory = o => new BinaryCrossEntropyWithLogits(new Options
        {
            Reduction = o.Reduction,
            Weight = o.Tensor("weight"),
            PosWeight = o.Tensor("pos_weight"),
            LabelSmoothing = o.Float("label_smoothing"),
        }),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => _kernel;
}
