using LossLab.Losses.MetricLearning;
using LossLab.Numerics;
using LossLab.Numerics.Simd;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Numerics;

/// <summary>
/// The double matrix multiply of the pairwise losses: every width (the others emulated in software) equals the scalar
/// path to the last bit, on sub-matrices with leading dimensions wider than the product and every tile edge.
/// </summary>
public sealed class GemmF64Tests
{
    public static TheoryData<int, int, int> Sizes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (var (m, k, n) in new[] { (0, 3, 4), (3, 0, 4), (4, 5, 0), (1, 1, 1), (3, 7, 15), (4, 128, 16), (5, 129, 17), (9, 300, 33), (37, 64, 100), (64, 19, 8), (259, 9, 17), (513, 130, 16) })
            data.Add(m, k, n);
        return data;
    }

    /// <summary>The 8 × 8 tiles in bands of 64 rows, at every edge: each entry lands where the definition puts it.</summary>
    [Theory]
    [InlineData(0, 5)]
    [InlineData(1, 1)]
    [InlineData(1, 9)]
    [InlineData(9, 1)]
    [InlineData(8, 8)]
    [InlineData(67, 13)]
    [InlineData(130, 64)]
    [InlineData(64, 515)]
    public void Transpose_puts_every_entry_in_place(int rows, int cols)
    {
        double[] x = [.. Enumerable.Range(0, rows * cols).Select(i => (double)i)];
        var t = new double[rows * cols + 3];
        Array.Fill(t, double.NaN);
        GemmF64.Transpose(x, rows, cols, t);
        for (int i = 0; i < rows; i++)
            for (int k = 0; k < cols; k++) Assert.Equal(x[i * cols + k], t[k * rows + i]);
        Assert.All(t[(rows * cols)..], v => Assert.True(double.IsNaN(v)));   // nothing written past the transpose
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Every_width_equals_the_scalar_path_bit_for_bit_and_the_exact_product_to_round_off(int m, int k, int n)
    {
        var r = new Random(m * 7919 + k * 31 + n);
        // Sub-matrices of wider arrays: A m×k inside m×(k+3), B k×n inside k×(n+5), C m×n inside m×(n+2).
        int lda = k + 3, ldb = n + 5, ldc = n + 2;
        double[] a = [.. Enumerable.Range(0, m * lda).Select(_ => r.NextDouble() * 2 - 1)];
        double[] b = [.. Enumerable.Range(0, k * ldb).Select(_ => r.NextDouble() * 2 - 1)];
        double[] c0 = [.. Enumerable.Range(0, m * ldc).Select(_ => r.NextDouble())];
        var scalar = (double[])c0.Clone();
        GemmF64.MultiplyAdd(a, lda, b, ldb, scalar, ldc, m, k, n, SimdWidth.Scalar);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < ldc; j++)
            {
                if (j >= n) { Assert.Equal(c0[i * ldc + j], scalar[i * ldc + j]); continue; }   // outside C: untouched
                decimal exact = (decimal)c0[i * ldc + j];
                for (int t = 0; t < k; t++) exact += (decimal)a[i * lda + t] * (decimal)b[t * ldb + j];
                T.Close((double)exact, scalar[i * ldc + j], rel: 1e-13, abs: 1e-14 * (k + 1));
            }
        foreach (SimdWidth w in new[] { SimdWidth.V128, SimdWidth.V256, SimdWidth.V512 })
        {
            var c = (double[])c0.Clone();
            GemmF64.MultiplyAdd(a, lda, b, ldb, c, ldc, m, k, n, w);
            Assert.Equal(scalar, c);
        }
    }

    [Theory]
    [InlineData(601, 301, 193)]   // bands of rows (m ≥ n), the last one short
    [InlineData(7, 301, 16001)]   // bands of columns (a short wide product), the last one short
    public void Large_products_split_between_the_cores_equal_the_specification_bit_for_bit(int m, int k, int n)
    {
        // m·k·n ≥ 2²⁵: the product runs in bands on the thread pool; every element is still one FMA per term in k order,
        // so it equals that loop, written here, to the last bit (at every width).
        var r = new Random(m + k + n);
        int lda = k + 1, ldb = n + 3, ldc = n + 2;
        double[] a = [.. Enumerable.Range(0, m * lda).Select(_ => r.NextDouble() * 2 - 1)];
        double[] b = [.. Enumerable.Range(0, k * ldb).Select(_ => r.NextDouble() * 2 - 1)];
        double[] c0 = [.. Enumerable.Range(0, m * ldc).Select(_ => r.NextDouble())];
        var expected = (double[])c0.Clone();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = expected[i * ldc + j];
                for (int t = 0; t < k; t++) sum = Math.FusedMultiplyAdd(a[i * lda + t], b[t * ldb + j], sum);
                expected[i * ldc + j] = sum;
            }
        foreach (SimdWidth w in new[] { SimdWidth.Scalar, SimdWidth.V128, SimdWidth.V256, SimdWidth.V512 })
        {
            var c = (double[])c0.Clone();
            GemmF64.MultiplyAdd(a, lda, b, ldb, c, ldc, m, k, n, w);
            Assert.Equal(expected, c);
        }
    }

    [Fact]
    public void Short_spans_and_small_leading_dimensions_are_argument_errors()
    {
        var x = new double[12];
        Assert.Throws<ArgumentException>(() => GemmF64.MultiplyAdd(x, 2, x, 4, x, 4, 3, 3, 4));
        Assert.Throws<ArgumentException>(() => GemmF64.MultiplyAdd(x, 4, x, 4, new double[11], 4, 3, 4, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => GemmF64.MultiplyAdd(x, 4, x, 4, x, 4, -1, 4, 4));
    }

    [Theory]
    [InlineData(1, 3, 1)]
    [InlineData(37, 19, 5)]
    [InlineData(37, 19, 37)]
    [InlineData(50, 16, 8)]
    [InlineData(300, 48, null)]   // N²·D ≥ 2²²: two parts on the thread pool
    public void Similarity_blocks_equal_the_pairwise_sums_in_any_block_size(int n, int d, int? blockRows)
    {
        var r = new Random(n * 100 + d + (blockRows ?? 0));
        double[] u = [.. Enumerable.Range(0, n * d).Select(_ => r.NextDouble() * 2 - 1)];
        double[] g = [.. Enumerable.Range(0, n * n).Select(_ => r.NextDouble() * 2 - 1)];   // ∂loss/∂s_aj
        var blocks = new SimilarityBlocks(u, n, d, gradients: true, scratchRows: 1, blockRows);
        if (blockRows is null) Assert.Equal(2, blocks.Parts);
        var seen = new int[n];
        var expectedGrad = new double[n * d];
        for (int a = 0; a < n; a++)
            for (int j = 0; j < n; j++)
                for (int t = 0; t < d; t++)
                {
                    expectedGrad[a * d + t] += g[a * n + j] * u[j * d + t];
                    expectedGrad[j * d + t] += g[a * n + j] * u[a * d + t];
                }
        blocks.Run(0.5, (a, s, gRow, scratch) =>
        {
            Interlocked.Increment(ref seen[a]);
            Assert.Equal(n, scratch.Length);
            for (int j = 0; j < n; j++)
            {
                Assert.Equal(0, gRow[j]);   // cleared for every anchor
                double dot = 0;
                for (int t = 0; t < d; t++) dot += u[a * d + t] * u[j * d + t];
                T.Close(0.5 * dot, s[j], rel: 1e-13, abs: 1e-14);
                gRow[j] = g[a * n + j];
            }
        });
        Assert.All(seen, c => Assert.Equal(1, c));
        double[] got = blocks.UnitGradient(2);
        for (int i = 0; i < got.Length; i++) T.Close(2 * expectedGrad[i], got[i], rel: 1e-11, abs: 1e-12);
    }
}
