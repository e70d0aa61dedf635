using LossLab.Losses.Core;

namespace LossLab.Losses.Regression;

/// <summary>
/// torchvision <c>complete_box_iou_loss(boxes1, boxes2, reduction='none', eps=1e-7)</c> (Zheng et al., CIoU, 2020): ℓ = DIoU + α·v,  v = (4/π²)(atan(w₂/h₂) − atan(w₁/h₁))², α = v/(1 − iou + v + ε) held constant.
/// The terms, the gradient and the checks are <see cref="BoxIouLoss"/>'s.
/// </summary>
public sealed class CompleteBoxIouLoss(Reduction reduction = Reduction.None, double eps = 1e-7, bool detachAlpha = true) : BoxIouLoss(BoxIouKind.Complete, reduction, eps, detachAlpha), ILossDefinition
{
    public static LossDescriptor Entry { get; } = new()
    {
        Name = "CompleteBoxIouLoss",
        Aliases = ["complete_box_iou_loss", "torchvision.ops.complete_box_iou_loss"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = Boxes,
        Options = [.. BoxOptions, OptionSpec.Bool("detach_alpha", true, "hold α constant in the gradient, as torchvision (false: the true gradient of the value)")],
        Sample = Sample,
        Formula = "ℓ = DIoU + α·v,  v = (4/π²)(atan(w₂/h₂) − atan(w₁/h₁))², α = v/(1 − iou + v + ε) held constant",
        Gradient = "∂ℓ = (g_I − g_U)∂I + g_U(∂A₁ + ∂A₂) + the enclosing-box and centre terms; min/max split at ties",
        Reference = "torchvision.ops.complete_box_iou_loss (Zheng et al., CIoU, 2020)",
        Stability = "finite for every finite pair of valid boxes (ε in the denominators)",
        Libraries = "torchvision, TorchSharp (torchvision.ops)",
        TrueGradientOptions = new Dictionary<string, object?> { ["detach_alpha"] = false },
        Factory = o => new CompleteBoxIouLoss(o.Reduction, o.Float("eps"), o.Bool("detach_alpha")),
    };

    public override LossDescriptor Descriptor => Entry;
}
