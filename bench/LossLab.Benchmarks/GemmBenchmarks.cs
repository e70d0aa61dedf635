using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using LossLab.Numerics;

namespace LossLab.Benchmarks;

/// <summary>
/// 1024³ float32 matrix multiply (2·1024³ FLOP) against the machine's FMA peak measured in the same run: the
/// baseline of each thread-count category does exactly the same number of FLOPs as register-only FMAs of the widest accelerated vector (Vector512, else Vector256),
/// so Ratio = peak time / GEMM time is inverted: efficiency = 1 / Ratio (goal: ≥ 75 %, i.e. Ratio ≤ 1.33).
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class GemmBenchmarks
{
    private const int N = 1024;
    private const long Flops = 2L * N * N * N;
    private float[] _a = null!, _b = null!, _c = null!;

    [GlobalSetup]
    public void Setup()
    {
        var r = new Random(1);
        _a = [.. Enumerable.Range(0, N * N).Select(_ => (float)r.NextDouble())];
        _b = [.. Enumerable.Range(0, N * N).Select(_ => (float)r.NextDouble())];
        _c = new float[N * N];
    }

    [Benchmark(Baseline = true), BenchmarkCategory("1 thread")]
    public float FmaPeak1Thread() => Peak(Flops);

    [Benchmark, BenchmarkCategory("1 thread")]
    public float Gemm1Thread()
    {
        Gemm.Multiply(_a, _b, _c, N, N, N, accumulate: false, threads: 1);
        return _c[0];
    }

    [Benchmark(Baseline = true), BenchmarkCategory("2 threads")]
    public float FmaPeak2Threads()
    {
        float x = 0, y = 0;
        Parallel.Invoke(() => x = Peak(Flops / 2), () => y = Peak(Flops / 2));
        return x + y;
    }

    [Benchmark, BenchmarkCategory("2 threads")]
    public float Gemm2Threads()
    {
        Gemm.Multiply(_a, _b, _c, N, N, N, accumulate: false, threads: 2);
        return _c[0];
    }

    /// <summary>
    /// Register-only FMAs: 12 independent chains (enough to hide the FMA latency on two pipes) of the widest accelerated
    /// vector, the one <c>Gemm</c> uses: Vector512, or Vector256 without AVX-512 (emulated 512-bit FMAs would make the
    /// baseline slower than the product).
    /// </summary>
    private static float Peak(long flops)
    {
        if (!Vector512.IsHardwareAccelerated) return Peak256(flops);
        long iterations = flops / (12 * 2 * Vector512<float>.Count);
        var m = Vector512.Create(0.999f);
        var d = Vector512.Create(0.001f);
        Vector512<float> a0 = d, a1 = d, a2 = d, a3 = d, a4 = d, a5 = d, a6 = d, a7 = d, a8 = d, a9 = d, a10 = d, a11 = d;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, d); a1 = Vector512.FusedMultiplyAdd(a1, m, d); a2 = Vector512.FusedMultiplyAdd(a2, m, d);
            a3 = Vector512.FusedMultiplyAdd(a3, m, d); a4 = Vector512.FusedMultiplyAdd(a4, m, d); a5 = Vector512.FusedMultiplyAdd(a5, m, d);
            a6 = Vector512.FusedMultiplyAdd(a6, m, d); a7 = Vector512.FusedMultiplyAdd(a7, m, d); a8 = Vector512.FusedMultiplyAdd(a8, m, d);
            a9 = Vector512.FusedMultiplyAdd(a9, m, d); a10 = Vector512.FusedMultiplyAdd(a10, m, d); a11 = Vector512.FusedMultiplyAdd(a11, m, d);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    private static float Peak256(long flops)
    {
        long iterations = flops / (12 * 2 * Vector256<float>.Count);
        var m = Vector256.Create(0.999f);
        var d = Vector256.Create(0.001f);
        Vector256<float> a0 = d, a1 = d, a2 = d, a3 = d, a4 = d, a5 = d, a6 = d, a7 = d, a8 = d, a9 = d, a10 = d, a11 = d;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, d); a1 = Vector256.FusedMultiplyAdd(a1, m, d); a2 = Vector256.FusedMultiplyAdd(a2, m, d);
            a3 = Vector256.FusedMultiplyAdd(a3, m, d); a4 = Vector256.FusedMultiplyAdd(a4, m, d); a5 = Vector256.FusedMultiplyAdd(a5, m, d);
            a6 = Vector256.FusedMultiplyAdd(a6, m, d); a7 = Vector256.FusedMultiplyAdd(a7, m, d); a8 = Vector256.FusedMultiplyAdd(a8, m, d);
            a9 = Vector256.FusedMultiplyAdd(a9, m, d); a10 = Vector256.FusedMultiplyAdd(a10, m, d); a11 = Vector256.FusedMultiplyAdd(a11, m, d);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
