using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Losses.Fused;
using LossLab.Numerics.Simd;
using Xunit;

namespace LossLab.Tests.Losses.Fused;

/// <summary>
/// The fused cross-entropy: every SIMD width against the scalar specification at every row length 1..300 (and 0
/// rows), the specification against the catalog loss in double, in place, threads, non-finite rows, errors, and
/// no allocation.
/// </summary>
public class FusedCrossEntropyTests
{
    public static TheoryData<SimdWidth> Widths => new() { SimdWidth.V512, SimdWidth.V256, SimdWidth.V128 };

    private sealed record Case(int Rows, int C, float[] X, int[] T, float[] W, int Ignore, float Eps, float Z, Reduction Reduction);

    /// <summary>Options rotate with the length so that every combination meets many lengths.</summary>
    private static Case Make(int rows, int c, int variant, double spread = 3, double offset = 0)
    {
        var r = new Random(c * 31 + variant);
        var x = new float[rows * c];
        for (int i = 0; i < x.Length; i++) x[i] = (float)((r.NextDouble() * 2 - 1) * spread + offset);
        bool weighted = variant % 2 == 1, ignore = variant % 3 == 1;
        var t = new int[rows];
        for (int i = 0; i < rows; i++) t[i] = ignore && i % 3 == 2 ? -100 : r.Next(c);
        float[] w = weighted ? [.. Enumerable.Range(0, c).Select(_ => (float)(0.2 + r.NextDouble()))] : [];
        float eps = variant % 4 >= 2 ? 0.1f : 0;
        float z = variant % 5 == 4 ? 1e-3f : 0;
        var red = (variant % 3) switch { 0 => Reduction.Mean, 1 => Reduction.Sum, _ => Reduction.None };
        return new(rows, c, x, t, w, -100, eps, z, red);
    }

    private static (double Value, float[] Grad, float[] Rows) Run(Case k, SimdWidth width, int threads = 1, bool inPlace = false)
    {
        float[] x = (float[])k.X.Clone();
        float[] g = inPlace ? x : new float[x.Length];
        var rows = new float[k.Rows];
        double v = FusedCrossEntropy.Compute(x, k.T, k.C, g, k.Reduction, k.W, k.Ignore, k.Eps, k.Z, rows, threads, width);
        return (v, g, rows);
    }

    /// <summary>Agreement to ~1e-6 of the largest possible gradient entry scale·(1 − ε)·max w + ….</summary>
    private static void AssertClose(Case k, (double Value, float[] Grad, float[] Rows) expected, (double Value, float[] Grad, float[] Rows) actual, string what)
    {
        Assert.True(Math.Abs(expected.Value - actual.Value) <= 2e-6 * Math.Max(1, Math.Abs(expected.Value)), $"{what}: value {actual.Value} vs {expected.Value}");
        double wmax = k.W.Length == 0 ? 1 : k.W.Max();
        double bound = 2e-6 * (wmax * (1 + k.Eps) + 1);
        for (int i = 0; i < expected.Grad.Length; i++)
        {
            Assert.True(Math.Abs(expected.Grad[i] - actual.Grad[i]) <= bound, $"{what}: grad[{i}] {actual.Grad[i]} vs {expected.Grad[i]}");
        }
        for (int i = 0; i < expected.Rows.Length; i++)
        {
            Assert.True(Math.Abs(expected.Rows[i] - actual.Rows[i]) <= 2e-6 * Math.Max(1, Math.Abs(expected.Rows[i])), $"{what}: row {i}");
        }
    }

    [Theory, MemberData(nameof(Widths))]
    public void EveryWidthMatchesTheScalarSpecificationAtEveryRowLength(SimdWidth width)
    {
        for (int c = 1; c <= 300; c++)
        {
            Case k = Make(c <= 48 ? 37 : 3, c, c);   // short rows (below 3 vectors): enough for whole vectors of rows plus a remainder
            AssertClose(k, Run(k, SimdWidth.Scalar), Run(k, width), $"{width} C={c}");
        }
    }

