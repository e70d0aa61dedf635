using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Segmentation;

/// <summary>
/// Soft Jaccard (IoU) loss, segmentation_models_pytorch <c>JaccardLoss(mode, from_logits=True, smooth=0.0, eps=1e-7,
/// log_loss=False)</c>: 1 − (TP + s)/(Σo + Σt − TP + s) per class, mean over classes. See <see cref="SoftOverlapLoss"/>.
/// </summary>
public sealed class JaccardLoss(SegmentationMode mode = SegmentationMode.Multiclass, bool fromLogits = true, double smooth = 0, double eps = 1e-7,
    bool logLoss = false, long? ignoreIndex = null, TensorData? weight = null, Reduction reduction = Reduction.Mean)
    : SoftOverlapLoss(OverlapKind.Jaccard, mode, fromLogits, smooth, eps, logLoss, ignoreIndex, weight, reduction), ILossDefinition
{
    public static LossDescriptor Entry { get; } = new()
    {
        Name = "JaccardLoss",
        Aliases = ["jaccard_loss", "smp.JaccardLoss", "soft_iou_loss"],
        Family = LossFamily.Segmentation,
        Task = LossTask.Segmentation,
        Inputs = SegmentationInputs,
        Options = CommonOptions,
        Sample = Sample,
        Formula = "ℓ = mean_c(1 − (TP_c + s)/(Σo_c + Σt_c − TP_c + s))",
        Gradient = "∂score/∂TP = 1/D + N/D², ∂score/∂Σo = ∂score/∂Σt = −N/D², then through sigmoid/softmax",
        Reference = "segmentation_models_pytorch.losses.JaccardLoss",
        Stability = "finite for every finite input: score clamped below at eps, sums in double",
        Libraries = "segmentation_models_pytorch, MONAI (jaccard option)",
        Factory = o => new JaccardLoss(ParseMode(o.Choice("mode")), o.Bool("from_logits"), o.Float("smooth"), o.Float("eps"), o.Bool("log_loss"),
            o.NullableInt("ignore_index"), o.Tensor("weight"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
