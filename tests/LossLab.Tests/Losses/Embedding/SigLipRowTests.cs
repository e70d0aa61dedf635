using LossLab.Losses.Embedding;
using LossLab.Numerics.Simd;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Embedding;

/// <summary>SigLIP's pair rows: the lanes against the scalar specification, and the specification against the logistic functions.</summary>
public sealed class SigLipRowTests
{
    [Theory]
    [MemberData(nameof(LaneWidths.All), MemberType = typeof(LaneWidths))]
    public void Vector_rows_match_the_scalar_row_at_every_length(SimdWidth width)
    {
        var r = new Random(17);
        foreach (double z in new[] { -1.0, 1.0 })
            for (int n = 0; n <= 300; n++)
            {
                // Margins from tiny to past the e^−700 cut: cosines in [−1, 1] at scale 10, some at scale 1000.
                double scale = n % 3 == 0 ? 1000 : 10, bias = -10;
                double[] s = [.. Enumerable.Range(0, n).Select(_ => r.Next(12) == 0 ? (10 - bias) / scale : 2 * r.NextDouble() - 1)];
                double[] g0 = new double[n], g1 = new double[n];
                double gs0 = 0.5, gb0 = -0.25, gs1 = 0.5, gb1 = -0.25;
                double expected = SigLipLoss.Row(s, z, scale, bias, 0.1, g0, ref gs0, ref gb0, SimdWidth.Scalar);
                double actual = SigLipLoss.Row(s, z, scale, bias, 0.1, g1, ref gs1, ref gb1, width);
                T.Close(expected, actual, rel: 1e-14, abs: 1e-300);
                for (int j = 0; j < n; j++) T.Close(g0[j], g1[j], rel: 1e-14, abs: 1e-300);
                T.Close(gs0, gs1, rel: 1e-13, abs: 1e-15);
                T.Close(gb0, gb1, rel: 1e-13, abs: 1e-15);
                double gs2 = 0, gb2 = 0;
                Assert.Equal(expected, SigLipLoss.Row(s, z, scale, bias, 0.1, default, ref gs2, ref gb2, width), 1e-14 * Math.Max(1, Math.Abs(expected)));
                Assert.Equal(0, gs2);
            }
    }

    [Fact]
    public void The_row_is_softplus_and_the_sigmoid_of_each_margin()
    {
        // softplus(−m) and −z·σ(−m) against their closed forms, from m = −800 (e^−800 underflows) to +800, with a NaN.
        double[] s = [-80, -40, -3, -1e-9, 0, 1e-9, 2, 37, 80, double.NaN];
        foreach (double z in new[] { -1.0, 1.0 })
            foreach (SimdWidth w in new[] { SimdWidth.Scalar, SimdWidth.V128, SimdWidth.V256, SimdWidth.V512 })
            {
                var g = new double[s.Length];
                double gs = 0, gb = 0;
                SigLipLoss.Row(s.AsSpan(0, 9), z, 10, 0, 1, g.AsSpan(0, 9), ref gs, ref gb, w);
                for (int j = 0; j < 9; j++)
                {
                    double x = -z * 10 * s[j];
                    double e = Math.Exp(-Math.Abs(x)), log1p = e < 1e-8 ? e - e * e / 2 : Math.Log(1 + e);   // log(1 + e^−|x|), a tiny e kept
                    double softplus = Math.Max(x, 0) + log1p;
                    double single = SigLipLoss.Row(s.AsSpan(j, 1), z, 10, 0, 1, default, ref gs, ref gb, w);
                    T.Close(softplus, single, rel: 1e-15, abs: 1e-300);
                    T.Close(-z / (1 + Math.Exp(-x)), g[j], rel: 1e-15, abs: 1e-300);
                }
                double nan = SigLipLoss.Row(s, z, 10, 0, 1, g, ref gs, ref gb, w);
                Assert.True(double.IsNaN(nan) && double.IsNaN(g[^1]) && double.IsNaN(gs) && double.IsNaN(gb));
            }
    }
}
