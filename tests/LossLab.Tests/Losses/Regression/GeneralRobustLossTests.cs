using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.Regression;

/// <summary>Barron's general robust loss against the named losses it generalizes (the paper's table of special cases).</summary>
public sealed class GeneralRobustLossTests
{
    private static LossResult Eval(double alpha, double scale, double[] input, double[] target)
        => LossRegistry.Default.Create("general_robust_loss", T.Opt(("alpha", alpha), ("scale", scale), ("reduction", "none")))
            .Evaluate(T.In(("input", T.D(input)), ("target", T.D(target))));

    [Theory]
    [InlineData(2.0)]
    [InlineData(1.0)]
    [InlineData(0.0)]
    [InlineData(-2.0)]
    [InlineData(double.NegativeInfinity)]
    public void The_shapes_are_L2_Charbonnier_Cauchy_Geman_McClure_and_Welsch(double alpha)
    {
        // Residuals 3 and −0.5 at scale 2: u = (x/c)² = 2.25 and 0.0625.
        double[] x = [3, -0.5];
        Func<double, double> rho = alpha switch
        {
            2 => u => u / 2,
            1 => u => Math.Sqrt(u + 1) - 1,
            0 => u => Math.Log(u / 2 + 1),
            -2 => u => 2 * u / (u + 4),
            _ => u => 1 - Math.Exp(-u / 2),
        };
        // dρ/dx = ρ'(u)·2x/c², ρ' by a central difference in u of the closed form (smooth, so 1e-9 is ample).
        LossResult r = Eval(alpha, 2, x, [0, 0]);
        T.Close([.. x.Select(v => rho(v * v / 4))], r.Value, rel: 1e-14);
        T.Close([.. x.Select(v => (rho(v * v / 4 + 1e-6) - rho(v * v / 4 - 1e-6)) / 2e-6 * 2 * v / 4)], r.Gradient("input"), rel: 1e-8);
    }

    [Fact]
    public void A_tiny_residual_keeps_its_digits()
    {
        // α = 1: √(u + 1) − 1 = u/2 − u²/8 …; at x = 1e-10, 5e-21, which the reference's power minus 1 rounds to 0.
        T.Close([5e-21], Eval(1, 1, [1e-10], [0]).Value, rel: 1e-12, abs: 0);
        T.Close([5e-21], Eval(0.5, 1, [1e-10], [0]).Value, rel: 1e-9, abs: 0);
    }

    [Fact]
    public void Near_2_and_0_the_guards_join_the_limits()
    {
        // b = max(ε, |α − 2|): α within ε of 2 is the quadratic loss to about ε; near 0, expm1(αz/2)/α → z/2 is the Cauchy
        // loss to about α (the reference's max(ε, |α|) divisor would give 1e-9/ε of it, 0.0084 of the loss).
        T.Close([0.5 * 2.25], Eval(2 + 1e-9, 1, [1.5], [0]).Value, rel: 1e-6);
        T.Close([Math.Log(2.25 / 2 + 1)], Eval(1e-9, 1, [1.5], [0]).Value, rel: 1e-8);
        T.Close([Math.Log(2.25 / 2 + 1)], Eval(-1e-12, 1, [1.5], [0]).Value, rel: 1e-8);
    }

    [Fact]
    public void At_plus_infinity_the_exponential_stops_at_87_5_as_the_reference_clamps_it()
    {
        // x/c = 20: u/2 = 200 > 87.5, so ρ = e^{87.5} − 1 with slope 0; x/c = 2: e² − 1 with slope (x/c²)·e².
        LossResult r = Eval(double.PositiveInfinity, 1, [20, 2], [0, 0]);
        T.Close([Math.Exp(87.5) - 1, Math.Exp(2) - 1], r.Value, rel: 1e-14);
        T.Close([0, 2 * Math.Exp(2)], r.Gradient("input"), rel: 1e-14);
        Assert.Equal(-2 * Math.Exp(2), T.Values(r.Gradient("target"))[1], 12);
    }

    [Theory]
    [InlineData(1.0, 1.5e300, 1e300)]         // Charbonnier: √(u + 1) − 1 → |d|/c, its slope sign(d)/c
    [InlineData(-1.0, 3.0, 2.3094010767585e-300)]   // bounded: b/|α| = 3, the slope (d/c²)(u/3 + 1)^{−3/2}
    [InlineData(double.NegativeInfinity, 1.0, 0.0)]
    public void A_residual_far_beyond_a_tiny_scale_has_a_value_and_a_slope_where_u_overflows(double alpha, double value, double slope)
    {
        // (d/c)² overflows at c = 1e-300 (the fuzz of the protocol found NaN slopes: ∞·0): the general case goes through
        // log(u/b + 1) from the logs, the slope through one exponential of logs, and c² is never formed.
        LossResult r = LossRegistry.Default.Create("barron_loss", T.Opt(("alpha", alpha), ("scale", 1e-300), ("reduction", "sum")))
            .Evaluate(T.In(("input", T.D(1.5)), ("target", T.D(0.0))));
        T.Close(value, r.Value.GetDouble(0), rel: 1e-12);
        T.Close(slope, r.Gradient("input").GetDouble(0), rel: 1e-12, abs: 1e-320);
    }

    [Fact]
    public void A_scale_that_is_not_positive_and_a_NaN_alpha_are_named()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("barron_loss", T.Opt(("scale", 0.0))));
        Assert.Equal("GeneralRobustLoss: scale must be a finite number > 0, got 0", e.Message);
        e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("barron_loss", T.Opt(("alpha", double.NaN))));
        Assert.Equal("GeneralRobustLoss: option 'alpha' is NaN; expected a number", e.Message);
    }
}
