using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Probabilistic;

/// <summary>Kernel MMD by hand on two points, the energy distance's closed form, and a cloud against itself.</summary>
public sealed class KernelMmdLossTests
{
    private static LossResult Run(double[,] x, double[,] y, params (string, object?)[] options)
        => LossRegistry.Default.Create("kernel_mmd_loss", T.Opt(options)).Evaluate(T.In(("x", T.D2(x)), ("y", T.D2(y))));

    [Fact]
    public void One_point_against_one_by_hand()
    {
        // ½k(0) + ½k(0) − k(d) = 1 − e^{−d²/(2σ²)} for the gaussian; d = 0.5, σ = 0.5: 1 − e^{−1/2}.
        LossResult g = Run(new double[,] { { 0, 0 } }, new double[,] { { 0.3, 0.4 } }, ("blur", 0.5));
        T.Close(1 - Math.Exp(-0.5), g.Scalar, 1e-15, 0);
        // ∂/∂x = −∇k(x, y) = −k·(x − y)/σ²·(−1)… = −e^{−1/2}·(y − x)/σ².
        T.Close([-Math.Exp(-0.5) * 0.3 / 0.25, -Math.Exp(-0.5) * 0.4 / 0.25], g.Gradient("x"), 1e-14, 0);
        // Energy: ½·0 + ½·0 + |x − y| = the distance; its gradient the unit vector.
        LossResult e = Run(new double[,] { { 0, 0 } }, new double[,] { { 0.3, 0.4 } }, ("kernel", "energy"));
        T.Close(0.5, e.Scalar, 1e-15, 0);
        T.Close([-0.6, -0.8], e.Gradient("x"), 1e-14, 0);
        // A cloud against itself: 0, and no pull.
        var cloud = new double[,] { { 0, 0 }, { 1, 0.5 }, { -0.3, 2 } };
        LossResult same = Run(cloud, cloud, ("kernel", "laplacian"), ("blur", 0.7));
        Assert.True(Math.Abs(same.Scalar) < 1e-15);
        Assert.All(T.Values(same.Gradient("x")), v => Assert.True(Math.Abs(v) < 1e-15));
    }

    [Fact]
    public void Energy_is_half_the_energy_distance_on_a_line()
    {
        // x = {0, 2}, y = {1}: E|X − Y| = 1, E|X − X'| = ½·2 = 1, E|Y − Y'| = 0; ½(2·1 − 1 − 0) = ½.
        LossResult r = Run(new double[,] { { 0 }, { 2 } }, new double[,] { { 1 } }, ("kernel", "energy"));
        T.Close(0.5, r.Scalar, 1e-15, 0);
        Assert.Contains("blur must be a finite number > 0", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("kernel_mmd_loss", T.Opt(("blur", 0.0)))).Message);
    }
}
