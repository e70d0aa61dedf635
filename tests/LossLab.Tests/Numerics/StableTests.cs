using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Numerics;

public sealed class StableTests
{
    [Theory]
    [InlineData(1e-20)]
    [InlineData(-1e-10)]
    [InlineData(3e-8)]
    [InlineData(0.5)]
    [InlineData(-0.999)]
    [InlineData(1e10)]
    public void Log1p_and_expm1_keep_their_digits_for_tiny_arguments(double x)
    {
        // Reference: Math.Log(1 + x) loses everything below 1e-16; the series x − x²/2 + x³/3 is exact there.
        double log1p = Math.Abs(x) < 1e-4 ? x - x * x / 2 + x * x * x / 3 : Math.Log(1 + x);
        double expm1 = Math.Abs(x) < 1e-4 ? x + x * x / 2 + x * x * x / 6 : Math.Exp(x) - 1;
        T.Close(log1p, Stable.Log1p(x), rel: 1e-15);
        if (x < 700) T.Close(expm1, Stable.Expm1(x), rel: 1e-15);
        double xf = (float)x;   // the float argument itself, so the comparison measures only the function's error
        double log1pF = Math.Abs(xf) < 1e-4 ? xf - xf * xf / 2 + xf * xf * xf / 3 : Math.Log(1 + xf);
        T.Close(log1pF, Stable.Log1p((float)x), rel: 3e-7);
    }

    [Fact]
    public void Log_add_exp_is_exact_at_minus_infinity_and_keeps_a_tiny_second_term()
    {
        Assert.Equal(-3.5, Stable.LogAddExp(double.NegativeInfinity, -3.5));
        Assert.Equal(2.0, Stable.LogAddExp(2.0, double.NegativeInfinity));
        Assert.Equal(double.NegativeInfinity, Stable.LogAddExp(double.NegativeInfinity, double.NegativeInfinity));
        T.Close(Math.Log(2) + 1000, Stable.LogAddExp(1000.0, 1000.0), rel: 1e-16);   // no overflow
        // log(e⁰ + e⁻⁴⁰) = log1p(e⁻⁴⁰) ≈ e⁻⁴⁰, which log(1 + e⁻⁴⁰) would round to 0.
        T.Close(Math.Exp(-40), Stable.LogAddExp(0.0, -40.0), rel: 1e-15);
        T.Close(Math.Exp(-40), Stable.LogAddExp(-40.0, 0.0), rel: 1e-15);
    }

    [Fact]
    public void Pairs_equal_the_single_functions_bit_for_bit()
    {
        // softplus(±x) from one exp and log1p, σ(±x) from one exp: the same bits as two separate calls.
        foreach (double x in new[] { 0.0, -0.0, 1e-300, -1e-12, 0.3, -0.3, 5, -5, 33.3, -33.3, 40, -40, 750, -750, double.NaN })
        {
            double sp = Stable.SoftplusPair(x, out double spNeg), s = Stable.SigmoidPair(x, out double sNeg);
            Assert.Equal(Stable.Softplus(x), sp);
            Assert.Equal(Stable.Softplus(-x), spNeg);
            Assert.Equal(Stable.Sigmoid(x), s);
            Assert.Equal(Stable.Sigmoid(-x), sNeg);
            float xf = (float)x, spf = Stable.SoftplusPair(xf, out float spfNeg), sf = Stable.SigmoidPair(xf, out float sfNeg);
            Assert.Equal(Stable.Softplus(xf), spf);
            Assert.Equal(Stable.Softplus(-xf), spfNeg);
            Assert.Equal(Stable.Sigmoid(xf), sf);
            Assert.Equal(Stable.Sigmoid(-xf), sfNeg);
        }
    }

    [Fact]
    public void Log1p_and_expm1_edge_cases()
    {
        Assert.Equal(double.NegativeInfinity, Stable.Log1p(-1.0));
        Assert.True(double.IsNaN(Stable.Log1p(-2.0)));
        Assert.Equal(double.PositiveInfinity, Stable.Log1p(double.PositiveInfinity));
        Assert.Equal(-1.0, Stable.Expm1(-800.0));
        Assert.Equal(double.PositiveInfinity, Stable.Expm1(800.0));
        Assert.Equal(0.0, Stable.Expm1(0.0));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(30.0)]
    [InlineData(-30.0)]
    [InlineData(100.0)]
    [InlineData(-100.0)]
    [InlineData(1e4)]
    [InlineData(-1e4)]
    public void Softplus_log_sigmoid_and_sigmoid_are_finite_and_consistent(double x)
    {
        double sp = Stable.Softplus(x), ls = Stable.LogSigmoid(x), s = Stable.Sigmoid(x);
        Assert.True(double.IsFinite(sp) && double.IsFinite(ls) && double.IsFinite(s));
        T.Close(-sp, Stable.LogSigmoid(-x), rel: 1e-15);
        // log(1 + e) by its series where e is tiny (log(1 + e) itself keeps only the digits of 1 + e's rounding).
        static double Log1pOfSmall(double e) => e < 1e-4 ? e - e * e / 2 + e * e * e / 3 : Math.Log(1 + e);
        T.Close(x > 0 ? x + Log1pOfSmall(Math.Exp(-x)) : Log1pOfSmall(Math.Exp(x)), sp, rel: 1e-15);
        T.Close(1 / (1 + Math.Exp(-x)), s, rel: 1e-15);
        float xf = (float)x;
        Assert.True(float.IsFinite(Stable.Softplus(xf)) && float.IsFinite(Stable.LogSigmoid(xf)));
        T.Close(sp, Stable.Softplus(xf), rel: 1e-7, abs: 1e-40);   // e^−100 is a float subnormal: absolute accuracy there
    }

