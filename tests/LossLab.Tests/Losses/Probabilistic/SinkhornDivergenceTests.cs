using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Probabilistic;

/// <summary>
/// The debiased Sinkhorn divergence by hand where transport has one answer, its limit at a small blur, the weights'
/// normalization, and its errors. Random clouds against an independent float64 solver are in torch_diff.
/// </summary>
public sealed class SinkhornDivergenceTests
{
    private static LossResult Run(double[,] x, double[,] y, params (string, object?)[] options)
        => LossRegistry.Default.Create("sinkhorn_divergence", T.Opt(options)).Evaluate(T.In(("x", T.D2(x)), ("y", T.D2(y))));

    [Fact]
    public void One_point_against_one_is_the_cost_and_a_cloud_against_itself_is_zero()
    {
        // A single pair carries all the mass: OT_ε = C = |x − y|²/2, and the symmetric terms are 0.
        LossResult r = Run(new double[,] { { 0.3, -1 } }, new double[,] { { 1.1, 0.5 } });
        T.Close(0.5 * (0.8 * 0.8 + 1.5 * 1.5), r.Scalar, 1e-15, 0);
        T.Close([-0.8, -1.5], r.Gradient("x"), 1e-14, 0);
        // p = 1: the distance itself, and the unit vector for its gradient.
        LossResult one = Run(new double[,] { { 0, 0 } }, new double[,] { { 3, 4 } }, ("p", 1L));
        T.Close(5, one.Scalar, 1e-15, 0);
        T.Close([-0.6, -0.8], one.Gradient("x"), 1e-14, 0);
        // Debiased, a cloud against itself is 0 with no gradient.
        var cloud = new double[,] { { 0, 0 }, { 1, 0.5 }, { -0.3, 2 } };
        LossResult same = Run(cloud, cloud);
        Assert.True(Math.Abs(same.Scalar) < 1e-14);
        Assert.All(T.Values(same.Gradient("x")), g => Assert.True(Math.Abs(g) < 1e-12));
    }

    [Fact]
    public void At_a_small_blur_it_is_half_the_squared_Wasserstein_distance()
    {
        // x = {0, 1}, y = {0.1, 1.2} on a line: the monotone matching moves 0.1 and 0.2; W₂²/2 = ½·½(0.01 + 0.04).
        LossResult r = Run(new double[,] { { 0 }, { 1 } }, new double[,] { { 0.1 }, { 1.2 } }, ("blur", 0.01));
        T.Close(0.0125, r.Scalar, 1e-6, 0);
        // ∂/∂x_i = α_i·(x_i − its match): −0.05 and −0.1.
        T.Close([-0.05, -0.1], r.Gradient("x"), 1e-6, 0);
        // Without debiasing at a larger blur, OT_ε(α, α) > 0: the entropic bias the divergence removes.
        LossResult biased = LossRegistry.Default.Create("sinkhorn_divergence", T.Opt(("debias", false), ("blur", 1.0)))
            .Evaluate(T.In(("x", T.D2(new double[,] { { 0 }, { 1 } })), ("y", T.D2(new double[,] { { 0 }, { 1 } }))));
        Assert.True(biased.Scalar > 0.01);
    }

    [Fact]
    public void Weights_are_normalized_and_their_gradient_does_not_depend_on_the_potentials_constant()
    {
        double[,] x = { { 0, 0 }, { 1, 0 }, { 0, 1 } }, y = { { 0.5, 0.5 }, { 2, 1 } };
        LossResult Weighted(double scale) => LossRegistry.Default.Create("sinkhorn_divergence", T.Opt(("blur", 0.3))).Evaluate(T.In(("x", T.D2(x)), ("y", T.D2(y)),
            ("x_weights", T.D(0.2 * scale, 0.5 * scale, 0.3 * scale)), ("y_weights", T.D(0.6 * scale, 0.4 * scale))));
        LossResult unit = Weighted(1), triple = Weighted(3);
        T.Close(unit.Scalar, triple.Scalar, 1e-13, 0);
        double[] gu = T.Values(unit.Gradient("x_weights")), gt = T.Values(triple.Gradient("x_weights"));
        for (int i = 0; i < 3; i++) T.Close(gu[i] / 3, gt[i], 1e-11, 1e-15);
        // On the simplex the gradient is orthogonal to the weights: Σ α_i·∂S/∂α_i = 0 (no constant in it).
        Assert.True(Math.Abs(0.2 * gu[0] + 0.5 * gu[1] + 0.3 * gu[2]) < 1e-14);
    }

    [Fact]
    public void A_plan_split_into_weakly_coupled_blocks_matches_a_40_digit_newton_solution()
    {
        // Found by a fresh-seed differential run: the plan of these clouds (blur 0.2, ε = 0.04) nearly splits into blocks,
        // where Sinkhorn's iterations crawl (their marginals were still 3e-5 off after 3000 rounds) and a plain Newton
        // step is ill-conditioned; the torch reference then stopped 3e-8 off and disagreed in the 7th digit. The
        // references are mpmath's: alternating updates, then Newton on the dual with one gauge fixed, at 40 digits.
        double[,] x =
        {
            { -0.31636894688561823, -0.21150643523104973, 0.7892084004202098 }, { 0.0792055441067323, -1.0066332511649638, -1.1426084419709173 },
            { 0.5939564247017345, 0.7254235006006748, -0.9308262921816453 }, { -1.3772926160438068, 0.592239647758169, -1.3672922298425878 },
            { -0.5089578934015763, 1.4211052992830102, -0.2475278277599704 }, { -0.49755773807993997, -0.642858628572931, 1.3974196949088054 },
        };
        double[,] y =
        {
            { 0.6931507944423685, -0.8986963008171676, 1.3519610713780819 }, { 0.13460834382322118, -1.1540192377380047, -1.1097916049669605 },
            { -1.3466360337446797, 0.8502353168735153, -0.9191767391437475 },
        };
        LossResult r = Run(x, y, ("blur", 0.2));
        T.Close(0.72293951556639751202, r.Value.GetDouble(0), rel: 1e-13);
        T.Close(-0.0092337999527481450422, r.Gradient("x").GetDouble(3), rel: 1e-11);
    }

    [Fact]
    public void Names_what_it_refuses()
    {
        var loss = LossRegistry.Default.Create("sinkhorn_divergence");
        Assert.Contains("'y_weights'[1] = 0; weights must be > 0", Assert.Throws<LossArgumentException>(() => loss.Evaluate(T.In(("x", T.D2(new double[,] { { 0 } })),
            ("y", T.D2(new double[,] { { 1 }, { 2 } })), ("y_weights", T.D(1, 0))))).Message);
        Assert.Contains("'y' must be points (M, D) = (M, 2)", Assert.Throws<LossArgumentException>(() => loss.Evaluate(T.In(("x", T.D2(new double[,] { { 0, 1 } })),
            ("y", T.D2(new double[,] { { 1, 2, 3 } }))))).Message);
        Assert.Contains("p must be 1 or 2", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("sinkhorn_divergence", T.Opt(("p", 3L)))).Message);
        Assert.Contains("scaling must be in (0, 1)", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("sinkhorn_divergence", T.Opt(("scaling", 1.0)))).Message);
    }
}
