using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

public sealed class BinaryCrossEntropyTests
{
    [Fact]
    public void Golden_values_by_hand()
    {
        // x = 0.5: −ln ½ = ln 2 whatever y; grad (x − y)/(x(1 − x)) = 4(0.5 − y); target grad −logit(0.5) = 0.
        var r = new BinaryCrossEntropy(new() { Reduction = Reduction.None }).Evaluate(T.In(("input", T.D(0.5, 0.5, 0.25)), ("target", T.D(1, 0, 0))));
        T.Close([Math.Log(2), Math.Log(2), -Math.Log(0.75)], r.Value, rel: 1e-15);
        T.Close([-2, 2, 0.25 / 0.1875], r.Gradient("input"), rel: 1e-15);
        T.Close([0, 0, Math.Log(3)], r.Gradient("target"), rel: 1e-15, abs: 1e-15);
    }

    [Fact]
    public void Logs_are_clamped_at_minus_100_and_the_gradient_uses_the_1e12_floor()
    {
        // PyTorch: x = 0, y = 1 gives 100 and ∂/∂x = −1/1e-12; the target gradient is unclamped: +∞.
        var r = new BinaryCrossEntropy(new() { Reduction = Reduction.None }).Evaluate(T.In(("input", T.D(0, 1)), ("target", T.D(1, 0))));
        T.Close([100, 100], r.Value);
        T.Close([-1e12, 1e12], r.Gradient("input"), rel: 1e-12);
        T.Close([double.PositiveInfinity, double.NegativeInfinity], r.Gradient("target"));
    }

    [Fact]
    public void Probabilities_outside_0_1_are_rejected_with_the_index()
    {
        var e = Assert.Throws<LossArgumentException>(() => new BinaryCrossEntropy().Evaluate(T.In(("input", T.D(0.5, 1.5)), ("target", T.D(1, 0)))));
        Assert.Equal(LossErrorCode.InvalidValue, e.Code);
        Assert.Contains("input[1] = 1.5", e.Message);
        Assert.Contains("[0, 1]", e.Message);
        Assert.Throws<LossArgumentException>(() => new BinaryCrossEntropy().Evaluate(T.In(("input", T.D(double.NaN)), ("target", T.D(1)))));
    }

    [Fact]
    public void Weight_broadcasts_to_the_input_shape()
    {
        // weight (2,1) against input (2,2): rows scaled by 1 and 3.
        var x = T.Shaped(new double[] { 0.5, 0.5, 0.5, 0.5 }, 2, 2);
        var y = T.Shaped(new double[] { 1, 0, 1, 0 }, 2, 2);
        var r = new BinaryCrossEntropy(new() { Weight = T.Shaped(new double[] { 1, 3 }, 2, 1), Reduction = Reduction.None }).Evaluate(T.In(("input", x), ("target", y)));
        double l = Math.Log(2);
        T.Close([l, l, 3 * l, 3 * l], r.Value, rel: 1e-15);
    }
}
