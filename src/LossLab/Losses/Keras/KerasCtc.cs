using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Losses.Sequence;
using LossLab.Numerics;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>ctc</c>: y_true (B, S) integer labels where 0 is both the blank and the padding, y_pred (B, T, C) logits
/// (not softmaxed). Every sample uses all T frames and label_length = the number of non-zero labels; the per-sample
/// loss is −log P(labels | softmax(y_pred)) (not divided by the label length), then Keras's reduction.
/// </summary>
/// <remarks>
/// The forward–backward pass is <see cref="CtcLoss"/>'s. With lp = log_softmax(z), ∂ℓ/∂z_{t,k} = softmax_{t,k} −
/// exp(logΣ_{s: l'_s = k} α_t(s)β_t(s) + ℓ − lp_{t,k}), the quantity PyTorch returns as its log_probs gradient.
/// A target that T frames cannot hold gives +∞ (as PyTorch's backend; Keras's JAX backend floors it at about 1e5).
/// Labels must be right-padded: a non-zero label after a 0 is an error, not a silent blank inside the target.
/// </remarks>
public sealed class KerasCtc(string reduction = "sum_over_batch_size", TensorData? sampleWeight = null)
    : KerasLoss(reduction, sampleWeight), ILossDefinition
{
    protected override bool TargetDifferentiable => false;

    protected override T[] TrueValues<T>(LossInputs inputs)
    {
        Shape pred = inputs["y_pred"].Shape, labels = inputs["y_true"].Shape;
        if (pred.Rank != 3) throw LossArgumentException.Shape($"{Descriptor.Name}: y_pred must be (batch, frames, classes) logits, got shape {pred}");
        if (labels.Rank != 2 || labels[0] != pred[0])
            throw LossArgumentException.Shape($"{Descriptor.Name}: y_true must be ({pred[0]}, max_label_length) integer labels, got shape {labels}");
        long[] y = inputs.Indices("y_true");
        int classes = pred[2], width = labels[1];
        for (int i = 0; i < y.Length; i++)
        {
            if (y[i] < 0 || y[i] >= classes)
                throw LossArgumentException.Value($"{Descriptor.Name}: label {y[i]} at [{i / width}, {i % width}] is out of range: labels must be in [1, {classes - 1}], 0 pads");
            if (i % width > 0 && y[i] != 0 && y[i - 1] == 0)
                throw LossArgumentException.Value($"{Descriptor.Name}: label {y[i]} at [{i / width}, {i % width}] follows padding 0: labels must be right-padded");
        }
        return [.. y.Select(v => T.CreateTruncating(v))];
    }

    protected override T[] PerSample<T>(T[] yTrue, T[] yPred, Shape shape, out Shape valueShape)
    {
        valueShape = new Shape(shape[0]);
        var values = new T[shape[0]];
        for (int b = 0; b < values.Length; b++) values[b] = T.CreateTruncating(Sample(yTrue, yPred, shape, b, null));
        return values;
    }

    protected override void Backward<T>(T[] yTrue, T[] yPred, Shape shape, T[] upstream, T[] gTrue, T[] gPred)
    {
        int frames = shape[1], classes = shape[2], size = frames * classes;
        var grad = new double[size];
        for (int b = 0; b < shape[0]; b++)
        {
            if (upstream[b] == T.Zero) continue;
            Array.Clear(grad);
            Sample(yTrue, yPred, shape, b, grad);
            for (int i = 0; i < size; i++) gPred[b * size + i] = upstream[b] * T.CreateTruncating(grad[i]);
        }
    }

    /// <summary>ℓ_b, and ∂ℓ_b/∂logits (T·C values) into <paramref name="grad"/> when given.</summary>
    private static double Sample<T>(T[] yTrue, T[] yPred, Shape shape, int b, double[]? grad) where T : struct, IFloatingPointIeee754<T>
    {
        int frames = shape[1], classes = shape[2], width = yTrue.Length / shape[0];
        var lp = new double[frames * classes];
        var logits = new double[classes];
        for (int t = 0; t < frames; t++)
        {
            for (int k = 0; k < classes; k++) logits[k] = double.CreateTruncating(yPred[(b * frames + t) * classes + k]);
            Stable.LogSoftmax<double>(logits, lp.AsSpan(t * classes, classes));
        }
        int[] label = [.. Enumerable.Range(0, width).Select(j => int.CreateTruncating(yTrue[b * width + j])).TakeWhile(v => v != 0)];
        var frame = new CtcLoss.Frames(lp, 0, classes, classes);
        return CtcLoss.ForwardBackward(frame, frames, label, 0, grad is null ? null : new CtcLoss.Frames(grad, 0, classes, classes), trueGradient: false);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasCtc",
        Aliases = ["keras.ctc", "keras.CTC"],
        Family = LossFamily.Sequence,
        Task = LossTask.Sequence,
        Inputs =
        [
            new("y_true", InputKind.Indices, false, "labels (B, S), 0 = blank and right padding"),
            new("y_pred", InputKind.Floating, true, "logits (B, T, C)"),
        ],
        Options = [ReductionOption, SampleWeightOption],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 3 ? s : new Shape(2, 8, 4);
            int width = Math.Max(1, x[1] / 3);
            var labels = new long[x[0] * width];
            for (int b = 0; b < x[0]; b++)
            {
                int length = r.Next(width + 1);
                for (int j = 0; j < length; j++) labels[b * width + j] = 1 + r.Next(x[2] - 1);
            }
            return new LossInputs().Add("y_true", TensorData.FromArray(labels, x[0], width)).Add("y_pred", Samples.Normal(r, x));
        },
        Formula = "ℓ_b = −log Σ_{alignments π → y_b} Π_t softmax(z_b,t)[π_t]",
        Gradient = "∂ℓ/∂z_t,k = softmax_t,k − occupancy_t,k (forward–backward)",
        Reference = "keras.losses.ctc (Graves et al., 2006)",
        Stability = "log-space forward–backward in double; +∞ only for infeasible targets",
        Libraries = "Keras, PyTorch (ctc_loss), Optax (ctc_loss)",
        Factory = o => new KerasCtc(o.Choice("reduction"), o.Tensor("sample_weight")),
    };

    public override LossDescriptor Descriptor => Entry;
}
