using LossLab.Losses.Core;

namespace LossLab.Losses.Regression;

/// <summary>
/// torchvision <c>generalized_box_iou_loss(boxes1, boxes2, reduction='none', eps=1e-7)</c> (Rezatofighi et al., GIoU, 2019): ℓ = 1 − I/(U + ε) + (C − U)/(C + ε),  C the enclosing box area.
/// The terms, the gradient and the checks are <see cref="BoxIouLoss"/>'s.
/// </summary>
public sealed class GeneralizedBoxIouLoss(Reduction reduction = Reduction.None, double eps = 1e-7) : BoxIouLoss(BoxIouKind.Generalized, reduction, eps), ILossDefinition
{
    public static LossDescriptor Entry { get; } = new()
    {
        Name = "GeneralizedBoxIouLoss",
        Aliases = ["generalized_box_iou_loss", "torchvision.ops.generalized_box_iou_loss"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = Boxes,
        Options = BoxOptions,
        Sample = Sample,
        Formula = "ℓ = 1 − I/(U + ε) + (C − U)/(C + ε),  C the enclosing box area",
        Gradient = "∂ℓ = (g_I − g_U)∂I + g_U(∂A₁ + ∂A₂) + the enclosing-box and centre terms; min/max split at ties",
        Reference = "torchvision.ops.generalized_box_iou_loss (Rezatofighi et al., GIoU, 2019)",
        Stability = "finite for every finite pair of valid boxes (ε in the denominators)",
        Libraries = "torchvision, TorchSharp (torchvision.ops)",
        Factory = o => new GeneralizedBoxIouLoss(o.Reduction, o.Float("eps")),
    };

    public override LossDescriptor Descriptor => Entry;
}
