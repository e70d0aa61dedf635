using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// segmentation_models_pytorch's <c>SoftBCEWithLogitsLoss(weight, ignore_index=-100, reduction, smooth_factor,
/// pos_weight)</c>: BCE-with-logits against smoothed targets, with elements whose target equals ignore_index zeroed.
/// </summary>
/// <remarks>
/// <para><b>Math:</b> with s = smooth_factor, the target becomes y' = (1 − y)·s + y·(1 − s) = y(1 − 2s) + s ([1, 0] →
/// [0.9, 0.1] at s = 0.1: twice Keras's label_smoothing, which moves y by ε/2), and ℓ = m·w·[(1 − y')x −
/// (1 + (p − 1)y')·log σ(x)] with m = [y ≠ ignore_index] (compared before smoothing) and p = pos_weight.
/// <b>Gradient:</b> BCE-with-logits' at y' times m, and ∂ℓ/∂y = m·(1 − 2s)·∂ℓ/∂y'.</para>
/// <para><b>Reduction as smp, not as PyTorch:</b> <c>mean</c> divides by every element, the ignored ones included (they
/// count as 0), where PyTorch's losses with ignore_index divide by the counted ones; with every element ignored the
/// mean is 0, not NaN. The kernel is <see cref="BinaryCrossEntropyWithLogits.Kernel"/> with label smoothing 2s, so
/// the value stays exact for logits of any size.</para>
/// </remarks>
public sealed class SoftBceWithLogitsLoss(SoftBceWithLogitsLoss.Options options)
    : ElementwiseLoss<SoftBceWithLogitsLoss.Kernel>(options.Reduction, options.Weight), ILossDefinition
{
    private readonly TensorData? _posWeight = options.PosWeight;

    public SoftBceWithLogitsLoss() : this(new Options()) { }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>Rescaling weight broadcast to the input's shape.</summary>
        public TensorData? Weight { get; init; }

        /// <summary>Weight of positive examples, broadcast to the input's shape (typically one per class).</summary>
        public TensorData? PosWeight { get; init; }

        /// <summary>Elements whose target equals this contribute 0 (and count in the mean).</summary>
        public long IgnoreIndex { get; init; } = -100;

        /// <summary>s in [0, 1]: targets become y(1 − 2s) + s; 0 (smp's None) leaves them.</summary>
        public double SmoothFactor { get; init; }
    }

    /// <summary>ℓ = [y ≠ ignore]·BCE-with-logits(x, y(1 − 2s) + s; p) and its derivatives (the BCE kernel with smoothing 2s).</summary>
    public readonly struct Kernel(double smoothFactor, long ignoreIndex) : IElementwiseKernel
    {
        private readonly BinaryCrossEntropyWithLogits.Kernel _bce = new(2 * smoothFactor);

        private bool Ignored<T>(T y) where T : struct, IFloatingPointIeee754<T> => y == T.CreateTruncating(ignoreIndex);

        public T Value<T>(T x, T y, T p) where T : struct, IFloatingPointIeee754<T>
            => Ignored(y) ? T.Zero : _bce.Value(x, y, p);

        public (T Dx, T Dy) Derivative<T>(T x, T y, T p) where T : struct, IFloatingPointIeee754<T>
            => Ignored(y) ? (T.Zero, T.Zero) : _bce.Derivative(x, y, p);
    }

    private readonly Kernel _kernel = new(
        options.SmoothFactor is >= 0 and <= 1 ? options.SmoothFactor
            : throw LossArgumentException.Value($"SoftBceWithLogitsLoss: smooth_factor must be in [0, 1], got {options.SmoothFactor}"),
        options.IgnoreIndex);

    protected override bool WeightBroadcasts => true;

    protected override (string Input, string Target) InputNames => ("y_pred", "y_true");

    protected override T[]? Aux<T>(Shape shape) => BroadcastOption<T>(_posWeight, "pos_weight", shape);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "SoftBceWithLogitsLoss",
        Aliases = ["soft_bce_with_logits_loss", "smp.SoftBCEWithLogitsLoss", "soft_bce"],
        Family = LossFamily.Classification,
        Task = LossTask.BinaryClassification,
        Inputs = [new("y_pred", InputKind.Floating, true, "logits"), new("y_true", InputKind.Floating, true, "labels in [0, 1] (or ignore_index), same shape")],
        Options =
        [
            OptionSpec.Reduction(StandardReductions),
            OptionSpec.Tensor("weight", "rescaling weight, broadcast to the input's shape"),
            OptionSpec.Tensor("pos_weight", "weight of positives, broadcast to the input's shape (one per class)"),
            OptionSpec.Int("ignore_index", -100, "elements whose target equals this give 0 (and count in the mean)"),
            OptionSpec.Float("smooth_factor", 0.0, "s in [0, 1]: y → (1 − y)·s + y·(1 − s); 0 is smp's None"),
        ],
        // No ignored element: a finite difference of y_true at ignore_index would step off it (its gradient is 0 there, as autograd's).
        Sample = (r, s) => new LossInputs().Add("y_pred", Samples.Normal(r, Samples.Or(s, 3, 4), 2)).Add("y_true", Samples.Uniform(r, Samples.Or(s, 3, 4), 0, 1)),
        Formula = "ℓ = [y ≠ ignore]·w·[(1 − y')·x − (1 + (p − 1)·y')·log σ(x)], y' = (1 − y)·s + y·(1 − s)",
        Gradient = "∂ℓ/∂x = [y ≠ ignore]·w·[(1 + (p − 1)y')·σ(x) − p·y']",
        Reference = "segmentation_models_pytorch.losses.SoftBCEWithLogitsLoss (from pytorch-toolbelt)",
        Stability = "BCE-with-logits' kernel: exact for any finite logits",
        Libraries = "segmentation_models_pytorch, pytorch-toolbelt",
        Factory = o => new SoftBceWithLogitsLoss(new Options
        {
            Reduction = o.Reduction,
            Weight = o.Tensor("weight"),
            PosWeight = o.Tensor("pos_weight"),
            IgnoreIndex = o.Int("ignore_index"),
            SmoothFactor = o.Float("smooth_factor"),
        }),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => _kernel;
}
