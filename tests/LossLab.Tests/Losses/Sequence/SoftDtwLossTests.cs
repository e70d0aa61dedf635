using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.Sequence;

/// <summary>Soft-DTW on sequences short enough to write out every alignment (Cuturi &amp; Blondel 2017).</summary>
public sealed class SoftDtwLossTests
{
    private static LossResult Eval(double[] x, double[] y, params (string, object?)[] options)
        => LossRegistry.Default.Create("soft_dtw_loss", T.Opt(options)).Evaluate(T.In(("x", T.Shaped(x, x.Length, 1)), ("y", T.Shaped(y, y.Length, 1))));

    [Fact]
    public void One_step_against_two_is_the_sum_of_both_costs()
    {
        // x = (0), y = (1, 2): the only alignment pairs x_1 with both; R = 1 + 4 (a single predecessor each, no softmin).
        LossResult r = Eval([0], [1, 2]);
        T.Close(5, r.Scalar, rel: 1e-15);
        T.Close([-6], r.Gradient("x"), rel: 1e-15);          // 2(0 − 1) + 2(0 − 2)
        T.Close([2, 4], r.Gradient("y"), rel: 1e-15);
    }

    [Fact]
    public void Two_against_two_softens_the_three_alignments()
    {
        // x = (0, 1), y = (0, 2): D = [[0, 4], [1, 1]]. R_11 = 0, R_12 = 4, R_21 = 1, R_22 = 1 + min_γ(0, 1, 4).
        double gamma = 0.5;
        double softmin = -gamma * Math.Log(Math.Exp(0) + Math.Exp(-1 / gamma) + Math.Exp(-4 / gamma));
        T.Close(1 + softmin, Eval([0, 1], [0, 2], ("gamma", gamma)).Scalar, rel: 1e-14);
        // As γ → 0 it is DTW: the diagonal alignment, cost 0 + 1.
        T.Close(1, Eval([0, 1], [0, 2], ("gamma", 1e-4)).Scalar, rel: 1e-9);
    }

    [Fact]
    public void The_divergence_is_zero_for_equal_sequences_and_the_band_limits_the_warping()
    {
        T.Close(0, Eval([0.5, -1, 2], [0.5, -1, 2], ("normalize", true)).Scalar, abs: 1e-14);
        var e = Assert.Throws<LossArgumentException>(() => Eval([0, 1, 2, 3], [0], ("bandwidth", 1L)));
        Assert.Equal("SoftDtwLoss: bandwidth 1 leaves no alignment between lengths 4 and 1 (it must be at least |n − m|)", e.Message);
        e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("soft_dtw").Evaluate(T.In(("x", T.Shaped(new double[6], 2, 3, 1)), ("y", T.Shaped(new double[6], 3, 2, 1)))));
        Assert.Equal(LossErrorCode.InvalidShape, e.Code);
    }
}
