using BenchmarkDotNet.Attributes;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Benchmarks;

/// <summary>
/// The face-recognition losses with a class-weight matrix W (D, C) at the size they train at: 256 embeddings of 512
/// against 100000 classes (MS1M has 85742 identities), float32 inputs. W is 205 MB in float and 410 MB in double; the
/// allocated column shows that the loss holds W once in double, its gradient, and chunks of 64 rows of cosines, never
/// N × C or copies of W. The baseline is the value alone, so the ratio is the cost of the gradient.
/// </summary>
[MemoryDiagnoser]
public class ClassWeightBenchmarks
{
    private const int N = 256, D = 512, Columns = 100_002;   // divisible by SubCenterArcFace's 3 sub-centres

    [Params("arcface_loss", "subcenter_arcface_loss", "cosface_loss", "p2s_grad_loss")]
    public string Loss { get; set; } = "arcface_loss";

    private ILoss _loss = null!;
    private LossInputs _inputs = null!;

    [GlobalSetup]
    public void Setup()
    {
        var r = new Random(11);
        int classes = Loss == "subcenter_arcface_loss" ? Columns / 3 : Columns;
        var x = new float[N * D];
        var w = new float[D * Columns];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(2 * r.NextDouble() - 1);
        for (int i = 0; i < w.Length; i++) w[i] = (float)(2 * r.NextDouble() - 1);
        _inputs = new LossInputs()
            .Add("embeddings", TensorData.Create(new Shape(N, D), DType.Float32, x))
            .Add("labels", TensorData.FromArray(Enumerable.Range(0, N).Select(_ => (long)r.Next(classes)).ToArray(), N))
            .Add("W", TensorData.Create(new Shape(D, Columns), DType.Float32, w));
        _loss = LossRegistry.Default.Create(Loss, Loss == "subcenter_arcface_loss" ? new Dictionary<string, object?> { ["sub_centers"] = 3L } : null);
    }

    [Benchmark(Baseline = true)]
    public double Value() => _loss.Evaluate(_inputs, computeGradients: false).Scalar;

    [Benchmark]
    public double ValueAndGradient() => _loss.Evaluate(_inputs).Scalar;
}
