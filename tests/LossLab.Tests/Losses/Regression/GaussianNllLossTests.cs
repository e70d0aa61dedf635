using LossLab.Losses.Core;
using LossLab.Losses.Regression;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Regression;

public sealed class GaussianNllLossTests
{
    [Fact]
    public void Golden_values_and_the_full_constant()
    {
        // x = 1, y = 0, v = 2: ½(ln 2 + ½); grads: d/v = ½, ½(1/v − d²/v²) = 1/8.
        var inputs = T.In(("input", T.D(1)), ("target", T.D(0)), ("var", T.D(2)));
        var r = new GaussianNllLoss().Evaluate(inputs);
        T.Close(0.5 * (Math.Log(2) + 0.5), r.Scalar, rel: 1e-15);
        T.Close([0.5], r.Gradient("input"));
        T.Close([0.125], r.Gradient("var"));
        T.Close(r.Scalar + 0.5 * Math.Log(2 * Math.PI), new GaussianNllLoss(new() { Full = true }).Evaluate(inputs).Scalar, rel: 1e-15);
    }

    [Fact]
    public void Variance_below_eps_is_clamped_with_a_straight_through_gradient()
    {
        // v = max(0, 1e-6): value ½(ln 1e-6 + 1/1e-6); d/dvar = ½(1e6 − 1e12) evaluated at the clamp, not zero.
        var r = new GaussianNllLoss().Evaluate(T.In(("input", T.D(1)), ("target", T.D(0)), ("var", T.D(0))));
        T.Close(0.5 * (Math.Log(1e-6) + 1e6), r.Scalar, rel: 1e-12);
        T.Close([0.5 * (1e6 - 1e12)], r.Gradient("var"), rel: 1e-12);
    }

    [Fact]
    public void A_shared_variance_sums_its_gradient_over_the_last_dim()
    {
        var x = T.Shaped(new double[] { 1, 2, 3, 4 }, 2, 2);
        var y = T.Shaped(new double[] { 0, 0, 0, 0 }, 2, 2);
        var shared = new GaussianNllLoss(new() { Reduction = Reduction.Sum }).Evaluate(T.In(("input", x), ("target", y), ("var", T.D(1, 2))));
        var full = new GaussianNllLoss(new() { Reduction = Reduction.Sum }).Evaluate(T.In(("input", x), ("target", y), ("var", T.Shaped(new double[] { 1, 1, 2, 2 }, 2, 2))));
        T.Close(full.Scalar, shared.Scalar, rel: 1e-15);
        var g = T.Values(full.Gradient("var"));
        T.Close([g[0] + g[1], g[2] + g[3]], shared.Gradient("var"), rel: 1e-15);
        Assert.Equal(new Shape(2), shared.Gradient("var").Shape);
    }

    [Fact]
    public void Negative_variance_and_wrong_variance_shapes_are_rejected()
    {
        var neg = Assert.Throws<LossArgumentException>(() => new GaussianNllLoss().Evaluate(T.In(("input", T.D(1, 1)), ("target", T.D(0, 0)), ("var", T.D(1, -1)))));
        Assert.Equal(LossErrorCode.InvalidValue, neg.Code);
        Assert.Contains("element 1", neg.Message);
        var shape = Assert.Throws<LossArgumentException>(() => new GaussianNllLoss().Evaluate(T.In(("input", T.Shaped(new double[6], 2, 3)), ("target", T.Shaped(new double[6], 2, 3)), ("var", T.D(1, 1, 1)))));
        Assert.Equal(LossErrorCode.InvalidShape, shape.Code);
    }
}
