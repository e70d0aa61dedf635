using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Regression;

/// <summary>
/// The quantile (pinball) loss: scikit-learn's mean_pinball_loss on its formula (values by hand), the weighted mean,
/// the subgradient at a tie, and the property that names it: the mean gradient vanishes at the τ-quantile.
/// </summary>
public sealed class QuantileLossTests
{
    private static LossResult Run(double[] x, double[] y, params (string, object?)[] options)
        => LossRegistry.Default.Create("pinball_loss", T.Opt(options)).Evaluate(T.In(("input", T.D(x)), ("target", T.D(y))));

    [Fact]
    public void It_is_sklearns_mean_pinball_loss()
    {
        // d = y − x = (0.5, −0.5, 0, −1); α = 0.9: 0.9·0.5, 0.1·0.5, 0, 0.1·1 → mean 0.15 (mean_pinball_loss's definition).
        double[] x = [2.5, 0.0, 2, 8], y = [3, -0.5, 2, 7];
        LossResult r = Run(x, y, ("quantile", 0.9));
        T.Close(0.15, r.Scalar, 1e-15);
        T.Close([-0.9 / 4, 0.1 / 4, 0, 0.1 / 4], r.Gradient("input"), 1e-15);
        T.Close([0.9 / 4, -0.1 / 4, 0, -0.1 / 4], r.Gradient("target"), 1e-15);
        // τ = 0.5 is half the absolute error.
        LossResult median = Run(x, y);
        T.Close(0.5 * (0.5 + 0.5 + 0 + 1) / 4, median.Scalar, 1e-15);
        // sample_weight: Σwℓ/Σw, as numpy's average in mean_pinball_loss.
        LossResult weighted = LossRegistry.Default.Create("quantile_loss", T.Opt(("quantile", 0.9), ("weight", T.D(1, 2, 3, 4))))
            .Evaluate(T.In(("input", T.D(x)), ("target", T.D(y))));
        T.Close((0.45 + 2 * 0.05 + 0 + 4 * 0.1) / 10, weighted.Scalar, 1e-15);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void The_mean_gradient_vanishes_between_the_order_statistics_around_the_quantile(double tau)
    {
        // Targets 1..100 and a constant prediction c: the mean gradient is (#targets below c)/100 − τ, so it is 0 for every
        // c strictly between the 100τ-th and the next target, negative below (move up) and positive above.
        double[] y = [.. Enumerable.Range(1, 100).Select(i => (double)i)];
        double Slope(double c) => T.Values(Run([.. y.Select(_ => c)], y, ("quantile", tau)).Gradient("input")).Sum();
        double q = 100 * tau;
        T.Close(0, Slope(q + 0.5), 0, 1e-14);
        Assert.True(Slope(q - 1.5) < 0);
        Assert.True(Slope(q + 1.5) > 0);
    }

    [Fact]
    public void Quantile_outside_the_unit_interval_is_an_error()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("quantile_loss", T.Opt(("quantile", 1.5))));
        Assert.Contains("quantile must be in [0, 1], got 1.5", e.Message);
    }
}
