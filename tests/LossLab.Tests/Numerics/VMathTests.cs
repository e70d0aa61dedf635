using LossLab.Numerics.Simd;
using Xunit;

namespace LossLab.Tests.Numerics;

/// <summary>The vector exp/log error bound (≤ 2 ulp, the limit) over a dense sweep of float bit patterns, at every width.</summary>
public class VMathTests
{
    /// <summary>|f − exact| in units of the float spacing at the exact value (subnormal spacing below 2⁻¹²⁶).</summary>
    private static double Ulps(float f, double exact)
    {
        if (double.IsNaN(exact)) return float.IsNaN(f) ? 0 : double.PositiveInfinity;
        if (double.IsInfinity(exact) || Math.Abs(exact) > float.MaxValue) return f == (float)exact ? 0 : double.PositiveInfinity;
        float fe = (float)Math.Abs(exact);
        double ulp = fe == float.MaxValue ? fe - MathF.BitDecrement(fe) : MathF.BitIncrement(fe) - fe;
        return Math.Abs(f - exact) / ulp;
    }

    /// <summary>Every 211th float bit pattern in [lo, hi]: about 10 million values, every binade densely covered.</summary>
    private static float[] Sweep(float lo, float hi, int stride = 211)
    {
        var values = new List<float>();
        for (float v = lo; v <= hi; v = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(v) + (v >= 0 ? stride : -stride)))
        {
            values.Add(v);
            if (v < 0 && v > -1e-30f) v = 0;   // hop over the negative subnormals to +0
        }
        return [.. values];
    }

    /// <summary>The function under test on TV lanes: exp, exp of x ≤ 0, log, log of x ≥ 0, or softplus(−x) = −log σ(x).</summary>
    private static TV F<TV>(TV v, string fn) where TV : struct, IVec<TV> => fn switch
    {
        "exp" => VMath.Exp(v),
        "expnp" => VMath.ExpNonPositive(v),
        "log" => VMath.Log(v),
        "lognn" => VMath.LogNonNegative(v),
        "lognormal" => VMath.LogNormal(v),
        "softplus" => Softplus(v),
        _ => throw new ArgumentException(fn),
    };

    private static TV Softplus<TV>(TV v) where TV : struct, IVec<TV>
    {
        VMath.Logistic(v, out _, out TV softplusOfMinusX);
        return softplusOfMinusX;
    }

    private static float[] Apply<TV>(float[] x, string fn) where TV : struct, IVec<TV>
    {
        var y = new float[x.Length];
        int i = 0;
        for (; i + TV.Count <= x.Length; i += TV.Count) TV.Store(F(TV.Load(ref x[i], 0), fn), ref y[i], 0);
        Span<float> pad = stackalloc float[TV.Count];
        for (; i < x.Length; i++)
        {
            // Tail through a padded vector, so every value goes through the kernel.
            pad.Fill(fn == "expnp" ? -1 : 1);
            pad[0] = x[i];
            TV.Store(F(TV.Load(ref pad[0], 0), fn), ref pad[0], 0);
            y[i] = pad[0];
        }
        return y;
    }

    public static TheoryData<string> Widths => new() { "V512", "V256", "V128" };

    private static float[] Apply(string width, float[] x, string fn) => width switch
    {
        "V512" => Apply<V512>(x, fn),
        "V256" => Apply<V256>(x, fn),
        _ => Apply<V128>(x, fn),
    };

    /// <summary>The worst error in ulp of <paramref name="fn"/> over <paramref name="x"/> against <paramref name="exact"/>, and where.</summary>
    private static (double Worst, float At) WorstUlps(string width, float[] x, string fn, Func<double, double> exact)
    {
        float[] y = Apply(width, x, fn);
        double worst = 0;
        float at = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double u = Ulps(y[i], exact(x[i]));
            if (u > worst) { worst = u; at = x[i]; }
        }
        return (worst, at);
    }

    /// <summary>The softmax exponential (on 512-bit lanes the 32-entry table variant): ≤ 2 ulp on [−87.33, 0], ≤ 1.2e−38 below.</summary>
    [Theory, MemberData(nameof(Widths))]
    public void ExpNonPositiveIsWithinTwoUlpsAndFlushesOnlyBelowTheNormalRange(string width)
    {
        float[] x = Sweep(-87.33f, -1e-30f);
        var (worst, at) = WorstUlps(width, x, "expnp", Math.Exp);
        Assert.True(worst <= 2, $"exp(x ≤ 0): {worst:F2} ulp at x = {at:R} ({x.Length} values)");
        float[] low = Apply(width, [-87.4f, -100f, -1e30f, float.NegativeInfinity, 0f, -0f], "expnp");
        Assert.All(low[..4], v => Assert.InRange(v, 0f, 1.2e-38f));
        Assert.Equal(1f, low[4]);
        Assert.Equal(1f, low[5]);
    }

    /// <summary>
    /// Cross-entropy's exponential of a row on 256- and 512-bit lanes, e^(x − max) with e^−max folded into a per-row table:
    /// within 2 ulp of the exponential of the exact difference (the subtracting form takes that of the rounded difference)
    /// over the whole accepted span below maxima across the accepted range; rows it cannot take exactly are refused.
    /// </summary>
    [Fact]
    public void ExpBelowMaxIsWithinTwoUlpsOfTheExactDifference()
    {
        Assert.False(VMath.TryExpBelowMax<V128>(0, 0, out _, out _));
        CheckBelowMax<V256>(System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported);
        CheckBelowMax<V512>(System.Runtime.Intrinsics.X86.Avx512F.IsSupported);
    }

    private static void CheckBelowMax<TV>(bool supported) where TV : struct, IVec<TV>
    {
        if (!supported)
        {
            Assert.False(VMath.TryExpBelowMax<TV>(0, 0, out _, out _));
            return;
        }
        int n = TV.Count;
        foreach (float max in new[] { 0f, 1.7f, -3.25f, 12.5f, 40f, -79.99f, 80f, -80f, 1e-4f })
        {
            float lo = max - 86.5f;
            if ((double)lo - max < -86.5) lo = MathF.BitIncrement(lo);   // the widest span accepted, in float
            Assert.True(VMath.TryExpBelowMax(max, lo, out TV table, out TV tableHi));
            float[] x = Sweep(lo, max, max == 0 ? 211 : 1499);
            var y = new float[x.Length];
            var pad = new float[n];
            for (int i = 0; i < x.Length; i += n)
            {
                Array.Fill(pad, max);
                int count = Math.Min(n, x.Length - i);
                Array.Copy(x, i, pad, 0, count);
                TV.Store(VMath.ExpBelowMax(TV.Load(ref pad[0], 0), table, tableHi), ref pad[0], 0);
                Array.Copy(pad, 0, y, i, count);
            }
            double worst = 0;
            float at = 0;
            for (int i = 0; i < x.Length; i++)
            {
                double u = Ulps(y[i], Math.Exp((double)x[i] - max));
                if (u > worst) { worst = u; at = x[i]; }
            }
            Assert.True(worst <= 2, $"{typeof(TV).Name}: e^(x − {max}): {worst:F2} ulp at x = {at:R} ({x.Length} values)");
        }
        // Outside: a maximum beyond ±80, a span over 86.5, NaN.
        Assert.False(VMath.TryExpBelowMax<TV>(80.5f, 80f, out _, out _));
        Assert.False(VMath.TryExpBelowMax<TV>(-80.5f, -81f, out _, out _));
        Assert.False(VMath.TryExpBelowMax<TV>(0f, -86.6f, out _, out _));
        Assert.False(VMath.TryExpBelowMax<TV>(float.NaN, 0f, out _, out _));
        Assert.False(VMath.TryExpBelowMax<TV>(0f, float.NaN, out _, out _));
    }

    [Theory, MemberData(nameof(Widths))]
    public void ExpIsWithinTwoUlpsOverTheWholeRange(string width)
    {
        float[] x = Sweep(-104f, 89f);
        var (worst, at) = WorstUlps(width, x, "exp", Math.Exp);
        Assert.True(worst <= 2, $"exp: {worst:F2} ulp at x = {at:R} ({x.Length} values)");
        Assert.True(x.Length > 500_000);
    }

    [Theory, MemberData(nameof(Widths))]
    public void LogIsWithinTwoUlpsOnEveryPositiveFloatIncludingSubnormals(string width)
    {
        float[] x = Sweep(float.Epsilon, float.MaxValue);
        var (worst, at) = WorstUlps(width, x, "log", Math.Log);
        Assert.True(worst <= 2, $"log: {worst:F2} ulp at x = {at:R} ({x.Length} values)");
    }

    /// <summary>The branch-free log of probabilities and counts (on AVX-512 by a table): same bound, the ends included; negative input gives NaN.</summary>
    [Theory, MemberData(nameof(Widths))]
    public void LogNonNegativeIsWithinTwoUlpsFromZeroToTheLargestFloat(string width)
    {
        float[] x = [.. Sweep(float.Epsilon, float.MaxValue), float.MaxValue, float.Epsilon, 1f, MathF.BitDecrement(1f), MathF.BitIncrement(1f), 1.4142135f, 1.4142137f, 0.70710677f];
        var (worst, at) = WorstUlps(width, x, "lognn", Math.Log);
        Assert.True(worst <= 2, $"log of x ≥ 0: {worst:F2} ulp at x = {at:R} ({x.Length} values)");
        // The 512-bit table log is tighter (0.99 ulp over every float, checked exhaustively once): hold it to 1 ulp.
        if (width == "V512" && System.Runtime.Intrinsics.X86.Avx512F.IsSupported) Assert.True(worst <= 1, $"table log: {worst:F2} ulp at x = {at:R}");
        float[] special = Apply(width, [0f, -0f, -1e-30f, -1f, float.NegativeInfinity, float.NaN, float.PositiveInfinity], "lognn");
        Assert.Equal(float.NegativeInfinity, special[0]);
        Assert.Equal(float.NegativeInfinity, special[1]);
        Assert.All(special[2..6], v => Assert.True(float.IsNaN(v), $"log of a negative or NaN must be NaN, got {v}"));   // kernels detect bad input by it
    }

    /// <summary>
    /// The kernels' fast path for vectors of positive normal floats: bit for bit the general log on every one of them
    /// (a dense sweep from 2⁻¹²⁶ to the largest float, both ends and the fold points included).
    /// </summary>
    [Theory, MemberData(nameof(Widths))]
    public void LogNormalIsTheGeneralLogOnNormalFloats(string width)
    {
        float[] x = [.. Sweep(VMath.MinNormal, float.MaxValue, stride: 97), VMath.MinNormal, float.MaxValue, 1f, MathF.BitDecrement(1f), 0.70710677f, 0.7071068f];
        float[] fast = Apply(width, x, "lognormal"), general = Apply(width, x, "lognn");
        for (int i = 0; i < x.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(fast[i]) != BitConverter.SingleToInt32Bits(general[i]))
            {
                Assert.Fail($"log of {x[i]:R}: {fast[i]:R} on the fast path, {general[i]:R} on the general one");
            }
        }
    }

    /// <summary>softplus(−x) = −log σ(x), the logistic losses' value term: within 3.5 ulp on [−100, 87.3] (3.2 measured: the exponential's error and log1p's atanh series); beyond, an absolute error under 1.2e−38.</summary>
    [Theory, MemberData(nameof(Widths))]
    public void SoftplusIsAccurateOverTheLogitRange(string width)
    {
        float[] x = Sweep(-100f, 87.3f);
        // softplus(−x) = max(−x, 0) + log1p(e^−|x|), in double.
        static double Exact(double v)
        {
            double e = Math.Exp(-Math.Abs(v));   // log1p(e): the series where 1 + e would round e away
            return Math.Max(-v, 0) + (e < 1e-4 ? e - e * e / 2 + e * e * e / 3 : Math.Log(1 + e));
        }
        var (worst, at) = WorstUlps(width, x, "softplus", Exact);
        Assert.True(worst <= 3.5, $"softplus(−x): {worst:F2} ulp at x = {at:R} ({x.Length} values)");
        // Beyond, e^−x is below the normal range: the shared exponential flushes it to about 1.2e−38 (documented).
        Assert.All(Apply(width, Sweep(87.34f, 100f), "softplus"), v => Assert.InRange(v, 0f, 1.2e-38f));
    }

    [Theory, MemberData(nameof(Widths))]
    public void SpecialValues(string width)
    {
        float[] x = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 88.72283f, 88.7229f, -88f, -103.9f, -104.5f, 1e-30f, -1e-30f];
        float[] e = Apply(width, x, "exp");
        Assert.True(float.IsNaN(e[0]));
        Assert.Equal(float.PositiveInfinity, e[1]);
        Assert.Equal(0f, e[2]);
        Assert.Equal(1f, e[3]);
        Assert.Equal(1f, e[4]);
        Assert.True(float.IsFinite(e[5]) && e[5] > 3.4e38f);
        Assert.Equal(float.PositiveInfinity, e[6]);
        Assert.True(e[7] > 0 && e[7] < 1.1754942e-38f);   // a subnormal result
        Assert.True(e[8] > 0);                    // still the smallest subnormals
        Assert.Equal(0f, e[9]);
        Assert.Equal(1f, e[10]);
        Assert.Equal(1f, e[11]);
        float[] l = Apply(width, x, "log");
        Assert.True(float.IsNaN(l[0]));
        Assert.Equal(float.PositiveInfinity, l[1]);
        Assert.True(float.IsNaN(l[2]));
        Assert.Equal(float.NegativeInfinity, l[3]);
        Assert.Equal(float.NegativeInfinity, l[4]);
        Assert.True(float.IsNaN(l[11]));
    }

    /// <summary>
    /// NaN comes through the bounded exponential and every output of the logistic (a NaN logit once came out as a
    /// finite gradient: the clamp's hardware max dropped it); with exact tails σ is exactly 0 and 1 past |x| = 87.33.
    /// </summary>
    [Theory, MemberData(nameof(Widths))]
    public void NaNPropagatesAndExactTailsAreExact(string width)
    {
        Assert.True(float.IsNaN(Apply(width, [float.NaN], "expnp")[0]));
        float[] x = [float.NaN, -float.MaxValue, float.MaxValue, -1000f, 90f, float.NegativeInfinity, float.PositiveInfinity, 3f];
        float[][] outs = width switch
        {
            "V512" => LogisticOf<V512>(x),
            "V256" => LogisticOf<V256>(x),
            _ => LogisticOf<V128>(x),
        };
        float[] p = outs[0], omp = outs[1], spm = outs[2], l1pe = outs[3];
        Assert.True(float.IsNaN(p[0]) && float.IsNaN(omp[0]) && float.IsNaN(spm[0]) && float.IsNaN(l1pe[0]), "NaN logit");
        for (int i = 1; i < 7; i++)
        {
            Assert.Equal(x[i] < 0 ? 0f : 1f, p[i]);
            Assert.Equal(x[i] < 0 ? 1f : 0f, omp[i]);
            Assert.Equal(0f, l1pe[i]);
            Assert.Equal(x[i] < 0 ? -x[i] : 0f, spm[i]);
        }
        Assert.Equal(1 / (1 + Math.Exp(-3)), p[7], 1e-6);
    }

    private static float[][] LogisticOf<TV>(float[] x) where TV : struct, IVec<TV>
    {
        float[][] outs = [new float[x.Length], new float[x.Length], new float[x.Length], new float[x.Length]];
        var pad = new float[TV.Count];
        for (int i = 0; i < x.Length; i++)
        {
            pad[0] = x[i];
            TV p = VMath.Logistic(TV.Load(ref pad[0], 0), out TV omp, out TV spm, out TV l1pe, exactTails: true);
            float[] lane = new float[TV.Count];
            foreach (var (o, v) in new[] { (0, p), (1, omp), (2, spm), (3, l1pe) })
            {
                TV.Store(v, ref lane[0], 0);
                outs[o][i] = lane[0];
            }
        }
        return outs;
    }
}
