using BenchmarkDotNet.Attributes;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Benchmarks;

/// <summary>
/// The losses with learned class vectors at the size they train at: 256 embeddings of 512 against 100000 classes (MS1M
/// has 85742 identities; SoftTriple at Stanford Online Products' 11318 classes × 10 centres), float32 inputs. W is 205 MB in float and 410 MB in double; the
/// allocated column shows that the loss holds W once in double, its gradient, and chunks of 64 rows of cosines, never
/// N × C or copies of W. The baseline is the value alone, so the ratio is the cost of the gradient.
/// </summary>
[MemoryDiagnoser]
public class ClassWeightBenchmarks
{
    private const int N = 256, D = 512, Columns = 100_002;   // divisible by SubCenterArcFace's 3 sub-centres

    [Params("arcface_loss", "subcenter_arcface_loss", "cosface_loss", "p2s_grad_loss", "proxy_anchor_loss", "proxy_nca_loss", "soft_triple_loss")]
    public string Loss { get; set; } = "arcface_loss";

    private ILoss _loss = null!;
    private LossInputs _inputs = null!;

    [GlobalSetup]
    public void Setup()
    {
        var r = new Random(11);
        // SoftTriple: Stanford Online Products' 11318 classes × its default 10 centres (113180 columns).
        int columns = Loss == "soft_triple_loss" ? 113_180 : Columns;
        int classes = Loss switch { "subcenter_arcface_loss" => Columns / 3, "soft_triple_loss" => 11_318, _ => Columns };
        var x = new float[N * D];
        var w = new float[D * columns];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(2 * r.NextDouble() - 1);
        for (int i = 0; i < w.Length; i++) w[i] = (float)(2 * r.NextDouble() - 1);
        // The proxy losses take their class vectors as rows (C, D); the others as columns (D, C·K).
        var (name, shape) = Loss switch
        {
            "proxy_anchor_loss" or "proxy_nca_loss" => ("proxies", new Shape(columns, D)),
            "soft_triple_loss" => ("fc", new Shape(D, columns)),
            _ => ("W", new Shape(D, columns)),
        };
        _inputs = new LossInputs()
            .Add("embeddings", TensorData.Create(new Shape(N, D), DType.Float32, x))
            .Add("labels", TensorData.FromArray(Enumerable.Range(0, N).Select(_ => (long)r.Next(classes)).ToArray(), N))
            .Add(name, TensorData.Create(shape, DType.Float32, w));
        _loss = LossRegistry.Default.Create(Loss, Loss == "subcenter_arcface_loss" ? new Dictionary<string, object?> { ["sub_centers"] = 3L } : null);
    }

    [Benchmark(Baseline = true)]
    public double Value() => _loss.Evaluate(_inputs, computeGradients: false).Scalar;

    [Benchmark]
    public double ValueAndGradient() => _loss.Evaluate(_inputs).Scalar;
}
