using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Regression;

/// <summary>
/// The Tweedie deviance: scikit-learn's mean_tweedie_deviance example (y = 2, 0, 1, 4; μ = 0.5, 0.5, 2, 2; power 1 gives
/// 1.4260...; values and gradients by mpmath at 40 digits), the log input, the Poisson case, zero at μ = y, and errors.
/// </summary>
public sealed class TweedieLossTests
{
    private static readonly double[] Y = [2, 0, 1, 4], Mu = [0.5, 0.5, 2, 2];

    private static LossResult Run(double[] x, double[] y, params (string, object?)[] options)
        => LossRegistry.Default.Create("tweedie_loss", T.Opt(options)).Evaluate(T.In(("input", T.D(x)), ("target", T.D(y))));

    [Theory]
    [InlineData(1.0, 1.4260151319598086, new[] { -1.5, 0.5, 0.25, -0.5 }, new[] { -0.75, 0.25, 0.5, -1.0 })]
    [InlineData(1.5, 1.7781745930520228, new[] { -2.1213203435596426, 0.70710678118654752, 0.17677669529663688, -0.35355339059327376 },
        new[] { -1.0606601717798213, 0.35355339059327376, 0.35355339059327376, -0.70710678118654752 })]
    public void It_is_sklearns_mean_tweedie_deviance(double power, double value, double[] dMu, double[] dLogMu)
    {
        LossResult onMu = Run(Mu, Y, ("power", power), ("log_input", false));
        T.Close(value, onMu.Scalar, 1e-14);
        T.Close(dMu, onMu.Gradient("input"), 1e-14);
        Assert.False(onMu.Gradients.ContainsKey("target"));
        LossResult onLog = Run([.. Mu.Select(v => Math.Log(v))], Y, ("power", power));
        T.Close(value, onLog.Scalar, 1e-14);
        T.Close(dLogMu, onLog.Gradient("input"), 1e-14);
    }

    [Fact]
    public void The_poisson_case_is_twice_poisson_nll_minus_its_minimum_and_the_deviance_vanishes_at_the_target()
    {
        double[] logMu = [0.3, -1, 2, 0.1];
        LossResult tweedie = Run(logMu, Y, ("power", 1.0), ("reduction", "sum"));
        LossResult poisson = LossRegistry.Default.Create("poisson_nll_loss", T.Opt(("reduction", "sum"))).Evaluate(T.In(("input", T.D(logMu)), ("target", T.D(Y))));
        double minimum = Y.Sum(y => y > 0 ? y - y * Math.Log(y) : 0);   // Σ (e^log y − y·log y)
        T.Close(2 * (poisson.Scalar - minimum), tweedie.Scalar, 1e-14);
        T.Close([.. T.Values(poisson.Gradient("input")).Select(g => 2 * g)], tweedie.Gradient("input"), 1e-14);
        LossResult exact = Run([.. new[] { 2.0, 1, 4 }.Select(v => Math.Log(v))], [2, 1, 4], ("power", 1.3), ("reduction", "none"));
        T.Close([0, 0, 0], exact.Value, 0, 1e-14);
        T.Close([0, 0, 0], exact.Gradient("input"), 0, 1e-14);
    }

    [Fact]
    public void Negative_targets_nonpositive_means_and_bad_powers_are_errors()
    {
        Assert.Contains("target -1 at index 1 is negative", Assert.Throws<LossArgumentException>(() => Run([0, 0], [1, -1])).Message);
        Assert.Contains("input 0 at index 0 is not a positive mean", Assert.Throws<LossArgumentException>(() => Run([0, 1], [1, 1], ("log_input", false))).Message);
        Assert.Contains("power must be in [1, 2)", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("tweedie_loss", T.Opt(("power", 2.0)))).Message);
    }
}
