using LossLab.Losses.Core;
using LossLab.Losses.Probabilistic;
using LossLab.Numerics.Simd;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Probabilistic;

/// <summary>Kernel MMD's point rows: the lanes against the scalar specification, and the loss against its definition pair by pair.</summary>
public sealed class KernelMmdRowTests
{
    public static TheoryData<SimdWidth, MmdKernel> WidthsAndKernels()
    {
        var data = new TheoryData<SimdWidth, MmdKernel>();
        foreach (SimdWidth w in new[] { SimdWidth.V128, SimdWidth.V256, SimdWidth.V512 })
            foreach (MmdKernel k in Enum.GetValues<MmdKernel>()) data.Add(w, k);
        return data;
    }

    [Theory]
    [MemberData(nameof(WidthsAndKernels))]
    public void Vector_rows_match_the_scalar_row_at_every_length(SimdWidth width, MmdKernel kernel)
    {
        var r = new Random(11 + (int)kernel);
        foreach (int d in new[] { 1, 3 })
        {
            // σ = 0.05 against points spread over [−1, 1]: most gaussian terms fall under the e^−700 cut, some exactly at
            // the point itself (distance 0), some on the same grid (ties of the distance).
            var shape = new KernelMmdLoss.PairKernel(kernel, kernel == MmdKernel.Gaussian ? 0.05 : 0.3);
            for (int m = 0; m <= 300; m++)
            {
                double[] u = [.. Enumerable.Range(0, d).Select(_ => Math.Round(2 * r.NextDouble() - 1, 1))];
                double[] vt = new double[d * m], w = new double[m];
                for (int j = 0; j < m; j++)
                {
                    bool same = r.Next(8) == 0;
                    for (int k = 0; k < d; k++) vt[k * m + j] = same ? u[k] : r.Next(3) == 0 ? u[k] + 0.01 * r.Next(-3, 4) : Math.Round(2 * r.NextDouble() - 1, 2);
                    w[j] = r.NextDouble();
                }
                double[] g0 = new double[d], g1 = [.. Enumerable.Repeat(double.NaN, d)], s0 = new double[m], s1 = new double[m];
                double expected = KernelMmdLoss.Row(shape, u, vt, w, g0, s0, SimdWidth.Scalar);
                double actual = KernelMmdLoss.Row(shape, u, vt, w, g1, s1, width);
                T.Close(expected, actual, rel: 1e-14, abs: 1e-300);
                Close(s0, s1, 1e-14, 1e-300);
                Close(g0, g1, 1e-13, 1e-15 * Math.Max(1, s0.Sum(Math.Abs)));
                Assert.Equal(expected, KernelMmdLoss.Row(shape, u, vt, w, default, default, width), 1e-14 * Math.Max(1, Math.Abs(expected)));
            }
        }
    }

    private static void Close(double[] expected, double[] actual, double rel, double abs)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) T.Close(expected[i], actual[i], rel, abs);
    }

    [Fact]
    public void A_nan_coordinate_makes_its_row_nan_at_every_width()
    {
        var shape = new KernelMmdLoss.PairKernel(MmdKernel.Gaussian, 0.5);
        double[] vt = [0, 1, 2, 3, 4, 5, 6, 7, 8, double.NaN, 10], w = [.. Enumerable.Repeat(0.1, 11)];
        foreach (SimdWidth width in new[] { SimdWidth.Scalar, SimdWidth.V128, SimdWidth.V256, SimdWidth.V512 })
        {
            double[] g = new double[1], s = new double[11];
            Assert.True(double.IsNaN(KernelMmdLoss.Row(shape, [8.5], vt, w, g, s, width)));
            Assert.True(double.IsNaN(g[0]));
        }
    }

    [Theory]
    [InlineData("gaussian", 0.4)]
    [InlineData("laplacian", 0.7)]
    [InlineData("energy", 1.0)]
    public void The_loss_is_its_definition_pair_by_pair(string kernel, double blur)
    {
        // 70 points against 90 in 3-D (enough rows to split between the cores), weighted, two points shared by the clouds.
        var r = new Random(3);
        int n = 70, m = 90, d = 3;
        double[,] x = new double[n, d], y = new double[m, d];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < d; k++) x[i, k] = r.NextDouble() - 0.5;
        for (int j = 0; j < m; j++)
            for (int k = 0; k < d; k++) y[j, k] = j < 2 ? x[j, k] : r.NextDouble();
        double[] a = [.. Enumerable.Range(0, n).Select(_ => r.NextDouble() / n)], b = [.. Enumerable.Range(0, m).Select(_ => r.NextDouble() / m)];
        (double K, double[] Grad) Pair(double[,] p, int i, double[,] q, int j)
        {
            double[] diff = [.. Enumerable.Range(0, d).Select(k => p[i, k] - q[j, k])];
            double dist = Math.Sqrt(diff.Sum(v => v * v));
            double k0 = kernel switch { "gaussian" => Math.Exp(-dist * dist / (2 * blur * blur)), "laplacian" => Math.Exp(-dist / blur), _ => -dist };
            double slope = kernel switch { "gaussian" => -k0 / (blur * blur), "laplacian" => dist > 0 ? -k0 / (blur * dist) : 0, _ => dist > 0 ? -1 / dist : 0 };
            return (k0, [.. diff.Select(v => slope * v)]);
        }
        double value = 0;
        double[] ga = new double[n], gb = new double[m], gx = new double[n * d], gy = new double[m * d];
        // ½·Σ w_i w_j k(p_i, p_j) for each cloud against itself: ∂/∂w_i = Σ_j w_j k_ij, ∂/∂p_i = w_i·Σ_j w_j ∇k_ij.
        void Self(double[,] p, int count, double[] w, double[] gw, double[] gp)
        {
            for (int i = 0; i < count; i++)
                for (int j = 0; j < count; j++)
                {
                    var (k0, grad) = Pair(p, i, p, j);
                    value += 0.5 * w[i] * w[j] * k0;
                    gw[i] += w[j] * k0;
                    for (int k = 0; k < d; k++) gp[i * d + k] += w[i] * w[j] * grad[k];
                }
        }
        Self(x, n, a, ga, gx);
        Self(y, m, b, gb, gy);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                var (k0, grad) = Pair(x, i, y, j);
                value -= a[i] * b[j] * k0;
                ga[i] -= b[j] * k0;
                gb[j] -= a[i] * k0;
                for (int k = 0; k < d; k++)
                {
                    gx[i * d + k] -= a[i] * b[j] * grad[k];
                    gy[j * d + k] += a[i] * b[j] * grad[k];
                }
            }
        var inputs = T.In(("x", T.D2(x)), ("y", T.D2(y)), ("x_weights", T.D(a)), ("y_weights", T.D(b)));
        LossResult result = LossRegistry.Default.Create("kernel_mmd_loss", T.Opt(("kernel", kernel), ("blur", blur))).Evaluate(inputs);
        T.Close(value, result.Scalar, rel: 1e-12, abs: 1e-15);
        T.Close(gx, result.Gradient("x"), rel: 1e-11, abs: 1e-15);
        T.Close(gy, result.Gradient("y"), rel: 1e-11, abs: 1e-15);
        T.Close(ga, result.Gradient("x_weights"), rel: 1e-12, abs: 1e-15);
        T.Close(gb, result.Gradient("y_weights"), rel: 1e-12, abs: 1e-15);
        // The value alone takes the same path.
        Assert.Equal(result.Scalar, LossRegistry.Default.Create("kernel_mmd_loss", T.Opt(("kernel", kernel), ("blur", blur))).Evaluate(inputs, false).Scalar);
    }
}
