using LossLab.Losses.Core;
using LossLab.Losses.Regression;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Regression;

public sealed class SmoothL1LossTests
{
    [Fact]
    public void Golden_values_on_both_sides_of_beta()
    {
        // β = 2: d = 1 → 0.5·1/2 = 0.25, grad d/β = 0.5; d = 3 → 3 − 1 = 2, grad 1; d = −2 (boundary) → 1, grad −1.
        var r = new SmoothL1Loss(new() { Beta = 2, Reduction = Reduction.None }).Evaluate(T.In(("input", T.D(1, 3, -2)), ("target", T.D(0, 0, 0))));
        T.Close([0.25, 2, 1], r.Value);
        T.Close([0.5, 1, -1], r.Gradient("input"));
    }

    [Fact]
    public void Beta_zero_is_l1_with_zero_gradient_at_ties()
    {
        var inputs = T.In(("input", T.D(1, -2, 0.5)), ("target", T.D(1, 0, 0)));
        var s = new SmoothL1Loss(new() { Beta = 0, Reduction = Reduction.Sum }).Evaluate(inputs);
        var l = new L1Loss(new() { Reduction = Reduction.Sum }).Evaluate(inputs);
        Assert.Equal(l.Scalar, s.Scalar);
        Assert.Equal(T.Values(l.Gradient("input")), T.Values(s.Gradient("input")));
        Assert.Equal(0, s.Gradient("input").GetDouble(0));
    }

    [Fact]
    public void Negative_beta_is_rejected()
    {
        var e = Assert.Throws<LossArgumentException>(() => new SmoothL1Loss(new() { Beta = -1 }));
        Assert.Equal(LossErrorCode.InvalidValue, e.Code);
        Assert.Contains("beta", e.Message);
    }
}
