using BenchmarkDotNet.Attributes;
using LossLab.Cli.Bench;

namespace LossLab.Benchmarks;

/// <summary>
/// Elementwise losses forward + backward on 4 M float32 elements (mean; read x and y, write ∂/∂x): Ratio = time /
/// floor, the floor being a vectorized x + y over the same three streams, measured in the same run; the naive
/// baseline is the catalog's scalar kernel element by element.
/// </summary>
[MemoryDiagnoser]
public class ElementwiseBenchmarks
{
    private const int N = 1 << 22;

    [ParamsSource(nameof(Losses))]
    public string Loss { get; set; } = "mse";

    public static IEnumerable<string> Losses => Baselines.ElementwiseLosses;

    [Params(1, 2)]
    public int Threads { get; set; }

    private float[] _x = null!, _y = null!, _g = null!;

    [GlobalSetup]
    public void Setup()
    {
        var r = new Random(1);
        float[] x = [.. Enumerable.Range(0, N).Select(_ => (float)(r.NextDouble() * 6 - 3))];
        float[] y = [.. Enumerable.Range(0, N).Select(_ => (float)(r.NextDouble() * 6 - 3))];
        (_x, _y) = Baselines.ElementwiseInputs(Loss, x, y);
        _g = new float[N];
    }

    [Benchmark(Baseline = true)]
    public float BandwidthFloor()
    {
        Baselines.Add(_x, _y, _g, Threads);
        return _g[0];
    }

    [Benchmark]
    public double Fused() => Baselines.FusedElementwiseLoss(Loss, _x, _y, _g, Threads);

    [Benchmark]
    public double Naive() => Threads != 1 ? double.NaN : Baselines.NaiveElementwiseLoss(Loss, _x, _y, _g);
}
