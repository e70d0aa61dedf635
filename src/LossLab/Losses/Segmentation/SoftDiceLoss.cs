using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Segmentation;

/// <summary>
/// Soft Dice loss, segmentation_models_pytorch <c>DiceLoss(mode, from_logits=True, smooth=0.0, eps=1e-7, log_loss=False,
/// ignore_index=None)</c>: 1 − (TP + s)/((Σo + Σt)/2 + s) per class (2TP/(Σo + Σt) at s = 0), mean over classes. See <see cref="SoftOverlapLoss"/>.
/// </summary>
public sealed class SoftDiceLoss(SegmentationMode mode = SegmentationMode.Multiclass, bool fromLogits = true, double smooth = 0, double eps = 1e-7,
    bool logLoss = false, long? ignoreIndex = null, TensorData? weight = null, Reduction reduction = Reduction.Mean)
    : SoftOverlapLoss(OverlapKind.Dice, mode, fromLogits, smooth, eps, logLoss, ignoreIndex, weight, reduction), ILossDefinition
{
    public static LossDescriptor Entry { get; } = new()
    {
        Name = "SoftDiceLoss",
        Aliases = ["dice_loss", "smp.DiceLoss", "soft_dice_loss"],
        Family = LossFamily.Segmentation,
        Task = LossTask.Segmentation,
        Inputs = SegmentationInputs,
        Options = CommonOptions,
        Sample = Sample,
        Formula = "ℓ = mean_c(1 − (TP_c + s)/((Σo_c + Σt_c)/2 + s)),  TP = (Σo + Σt − Σ|o − t|)/2",
        Gradient = "∂score/∂TP = 1/D, ∂score/∂Σo = ∂score/∂Σt = −N/(2D²), then through sigmoid/softmax",
        Reference = "segmentation_models_pytorch.losses.DiceLoss (Milletari et al., V-Net, 2016)",
        Stability = "finite for every finite input: score clamped below at eps, sums in double",
        Libraries = "segmentation_models_pytorch, MONAI, Optax (dice_loss), Keras (Dice)",
        Factory = o => new SoftDiceLoss(ParseMode(o.Choice("mode")), o.Bool("from_logits"), o.Float("smooth"), o.Float("eps"), o.Bool("log_loss"),
            o.NullableInt("ignore_index"), o.Tensor("weight"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
