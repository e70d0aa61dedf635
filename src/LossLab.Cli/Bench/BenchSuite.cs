using System.Diagnostics;
using LossLab.Losses.Fused;

namespace LossLab.Cli.Bench;

/// <summary>One measured kernel: median time and its ratios to the bandwidth floor and to the naive implementation, all from this run.</summary>
public sealed record BenchResult(string Loss, string Shape, int Threads, double Ms, double GbPerS, double RatioToFloor, double? RatioToNaive);

/// <summary>
/// The short version of the benchmark table for <c>losslab bench</c>: cross-entropy fwd+bwd at the shapes and
/// the elementwise losses on 4 M elements, on 1 and 2 threads, each next to its floor and naive baseline timed in the
/// same process. Times are medians of repeated runs (the machine is shared; single times mislead).
/// </summary>
public static class BenchSuite
{
    public static readonly (int N, int C)[] CrossEntropyShapes = [(4096, 10), (4096, 1000), (512, 32000), (64, 128256)];

    public const int ElementwiseSize = 1 << 22;

    /// <summary>
    /// Median milliseconds of <paramref name="action"/> over <paramref name="reps"/> runs, after a warm-up of up to 40 calls
    /// or 150 ms: library code precompiled for a baseline CPU (TensorPrimitives) is only recompiled for AVX-512 after
    /// about 30 calls, and measuring before that makes the floor look slow.
    /// </summary>
    public static double Median(Action action, int reps)
    {
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 40 && (i < 2 || warm.ElapsedMilliseconds < 150); i++) action();
        var times = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[reps / 2];
    }

    /// <summary>Copy bandwidth (read + write bytes counted) over 64 MiB arrays, for 1 and 2 threads.</summary>
    public static Dictionary<string, double> Bandwidth(int reps)
    {
        var a = new float[1 << 24];
        var b = new float[1 << 24];
        a.AsSpan().Fill(1);
        var result = new Dictionary<string, double>();
        foreach (int t in new[] { 1, 2 })
        {
            double ms = Median(() => Baselines.Copy(a, b, t), reps);
            result[t.ToString(System.Globalization.CultureInfo.InvariantCulture)] = 8.0 * a.Length / (ms * 1e6);
        }
        return result;
    }

    public static IEnumerable<BenchResult> Run(bool quick, Action<string>? progress = null)
    {
        int reps = quick ? 5 : 21;
        var random = new Random(1);
        foreach (var (n, c) in CrossEntropyShapes)
        {
            progress?.Invoke($"cross_entropy {n}×{c}");
            float[] x = Fill(random, n * c, 4), g = new float[n * c];
            int[] t = [.. Enumerable.Range(0, n).Select(_ => random.Next(c))];
            double naive = Median(() => Baselines.NaiveCrossEntropy(x, t, c, g), quick ? 1 : 3);
            foreach (int threads in new[] { 1, 2 })
            {
                double floor = Median(() => Baselines.Copy(x, g, threads), reps);
                double ms = Median(() => FusedCrossEntropy.Compute(x, t, c, g, threads: threads), reps);
                yield return Result("cross_entropy", $"{n}x{c}", threads, ms, 8.0 * n * c, floor, threads == 1 ? naive : null);
            }
        }

        float[] ex = Fill(random, ElementwiseSize, 3), ey = Fill(random, ElementwiseSize, 3), eg = new float[ElementwiseSize];
        foreach (string loss in Baselines.ElementwiseLosses)
        {
            progress?.Invoke(loss);
            var (x, y) = Baselines.ElementwiseInputs(loss, ex, ey);
            double naive = Median(() => Baselines.NaiveElementwiseLoss(loss, x, y, eg), quick ? 1 : 3);
            foreach (int threads in new[] { 1, 2 })
            {
                double floor = Median(() => Baselines.Add(x, y, eg, threads), reps);
                double ms = Median(() => Baselines.FusedElementwiseLoss(loss, x, y, eg, threads), reps);
                yield return Result(loss, $"{ElementwiseSize}", threads, ms, 12.0 * ElementwiseSize, floor, threads == 1 ? naive : null);
            }
        }
    }

    private static BenchResult Result(string loss, string shape, int threads, double ms, double bytes, double floorMs, double? naiveMs)
        => new(loss, shape, threads, ms, bytes / (ms * 1e6), ms / floorMs, naiveMs is null ? null : ms / naiveMs);

    private static float[] Fill(Random r, int n, double spread)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)((r.NextDouble() * 2 - 1) * spread);
        return a;
    }
}
