using BenchmarkDotNet.Attributes;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Benchmarks;

/// <summary>
/// CTC and the RNN transducer at speech-recognition sizes, float32 inputs: CTC over T = 1000 frames, N = 32 utterances,
/// C = 5000 subword classes and S = 200 labels (640 MB of log-probabilities); RNN-T over B = 4, T = 300, U = 60,
/// V = 512 (150 MB of joiner logits). The baseline is the value alone, so the ratio is the cost of the gradient; the
/// allocated column shows that neither copies its input to double (the gradient itself is the input's size).
/// </summary>
[MemoryDiagnoser]
public class SequenceLossBenchmarks
{
    [Params("ctc_loss", "rnnt_loss")]
    public string Loss { get; set; } = "ctc_loss";

    private ILoss _loss = null!;
    private LossInputs _inputs = null!;

    [GlobalSetup]
    public void Setup()
    {
        var r = new Random(42);
        _loss = LossRegistry.Default.Create(Loss);
        _inputs = Loss == "ctc_loss" ? Ctc(r, 1000, 32, 5000, 200) : Rnnt(r, 4, 300, 60, 512);
    }

    private static LossInputs Ctc(Random r, int frames, int batch, int classes, int labels)
    {
        var lp = new float[frames * batch * classes];
        var z = new double[classes];
        for (int row = 0; row < frames * batch; row++)
        {
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(z[c] = 2 * r.NextDouble() - 1);
            double log = Math.Log(sum);
            for (int c = 0; c < classes; c++) lp[row * classes + c] = (float)(z[c] - log);
        }
        long[] targets = [.. Enumerable.Range(0, batch * labels).Select(_ => (long)(1 + r.Next(classes - 1)))];
        return new LossInputs()
            .Add("log_probs", TensorData.Create(new Shape(frames, batch, classes), DType.Float32, lp))
            .Add("targets", TensorData.FromArray(targets, batch, labels))
            .Add("input_lengths", TensorData.FromArray(Enumerable.Range(0, batch).Select(b => (long)(frames - 3 * b)).ToArray(), batch))
            .Add("target_lengths", TensorData.FromArray(Enumerable.Range(0, batch).Select(b => (long)(labels - b)).ToArray(), batch));
    }

    private static LossInputs Rnnt(Random r, int batch, int frames, int labels, int classes)
    {
        var x = new float[batch * frames * (labels + 1) * classes];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(2 * r.NextDouble() - 1);
        long[] targets = [.. Enumerable.Range(0, batch * labels).Select(_ => (long)r.Next(0, classes - 1))];   // blank: the last class
        return new LossInputs()
            .Add("logits", TensorData.Create(new Shape(batch, frames, labels + 1, classes), DType.Float32, x))
            .Add("targets", TensorData.FromArray(targets, batch, labels))
            .Add("logit_lengths", TensorData.FromArray(Enumerable.Range(0, batch).Select(b => (long)(frames - 7 * b)).ToArray(), batch))
            .Add("target_lengths", TensorData.FromArray(Enumerable.Range(0, batch).Select(b => (long)(labels - 3 * b)).ToArray(), batch));
    }

    [Benchmark(Baseline = true)]
    public double Value() => _loss.Evaluate(_inputs, computeGradients: false).Scalar;

    [Benchmark]
    public double ValueAndGradient() => _loss.Evaluate(_inputs).Scalar;
}
