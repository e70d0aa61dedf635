using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Losses.Fused;
using LossLab.Losses.Probabilistic;
using LossLab.Losses.Regression;
using LossLab.Numerics.Simd;
using Xunit;

namespace LossLab.Tests.Losses.Fused;

/// <summary>Every fused elementwise kernel at every SIMD width against its catalog kernel (the specification) at every length 0..300.</summary>
public class FusedElementwiseTests
{
    public delegate double Runner(float[] x, float[] y, float[] aux, float[] grad, Reduction reduction, float[] losses, int threads, SimdWidth width);

    private static Runner Of<TK, TSpec>(TK kernel) where TK : struct, IFusedKernel<TSpec> where TSpec : struct, IElementwiseKernel
        => (x, y, aux, g, red, l, threads, width) => FusedElementwise.Run<TK, TSpec>(kernel, "test", x, y, aux, g, red, l, threads, width);

    /// <summary>(name, runner, input generator, target generator).</summary>
    private static readonly Dictionary<string, (Runner Run, Func<Random, float> X, Func<Random, float> Y)> Kernels = new()
    {
        ["mse"] = (Of<MseFused, MseLoss.Kernel>(default), Normal(3), Normal(3)),
        ["l1"] = (Of<L1Fused, L1Loss.Kernel>(default), Normal(3), Normal(3)),
        ["huber"] = (Of<HuberFused, HuberLoss.Kernel>(new(1.5f)), Normal(3), Normal(3)),
        ["smooth_l1"] = (Of<SmoothL1Fused, SmoothL1Loss.Kernel>(new(0.5f)), Normal(3), Normal(3)),
        ["smooth_l1_beta0"] = (Of<SmoothL1Fused, SmoothL1Loss.Kernel>(new(0f)), Normal(3), Normal(3)),
        ["smooth_l1_beta0.7"] = (Of<SmoothL1Fused, SmoothL1Loss.Kernel>(new(0.7f)), Normal(3), Normal(3)),   // not a power of two: divides
        ["bce"] = (Of<BceFused, BinaryCrossEntropy.Kernel>(default), r => (float)r.NextDouble(), r => (float)r.NextDouble()),
        // Hard labels take a one-log path per vector; one soft label in 40 sends its vector down the general path.
        ["bce_hard_labels"] = (Of<BceFused, BinaryCrossEntropy.Kernel>(default), Probability, r => r.Next(2)),
        ["bce_mostly_hard"] = (Of<BceFused, BinaryCrossEntropy.Kernel>(default), Probability, r => r.Next(40) == 0 ? (float)r.NextDouble() : r.Next(2)),
        ["bce_with_logits"] = (Of<BceWithLogitsFused, BinaryCrossEntropyWithLogits.Kernel>(default), Normal(6), r => r.Next(2)),
        ["sigmoid_focal"] = (Of<SigmoidFocalFused, SigmoidFocalLoss.Kernel>(new(0.25f, 2)), Normal(6), r => r.Next(2)),
        // γ = 2 with hard labels takes a shorter path per vector (above); soft labels, or no α and logits far into the tails, mixed in.
        ["sigmoid_focal_mostly_hard"] = (Of<SigmoidFocalFused, SigmoidFocalLoss.Kernel>(new(0.25f, 2)), Normal(6), r => r.Next(40) == 0 ? (float)r.NextDouble() : r.Next(2)),
        ["sigmoid_focal_no_alpha_tails"] = (Of<SigmoidFocalFused, SigmoidFocalLoss.Kernel>(new(-1, 2)), Normal(60), r => r.Next(2)),
        ["sigmoid_focal_gamma1.5"] = (Of<SigmoidFocalFused, SigmoidFocalLoss.Kernel>(new(-1, 1.5f)), Normal(6), r => (float)r.NextDouble()),
        ["sigmoid_focal_soft_labels"] = (Of<SigmoidFocalFused, SigmoidFocalLoss.Kernel>(new(0.25f, 2)), Normal(6), r => (float)r.NextDouble()),
        ["sigmoid_focal_gamma0"] = (Of<SigmoidFocalFused, SigmoidFocalLoss.Kernel>(new(0.25f, 0)), Normal(6), r => r.Next(2)),
        ["kl"] = (Of<KLDivergenceFused, KLDivergence.Kernel>(new(false)), Normal(2), r => r.Next(4) == 0 ? 0 : (float)r.NextDouble()),
        ["kl_log_target"] = (Of<KLDivergenceFused, KLDivergence.Kernel>(new(true)), Normal(2), Normal(2)),
    };

