using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Detection;

/// <summary>
/// Varifocal loss (Zhang et al., VarifocalNet: An IoU-aware Dense Object Detector, CVPR 2021; mmdetection's
/// <c>varifocal_loss(pred, target, alpha=0.75, gamma=2.0, iou_weighted=True, reduction='mean')</c>): the binary
/// cross-entropy of each class logit against an IoU-aware target q (the predicted box's IoU with its ground truth at
/// the true class, 0 elsewhere), weighted asymmetrically: positives by q itself (so that high-quality boxes count
/// most), negatives by α·p^γ as in the focal loss (so that easy background fades).
/// </summary>
/// <remarks>
/// <para><b>Definition</b> (p = σ(x), target q): w = q for q &gt; 0 (1 without iou_weighted), α·|p − q|^γ for q ≤ 0;
/// ℓ = w·BCE(x, q), BCE = (1 − q)·softplus(x) + q·softplus(−x). mmdetection's weight is not detached, and neither is it here.</para>
/// <para><b>Gradient:</b> ∂ℓ/∂x = w·(p − q) + BCE·∂w/∂x, with ∂w/∂x = αγ·|p − q|^{γ−1}·sgn(p − q)·p(1 − p) for q ≤ 0 and 0
/// otherwise (for q = 0 written αγ·p^γ·(1 − p), finite for every γ ≥ 0). The target is not differentiated (an IoU
/// computed from detached boxes). The reduction is mmdetection's mean over every element.</para>
/// </remarks>
public sealed class VarifocalLoss : ElementwiseLoss<VarifocalLoss.Kernel>, ILossDefinition
{
    private readonly Kernel _kernel;

    public VarifocalLoss(double alpha = 0.75, double gamma = 2.0, bool iouWeighted = true, Reduction reduction = Reduction.Mean) : base(reduction, null)
    {
        if (!(alpha >= 0 && double.IsFinite(alpha))) throw LossArgumentException.Value($"VarifocalLoss: alpha must be a finite number ≥ 0, got {alpha}");
        if (!(gamma >= 0 && double.IsFinite(gamma))) throw LossArgumentException.Value($"VarifocalLoss: gamma must be a finite number ≥ 0, got {gamma}");
        _kernel = new Kernel(alpha, gamma, iouWeighted);
    }

    public readonly struct Kernel(double alpha, double gamma, bool iouWeighted) : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T unused) where T : struct, System.Numerics.IFloatingPointIeee754<T>
        {
            double xd = double.CreateTruncating(x), q = double.CreateTruncating(y);
            double p = Stable.Sigmoid(xd);
            return T.CreateTruncating(Weight(p, q) * Bce(xd, q));
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T unused) where T : struct, System.Numerics.IFloatingPointIeee754<T>
        {
            double xd = double.CreateTruncating(x), q = double.CreateTruncating(y);
            double p = Stable.SigmoidPair(xd, out double oneMinusP);
            double dWeight = 0;
            if (q <= 0 && gamma > 0)
            {
                double d = p - q;   // > 0 where q ≤ 0 < p
                dWeight = alpha * gamma * (q == 0 ? Math.Pow(p, gamma) * oneMinusP : d == 0 ? 0 : Math.Pow(d, gamma - 1) * p * oneMinusP);
            }
            // p − q as (1 − q)p − q(1 − p): no cancellation for a confident logit.
            double dx = Weight(p, q) * ((1 - q) * p - q * oneMinusP) + Bce(xd, q) * dWeight;
            return (T.CreateTruncating(dx), T.Zero);
        }

        private double Weight(double p, double q) => q > 0 ? (iouWeighted ? q : 1) : alpha * Math.Pow(Math.Abs(p - q), gamma);

        private static double Bce(double x, double q) => (1 - q) * Stable.Softplus(x) + q * Stable.Softplus(-x);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "VarifocalLoss",
        Aliases = ["varifocal_loss", "vfl", "mmdet.VarifocalLoss"],
        Family = LossFamily.Classification,
        Task = LossTask.MultilabelClassification,
        Inputs =
        [
            new("pred", InputKind.Floating, true, "class logits (N, C) of a dense detector's boxes (any shape)"),
            new("target", InputKind.Floating, false, "IoU-aware targets q, same shape: the box's IoU at its true class, 0 elsewhere"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("alpha", 0.75, "α, the negatives' weight"),
            OptionSpec.Float("gamma", 2.0, "γ, the negatives' focusing exponent"),
            OptionSpec.Bool("iou_weighted", true, "weight positives by their target q (false: by 1)"),
        ],
        Sample = (r, s) =>
        {
            Shape shape = Samples.Or(s, 4, 3);
            double[] q = [.. Enumerable.Range(0, shape.Numel).Select(_ => r.Next(3) == 0 ? 0.2 + 0.75 * r.NextDouble() : 0.0)];
            return new LossInputs().Add("pred", Samples.Normal(r, shape, 2)).Add("target", TensorData.Create(shape, DType.Float64, q));
        },
        Formula = "ℓ = w·BCE(x, q),  w = q (q > 0) or α·|σ(x) − q|^γ (q ≤ 0)",
        Gradient = "∂ℓ/∂x = w·(σ(x) − q) + BCE·αγ·|σ − q|^{γ−1}·σ(1 − σ)  (the second term for q ≤ 0)",
        Reference = "Zhang et al., VarifocalNet, CVPR 2021; mmdetection varifocal_loss",
        Stability = "softplus and sigmoid in double: finite for every finite logit",
        LowerBound = 0,
        Libraries = "mmdetection (VarifocalLoss), ultralytics (VarifocalLoss), PaddleDetection",
        Factory = o => new VarifocalLoss(o.Float("alpha"), o.Float("gamma"), o.Bool("iou_weighted"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => _kernel;

    protected override (string Input, string Target) InputNames => ("pred", "target");

    protected override bool TargetDifferentiable => false;

    /// <summary>An IoU-aware target is in [0, 1] (outside it the BCE can go negative); a NaN is named too.</summary>
    protected override void Validate<T>(T[] input, T[] target)
    {
        for (int i = 0; i < target.Length; i++)
            if (!(target[i] >= T.Zero && target[i] <= T.One)) throw LossArgumentException.Value($"VarifocalLoss: target {target[i]} at index {i} is not an IoU-aware score in [0, 1]");
    }
}
