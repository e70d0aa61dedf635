using BenchmarkDotNet.Attributes;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Benchmarks;

/// <summary>
/// NT-Xent, SupCon, multi-similarity and Circle at N = 8192 embeddings (the size at which pytorch-metric-learning runs out of memory, pml#547),
/// D = 64, 100 classes. The memory goal is O(N·D): the allocated column must stay a few MiB, where one N×N double
/// matrix would be 512 MiB. The baseline is the value alone, so the ratio is the cost of the gradient.
/// </summary>
[MemoryDiagnoser]
public class MetricLearningBenchmarks
{
    private const int N = 8192, D = 64;
    private LossInputs _inputs = null!;
    private readonly ILoss _ntxent = LossRegistry.Default.Create("ntxent_loss");
    private readonly ILoss _supcon = LossRegistry.Default.Create("supcon_loss");
    private readonly ILoss _multiSimilarity = LossRegistry.Default.Create("multi_similarity_loss");
    private readonly ILoss _circle = LossRegistry.Default.Create("circle_loss");

    [GlobalSetup]
    public void Setup()
    {
        var r = new Random(42);
        var x = new float[N * D];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(2 * r.NextDouble() - 1);
        _inputs = new LossInputs()
            .Add("embeddings", TensorData.Create(new Shape(N, D), DType.Float32, x))
            .Add("labels", TensorData.FromArray(Enumerable.Range(0, N).Select(i => (long)(i % 100)).ToArray(), N));
    }

    [Benchmark(Baseline = true)]
    public double NTXentValue() => _ntxent.Evaluate(_inputs, computeGradients: false).Scalar;

    [Benchmark]
    public double NTXentValueAndGradient() => _ntxent.Evaluate(_inputs).Scalar;

    [Benchmark]
    public double SupConValueAndGradient() => _supcon.Evaluate(_inputs).Scalar;

    [Benchmark]
    public double MultiSimilarityValueAndGradient() => _multiSimilarity.Evaluate(_inputs).Scalar;

    [Benchmark]
    public double CircleValueAndGradient() => _circle.Evaluate(_inputs).Scalar;
}
