using LossLab.Autograd;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Numerics;

/// <summary>The blocked SIMD matrix multiply against its scalar specification, every edge case of the blocking.</summary>
public sealed class GemmTests
{
    public static TheoryData<int, int, int> Sizes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (var (m, k, n) in new[] { (0, 3, 4), (3, 0, 4), (1, 1, 1), (7, 5, 3), (8, 256, 32), (9, 257, 33), (17, 300, 65), (130, 70, 40), (64, 513, 2050), (200, 31, 97) })
        {
            data.Add(m, k, n);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Blocked_simd_product_equals_the_scalar_reference_on_one_and_two_threads(int m, int k, int n)
    {
        var r = new Random(m * 1000 + k * 10 + n);
        float[] a = [.. Enumerable.Range(0, m * k).Select(_ => (float)(r.NextDouble() * 2 - 1))];
        float[] b = [.. Enumerable.Range(0, k * n).Select(_ => (float)(r.NextDouble() * 2 - 1))];
        var expected = new float[m * n];
        Gemm.MultiplyReference(a, b, expected, m, k, n);
        foreach (int threads in new[] { 1, 2 })
        {
            var c = new float[m * n];
            Gemm.Multiply(a, b, c, m, k, n, accumulate: false, threads);
            for (int i = 0; i < c.Length; i++) T.Close(expected[i], c[i], rel: 1e-5, abs: 1e-5 * Math.Sqrt(k));
        }
        var acc = Enumerable.Repeat(1f, m * n).ToArray();
        Gemm.Multiply(a.AsSpan(), b, acc, m, k, n, accumulate: true);
        for (int i = 0; i < acc.Length; i++) T.Close(expected[i] + 1, acc[i], rel: 1e-5, abs: 1e-5 * Math.Sqrt(k));
    }

    /// <summary>
    /// The 128-bit micro-kernel (ARM64's, forced here on the x86 host) gives the widest kernel's product bit for bit:
    /// every element sums its k terms in the same order. Skipped where 128-bit lanes are not accelerated.
    /// </summary>
    [Theory]
    [MemberData(nameof(Sizes))]
    public void The_128_bit_kernel_gives_the_same_bits_as_the_widest(int m, int k, int n)
    {
        if (!System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated) return;   // no wider kernel to compare with
        var r = new Random(m * 7 + k * 3 + n);
        float[] a = [.. Enumerable.Range(0, m * k).Select(_ => (float)(r.NextDouble() * 2 - 1))];
        float[] b = [.. Enumerable.Range(0, k * n).Select(_ => (float)(r.NextDouble() * 2 - 1))];
        var wide = Enumerable.Repeat(0.5f, m * n).ToArray();
        var narrow = (float[])wide.Clone();
        Gemm.Multiply(a, false, b, true, wide, m, k, n, accumulate: true, threads: 1);
        try
        {
            Gemm.Force128OnThisThread = true;
            Gemm.Multiply(a, false, b, true, narrow, m, k, n, accumulate: true, threads: 1);
        }
        finally
        {
            Gemm.Force128OnThisThread = false;
        }
        Assert.Equal(wide, narrow);
    }

    [Theory]
    [InlineData(9, 257, 33, true, false)]
    [InlineData(9, 257, 33, false, true)]
    [InlineData(130, 70, 40, true, true)]
    [InlineData(17, 300, 2050, false, true)]
    [InlineData(70, 9, 513, true, false)]
    public void Transposed_operands_equal_the_reference_on_explicit_transposes(int m, int k, int n, bool ta, bool tb)
    {
        var r = new Random(m + k + n);
        float[] a = [.. Enumerable.Range(0, m * k).Select(_ => (float)(r.NextDouble() * 2 - 1))];
        float[] b = [.. Enumerable.Range(0, k * n).Select(_ => (float)(r.NextDouble() * 2 - 1))];
        // Stored forms: Aᵀ is k×m, Bᵀ is n×k.
        float[] aStored = ta ? Transpose(a, m, k) : a, bStored = tb ? Transpose(b, k, n) : b;
        var expected = new float[m * n];
        Gemm.MultiplyReference(a, b, expected, m, k, n);
        foreach (int threads in new[] { 1, 2 })
        {
            var c = Enumerable.Repeat(0.5f, m * n).ToArray();
            Gemm.Multiply(aStored, ta, bStored, tb, c, m, k, n, accumulate: true, threads);
            for (int i = 0; i < c.Length; i++) T.Close(expected[i] + 0.5, c[i], rel: 1e-5, abs: 1e-5 * Math.Sqrt(k));
        }
    }

    private static float[] Transpose(float[] x, int rows, int cols)
    {
        var t = new float[x.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
        return t;
    }

    [Fact]
    public void Thread_count_does_not_change_a_single_bit()
    {
        var r = new Random(3);
        float[] a = [.. Enumerable.Range(0, 300 * 200).Select(_ => (float)r.NextDouble())];
        float[] b = [.. Enumerable.Range(0, 200 * 150).Select(_ => (float)r.NextDouble())];
        float[] one = new float[300 * 150], two = new float[300 * 150];
        Gemm.Multiply(a, b, one, 300, 200, 150, accumulate: false, threads: 1);
        Gemm.Multiply(a, b, two, 300, 200, 150, accumulate: false, threads: 2);
        Assert.Equal(one, two);
        // Short and wide (split by columns), with B transposed as in a linear layer's logits.
        float[] h = [.. Enumerable.Range(0, 20 * 100).Select(_ => (float)r.NextDouble())];
        float[] w = [.. Enumerable.Range(0, 3000 * 100).Select(_ => (float)r.NextDouble())];
        float[] z1 = new float[20 * 3000], z2 = new float[20 * 3000], zr = new float[20 * 3000];
        Gemm.Multiply(h, false, w, true, z1, 20, 100, 3000, accumulate: false, threads: 1);
        Gemm.Multiply(h, false, w, true, z2, 20, 100, 3000, accumulate: false, threads: 2);
        Assert.Equal(z1, z2);
        float[] wt = new float[100 * 3000];
        for (int i = 0; i < 3000; i++) for (int j = 0; j < 100; j++) wt[j * 3000 + i] = w[i * 100 + j];
        Gemm.MultiplyReference(h, wt, zr, 20, 100, 3000);
        for (int i = 0; i < zr.Length; i++) T.Close(zr[i], z2[i], rel: 1e-5, abs: 1e-4);
    }

    /// <summary>The bands run through a cached job on the thread pool: after warm-up the calling thread allocates nothing of its own per call, on 2 threads too (Parallel.For allocated about 1.7 KB per call).</summary>
    [Fact]
    public void Two_thread_products_do_not_allocate_on_the_calling_thread()
    {
        var r = new Random(4);
        float[] a = [.. Enumerable.Range(0, 200 * 300).Select(_ => (float)r.NextDouble())];
        float[] b = [.. Enumerable.Range(0, 300 * 250).Select(_ => (float)r.NextDouble())];
        var c = new float[200 * 250];
        for (int i = 0; i < 3; i++) Gemm.Multiply(a, false, b, false, c, 200, 300, 250, accumulate: false, threads: 2);
        const int calls = 200;
        // Nothing of its own per call. The thread pool's queue allocates a new segment now and then (about 1 KB per
        // 64 or more queued items, amortized), and the wait event its lock once: well under 100 B per call on average.
        // Other tests that flood the pool at the same time make the queue grow (655 B per call in one CI run), so the
        // quietest of five rounds is what is held to it.
        long perCall = long.MaxValue;
        for (int round = 0; round < 5 && perCall > 100; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < calls; i++) Gemm.Multiply(a, false, b, false, c, 200, 300, 250, accumulate: false, threads: 2);
            perCall = Math.Min(perCall, (GC.GetAllocatedBytesForCurrentThread() - before) / calls);
        }
        Assert.InRange(perCall, 0, 100);
        var expected = new float[c.Length];
        Gemm.MultiplyReference(a, b, expected, 200, 300, 250);
        for (int i = 0; i < c.Length; i++) T.Close(expected[i], c[i], rel: 1e-5, abs: 1e-4);
    }

    [Fact]
    public void Float32_tensor_matmul_uses_it_and_its_gradient_matches_float64()
    {
        var r = new Random(9);
        double[] av = LossSamples.Normal(r, 40 * 30), bv = LossSamples.Normal(r, 30 * 20);
        var a32 = Tensor.FromArray(av, [40, 30], DType.Float32, requiresGrad: true);
        var b32 = Tensor.FromArray(bv, [30, 20], DType.Float32, requiresGrad: true);
        var a64 = Tensor.FromArray([.. a32.Values], [40, 30], DType.Float64, requiresGrad: true);
        var b64 = Tensor.FromArray([.. b32.Values], [30, 20], DType.Float64, requiresGrad: true);
        Ops.Sum(Ops.MatMul(a32, b32)).Backward();
        Ops.Sum(Ops.MatMul(a64, b64)).Backward();
        T.Close(a64.Grad!.ToArray(), a32.Grad!.ToData(), rel: 1e-5, abs: 1e-5);
        T.Close(b64.Grad!.ToArray(), b32.Grad!.ToData(), rel: 1e-5, abs: 1e-5);
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[3], new float[4], new float[4], 2, 2, 2));
    }
}
