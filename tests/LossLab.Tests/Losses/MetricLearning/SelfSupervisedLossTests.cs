using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.MetricLearning;

/// <summary>
/// Barlow Twins and VICReg at their optimum (two identical views whose features are standardized and uncorrelated:
/// loss and gradient 0), a term by hand, and the batch-size check. The authors' code is the reference in torch_diff.
/// </summary>
public sealed class SelfSupervisedLossTests
{
    // Two orthogonal ±1 columns over four rows: mean 0, biased variance 1, uncorrelated.
    private static readonly double[] Orthogonal = [1, 1, 1, -1, -1, 1, -1, -1];

    [Fact]
    public void Barlow_twins_is_zero_when_the_cross_correlation_is_the_identity()
    {
        TensorData z = T.Shaped(Orthogonal, 4, 2);
        LossResult r = LossRegistry.Default.Create("barlow_twins", T.Opt(("eps", 0.0))).Evaluate(T.In(("z_a", z), ("z_b", z)));
        T.Close(0, r.Scalar, 0, 1e-15);
        T.Close(new double[8], r.Gradient("z_a"), 0, 1e-15);
        // The second view's features swapped: C = [[0, 1], [1, 0]], so ℓ = (1 − 0)²·2 + λ·(1² + 1²).
        TensorData swapped = T.Shaped([1.0, 1, -1, 1, 1, -1, -1, -1], 4, 2);
        LossResult off = LossRegistry.Default.Create("barlow_twins", T.Opt(("eps", 0.0), ("lambd", 0.25))).Evaluate(T.In(("z_a", z), ("z_b", swapped)));
        T.Close(2 + 0.25 * 2, off.Scalar, 1e-15);
    }

    [Fact]
    public void Vicreg_is_zero_for_identical_spread_out_uncorrelated_views_and_counts_its_variance_hinge()
    {
        // Scaled by 2: unbiased standard deviation 2·√(4/3) > 1, so the hinge is 0; covariance 0; invariance 0.
        TensorData z = T.Shaped([.. Orthogonal.Select(v => 2 * v)], 4, 2);
        LossResult r = LossRegistry.Default.Create("vicreg").Evaluate(T.In(("x", z), ("y", z)));
        T.Close(0, r.Scalar, 0, 1e-15);
        T.Close(new double[8], r.Gradient("x"), 0, 1e-15);
        // Scaled by ½: each standard deviation is √(1/3 + ε), so each view adds mean_j(1 − std) and ℓ = μ·(1 − std).
        TensorData small = T.Shaped([.. Orthogonal.Select(v => 0.5 * v)], 4, 2);
        LossResult hinge = LossRegistry.Default.Create("vicreg").Evaluate(T.In(("x", small), ("y", small)));
        T.Close(25 * (1 - Math.Sqrt(1.0 / 3 + 1e-4)), hinge.Scalar, 1e-14);
    }

    [Fact]
    public void A_batch_of_one_row_has_no_spread_and_is_an_error()
    {
        foreach (var (loss, a, b) in new[] { ("barlow_twins", "z_a", "z_b"), ("vicreg", "x", "y") })
        {
            var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create(loss).Evaluate(T.In((a, T.Shaped([1.0, 2], 1, 2)), (b, T.Shaped([1.0, 2], 1, 2)))));
            Assert.Contains("give at least 2 rows", e.Message);
        }
    }
}
