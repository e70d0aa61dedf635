using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Regression;

/// <summary>torchvision's box IoU losses: golden values and gradients from torchvision 0.14.1 itself (Debian's
/// python3-torchvision, float64), the tie rule at a perfect prediction, and the box checks.</summary>
public sealed class BoxIouTests
{
    // Overlapping squares, disjoint squares, and a perfect prediction.
    private static LossInputs ThreePairs() => T.In(
        ("boxes1", T.D2(new double[,] { { 0, 0, 2, 2 }, { 0, 0, 1, 1 }, { 1, 1, 3, 4 } })),
        ("boxes2", T.D2(new double[,] { { 1, 1, 3, 3 }, { 2, 2, 3, 3 }, { 1, 1, 3, 4 } })));

    private static LossResult Run(string loss, LossInputs inputs, params (string, object?)[] options)
        => LossRegistry.Default.Create(loss, options.ToDictionary(o => o.Item1, o => o.Item2)).Evaluate(inputs);

    [Fact]
    public void Generalized_iou_matches_torchvision()
    {
        LossResult r = Run("generalized_box_iou_loss", ThreePairs());
        T.Close([1.07936507893676, 1.7777777691358025, 1.6666666380338313e-08], r.Value, 1e-14);
        T.Close([-0.07785336281299116, -0.07785336281299116, -0.23356008801065403, -0.23356008801065403, 0.03703703374485608, 0.03703703374485608,
            -0.11111110987654323, -0.11111110987654323, 4.1666665118178514e-09, 2.7777776745452343e-09, -4.1666665118178514e-09, -2.7777776745452343e-09],
            r.Gradient("boxes1"), 1e-12, 1e-15);
    }

    [Fact]
    public void Distance_iou_matches_torchvision_and_splits_the_gradient_at_ties()
    {
        LossResult r = Run("distance_box_iou_loss", ThreePairs());
        T.Close([0.9682539696775005, 1.4444444419753086, 1.6666666380338313e-08], r.Value, 1e-14);
        // The perfect prediction's gradient is not 0: at each tied coordinate torch.maximum/minimum give half of it to
        // either box (the last four values of each row).
        T.Close([0.1780045333810244, 0.1780045333810244, 0.059334843985830686, 0.059334843985830686, 0.11111111049382716, 0.11111111049382716,
            -0.03703703600823044, -0.03703703600823044, 4.166666567329003e-09, 2.7777776745452343e-09, -4.166666567329003e-09, -2.7777776745452343e-09],
            r.Gradient("boxes2"), 1e-12, 1e-15);
    }

    [Fact]
    public void Complete_iou_holds_alpha_constant_as_torchvision_does()
    {
        // A wide box against a tall one: the aspect term counts.
        LossResult r = Run("complete_box_iou_loss", T.In(("boxes1", T.D2(new double[,] { { 0, 0, 4, 1 } })), ("boxes2", T.D2(new double[,] { { 1, 0, 2, 3 } }))));
        T.Close(1.0177574839582946, r.Value.GetDouble(0), 1e-14);
        T.Close([-0.007528323518928515, 0.01511329891126948, 0.04752832335892851, -0.18633551900963988], r.Gradient("boxes1"), 1e-12);
        T.Close([0.17143889720647607, 0.08866851433008824, -0.21143889704647606, 0.08255370576828217], r.Gradient("boxes2"), 1e-12);
    }

    [Fact]
    public void Complete_iou_of_a_perfect_prediction_is_finite_even_at_eps_zero()
    {
        // v = 0 there, so αv = 0; torchvision's α = 0/0 gives NaN at ε = 0.
        LossResult r = Run("complete_box_iou_loss", T.In(("boxes1", T.D(1, 1, 3, 4)), ("boxes2", T.D(1, 1, 3, 4))), ("eps", 0.0));
        Assert.Equal(0, r.Value.GetDouble(0));
        Assert.All(T.Values(r.Gradient("boxes1")), g => Assert.True(double.IsFinite(g)));
    }

    [Fact]
    public void Reversed_boxes_and_point_boxes_are_errors_and_no_boxes_mean_zero()
    {
        var e = Assert.Throws<LossArgumentException>(() => Run("generalized_box_iou_loss", T.In(("boxes1", T.D2(new double[,] { { 0, 0, 1, 1 }, { 2, 0, 1, 1 } })), ("boxes2", T.D2(new double[,] { { 0, 0, 1, 1 }, { 0, 0, 1, 1 } })))));
        Assert.Contains("boxes1[1] = (2, 0, 1, 1) is not (x1, y1, x2, y2)", e.Message);
        var point = Assert.Throws<LossArgumentException>(() => Run("complete_box_iou_loss", T.In(("boxes1", T.D(1, 1, 1, 1)), ("boxes2", T.D(0, 0, 1, 1)))));
        Assert.Contains("boxes1[0] is a point", point.Message);
        var shape = Assert.Throws<LossArgumentException>(() => Run("distance_box_iou_loss", T.In(("boxes1", T.D(0, 0, 1)), ("boxes2", T.D(0, 0, 1)))));
        Assert.Equal(LossErrorCode.InvalidShape, shape.Code);
        // torchvision: the mean of no boxes is 0·Σ = 0, not 0/0.
        var none = T.In(("boxes1", TensorData.Zeros(new Shape(0, 4), DType.Float64)), ("boxes2", TensorData.Zeros(new Shape(0, 4), DType.Float64)));
        Assert.Equal(0, Run("generalized_box_iou_loss", none, ("reduction", "mean")).Value.GetDouble(0));
    }
}
