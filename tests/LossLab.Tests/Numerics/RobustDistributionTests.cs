using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Numerics;

/// <summary>
/// Barron's robust distribution: log Z(α) and its slope against mpmath's quadrature (30 digits; the script is in the
/// comment below), the closed forms, and ρ's α-derivative against finite differences, near 0 and 2 included.
/// </summary>
public sealed class RobustDistributionTests
{
    // mpmath, mp.dps = 30: rho(x, a) = (b/a)((x²/b + 1)^{a/2} − 1), b = |a − 2| (log(x²/2 + 1) at 0, x²/2 at 2);
    // log Z = log(2·quad(exp(−rho), [0, 1, 10, 100, inf])); d log Z/dα = −2·quad(diff(rho, a)·exp(−rho))/Z, at α = 0 with
    // ∂ρ/∂α = L²/4 − L/2 + u/(4w) written out and the range split at 1e3 … 1e20 too (mp.diff there straddles the
    // α = 0 branch, and the slope's (log x)²/x² tail needs the splits: the first run said −0.85977286054678).
    public static TheoryData<double, double, double> Golden => new()
    {
        { 0, 1.4913034761293728289, -0.85977286678236933349 },
        { 0.001, 1.4904472569087950259, -0.8526938748797269168 },
        { 0.5, 1.2917070309923647712, -0.24833812522191226345 },
        { 1, 1.1854952323491929785, -0.19287001525365521434 },
        { 1.5, 1.0871889192928510934, -0.2132725566855051246 },
        { 1.999, 0.92060034923160744019, -1.4139150392509340548 },
        { 3, 0.7669564346062569093, -0.039883997221506883269 },
        { 4, 0.74287067864037169882, -0.01460342754989049364 },
        { 10, 0.71659720781831480741, -0.001318005551147894287 },
        { 64, 0.70681862968979865152, -0.000024890275692623437841 },
    };

    [Theory]
    [MemberData(nameof(Golden))]
    public void Log_partition_and_its_slope_match_mpmath(double alpha, double logZ, double slope)
    {
        T.Close(logZ, RobustDistribution.LogPartition(alpha, out double d), 1e-14, 0);
        T.Close(slope, d, 1e-11, 0);
    }

    [Fact]
    public void Log_partition_has_the_closed_forms_at_0_1_and_2()
    {
        // α = 0: Cauchy, ∫ dx/(1 + x²/2) = π√2; α = 1: ∫ e^{1 − √(1 + x²)} dx = 2e·K₁(1) (mpmath: 1.1854952323491929785);
        // α = 2: the normal, √(2π).
        T.Close(Math.Log(Math.PI * Math.Sqrt(2)), RobustDistribution.LogPartition(0, out _), 3e-15, 0);
        T.Close(1.1854952323491929785, RobustDistribution.LogPartition(1, out _), 1e-15, 0);
        T.Close(0.5 * Math.Log(2 * Math.PI), RobustDistribution.LogPartition(2, out _), 1e-15, 0);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-7)]
    [InlineData(1e-3)]
    [InlineData(0.3)]
    [InlineData(1.0)]
    [InlineData(1.999)]
    [InlineData(2.5)]
    [InlineData(7.0)]
    public void Rho_derivatives_match_central_differences(double alpha)
    {
        foreach (double u in new[] { 1e-6, 0.3, 2.0, 40.0 })
        {
            double rho = RobustDistribution.Rho(u, alpha, out double dU, out double dAlpha);
            Assert.True(rho >= 0);
            double hu = 1e-6 * u, ha = 1e-6;
            double fdU = (RobustDistribution.Rho(u + hu, alpha, out _, out _) - RobustDistribution.Rho(u - hu, alpha, out _, out _)) / (2 * hu);
            T.Close(fdU, dU, 1e-8, 0);
            // One-sided from α = 0 (ρ is defined below 0, but the distribution is not): forward differences there.
            double fdA = alpha < ha
                ? (-3 * rho + 4 * RobustDistribution.Rho(u, alpha + ha, out _, out _) - RobustDistribution.Rho(u, alpha + 2 * ha, out _, out _)) / (2 * ha)
                : (RobustDistribution.Rho(u, alpha + ha, out _, out _) - RobustDistribution.Rho(u, alpha - ha, out _, out _)) / (2 * ha);
            T.Close(fdA, dAlpha, 1e-6, 1e-12);
        }
    }

    [Fact]
    public void Rho_is_the_general_robust_loss_and_its_limits()
    {
        // u = 0.64 (x = 0.8): α = 0 Cauchy log(1 + u/2); α = 1 √(1 + u) − 1; α = 2 u/2; α = 4 ((u/2 + 1)² − 1)/2.
        T.Close(Math.Log(1.32), RobustDistribution.Rho(0.64, 0, out _, out _), 1e-15, 0);
        T.Close(Math.Sqrt(1.64) - 1, RobustDistribution.Rho(0.64, 1, out _, out _), 1e-15, 0);
        T.Close(0.32, RobustDistribution.Rho(0.64, 2, out _, out double d2), 1e-15, 0);
        T.Close((1.32 * 1.32 - 1) / 2, RobustDistribution.Rho(0.64, 4, out _, out _), 1e-15, 0);
        Assert.True(double.IsFinite(d2));   // the guard band keeps ∂ρ/∂α finite at 2
        // Tiny residuals keep their digits: ρ = u/2 − …, at u = 1e-20.
        T.Close(5e-21, RobustDistribution.Rho(1e-20, 1, out _, out _), 1e-15, 0);
        Assert.Contains("finite shape α ≥ 0", Assert.Throws<LossArgumentException>(() => RobustDistribution.LogPartition(-0.5, out _)).Message);
    }

    [Fact]
    public void A_batch_of_shapes_is_each_shape_alone_on_any_core()
    {
        // 40 shapes (split between the cores), some repeated, from the Cauchy case to a near-step density.
        double[] alpha = [.. Enumerable.Range(0, 40).Select(i => i % 7 == 0 ? 1.0 : 0.173 * i)];
        double[] logZ = new double[alpha.Length], slope = new double[alpha.Length];
        RobustDistribution.LogPartitions(alpha, logZ, slope);
        for (int j = 0; j < alpha.Length; j++)
        {
            Assert.Equal(RobustDistribution.LogPartition(alpha[j], out double expected), logZ[j]);
            Assert.Equal(expected, slope[j]);
        }
        alpha[13] = -1;
        Assert.Contains("got -1", Assert.Throws<LossArgumentException>(() => RobustDistribution.LogPartitions(alpha, logZ, slope)).Message);
        Assert.Throws<LossArgumentException>(() => RobustDistribution.LogPartitions(alpha, new double[3], slope));
    }
}
