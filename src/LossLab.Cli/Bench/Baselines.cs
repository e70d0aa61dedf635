using System.Numerics.Tensors;
using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Losses.Fused;
using LossLab.Losses.Probabilistic;
using LossLab.Losses.Regression;

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

    /// <summary>The elementwise losses of the benchmark table, by their snake_case names.</summary>
    public static readonly string[] ElementwiseLosses = ["mse", "l1", "huber", "smooth_l1", "bce", "bce_with_logits", "sigmoid_focal", "kl_div"];

    /// <summary>
    /// Inputs for an elementwise loss from two uniform draws in [−3, 3]: probabilities for BCE's input and KL's target,
    /// 0/1 labels for the logistic losses' targets.
    /// </summary>
    public static (float[] X, float[] Y) ElementwiseInputs(string loss, float[] x, float[] y) => loss switch
    {
        "bce" => ([.. x.Select(Sigmoid)], [.. y.Select(v => v > 0 ? 1f : 0f)]),
        "bce_with_logits" or "sigmoid_focal" => (x, [.. y.Select(v => v > 0 ? 1f : 0f)]),
        "kl_div" => (x, [.. y.Select(Sigmoid)]),
        _ => (x, y),
    };

    private static float Sigmoid(float v) => 1 / (1 + MathF.Exp(-v));

    /// <summary>The fused kernel of an elementwise loss (mean), gradient into <paramref name="g"/>.</summary>
    public static double FusedElementwiseLoss(string loss, float[] x, float[] y, float[] g, int threads) => loss switch
    {
        "mse" => FusedElementwise.Mse(x, y, g, threads: threads),
        "l1" => FusedElementwise.L1(x, y, g, threads: threads),
        "huber" => FusedElementwise.Huber(x, y, g, threads: threads),
        "smooth_l1" => FusedElementwise.SmoothL1(x, y, g, threads: threads),
        "bce" => FusedElementwise.BinaryCrossEntropy(x, y, g, threads: threads),
        "bce_with_logits" => FusedElementwise.BinaryCrossEntropyWithLogits(x, y, g, threads: threads),
        "sigmoid_focal" => FusedElementwise.SigmoidFocal(x, y, g, threads: threads),
        "kl_div" => FusedElementwise.KLDivergence(x, y, g, threads: threads),
        _ => throw new ArgumentException($"unknown elementwise loss '{loss}'", nameof(loss)),
    };

    /// <summary>The naive baseline of the same loss: its catalog kernel, one element at a time.</summary>
    public static double NaiveElementwiseLoss(string loss, float[] x, float[] y, float[] g) => loss switch
    {
        "mse" => NaiveElementwise(new MseLoss.Kernel(), x, y, g),
        "l1" => NaiveElementwise(new L1Loss.Kernel(), x, y, g),
        "huber" => NaiveElementwise(new HuberLoss.Kernel(1), x, y, g),
        "smooth_l1" => NaiveElementwise(new SmoothL1Loss.Kernel(1), x, y, g),
        "bce" => NaiveElementwise(new BinaryCrossEntropy.Kernel(), x, y, g),
        "bce_with_logits" => NaiveElementwise(new BinaryCrossEntropyWithLogits.Kernel(0), x, y, g),
        "sigmoid_focal" => NaiveElementwise(new SigmoidFocalLoss.Kernel(0.25, 2), x, y, g),
        "kl_div" => NaiveElementwise(new KLDivergence.Kernel(false), x, y, g),
        _ => throw new ArgumentException($"unknown elementwise loss '{loss}'", nameof(loss)),
    };
}
