using BenchmarkDotNet.Attributes;
using LossLab.Losses.Fused;

namespace LossLab.Benchmarks;

/// <summary>
/// Linear layer + cross-entropy, forward and all gradients, N = 4096, D = 512: the unfused path (the whole N×V
/// logits, baseline) against the chunked one. Allocated bytes per operation (memory diagnoser) show the logits the
/// unfused path holds; the fused path's workspace is cached per thread and reported by
/// <see cref="LinearCrossEntropy.WorkspaceBytes"/>. Each operation is seconds long: few iterations.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class LinearCrossEntropyBenchmarks
{
    private const int N = 4096, D = 512;

    [Params(32000, 128256)]
    public int Vocabulary { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    private float[] _h = null!, _w = null!, _b = null!, _gh = null!, _gw = null!, _gb = null!;
    private int[] _t = null!;
    private LinearCrossEntropyOptions _options = null!;

    [GlobalSetup]
    public void Setup()
    {
        var r = new Random(1);
        _h = [.. Enumerable.Range(0, N * D).Select(_ => (float)(r.NextDouble() - 0.5))];
        _w = [.. Enumerable.Range(0, Vocabulary * D).Select(_ => (float)((r.NextDouble() - 0.5) * 0.1))];
        _b = new float[Vocabulary];
        _t = [.. Enumerable.Range(0, N).Select(_ => r.Next(Vocabulary))];
        (_gh, _gw, _gb) = (new float[_h.Length], new float[_w.Length], new float[Vocabulary]);
        _options = new LinearCrossEntropyOptions { Threads = Threads };
        Console.WriteLine($"// fused workspace: {LinearCrossEntropy.WorkspaceBytes(N, Vocabulary, _options) / 1e6:F1} MB; unfused logits: {4.0 * N * Vocabulary / 1e6:F1} MB");
    }

    [Benchmark(Baseline = true)]
    public double Unfused() => LinearCrossEntropy.ComputeUnfused(_h, _w, _b, _t, D, _gh, _gw, _gb, _options);

    [Benchmark]
    public double Fused() => LinearCrossEntropy.Compute(_h, _w, _b, _t, D, _gh, _gw, _gb, _options);
}
