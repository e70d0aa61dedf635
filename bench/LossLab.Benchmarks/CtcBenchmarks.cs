using BenchmarkDotNet.Attributes;
using LossLab.Losses.Core;
using LossLab.Losses.Sequence;
using LossLab.Numerics;

namespace LossLab.Benchmarks;

/// <summary>
/// CTC at the shape of issue 3: T = 200 frames, N = 16 sequences, C = 30 classes, S = 40 labels (target goal: one
/// forward+backward well under 50 ms). The baseline is the forward pass alone, so the ratio shows the cost of the
/// backward (β recursion and the per-class occupancies).
/// </summary>
[MemoryDiagnoser]
public class CtcBenchmarks
{
    private const int Frames = 200, Batch = 16, Classes = 30, Labels = 40;
    private LossInputs _inputs = null!;
    private readonly CtcLoss _loss = new();

    [GlobalSetup]
    public void Setup()
    {
        var r = new Random(42);
        var lp = new float[Frames * Batch * Classes];
        for (int row = 0; row < Frames * Batch; row++)
        {
            double sum = 0;
            var z = new double[Classes];
            for (int c = 0; c < Classes; c++) sum += Math.Exp(z[c] = 2 * r.NextDouble() - 1);
            for (int c = 0; c < Classes; c++) lp[row * Classes + c] = (float)(z[c] - Math.Log(sum));
        }
        var targets = new long[Batch * Labels];
        for (int i = 0; i < targets.Length; i++) targets[i] = 1 + r.Next(Classes - 1);
        var inputLengths = Enumerable.Range(0, Batch).Select(b => (long)(Frames - 3 * b)).ToArray();
        var targetLengths = Enumerable.Range(0, Batch).Select(b => (long)(Labels - b)).ToArray();
        _inputs = new LossInputs()
            .Add("log_probs", TensorData.Create(new Shape(Frames, Batch, Classes), DType.Float32, lp))
            .Add("targets", TensorData.FromArray(targets, Batch, Labels))
            .Add("input_lengths", TensorData.FromArray(inputLengths, Batch))
            .Add("target_lengths", TensorData.FromArray(targetLengths, Batch));
    }

    [Benchmark(Baseline = true)]
    public double Forward() => _loss.Evaluate(_inputs, computeGradients: false).Scalar;

    [Benchmark]
    public double ForwardBackward() => _loss.Evaluate(_inputs).Scalar;
}
