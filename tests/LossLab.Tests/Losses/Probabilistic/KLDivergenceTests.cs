using LossLab.Losses.Core;
using LossLab.Losses.Probabilistic;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Probabilistic;

public sealed class KLDivergenceTests
{
    [Fact]
    public void Batchmean_is_the_true_KL_and_mean_divides_by_numel()
    {
        // KL([½, ½] ‖ [¼, ¾]) = ½ ln 2 + ½ ln ⅔ = ½ ln(4/3).
        var inputs = T.In(("input", T.D2(new double[,] { { Math.Log(0.25), Math.Log(0.75) } })), ("target", T.D2(new double[,] { { 0.5, 0.5 } })));
        double kl = 0.5 * Math.Log(4.0 / 3);
        T.Close(kl, new KLDivergence(new() { Reduction = Reduction.BatchMean }).Evaluate(inputs).Scalar, rel: 1e-14);
        T.Close(kl / 2, new KLDivergence().Evaluate(inputs).Scalar, rel: 1e-14);
    }

    [Fact]
    public void Log_target_gives_the_same_value_and_zero_targets_contribute_nothing()
    {
        var x = T.D(Math.Log(0.2), Math.Log(0.3), Math.Log(0.5));
        var t = T.D(0.0, 0.4, 0.6);
        var sum = new KLDivergence(new() { Reduction = Reduction.Sum });
        double plain = sum.Evaluate(T.In(("input", x), ("target", t))).Scalar;
        T.Close(0.4 * Math.Log(0.4 / 0.3) + 0.6 * Math.Log(0.6 / 0.5), plain, rel: 1e-14);
        var logT = T.D(Math.Log(1e-300), Math.Log(0.4), Math.Log(0.6));
        double viaLog = new KLDivergence(new() { Reduction = Reduction.Sum, LogTarget = true }).Evaluate(T.In(("input", x), ("target", logT))).Scalar;
        T.Close(plain, viaLog, rel: 1e-12);
        var r = sum.Evaluate(T.In(("input", x), ("target", t)));
        Assert.Equal(double.NegativeInfinity, r.Gradient("target").GetDouble(0));
        T.Close([0, -0.4, -0.6], r.Gradient("input"));
    }

    [Fact]
    public void Negative_probability_targets_are_rejected()
    {
        var e = Assert.Throws<LossArgumentException>(() => new KLDivergence().Evaluate(T.In(("input", T.D(-1, -1)), ("target", T.D(0.5, -0.5)))));
        Assert.Contains("target[1] = -0.5", e.Message);
        Assert.Contains("log_target", e.Message);
    }
}
