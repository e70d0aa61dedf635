using BenchmarkDotNet.Attributes;
using LossLab.Cli.Bench;
using LossLab.Losses.Classification;
using LossLab.Losses.Fused;
using LossLab.Losses.Probabilistic;
using LossLab.Losses.Regression;

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

    [Params("mse", "l1", "huber", "smooth_l1", "bce", "bce_with_logits", "sigmoid_focal", "kl_div")]
    public string Loss { get; set; } = "mse";

    [Params(1, 2)]
    public int Threads { get; set; }

    private float[] _x = null!, _y = null!, _g = null!;

    [GlobalSetup]
    public void Setup()
    {
        var r = new Random(1);
        _x = [.. Enumerable.Range(0, N).Select(_ => (float)(r.NextDouble() * 6 - 3))];
        _y = [.. Enumerable.Range(0, N).Select(_ => (float)(r.NextDouble() * 6 - 3))];
        if (Loss is "bce") _x = [.. _x.Select(v => 1 / (1 + MathF.Exp(-v)))];
        if (Loss is "bce" or "bce_with_logits" or "sigmoid_focal") _y = [.. _y.Select(v => v > 0 ? 1f : 0f)];
        if (Loss is "kl_div") _y = [.. _y.Select(v => 1 / (1 + MathF.Exp(-v)))];
        _g = new float[N];
    }

    [Benchmark(Baseline = true)]
    public float BandwidthFloor()
    {
        Baselines.Add(_x, _y, _g, Threads);
        return _g[0];
    }

    [Benchmark]
    public double Fused() => Loss switch
    {
        "mse" => FusedElementwise.Mse(_x, _y, _g, threads: Threads),
        "l1" => FusedElementwise.L1(_x, _y, _g, threads: Threads),
        "huber" => FusedElementwise.Huber(_x, _y, _g, threads: Threads),
        "smooth_l1" => FusedElementwise.SmoothL1(_x, _y, _g, threads: Threads),
        "bce" => FusedElementwise.BinaryCrossEntropy(_x, _y, _g, threads: Threads),
        "bce_with_logits" => FusedElementwise.BinaryCrossEntropyWithLogits(_x, _y, _g, threads: Threads),
        "sigmoid_focal" => FusedElementwise.SigmoidFocal(_x, _y, _g, threads: Threads),
        _ => FusedElementwise.KLDivergence(_x, _y, _g, threads: Threads),
    };

    [Benchmark]
    public double Naive() => Threads != 1 ? double.NaN : Loss switch
    {
        "mse" => Baselines.NaiveElementwise(new MseLoss.Kernel(), _x, _y, _g),
        "l1" => Baselines.NaiveElementwise(new L1Loss.Kernel(), _x, _y, _g),
        "huber" => Baselines.NaiveElementwise(new HuberLoss.Kernel(1), _x, _y, _g),
        "smooth_l1" => Baselines.NaiveElementwise(new SmoothL1Loss.Kernel(1), _x, _y, _g),
        "bce" => Baselines.NaiveElementwise(new BinaryCrossEntropy.Kernel(), _x, _y, _g),
        "bce_with_logits" => Baselines.NaiveElementwise(new BinaryCrossEntropyWithLogits.Kernel(0), _x, _y, _g),
        "sigmoid_focal" => Baselines.NaiveElementwise(new SigmoidFocalLoss.Kernel(0.25, 2), _x, _y, _g),
        _ => Baselines.NaiveElementwise(new KLDivergence.Kernel(false), _x, _y, _g),
    };
}