    [Fact]
    public void Softplus_is_exact_where_the_naive_formula_overflows()
    {
        Assert.Equal(1e4f, Stable.Softplus(1e4f));
        Assert.Equal(-1e4f, Stable.LogSigmoid(-1e4f));
        Assert.Equal(float.PositiveInfinity, MathF.Log(1 + MathF.Exp(1e4f)));
    }

    [Fact]
    public void LogSumExp_is_shift_invariant_and_handles_empty_infinite_and_NaN()
    {
        double[] x = [1000, 1000, 1000];
        T.Close(1000 + Math.Log(3), Stable.LogSumExp<double>(x), rel: 1e-15);
        Assert.Equal(double.NegativeInfinity, Stable.LogSumExp<double>([]));
        Assert.Equal(double.PositiveInfinity, Stable.LogSumExp<double>([1, double.PositiveInfinity]));
        Assert.True(double.IsNaN(Stable.LogSumExp<double>([1, double.NaN])));
        T.Close(Math.Log(2), Stable.LogSumExp<double>([double.NegativeInfinity, 0, 0]), rel: 1e-15);
        float[] big = [88.8f, 89.5f, 90f];
        Assert.True(float.IsFinite(Stable.LogSumExp<float>(big)));
    }

    [Fact]
    public void LogSoftmax_and_softmax_are_normalized_for_huge_logits()
    {
        double[] x = [1e4, 1e4 - 1, -1e4];
        var ls = new double[3];
        var p = new double[3];
        Stable.LogSoftmax<double>(x, ls);
        Stable.Softmax<double>(x, p);
        T.Close(1, p.Sum(), rel: 1e-15);
        T.Close(-Math.Log(1 + Math.Exp(-1)), ls[0], rel: 1e-15);
        Assert.Throws<ArgumentException>(() => Stable.Softmax<double>(x, new double[2]));
    }

    [Fact]
    public void Xlogy_is_zero_when_x_is_zero_and_propagates_NaN()
    {
        Assert.Equal(0.0, Stable.Xlogy(0.0, 0.0));
        Assert.Equal(0.0, Stable.Xlogy(0.0, double.PositiveInfinity));
        Assert.True(double.IsNaN(Stable.Xlogy(0.0, double.NaN)));
        T.Close(2 * Math.Log(3), Stable.Xlogy(2.0, 3.0), rel: 1e-15);
        Assert.Equal(0.0, Stable.Sign(0.0));
        Assert.Equal(-1.0, Stable.Sign(-3.0));
    }

    /// <summary>
    /// The vector form gives the scalar log-sum-exp to round-off, leaves e^{x − max} in its output (also in place), cuts
    /// terms below e^−700 there, and declines (writing nothing) where the maximum is NaN or infinite.
    /// </summary>
    [Fact]
    public void TryShiftedExp_matches_the_scalar_log_sum_exp_and_declines_non_finite_maxima()
    {
        var r = new Random(3);
        foreach (int length in new[] { 1, 7, 64, 301 })
        {
            double[] x = [.. Enumerable.Range(0, length).Select(_ => 20 * r.NextDouble() - 10)];
            var e = new double[length];
            Assert.True(Stable.TryShiftedExp(x, e, out double max, out double sum, out double vectorLogSum));
            Assert.Equal(x.Max(), max);
            double logSum = Stable.ShiftedLogSumExp<double>(x, out _);
            Assert.Equal(logSum, Math.Log(sum), 1e-14);
            Assert.Equal(logSum, vectorLogSum, 1e-15);
            for (int k = 0; k < length; k++) Assert.Equal(Math.Exp(x[k] - max), e[k], 1e-15);
            double[] inPlace = (double[])x.Clone();
            Assert.True(Stable.TryShiftedExp(inPlace, inPlace, out _, out double sumInPlace, out _));
            Assert.Equal(sum, sumInPlace);
        }
        double[] far = [0, -1000];
        Assert.True(Stable.TryShiftedExp(far, far, out _, out _, out _));
        Assert.InRange(far[1] / Math.Exp(-700), 1 - 1e-14, 1 + 1e-14);   // the cut: e^−700, not e^−1000
        // A confident row: log Σe = log1p of the others, 2e^−40 here, where log(1 + 2e^−40) is 0.
        double[] confident = [40, 0, 0];
        Assert.True(Stable.TryShiftedExp(confident, new double[3], out _, out _, out double small));
        Assert.Equal(8.4967085105831779546e-18, small, 1e-31);
        foreach (double bad in new[] { double.NaN, double.PositiveInfinity })
        {
            double[] x = [1, bad, 2], e = [5, 5, 5];
            Assert.False(Stable.TryShiftedExp(x, e, out _, out _, out _));
            Assert.Equal([5.0, 5, 5], e);
        }
        Assert.False(Stable.TryShiftedExp([double.NegativeInfinity, double.NegativeInfinity], new double[2], out _, out _, out _));
    }
}
