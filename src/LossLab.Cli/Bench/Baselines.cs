using System.Numerics.Tensors;
using LossLab.Losses.Core;

namespace LossLab.Cli.Bench;

/// <summary>
/// What a fused kernel is measured against, in the same process: the memory-bandwidth floor (the simplest
/// vectorized kernel that moves the same bytes) and a naive scalar C# implementation. Shared by <c>losslab bench</c>
/// and the BenchmarkDotNet suite in <c>bench/</c> (linked there).
/// </summary>
public static class Baselines
{
    /// <summary>The floor of a row kernel that reads N·C floats and writes N·C floats: a vectorized copy.</summary>
    public static void Copy(float[] source, float[] destination, int threads)
    {
        if (threads <= 1)
        {
            source.AsSpan().CopyTo(destination);
            return;
        }
        CopyParallel(source, destination, threads);
    }

    private static void CopyParallel(float[] source, float[] destination, int threads)
    {
        Split(source.Length, threads, (a, b) => source.AsSpan(a, b - a).CopyTo(destination.AsSpan(a, b - a)));
    }

    // In its own method so that the one-thread paths do not allocate the lambdas' closure.
    private static void Split(int n, int threads, Action<int, int> body)
        => Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            body((int)((long)n * t / threads), (int)((long)n * (t + 1) / threads)));

    /// <summary>The floor of an elementwise loss (read x and y, write the gradient): a vectorized x + y.</summary>
    public static void Add(float[] x, float[] y, float[] destination, int threads)
    {
        if (threads <= 1)
        {
            TensorPrimitives.Add(x, y, destination);
            return;
        }
        AddParallel(x, y, destination, threads);
    }

    private static void AddParallel(float[] x, float[] y, float[] destination, int threads)
    {
        Split(x.Length, threads, (a, b) => TensorPrimitives.Add(x.AsSpan(a, b - a), y.AsSpan(a, b - a), destination.AsSpan(a, b - a)));
    }

    /// <summary>
    /// Cross-entropy (mean) forward and backward as one would first write it: scalar loops, <c>MathF.Exp</c> twice per
    /// element (once for the sum, once for the gradient), float accumulation.
    /// </summary>
    public static double NaiveCrossEntropy(float[] logits, int[] targets, int classes, float[] gradient)
    {
        int rows = targets.Length;
        double total = 0;
        float inv = 1f / rows;
        for (int r = 0; r < rows; r++)
        {
            int o = r * classes;
            float max = float.NegativeInfinity;
            for (int c = 0; c < classes; c++) max = MathF.Max(max, logits[o + c]);
            float sum = 0;
            for (int c = 0; c < classes; c++) sum += MathF.Exp(logits[o + c] - max);
            float lse = max + MathF.Log(sum);
            total += lse - logits[o + targets[r]];
            for (int c = 0; c < classes; c++) gradient[o + c] = inv * (MathF.Exp(logits[o + c] - lse) - (c == targets[r] ? 1 : 0));
        }
        return total / rows;
    }

    /// <summary>An elementwise loss as one would first write it: the catalog's scalar kernel, one element at a time.</summary>
    public static double NaiveElementwise<TKernel>(TKernel kernel, float[] x, float[] y, float[] gradient) where TKernel : struct, IElementwiseKernel
    {
        double total = 0;
        float inv = 1f / x.Length;
        for (int i = 0; i < x.Length; i++)
        {
            total += kernel.Value(x[i], y[i], 1f);
            gradient[i] = inv * kernel.Derivative(x[i], y[i], 1f).Dx;
        }
        return total / x.Length;
    }
}
