using LossLab.Losses.Core;

namespace LossLab.Losses.Regression;

/// <summary>
/// torchvision <c>distance_box_iou_loss(boxes1, boxes2, reduction='none', eps=1e-7)</c> (Zheng et al., DIoU, 2020): ℓ = 1 − I/(U + ε) + ρ²/(d² + ε),  ρ the centre distance, d the enclosing diagonal.
/// The terms, the gradient and the checks are <see cref="BoxIouLoss"/>'s.
/// </summary>
public sealed class DistanceBoxIouLoss(Reduction reduction = Reduction.None, double eps = 1e-7) : BoxIouLoss(BoxIouKind.Distance, reduction, eps), ILossDefinition
{
    public static LossDescriptor Entry { get; } = new()
    {
        Name = "DistanceBoxIouLoss",
        Aliases = ["distance_box_iou_loss", "torchvision.ops.distance_box_iou_loss"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = Boxes,
        Options = BoxOptions,
        Sample = Sample,
        Formula = "ℓ = 1 − I/(U + ε) + ρ²/(d² + ε),  ρ the centre distance, d the enclosing diagonal",
        Gradient = "∂ℓ = (g_I − g_U)∂I + g_U(∂A₁ + ∂A₂) + the enclosing-box and centre terms; min/max split at ties",
        Reference = "torchvision.ops.distance_box_iou_loss (Zheng et al., DIoU, 2020)",
        Stability = "finite for every finite pair of valid boxes (ε in the denominators)",
        Libraries = "torchvision, TorchSharp (torchvision.ops)",
        Factory = o => new DistanceBoxIouLoss(o.Reduction, o.Float("eps")),
    };

    public override LossDescriptor Descriptor => Entry;
}