    private static Func<Random, float> Normal(double s) => r => (float)(s * (r.NextDouble() * 2 - 1));

    /// <summary>Probabilities with the hard cases mixed in: 0, 1, and values within a few ulps of them.</summary>
    private static float Probability(Random r) => r.Next(8) switch
    {
        0 => r.Next(2),
        1 => 1 - r.Next(1, 4) * 6e-8f,
        2 => r.Next(1, 4) * 1e-9f,
        _ => (float)r.NextDouble(),
    };

    public static TheoryData<string, SimdWidth> Cases()
    {
        var data = new TheoryData<string, SimdWidth>();
        foreach (string k in Kernels.Keys)
            foreach (SimdWidth w in new[] { SimdWidth.V512, SimdWidth.V256, SimdWidth.V128 }) data.Add(k, w);
        return data;
    }

    private static (float[] X, float[] Y) Data(string name, int n, int seed)
    {
        var (_, fx, fy) = Kernels[name];
        var r = new Random(seed);
        float[] x = new float[n], y = new float[n];
        for (int i = 0; i < n; i++) { x[i] = fx(r); y[i] = fy(r); }
        return (x, y);
    }

    private static void Close(float expected, float actual, string what)
        => Assert.True(Math.Abs(expected - actual) <= 4e-6 * Math.Max(1, Math.Abs(expected)) || (float.IsNaN(expected) && float.IsNaN(actual)), $"{what}: {actual} vs {expected}");

