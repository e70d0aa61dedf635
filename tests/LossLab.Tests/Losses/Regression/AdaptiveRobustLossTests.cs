using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Regression;

/// <summary>
/// Barron's adaptive loss: the normal and Cauchy negative log-likelihoods it must reduce to, α and c learned by its own
/// gradients from samples of each (the point of the loss), and its typed errors. Gradients against finite differences
/// and the autograd twin are in the shared contract.
/// </summary>
public sealed class AdaptiveRobustLossTests
{
    private static LossResult Run(double[] x, double[] alpha, double[] scale, string reduction = "none")
        => LossRegistry.Default.Create("adaptive_robust_loss", T.Opt(("reduction", reduction)))
            .Evaluate(T.In(("x", T.Shaped(x, x.Length / alpha.Length, alpha.Length)), ("alpha", T.D(alpha)), ("scale", T.D(scale))));

    [Fact]
    public void At_alpha_2_it_is_the_normal_and_at_0_the_Cauchy_negative_log_likelihood()
    {
        // Columns: α = 2, c = 1.5 (normal, σ = c): ½(x/c)² + log c + ½log 2π; α = 0, c = 0.5 (Cauchy of scale c√2):
        // log(1 + (x/c)²/2) + log c + log(π√2).
        double[] x = [0.3, -2, 1e-9, 7];
        LossResult r = Run(x, [2, 0], [1.5, 0.5]);
        double Normal(double v) => 0.5 * (v / 1.5) * (v / 1.5) + Math.Log(1.5) + 0.5 * Math.Log(2 * Math.PI);
        double Cauchy(double v) => Math.Log(1 + 2 * v * v) + Math.Log(0.5) + Math.Log(Math.PI * Math.Sqrt(2));
        T.Close([Normal(0.3), Cauchy(-2), Normal(1e-9), Cauchy(7)], r.Value, 3e-15, 0);
        // ∂ℓ/∂x: x/c² and 4x/(1 + 2x²); ∂ℓ/∂c for the normal: 1/c − x²/c³.
        T.Close([0.3 / 2.25, -8.0 / 9, 1e-9 / 2.25, 28.0 / 99], r.Gradient("x"), 1e-14, 0);
        T.Close((1 / 1.5 - 0.09 / 3.375) + (1 / 1.5 - 1e-18 / 3.375), T.Values(r.Gradient("scale"))[0], 1e-14, 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Its_gradients_learn_the_shape_and_scale_of_the_data(bool cauchy)
    {
        // 4000 residuals from N(0, 1.5²) or from a Cauchy of scale 1 (= c√2 at α = 0, so c = 1/√2). Gradient descent on
        // α (kept in [0.001, 1.999], as the reference's sigmoid does) and log c from α = 1, c = 1.
        var random = new Random(cauchy ? 11 : 12);
        double[] x = [.. Enumerable.Range(0, 4000).Select(_ => cauchy
            ? Math.Tan(Math.PI * (random.NextDouble() - 0.5))
            : 1.5 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()))];
        double alpha = 1, logC = 0;
        for (int step = 0; step < 400; step++)
        {
            LossResult r = Run(x, [alpha], [Math.Exp(logC)], "mean");
            alpha = Math.Clamp(alpha - 0.5 * T.Values(r.Gradient("alpha"))[0], 0.001, 1.999);
            logC -= 0.5 * T.Values(r.Gradient("scale"))[0] * Math.Exp(logC);
        }
        if (cauchy)
        {
            Assert.True(alpha < 0.15, $"α = {alpha}");
            Assert.InRange(Math.Exp(logC), 0.6, 0.8);
        }
        else
        {
            Assert.True(alpha > 1.9, $"α = {alpha}");
            Assert.InRange(Math.Exp(logC), 1.4, 1.6);
        }
    }

    [Fact]
    public void The_alpha_gradient_is_rho_s_plus_the_log_partition_slope()
    {
        // One residual, α = 1, c = 1: ∂ℓ/∂α = ∂ρ/∂α + d log Z/dα, each from RobustDistribution.
        LossResult r = Run([0.7], [1], [1]);
        double rho = RobustDistribution.Rho(0.49, 1, out _, out double dRho);
        double logZ = RobustDistribution.LogPartition(1, out double dLogZ);
        T.Close(rho + logZ, T.Values(r.Value)[0], 1e-15, 0);
        T.Close(dRho + dLogZ, T.Values(r.Gradient("alpha"))[0], 1e-15, 0);
        T.Close(Math.Sqrt(1.49) - 1, rho, 1e-15, 0);   // Charbonnier
    }

    [Fact]
    public void Names_a_negative_shape_a_scale_that_is_not_positive_a_misshapen_parameter_and_an_overflow()
    {
        Assert.Contains("'alpha'[1] = -0.5; the shape must be ≥ 0", Assert.Throws<LossArgumentException>(() => Run([1, 2], [1, -0.5], [1, 1])).Message);
        Assert.Contains("'scale'[0] = 0; the scale must be > 0", Assert.Throws<LossArgumentException>(() => Run([1, 2], [1, 1], [0, 1])).Message);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("adaptive_robust_loss")
            .Evaluate(T.In(("x", T.Shaped(new double[6], 2, 3)), ("alpha", T.D(1, 1)), ("scale", T.D(1, 1, 1)))));
        Assert.Contains("'alpha' must be one value () or one per dimension (3) for x of shape (2, 3), got shape (2,)", e.Message);
        Assert.Contains("ρ overflows double", Assert.Throws<LossArgumentException>(() => Run([1e200], [4], [1])).Message);
    }
}
