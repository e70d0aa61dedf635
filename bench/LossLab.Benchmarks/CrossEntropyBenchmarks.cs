using BenchmarkDotNet.Attributes;
using LossLab.Cli.Bench;
using LossLab.Losses.Fused;
using Microsoft.ML.OnnxRuntime;

namespace LossLab.Benchmarks;

/// <summary>
/// Softmax cross-entropy forward + backward (mean, float32 logits N×C, int targets, gradient into a reused buffer)
/// against, in the same run: the bandwidth floor (a vectorized copy of the same 8·N·C bytes, the baseline: Ratio =
/// time / floor), a naive scalar implementation, and ONNX Runtime's forward-only graphs (LogSoftmax +
/// NegativeLogLikelihoodLoss, and its SoftmaxCrossEntropyLoss operator) on the same thread count.
/// </summary>
[MemoryDiagnoser]
public class CrossEntropyBenchmarks
{
    [Params("4096x10", "4096x1000", "512x32000", "64x128256")]
    public string Shape { get; set; } = "4096x1000";

    [Params(1, 2)]
    public int Threads { get; set; }

    private int _n, _c;
    private float[] _x = null!, _g = null!, _inPlace = null!;
    private int[] _t = null!;
    private InferenceSession _ortGraph = null!, _ortOperator = null!;
    private OrtValue[] _ortInputs = null!;
    private RunOptions _run = null!;

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Shape.Split('x');
        (_n, _c) = (int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        var r = new Random(1);
        _x = [.. Enumerable.Range(0, _n * _c).Select(_ => (float)(r.NextDouble() * 8 - 4))];
        _g = new float[_x.Length];
        _inPlace = (float[])_x.Clone();
        _t = [.. Enumerable.Range(0, _n).Select(_ => r.Next(_c))];
        var options = new SessionOptions { IntraOpNumThreads = Threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        _ortGraph = new InferenceSession(OnnxModels.CrossEntropy(_n, _c, singleOperator: false), options);
        _ortOperator = new InferenceSession(OnnxModels.CrossEntropy(_n, _c, singleOperator: true), options);
        _ortInputs =
        [
            OrtValue.CreateTensorValueFromMemory(_x, [_n, _c]),
            OrtValue.CreateTensorValueFromMemory(_t.Select(v => (long)v).ToArray(), [_n]),
        ];
        _run = new RunOptions();
        // The peers must compute the same number, or the comparison means nothing.
        double ours = FusedCrossEntropy.Compute(_x, _t, _c, default);
        foreach (InferenceSession s in new[] { _ortGraph, _ortOperator })
        {
            float theirs = Ort(s);
            if (Math.Abs(theirs - ours) > 1e-4 * Math.Max(1, Math.Abs(ours))) throw new InvalidOperationException($"ONNX Runtime gives {theirs}, LossLab {ours}");
        }
        double naive = Baselines.NaiveCrossEntropy(_x, _t, _c, _g);
        if (Math.Abs(naive - ours) > 1e-4 * Math.Max(1, Math.Abs(ours))) throw new InvalidOperationException($"naive gives {naive}, fused {ours}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (OrtValue v in _ortInputs) v.Dispose();
        _ortGraph.Dispose();
        _ortOperator.Dispose();
        _run.Dispose();
    }

    [Benchmark(Baseline = true)]
    public float BandwidthFloor()
    {
        Baselines.Copy(_x, _g, Threads);
        return _g[0];
    }

    [Benchmark]
    public double Fused() => FusedCrossEntropy.Compute(_x, _t, _c, _g, threads: Threads);

    /// <summary>The gradient overwrites the logits (llm.c, Liger-Kernel): no separate output lines to fetch. Later iterations run on the previous gradient, which costs the same.</summary>
    [Benchmark]
    public double FusedInPlace() => FusedCrossEntropy.Compute(_inPlace, _t, _c, _inPlace, threads: Threads);

    [Benchmark]
    public double FusedForwardOnly() => FusedCrossEntropy.Compute(_x, _t, _c, default, threads: Threads);

    [Benchmark]
    public double Naive() => Threads == 1 ? Baselines.NaiveCrossEntropy(_x, _t, _c, _g) : double.NaN;

    [Benchmark]
    public float OnnxRuntimeLogSoftmaxNll() => Ort(_ortGraph);

    [Benchmark]
    public float OnnxRuntimeSoftmaxCrossEntropyLoss() => Ort(_ortOperator);

    private float Ort(InferenceSession session)
    {
        using var outputs = session.Run(_run, ["logits", "target"], _ortInputs, ["loss"]);
        return outputs[0].GetTensorDataAsSpan<float>()[0];
    }
}