    /// <summary>
    /// L1, Huber and smooth L1 compute their values and gradients in other ways than the specification (smooth L1 with
    /// β a power of two multiplies by 1/β; Huber and smooth L1 with β ≤ 1 take the value from the clamped difference;
    /// L1's sign is a scaled clamp): the same bits, ±0 told apart, for differences from the subnormal range (where ½d²
    /// underflows) to ones far past the threshold and to ±∞, including differences of exactly ±δ and ±0.
    /// </summary>
    [Theory]
    [InlineData("smooth_l1", 1f)]
    [InlineData("smooth_l1", 0.5f)]
    [InlineData("smooth_l1", 9.5367431640625e-7f)]   // 2⁻²⁰
    [InlineData("smooth_l1", 2.1684043e-19f)]        // 2⁻⁶², the smallest β that takes the Huber form
    [InlineData("smooth_l1", 1.0842022e-19f)]        // 2⁻⁶³, the largest that does not
    [InlineData("smooth_l1", 1048576f)]              // 2²⁰
    [InlineData("smooth_l1", 0.7f)]                  // divides
    [InlineData("smooth_l1", 0f)]                    // L1
    [InlineData("huber", 1f)]
    [InlineData("huber", 1.5f)]
    [InlineData("huber", 9.5367431640625e-7f)]
    [InlineData("huber", 1048576f)]
    [InlineData("huber", 3e-38f)]                    // just above 2⁻¹²⁵: ½δ still exact
    [InlineData("huber", 1.5e-38f)]                  // below: the general formula
    [InlineData("l1", 0f)]
    public void RegressionKernelsAreTheSpecificationBitForBit(string name, float threshold)
    {
        var r = new Random(5);
        int n = 4096;
        var x = new float[n];
        var y = new float[n];
        float[] special = [0f, -0f, threshold, -threshold, MathF.BitIncrement(threshold), MathF.BitDecrement(threshold), float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, -float.MaxValue, float.Epsilon, -float.Epsilon];
        for (int i = 0; i < n; i++)
        {
            x[i] = r.Next(10) == 0 ? special[r.Next(special.Length)] : (float)((r.NextDouble() - 0.5) * Math.Pow(2, r.Next(-150, 40)));
            y[i] = r.Next(20) == 0 ? -0f : 0f;
        }
        Runner run = name switch
        {
            "smooth_l1" => Of<SmoothL1Fused, SmoothL1Loss.Kernel>(new(threshold)),
            "huber" => Of<HuberFused, HuberLoss.Kernel>(new(threshold)),
            _ => Of<L1Fused, L1Loss.Kernel>(default),
        };
        foreach (SimdWidth width in new[] { SimdWidth.V512, SimdWidth.V256, SimdWidth.V128 })
        {
            float[] g0 = new float[n], g1 = new float[n], l0 = new float[n], l1 = new float[n];
            run(x, y, [], g0, Reduction.None, l0, 1, SimdWidth.Scalar);
            run(x, y, [], g1, Reduction.None, l1, 1, width);
            for (int i = 0; i < n; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(g0[i]) == BitConverter.SingleToInt32Bits(g1[i]), $"{name}({threshold}) {width} grad at d = {x[i] - y[i]:R}: {g1[i]:R} vs {g0[i]:R}");
                Assert.True(BitConverter.SingleToInt32Bits(l0[i]) == BitConverter.SingleToInt32Bits(l1[i]), $"{name}({threshold}) {width} loss at d = {x[i] - y[i]:R}: {l1[i]:R} vs {l0[i]:R}");
            }
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void EveryWidthMatchesTheSpecificationAtEveryLength(string name, SimdWidth width)
    {
        Runner run = Kernels[name].Run;
        for (int n = 0; n <= 300; n++)
        {
            var (x, y) = Data(name, n, n);
            float[] aux = name == "bce_with_logits" && n % 3 == 0 && n > 0 ? [.. Enumerable.Range(0, 3).Select(i => 0.5f + i)] : [];
            var red = (Reduction)(n % 3);   // None, Mean, Sum
            float[] g0 = new float[n], g1 = new float[n], l0 = new float[n], l1 = new float[n];
            double v0 = run(x, y, aux, g0, red, l0, 1, SimdWidth.Scalar);
            double v1 = run(x, y, aux, g1, red, l1, 1, width);
            if (n == 0 && red == Reduction.Mean) Assert.True(double.IsNaN(v0) && double.IsNaN(v1));
            else Assert.True(Math.Abs(v0 - v1) <= 4e-6 * Math.Max(1, Math.Abs(v0)), $"{name} {width} n={n}: value {v1} vs {v0}");
            for (int i = 0; i < n; i++)
            {
                Close(g0[i], g1[i], $"{name} {width} n={n} grad[{i}] at x={x[i]}, y={y[i]}");
                Close(l0[i], l1[i], $"{name} {width} n={n} loss[{i}]");
            }
        }
    }

    /// <summary>
    /// Non-finite and extreme operands (NaN, ±∞, ±0, subnormals, ±MaxValue) mixed among ordinary ones: every width gives
    /// what the specification gives, a NaN where it has a NaN (a NaN input must not come out as a finite gradient), an
    /// infinity where it has one. The probability losses keep their inputs in their domain (the public entry points
    /// reject the rest before the kernel runs); the logit losses' labels are in [0, 1] or NaN.
    /// </summary>
    [Theory, MemberData(nameof(Cases))]
    public void EveryWidthMatchesTheSpecificationOnExtremeValues(string name, SimdWidth width)
    {
        float[] wild = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 0f, 1e-45f, -3e-40f, float.MaxValue, -float.MaxValue, 1e30f, -1e-30f];
        float[] unit = [0f, 1f, 1e-45f, 6e-8f, 1 - 6e-8f, 0.5f];
        bool probability = name.StartsWith("bce", StringComparison.Ordinal) && name != "bce_with_logits";
        bool kl = name.StartsWith("kl", StringComparison.Ordinal) && name != "kl_log_target";
        // Labels of the logit losses: in [0, 1] or NaN (a NaN label must give a NaN, not a zero loss).
        bool label = name.StartsWith("sigmoid_focal", StringComparison.Ordinal) || name == "bce_with_logits";
        float[] labels = [0f, 1f, 0.5f, -0f, 1e-45f, float.NaN];
        Runner run = Kernels[name].Run;
        var r = new Random(17);
        foreach (int n in new[] { 7, 33, 100, 301 })
        {
            var (x, y) = Data(name, n, n + 1000);
            for (int i = 0; i < n; i++)
            {
                if (r.Next(3) == 0) x[i] = probability ? unit[r.Next(unit.Length)] : wild[r.Next(wild.Length)];
                if (r.Next(3) == 0) y[i] = probability || kl ? unit[r.Next(unit.Length)] : label ? labels[r.Next(labels.Length)] : wild[r.Next(wild.Length)];
            }
            float[] g0 = new float[n], g1 = new float[n], l0 = new float[n], l1 = new float[n];
            run(x, y, [], g0, Reduction.Sum, l0, 1, SimdWidth.Scalar);
            run(x, y, [], g1, Reduction.Sum, l1, 1, width);
            for (int i = 0; i < n; i++)
            {
                Same(g0[i], g1[i], $"{name} {width} grad[{i}] at x={x[i]}, y={y[i]}");
                Same(l0[i], l1[i], $"{name} {width} loss[{i}] at x={x[i]}, y={y[i]}");
            }
        }
    }

