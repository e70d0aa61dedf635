using LossLab.Losses.Core;
using LossLab.Losses.Regression;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Regression;

public sealed class MseLossTests
{
    [Fact]
    public void Golden_values_by_hand()
    {
        // (1−1)², (2−1)², (3−1)² = 0, 1, 4; mean 5/3; d mean/dx = 2d/3 (hand derivation).
        var inputs = T.In(("input", T.D(1, 2, 3)), ("target", T.D(1, 1, 1)));
        LossResult mean = new MseLoss().Evaluate(inputs);
        T.Close(5.0 / 3, mean.Scalar, rel: 1e-15);
        T.Close([0, 2.0 / 3, 4.0 / 3], mean.Gradient("input"), rel: 1e-15);
        T.Close([0, -2.0 / 3, -4.0 / 3], mean.Gradient("target"), rel: 1e-15);
        T.Close([0, 1, 4], new MseLoss(new() { Reduction = Reduction.None }).Evaluate(inputs).Value);
    }

    [Fact]
    public void Weighted_mean_divides_by_the_sum_of_weights()
    {
        // w = [1, 3], d = [−1, 2]: Σwd² / Σw = (1 + 12)/4 = 3.25; ∂/∂x = 2wd/Σw = [−0.5, 3] (PyTorch F.mse_loss weight=).
        var loss = new MseLoss(new() { Weight = T.D(1, 3) });
        LossResult r = loss.Evaluate(T.In(("input", T.D(0, 2)), ("target", T.D(1, 0))));
        T.Close(3.25, r.Scalar, rel: 1e-15);
        T.Close([-0.5, 3], r.Gradient("input"), rel: 1e-15);
    }

    [Fact]
    public void Weight_must_have_the_input_shape()
    {
        var loss = new MseLoss(new() { Weight = T.D(1, 3) });
        var e = Assert.Throws<LossArgumentException>(() => loss.Evaluate(T.In(("input", T.D(0, 2, 3)), ("target", T.D(1, 0, 3)))));
        Assert.Equal(LossErrorCode.InvalidShape, e.Code);
        Assert.Contains("'weight' has shape (2,)", e.Message);
    }

    [Fact]
    public void Empty_tensors_give_NaN_mean_and_zero_sum_like_PyTorch()
    {
        var empty = T.In(("input", T.D()), ("target", T.D()));
        Assert.True(double.IsNaN(new MseLoss().Evaluate(empty).Scalar));
        Assert.Equal(0, new MseLoss(new() { Reduction = Reduction.Sum }).Evaluate(empty).Scalar);
    }

    [Fact]
    public void Scalar_inputs_keep_a_scalar_shape_with_reduction_none()
    {
        var r = new MseLoss(new() { Reduction = Reduction.None }).Evaluate(T.In(("input", TensorData.Scalar(3.0)), ("target", TensorData.Scalar(1.0))));
        Assert.Equal(Shape.Scalar, r.Value.Shape);
        Assert.Equal(4, r.Scalar);
        Assert.Equal(Shape.Scalar, r.Gradient("input").Shape);
    }

    [Fact]
    public void Different_shapes_are_an_error_not_a_silent_broadcast()
    {
        var e = Assert.Throws<LossArgumentException>(() => new MseLoss().Evaluate(T.In(("input", T.D2(new double[,] { { 1 }, { 2 } })), ("target", T.D(1, 2)))));
        Assert.Equal(LossErrorCode.InvalidShape, e.Code);
        Assert.Contains("(2, 1)", e.Message);
        Assert.Contains("(2,)", e.Message);
    }
}