    /// <summary>
    /// Rows the 256-bit exponential below the maximum does not take (a maximum beyond ±80, a span over 86.5: they go
    /// through exp(x − max) instead) and rows at the edges of what it takes, at every row length.
    /// </summary>
    [Theory, MemberData(nameof(Widths))]
    public void EveryWidthMatchesTheSpecificationOnShiftedAndWideRows(SimdWidth width)
    {
        foreach (var (spread, offset) in new[] { (50.0, 0.0), (3.0, 100.0), (3.0, -100.0), (43.0, 37.0), (43.0, -37.0), (3.0, 76.9) })
        {
            for (int c = 1; c <= 300; c++)
            {
                Case k = Make(c <= 48 ? 37 : 3, c, c, spread, offset);
                AssertClose(k, Run(k, SimdWidth.Scalar), Run(k, width), $"{width} C={c} spread {spread} offset {offset}");
            }
        }
    }

    /// <summary>
    /// Rows long enough for the 512-bit exponential below the maximum (its 32-entry table): every tail length around
    /// the threshold, the spans and offsets it refuses or takes at their edges, every option variant.
    /// </summary>
    [Theory, MemberData(nameof(Widths))]
    public void RowsAroundTheWideTableThresholdMatchTheSpecification(SimdWidth width)
    {
        int from = FusedCrossEntropy.BelowMaxClasses512 - 1;
        foreach (var (spread, offset) in new[] { (3.0, 0.0), (50.0, 0.0), (3.0, 100.0), (43.0, -37.0), (3.0, 76.9) })
        {
            for (int c = from; c <= from + 17; c++)
            {
                Case k = Make(2, c, c, spread, offset);
                AssertClose(k, Run(k, SimdWidth.Scalar), Run(k, width), $"{width} C={c} spread {spread} offset {offset}");
            }
        }
    }

    /// <summary>
    /// The public entry point on short rows (a vector of rows at a time below one vector's width) and on longer ones:
    /// the specification's results, with row counts that leave remainders.
    /// </summary>
    [Fact]
    public void ThePublicEntryPointMatchesTheSpecificationForShortRows()
    {
        for (int c = 1; c <= 40; c++)
        {
            Case k = Make(37, c, c);
            float[] g = new float[k.X.Length];
            var rows = new float[k.Rows];
            double v = FusedCrossEntropy.Compute(k.X, k.T, k.C, g, k.Reduction, k.W, k.Ignore, k.Eps, k.Z, rows);
            AssertClose(k, Run(k, SimdWidth.Scalar), (v, g, rows), $"public C={c}");
        }
    }

