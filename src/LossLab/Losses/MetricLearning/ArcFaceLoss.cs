using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// ArcFace, the additive angular margin loss (Deng et al., CVPR 2019), as pytorch-metric-learning's
/// <c>ArcFaceLoss(num_classes, embedding_size, margin=28.6, scale=64)</c>: the target class's angle θ = arccos c grows by
/// the margin m before the scaled softmax, f(c) = cos(θ + m), so that each class's embeddings must sit within a
/// tighter cone around its weight vector.
/// </summary>
/// <remarks>
/// <para><b>Target logit</b> (m in radians from the degrees given): cos(θ + m) = c·cos m − √(1 − c²)·sin m while θ ≤ π − m,
/// i.e. c ≥ −cos m; past that, where cos(θ + m) would turn back up, c − m·sin m, which keeps the loss decreasing in c
/// (pytorch-metric-learning's rule; insightface's "easy margin" differs). f′(c) = cos m + sin m·c/√(1 − c²) and 1.
/// The closed form needs no arccos; at c = ±1 exactly, √(1 − c²) is floored at 1e-12 so that f′ stays finite.</para>
/// <para>Shared parts (cosines, gradients through the normalizations, W as an input): <see cref="AngularMarginLoss"/>.</para>
/// </remarks>
public sealed class ArcFaceLoss : AngularMarginLoss, ILossDefinition
{
    private readonly ArcMargin _margin;

    public ArcFaceLoss(double marginDegrees = 28.6, double scale = 64, Reduction reduction = Reduction.Mean) : base("ArcFaceLoss", scale, reduction)
    {
        _margin = new ArcMargin("ArcFaceLoss", marginDegrees);
    }

    protected override (double F, double Df) Target(double c) => _margin.Apply(c);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "ArcFaceLoss",
        Aliases = ["arcface_loss", "arcface", "additive_angular_margin_loss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = AngularInputs,
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Float("margin", 28.6, "m, the angular margin in degrees (28.6° ≈ 0.5 rad)"),
            OptionSpec.Float("scale", 64, "s, the logits' scale"),
        ],
        Sample = AngularSample,
        Formula = "ℓ = −log softmax(s·ĉ)_y,  ĉ_j = cos θ_j (j ≠ y), ĉ_y = cos(θ_y + m) (c_y − m·sin m past θ = π − m),  cos θ_j = ê·ŵ_j",
        Gradient = "∂ℓ/∂c_j = s(p_j − [j = y]·(…)), the target's times f′(c_y) = cos m + sin m·c/√(1 − c²); through both L2 normalizations to embeddings and W",
        Reference = "Deng et al., ArcFace: Additive Angular Margin Loss for Deep Face Recognition, CVPR 2019; pytorch-metric-learning ArcFaceLoss",
        Stability = "finite for every finite input (closed form without arccos; norms clamped at 1e-12)",
        Libraries = "pytorch-metric-learning (ArcFaceLoss), insightface",
        Factory = o => new ArcFaceLoss(o.Float("margin"), o.Float("scale"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}

/// <summary>ArcFace's target logit f(c) = cos(arccos c + m) and f′(c), shared with <see cref="SubCenterArcFaceLoss"/>.</summary>
internal readonly struct ArcMargin
{
    private readonly double _cos, _sin, _m;

    public ArcMargin(string loss, double degrees)
    {
        if (!(degrees is >= 0 and < 180)) throw LossArgumentException.Value($"{loss}: margin must be in [0, 180) degrees, got {degrees}");
        _m = degrees * Math.PI / 180;
        (_sin, _cos) = Math.SinCos(_m);
    }

    public (double F, double Df) Apply(double c)
    {
        if (c < -_cos) return (c - _m * _sin, 1);
        double s = Math.Sqrt(Math.Max(1 - c * c, 0));
        return (c * _cos - s * _sin, _cos + _sin * c / Math.Max(s, 1e-12));
    }
}
