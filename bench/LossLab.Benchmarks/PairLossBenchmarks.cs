using BenchmarkDotNet.Attributes;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Benchmarks;

/// <summary>
/// The pair losses that embedding models train with, at the shapes of docs/performance.md ("Pair losses at N = 20000"):
/// in-batch negatives, CLIP and SigLIP on 4096 pairs of 256, the batch-hard triplet loss on 4096 points. Inputs are the
/// registry's own samples at that shape. The baseline is each loss's value alone, so the ratio is the cost of the
/// gradient; the allocated column is the memory goal (O(N·D) and chunks, never an N × N matrix: 128 MiB at N = 4096).
/// </summary>
[MemoryDiagnoser]
public class PairLossBenchmarks
{
    [Params("clip_loss:4096x256", "siglip_loss:4096x256", "multiple_negatives_ranking_loss:1024x384", "batch_hard_triplet_loss:4096x2")]
    public string Case { get; set; } = "clip_loss:4096x256";

    private ILoss _loss = null!;
    private LossInputs _inputs = null!;

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Case.Split(':', 'x');
        LossDescriptor d = LossRegistry.Default.Get(parts[0]);
        _inputs = d.Sample!(new Random(7), new Shape(int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture)));
        _loss = LossRegistry.Default.Create(parts[0]);
    }

    [Benchmark(Baseline = true)]
    public double Value() => _loss.Evaluate(_inputs, computeGradients: false).Scalar;

    [Benchmark]
    public double ValueAndGradient() => _loss.Evaluate(_inputs).Scalar;
}