    [Fact]
    public void ZeroRowsGiveNaNMeanAndZeroSum()
    {
        Assert.True(double.IsNaN(FusedCrossEntropy.Compute([], [], 5, [])));
        Assert.Equal(0, FusedCrossEntropy.Compute([], [], 5, [], Reduction.Sum));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void TheSpecificationEqualsTheCatalogLossInDouble(int variant)
    {
        Case k = Make(7, 13, variant);
        var (value, grad, rows) = Run(k, SimdWidth.Scalar);
        var options = new CrossEntropy.Options
        {
            Reduction = k.Reduction,
            Weight = k.W.Length == 0 ? null : TensorData.FromArray([.. k.W.Select(v => (double)v)], k.C),
            LabelSmoothing = k.Eps,
            ZLoss = k.Z,
        };
        var inputs = new LossInputs()
            .Add("input", TensorData.FromArray([.. k.X.Select(v => (double)v)], k.Rows, k.C))
            .Add("target", TensorData.FromArray([.. k.T.Select(v => (long)v)], k.Rows));
        LossResult expected = new CrossEntropy(options).Evaluate(inputs);
        double[] ev = expected.Value.ToArray<double>();
        if (k.Reduction == Reduction.None)
        {
            for (int i = 0; i < rows.Length; i++) Assert.Equal(ev[i], rows[i], 5e-6);
        }
        else
        {
            Assert.Equal(ev[0], value, 1e-5 * Math.Max(1, Math.Abs(ev[0])));
        }
        double[] eg = expected.Gradients["input"].ToArray<double>();
        for (int i = 0; i < eg.Length; i++) Assert.Equal(eg[i], grad[i], 1e-6);
    }

    [Theory, MemberData(nameof(Widths))]
    public void InPlaceAndTwoThreadsGiveTheSameGradient(SimdWidth width)
    {
        Case k = Make(257, 1000, 2);
        var one = Run(k, width);
        var inPlace = Run(k, width, inPlace: true);
        var two = Run(k, width, threads: 2);
        Assert.Equal(one.Grad, inPlace.Grad);
        Assert.Equal(one.Grad, two.Grad);
        Assert.Equal(one.Value, two.Value, 1e-12 * Math.Abs(one.Value));
    }

    /// <summary>
    /// Rows go two at a time on 512-bit lanes, paired from the start of each thread's band: one and two threads pair
    /// different rows (131 rows split 65 + 66), yet every row must come out with the same bits, in place and out of place,
    /// with pairs broken by an ignored row or a non-finite one, under every option variant; and the specification's values.
    /// </summary>
    [Theory, MemberData(nameof(Widths))]
    public void PairedRowsGiveTheSameBitsWhicheverRowsArePaired(SimdWidth width)
    {
        foreach (int c in new[] { 1001, FusedCrossEntropy.PairClasses - 1 })
        {
            for (int variant = 0; variant < 6; variant++)
            {
                Case k = Make(131, c, variant);
                k.T[3] = k.Ignore;   // breaks the pair (2, 3) on one thread, (3, 4) in the second band of two
                k.X[10 * c + 7] = float.NaN;
                k.X[41 * c + c - 1] = float.NegativeInfinity;
                var one = Run(k, width);
                var two = Run(k, width, threads: 2);
                var inPlace = Run(k, width, inPlace: true);
                Assert.True(one.Grad.AsSpan().SequenceEqual(two.Grad), $"C={c} variant {variant}: two threads");
                Assert.True(one.Grad.AsSpan().SequenceEqual(inPlace.Grad), $"C={c} variant {variant}: in place");
                Assert.Equal(one.Rows, two.Rows);
                if (variant == 0)
                {
                    var spec = Run(k, SimdWidth.Scalar);
                    for (int r = 0; r < k.Rows; r++)
                    {
                        if (float.IsNaN(spec.Rows[r])) Assert.True(float.IsNaN(one.Rows[r]), $"row {r}");
                        else Assert.Equal(spec.Rows[r], one.Rows[r], 2e-6 * Math.Max(1, Math.Abs(spec.Rows[r])));
                    }
                }
            }
        }
    }

    /// <summary>
    /// Long rows out of place recompute the exponentials and stream the gradient with non-temporal stores on 512-bit
    /// lanes (narrower ones take the cached path out of place too, checked here at every alignment); in place they take
    /// the cached path. Both give the same bits, at every alignment of the gradient (the partial lines at
    /// the ends are copied from whole vectors), with weights, label smoothing, z-loss and ignored rows; and the
    /// specification's values.
    /// </summary>
    [Theory, MemberData(nameof(Widths))]
    public void LongRowsStreamTheSameGradientAsTheCachedPath(SimdWidth width)
    {
        int c = FusedCrossEntropy.StreamClasses + 37;
        for (int variant = 0; variant < 6; variant++)
        {
            Case k = Make(3, c, variant);
            var cached = Run(k, width, inPlace: true);
            foreach (int offset in new[] { 0, 1, 7, 15 })
            {
                var buffer = new float[k.X.Length + 16];
                Span<float> g = buffer.AsSpan(offset, k.X.Length);
                var rows = new float[k.Rows];
                double v = FusedCrossEntropy.Compute(k.X, k.T, c, g, k.Reduction, k.W, k.Ignore, k.Eps, k.Z, rows, 1, width);
                Assert.Equal(cached.Value, v);
                Assert.True(g.SequenceEqual(cached.Grad), $"variant {variant}, offset {offset}: streamed gradient differs from the cached one");
                Assert.Equal(cached.Rows, rows);
            }
            if (variant == 0) AssertClose(k, Run(k, SimdWidth.Scalar), cached, $"{width} C={c}");
        }
    }

    [Fact]
    public void ExtremeAndNonFiniteRows()
    {
        // ±1e4 logits stay finite; a row holding NaN or ±∞ goes through the specification (NaN / ∞ as the catalog loss).
        float[] x = [1e4f, -1e4f, 0, -1e4f, 1e4f, 3, float.NaN, 1, 2, float.PositiveInfinity, 0, 0];
        int[] t = [0, 0, 2, 0];
        var g = new float[x.Length];
        var rows = new float[4];
        FusedCrossEntropy.Compute(x, t, 3, g, Reduction.None, rowLosses: rows);
        Assert.Equal(0, rows[0], 1e-6);
        Assert.Equal(2e4, rows[1], 1e-2);
        Assert.True(float.IsNaN(rows[2]));
        Assert.True(float.IsNaN(rows[3]) || float.IsInfinity(rows[3]));
        Assert.All(g[..6], v => Assert.True(float.IsFinite(v)));
    }

    /// <summary>
    /// NaN and ±∞ anywhere in a long row (first lane, a vector's middle, the overlapping tail, the last element) are
    /// caught by the vector finiteness check and the row goes to the specification: the same bits as the scalar path
    /// for that row, and the finite rows around it unaffected.
    /// </summary>
    [Theory, MemberData(nameof(Widths))]
    public void NonFiniteValuesInAnyLaneGoToTheSpecification(SimdWidth width)
    {
        foreach (int c in new[] { 3, 5, 10, 16, 20, 37, 100, 1000 })
        {
            foreach (int at in new[] { 0, c / 2, c - 3, c - 1 })
            {
                foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                {
                    Case k = Make(c < 48 ? 37 : 3, c, 0);   // short rows: the bad row's group of rows goes row by row
                    k.X[c + at] = bad;   // the middle row
                    var expected = Run(k, SimdWidth.Scalar);
                    var actual = Run(k, width);
                    Assert.Equal(expected.Rows[1], actual.Rows[1]);
                    Assert.Equal(expected.Grad[c..(2 * c)], actual.Grad[c..(2 * c)]);
                    foreach (int row in new[] { 0, 2, k.Rows - 1 })   // finite rows: round-off only
                    {
                        Assert.Equal(expected.Rows[row], actual.Rows[row], 2e-6 * Math.Max(1, Math.Abs(expected.Rows[row])));
                        for (int j = row * c; j < (row + 1) * c; j++) Assert.Equal(expected.Grad[j], actual.Grad[j], 1e-6);
                    }
                    Assert.False(float.IsFinite(actual.Rows[1]) && !float.IsNegativeInfinity(bad), $"C={c} at {at}: {bad} gave a finite loss");
                    Assert.True(float.IsFinite(actual.Rows[0]) && float.IsFinite(actual.Rows[2]) && float.IsFinite(actual.Rows[^1]));
                }
            }
        }
    }

    [Fact]
    public void AllRowsIgnoredGiveNaNWithZeroGradient()
    {
        var g = new float[6];
        g.AsSpan().Fill(7);
        double v = FusedCrossEntropy.Compute([1, 2, 3, 4, 5, 6], [-100, -100], 3, g);
        Assert.True(double.IsNaN(v));
        Assert.All(g, x => Assert.Equal(0f, x));
    }

    [Fact]
    public void BadArgumentsNameTheOffender()
    {
        var e = Assert.Throws<LossArgumentException>(() => FusedCrossEntropy.Compute(new float[6], [0, 3], 3, new float[6]));
        Assert.Contains("targets[1] = 3", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<LossArgumentException>(() => FusedCrossEntropy.Compute(new float[7], [0, 1], 3, default));
        Assert.Equal(LossErrorCode.InvalidShape, e.Code);
        Assert.Contains("7", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<LossArgumentException>(() => FusedCrossEntropy.Compute(new float[6], [0, 1], 3, new float[5]));
        Assert.Contains("gradient has 5", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<LossArgumentException>(() => FusedCrossEntropy.Compute(new float[6], [0, 1], 3, default, classWeights: new float[2]));
        Assert.Contains("class weights have 2", e.Message, StringComparison.Ordinal);
        Assert.Throws<LossArgumentException>(() => FusedCrossEntropy.Compute(new float[6], [0, 1], 3, default, labelSmoothing: 1.5f));
        Assert.Throws<LossArgumentException>(() => FusedCrossEntropy.Compute(new float[6], [0, 1], 3, default, Reduction.None));
        Assert.Throws<LossArgumentException>(() => FusedCrossEntropy.Compute(new float[6], [0, 1], 3, default, threads: -1));
    }

    [Fact]
    public void OneThreadCallsDoNotAllocate()
    {
        Case k = Make(64, 1000, 3);
        var g = new float[k.X.Length];
        var rows = new float[k.Rows];
        FusedCrossEntropy.Compute(k.X, k.T, k.C, g, k.Reduction, k.W, rowLosses: rows, threads: 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) FusedCrossEntropy.Compute(k.X, k.T, k.C, g, k.Reduction, k.W, rowLosses: rows, threads: 1);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