    /// <summary>Equal (∞ included), both NaN, or within the kernels' tolerance.</summary>
    private static void Same(float expected, float actual, string what)
        => Assert.True(expected == actual || (float.IsNaN(expected) && float.IsNaN(actual))
            || (float.IsFinite(expected) && Math.Abs(expected - actual) <= 4e-6 * Math.Max(1, Math.Abs(expected))), $"{what}: {actual} vs {expected}");

    /// <summary>Gradients of 2²⁰ elements and more are written with non-temporal stores after a scalar head to the first aligned address.</summary>
    [Theory]
    [InlineData("mse", 0)]
    [InlineData("bce_with_logits", 1)]
    [InlineData("sigmoid_focal", 3)]
    public void StreamingStoresAtLargeSizesAndMisalignedGradients(string name, int offset)
    {
        int n = (1 << 20) + 37;
        var (x, y) = Data(name, n, 11);
        var g0 = new float[n];
        var big = new float[n + 8];
        var l0 = new float[n];
        var l1 = new float[n];
        Runner run = Kernels[name].Run;
        double v0 = run(x, y, [], g0, Reduction.Sum, l0, 1, SimdWidth.Scalar);
        double v1 = FusedElementwise.Run<MseFused, MseLoss.Kernel>(default, "x", x, y, default, big.AsSpan(offset, n), Reduction.Sum, l1, 1, SimdWidth.V512);
        if (name == "mse")
        {
            Assert.Equal(v0, v1, 1e-6 * Math.Abs(v0));
            for (int i = 0; i < n; i += 97) Close(g0[i], big[offset + i], $"grad[{i}]");
        }
        var g2 = new float[n + 8];
        double v2 = RunInto(name, x, y, g2.AsSpan(offset, n));
        double v3 = run(x, y, [], g0, Reduction.Mean, l0, 1, SimdWidth.Scalar);
        Assert.Equal(v3, v2, 4e-6 * Math.Max(1, Math.Abs(v3)));
        for (int i = 0; i < n; i++) Close(g0[i], g2[offset + i], $"{name} grad[{i}]");
    }

    private static double RunInto(string name, float[] x, float[] y, Span<float> g) => name switch
    {
        "mse" => FusedElementwise.Mse(x, y, g, threads: 2),
        "bce_with_logits" => FusedElementwise.BinaryCrossEntropyWithLogits(x, y, g, threads: 2),
        _ => FusedElementwise.SigmoidFocal(x, y, g, 0.25f, 2, threads: 2),
    };

