using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Segmentation;

/// <summary>
/// Tversky and focal Tversky loss, segmentation_models_pytorch <c>TverskyLoss(mode, classes=None, log_loss=False,
/// from_logits=True, smooth=0.0, ignore_index=None, eps=1e-7, alpha=0.5, beta=0.5, gamma=1.0)</c>:
/// (mean_c(1 − (TP + s)/(TP + α·FP + β·FN + s)))^γ. α = β = ½ is Dice, α = β = 1 Jaccard; γ &gt; 1 is focal
/// Tversky (Abraham &amp; Khan, 2019). See <see cref="SoftOverlapLoss"/>.
/// </summary>
public sealed class TverskyLoss(SegmentationMode mode = SegmentationMode.Multiclass, bool fromLogits = true, double smooth = 0, double eps = 1e-7,
    bool logLoss = false, long? ignoreIndex = null, TensorData? weight = null, Reduction reduction = Reduction.Mean, double alpha = 0.5, double beta = 0.5, double gamma = 1.0)
    : SoftOverlapLoss(OverlapKind.Tversky, mode, fromLogits, smooth, eps, logLoss, ignoreIndex, weight, reduction, alpha, beta, gamma), ILossDefinition
{
    public static LossDescriptor Entry { get; } = new()
    {
        Name = "TverskyLoss",
        Aliases = ["tversky_loss", "smp.TverskyLoss", "focal_tversky_loss"],
        Family = LossFamily.Segmentation,
        Task = LossTask.Segmentation,
        Inputs = SegmentationInputs,
        Options =
        [
            .. CommonOptions,
            OptionSpec.Float("alpha", 0.5, "weight of false positives"),
            OptionSpec.Float("beta", 0.5, "weight of false negatives"),
            OptionSpec.Float("gamma", 1.0, "focal exponent of the mean loss (> 1: focal Tversky)"),
        ],
        Sample = Sample,
        Formula = "ℓ = (mean_c(1 − (TP + s)/(TP + α·FP + β·FN + s)))^γ",
        Gradient = "∂score/∂TP = 1/D − N(1 − α − β)/D², ∂score/∂Σo = −αN/D², ∂score/∂Σt = −βN/D²; ×γ·mean^(γ−1)",
        Reference = "segmentation_models_pytorch.losses.TverskyLoss (Salehi et al., 2017; Abraham & Khan, 2019)",
        Stability = "finite for every finite input: score clamped below at eps, sums in double",
        Libraries = "segmentation_models_pytorch, MONAI (TverskyLoss), Optax (dice_loss alpha/beta), Keras (Tversky)",
        Factory = o => new TverskyLoss(ParseMode(o.Choice("mode")), o.Bool("from_logits"), o.Float("smooth"), o.Float("eps"), o.Bool("log_loss"),
            o.NullableInt("ignore_index"), o.Tensor("weight"), o.Reduction, o.Float("alpha"), o.Float("beta"), o.Float("gamma")),
    };

    public override LossDescriptor Descriptor => Entry;
}
