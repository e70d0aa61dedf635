using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// CosFace, the large margin cosine loss (Wang et al., CVPR 2018), as pytorch-metric-learning's
/// <c>CosFaceLoss(num_classes, embedding_size, margin=0.35, scale=64)</c>: the target class's cosine is lowered by m,
/// f(c) = c − m, before the scaled softmax. f′ = 1. Shared parts: <see cref="AngularMarginLoss"/>.
/// </summary>
public sealed class CosFaceLoss : AngularMarginLoss, ILossDefinition
{
    private readonly double _margin;

    public CosFaceLoss(double margin = 0.35, double scale = 64, Reduction reduction = Reduction.Mean) : base("CosFaceLoss", scale, reduction)
    {
        if (!(margin >= 0) || !double.IsFinite(margin)) throw LossArgumentException.Value($"CosFaceLoss: margin must be a finite number ≥ 0, got {margin}");
        _margin = margin;
    }

    protected override (double F, double Df) Target(double c) => (c - _margin, 1);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "CosFaceLoss",
        Aliases = ["cosface_loss", "cosface", "large_margin_cosine_loss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = AngularInputs,
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Float("margin", 0.35, "m, subtracted from the target class's cosine"),
            OptionSpec.Float("scale", 64, "s, the logits' scale"),
        ],
        Sample = AngularSample,
        Formula = "ℓ = −log softmax(s·ĉ)_y,  ĉ_j = ê·ŵ_j (j ≠ y), ĉ_y = ê·ŵ_y − m",
        Gradient = "∂ℓ/∂c_j = s(p_j − [j = y]); through both L2 normalizations to embeddings and W",
        Reference = "Wang et al., CosFace: Large Margin Cosine Loss for Deep Face Recognition, CVPR 2018; pytorch-metric-learning CosFaceLoss",
        Stability = "finite for every finite input (norms clamped at 1e-12; max-shifted log-softmax in double)",
        Libraries = "pytorch-metric-learning (CosFaceLoss), insightface",
        Factory = o => new CosFaceLoss(o.Float("margin"), o.Float("scale"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