    [Fact]
    public void PublicEntryPointsEqualTheCatalogLosses()
    {
        var (x, y) = Data("bce_with_logits", 60, 1);
        float[] pw = [0.5f, 2f, 3f];
        var g = new float[60];
        double v = FusedElementwise.BinaryCrossEntropyWithLogits(x, y, g, pw);
        var loss = new BinaryCrossEntropyWithLogits(new BinaryCrossEntropyWithLogits.Options { PosWeight = TensorData.FromArray([0.5, 2.0, 3.0], 3) });
        LossResult expected = loss.Evaluate(new LossInputs()
            .Add("input", TensorData.FromArray([.. x.Select(a => (double)a)], 20, 3))
            .Add("target", TensorData.FromArray([.. y.Select(a => (double)a)], 20, 3)));
        Assert.Equal(expected.Value.ToArray<double>()[0], v, 1e-6);
        double[] eg = expected.Gradients["input"].ToArray<double>();
        for (int i = 0; i < 60; i++) Assert.Equal(eg[i], g[i], 1e-6);

        (x, y) = Data("mse", 1000, 2);
        g = new float[1000];
        double mse = FusedElementwise.Mse(x, y, g);
        Assert.Equal(x.Zip(y, (a, b) => (double)(a - b) * (a - b)).Average(), mse, 1e-5);
        Assert.Equal(2.0 * (x[17] - y[17]) / 1000, g[17], 1e-7);
    }

    [Fact]
    public void InPlaceAndTwoThreadsAgree()
    {
        var (x, y) = Data("sigmoid_focal", 1 << 19, 3);
        var g1 = new float[x.Length];
        double v1 = FusedElementwise.SigmoidFocal(x, y, g1, threads: 1);
        var g2 = new float[x.Length];
        double v2 = FusedElementwise.SigmoidFocal(x, y, g2, threads: 2);
        float[] inPlace = (float[])x.Clone();
        FusedElementwise.SigmoidFocal(inPlace, y, inPlace, threads: 2);
        Assert.Equal(g1, g2);
        Assert.Equal(g1, inPlace);
        Assert.Equal(v1, v2, 1e-9 * Math.Abs(v1));
    }

