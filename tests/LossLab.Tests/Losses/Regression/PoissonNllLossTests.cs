using LossLab.Losses.Core;
using LossLab.Losses.Regression;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Regression;

public sealed class PoissonNllLossTests
{
    [Fact]
    public void Golden_values_log_input_and_rate()
    {
        // log_input: x = ln 2, y = 2 → 2 − 2 ln 2; grad eˣ − y = 0; target grad −x = −ln 2.
        var r = new PoissonNllLoss().Evaluate(T.In(("input", T.D(Math.Log(2))), ("target", T.D(2))));
        T.Close(2 - 2 * Math.Log(2), r.Scalar, rel: 1e-15);
        T.Close([0], r.Gradient("input"), abs: 1e-15);
        T.Close([-Math.Log(2)], r.Gradient("target"), rel: 1e-15);
        // rate: x = 2, y = 2, eps = 0 → 2 − 2 ln 2, grad 1 − y/x = 0.
        var rate = new PoissonNllLoss(new() { LogInput = false, Eps = 0 }).Evaluate(T.In(("input", T.D(2)), ("target", T.D(2))));
        T.Close(2 - 2 * Math.Log(2), rate.Scalar, rel: 1e-15);
    }

    [Fact]
    public void Full_adds_stirling_only_where_target_exceeds_one()
    {
        // x = ln 2, y = 2: (2 − 2 ln 2) + (2 ln 2 − 2 + ½ ln 4π) = ½ ln 4π; y = 1 gets no Stirling term.
        var full = new PoissonNllLoss(new() { Full = true, Reduction = Reduction.None });
        var r = full.Evaluate(T.In(("input", T.D(Math.Log(2), 0)), ("target", T.D(2, 1))));
        T.Close([0.5 * Math.Log(4 * Math.PI), 1], r.Value, rel: 1e-14);
    }

    [Fact]
    public void A_negative_rate_is_rejected_instead_of_NaN()
    {
        var e = Assert.Throws<LossArgumentException>(() => new PoissonNllLoss(new() { LogInput = false }).Evaluate(T.In(("input", T.D(1, -0.5)), ("target", T.D(1, 1)))));
        Assert.Contains("element 1", e.Message);
    }
}