    [Fact]
    public void BadArgumentsAreTypedErrors()
    {
        var e = Assert.Throws<LossArgumentException>(() => FusedElementwise.Mse(new float[4], new float[5], default));
        Assert.Equal(LossErrorCode.InvalidShape, e.Code);
        e = Assert.Throws<LossArgumentException>(() => FusedElementwise.BinaryCrossEntropy([0.5f, 1.5f], [0, 1], default));
        Assert.Contains("input[1] = 1.5", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<LossArgumentException>(() => FusedElementwise.BinaryCrossEntropyWithLogits(new float[10], new float[10], default, new float[3]));
        Assert.Contains("pos_weight has 3", e.Message, StringComparison.Ordinal);
        Assert.Throws<LossArgumentException>(() => FusedElementwise.Huber(new float[2], new float[2], default, delta: 0));
        Assert.Throws<LossArgumentException>(() => FusedElementwise.L1(new float[2], new float[2], default, Reduction.BatchMean));
    }

    /// <summary>The one-pass range check names the first offender wherever it sits: in a vector, in the tail, NaN or ±∞.</summary>
    [Theory]
    [InlineData(0, float.NaN)]
    [InlineData(17, -1e-30f)]
    [InlineData(40, 1.0000001f)]
    [InlineData(63, -1e-45f)]
    [InlineData(95, float.PositiveInfinity)]
    [InlineData(99, float.NegativeInfinity)]
    public void BinaryCrossEntropyNamesTheFirstValueOutsideTheUnitInterval(int at, float value)
    {
        // Targets all 0, all 1 (the one-log path for hard labels, which must still see every offender), and soft.
        foreach (float[] target in new[] { new float[100], Enumerable.Repeat(1f, 100).ToArray(), Enumerable.Repeat(0.3f, 100).ToArray() })
        {
            var x = new float[100];
            for (int i = 0; i < x.Length; i++) x[i] = i % 3 == 0 ? 0f : i % 3 == 1 ? 1f : -0f;   // the ends and −0 are valid
            Assert.True(double.IsFinite(FusedElementwise.BinaryCrossEntropy(x, target, default)));
            x[at] = value;
            x[Math.Min(99, at + 1)] = 2f;   // a later offender is not the one named
            if (at == 99) x[99] = value;
            var e = Assert.Throws<LossArgumentException>(() => FusedElementwise.BinaryCrossEntropy(x, target, default));
            Assert.Contains($"input[{at}] = {value}", e.Message, StringComparison.Ordinal);
            // The kernel's NaN is what triggers the search: every width must produce it.
            foreach (SimdWidth w in new[] { SimdWidth.V512, SimdWidth.V256, SimdWidth.V128, SimdWidth.Scalar })
            {
                e = Assert.Throws<LossArgumentException>(() => FusedElementwise.BinaryCrossEntropy(x, target, new float[100], Reduction.Mean, default, 1, w));
                Assert.Contains($"input[{at}] = {value}", e.Message, StringComparison.Ordinal);
            }
        }
    }

    /// <summary>In place, the check runs before the kernel: the error still names the offender, and the input is intact.</summary>
    [Fact]
    public void BinaryCrossEntropyInPlaceChecksBeforeWriting()
    {
        var x = Enumerable.Range(0, 300).Select(i => (i % 7) / 7f).ToArray();
        x[123] = -0.25f;
        float[] before = (float[])x.Clone();
        var e = Assert.Throws<LossArgumentException>(() => FusedElementwise.BinaryCrossEntropy(x, new float[300], x));
        Assert.Contains("input[123] = -0.25", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, x);
    }

    /// <summary>Probability targets of kl_div must be ≥ 0, as in the catalog: the first negative or NaN one is named, on every width and thread count.</summary>
    [Theory]
    [InlineData(0, -1e-30f, 1)]
    [InlineData(37, -0.5f, 1)]
    [InlineData(290, float.NaN, 1)]
    [InlineData(299, float.NegativeInfinity, 2)]
    [InlineData(150, -2f, 2)]
    public void KLDivergenceNamesTheFirstTargetThatIsNotAProbability(int at, float value, int threads)
    {
        var x = Enumerable.Range(0, 300).Select(i => -1f - i % 5).ToArray();
        var t = Enumerable.Range(0, 300).Select(i => i % 4 == 0 ? 0f : i % 4 == 1 ? -0f : (i % 9) / 9f).ToArray();   // 0 and −0 are valid
        Assert.True(double.IsFinite(FusedElementwise.KLDivergence(x, t, new float[300], threads: threads)));
        t[at] = value;
        if (at < 299) t[at + 1] = -3f;   // a later offender is not the one named
        foreach (SimdWidth w in new[] { SimdWidth.V512, SimdWidth.V256, SimdWidth.V128, SimdWidth.Scalar })
        {
            var e = Assert.Throws<LossArgumentException>(() => FusedElementwise.KLDivergence(x, t, new float[300], false, Reduction.Sum, default, threads, w));
            Assert.Contains($"target[{at}] = {value}", e.Message, StringComparison.Ordinal);
        }
        // Log-probability targets may be negative.
        Assert.False(double.IsNaN(FusedElementwise.KLDivergence(x, t.Select(v => float.IsFinite(v) ? v : 0).ToArray(), new float[300], logTarget: true)));
    }

    [Fact]
    public void OneThreadCallsDoNotAllocate()
    {
        var (x, y) = Data("bce_with_logits", 4096, 4);
        var g = new float[x.Length];
        FusedElementwise.BinaryCrossEntropyWithLogits(x, y, g, threads: 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) FusedElementwise.BinaryCrossEntropyWithLogits(x, y, g, threads: 1);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
