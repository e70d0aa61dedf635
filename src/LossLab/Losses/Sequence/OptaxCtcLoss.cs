using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Sequence;

/// <summary>
/// Optax <c>ctc_loss(logits, logit_paddings, labels, label_paddings, blank_id=0, log_epsilon=-1e5)</c>: CTC with
/// Optax's inputs. Logits (B, T, K) are log-softmaxed here; a frame with padding 1 is skipped (Optax carries the
/// previous state through it); labels (B, N) are right-padded by 1s in label_paddings. One unnormalized
/// −log P(labels | frames) per sequence, default reduction <c>none</c>.
/// </summary>
/// <remarks>
/// The forward–backward pass is <see cref="CtcLoss"/>'s, run on each sequence's unpadded frames: ∂ℓ/∂z_{t,k} =
/// softmax_{t,k} − occupancy_{t,k} there, 0 on padded frames. Optax writes log 0 as <c>log_epsilon</c> (−1e5) so
/// that an impossible target gives a large finite loss instead of ∞; for every possible target the two agree to the
/// last digit (e^−1e5 is 0 in double), and an impossible one (more labels, counting the blanks between repeats, than
/// unpadded frames) is an error naming the sequence here. Labels equal to the blank, labels outside [0, K), padding
/// values other than 0/1 and label paddings that are not right-aligned are errors too (Optax does not check them).
/// <see cref="ForwardProbabilities"/> also returns Optax's α tables (<c>ctc_loss_with_forward_probs</c>).
/// </remarks>
public sealed partial class OptaxCtcLoss(int blankId = 0, double logEpsilon = -1e5, Reduction reduction = Reduction.None) : Loss, ILossDefinition
{
    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        string name = Entry.Name;
        Batch batch = Read(inputs);
        (int b, int frames, int k, int width) = (batch.Sequences, batch.Frames, batch.Classes, batch.Width);
        (double[] z, double[] framePad, double[] labelPad, long[] labels) = (batch.Logits, batch.FramePad, batch.LabelPad, batch.Labels);
        Shape zs = inputs["logits"].Shape;
        var losses = new double[b];
        var grad = computeGradients ? new double[z.Length] : null;
        for (int s = 0; s < b; s++)
        {
            int[] target = Target(name, labels, labelPad, s, width, k);
            // The unpadded frames, log-softmaxed, in order.
            List<int> kept = Kept(framePad, s, frames);
            var lp = new double[kept.Count * k];
            for (int i = 0; i < kept.Count; i++)
            {
                ReadOnlySpan<double> row = z.AsSpan((s * frames + kept[i]) * k, k);
                Stable.LogSoftmax(row, lp.AsSpan(i * k, k));
            }
            var g = computeGradients ? new double[lp.Length] : null;
            losses[s] = CtcLoss.ForwardBackward(new CtcLoss.Frames(lp, 0, k, k), kept.Count, target, blankId, g is null ? null : new CtcLoss.Frames(g, 0, k, k), trueGradient: false);
            if (double.IsPositiveInfinity(losses[s]))
            {
                throw TooFewFrames(s, target, kept.Count);
            }
            if (g is null) continue;
            for (int i = 0; i < kept.Count; i++) g.AsSpan(i * k, k).CopyTo(grad.AsSpan((s * frames + kept[i]) * k, k));
        }
        double scale = Reduction == Reduction.Mean ? (b == 0 ? double.NaN : 1.0 / b) : 1;
        double[] values = Reduction switch
        {
            Reduction.None => losses,
            Reduction.Sum => [losses.Sum()],
            _ => [b == 0 ? double.NaN : losses.Sum() / b],
        };
        TensorData value = FromDoubles<T>(values, Reduction == Reduction.None ? new Shape(b) : Shape.Scalar);
        if (grad is null) return Result(value);
        for (int i = 0; i < grad.Length; i++) grad[i] *= scale;
        return Result(value, ("logits", FromDoubles<T>(grad, zs)));
    }

    public Reduction Reduction { get; } = reduction;

    /// <summary>The inputs, checked: logits (B, T, K), paddings (B, T), labels and label paddings (B, N).</summary>
    private readonly record struct Batch(int Sequences, int Frames, int Classes, int Width, double[] Logits, double[] FramePad, long[] Labels, double[] LabelPad);

    private Batch Read(LossInputs inputs)
    {
        string name = Entry.Name;
        Shape zs = inputs["logits"].Shape, ls = inputs["labels"].Shape;
        if (zs.Rank != 3) throw LossArgumentException.Shape($"{name}: 'logits' must be (B, T, K), got {zs}");
        int b = zs[0], frames = zs[1], k = zs[2];
        if (inputs["logit_paddings"].Shape != new Shape(b, frames)) throw LossArgumentException.Shape($"{name}: 'logit_paddings' has shape {inputs["logit_paddings"].Shape}; expected ({b}, {frames})");
        if (ls.Rank != 2 || ls[0] != b) throw LossArgumentException.Shape($"{name}: 'labels' has shape {ls}; expected ({b}, N)");
        RequireSameShape(inputs, "labels", "label_paddings");
        if (blankId < 0 || blankId >= k) throw LossArgumentException.Value($"{name}: blank_id {blankId} is not a class of logits with K = {k}");
        if (!(logEpsilon < 0)) throw LossArgumentException.Value($"{name}: log_epsilon stands for log 0 and must be negative, got {logEpsilon}");
        return new(b, frames, k, ls[1], inputs["logits"].ToArray<double>(), inputs["logit_paddings"].ToArray<double>(),
            inputs.Indices("labels"), inputs["label_paddings"].ToArray<double>());
    }

    /// <summary>Sequence s's unpadded frames, in order (each padding 0 or 1).</summary>
    private static List<int> Kept(double[] framePad, int s, int frames)
    {
        var kept = new List<int>();
        for (int t = 0; t < frames; t++)
        {
            double pad = framePad[s * frames + t];
            if (pad != 0 && pad != 1) throw LossArgumentException.Value($"{Entry.Name}: logit_paddings[{s}, {t}] = {pad}; paddings are 0 (a frame) or 1 (padding)");
            if (pad == 0) kept.Add(t);
        }
        return kept;
    }

    private static LossArgumentException TooFewFrames(int s, int[] target, int frames) => LossArgumentException.Value(
        $"{Entry.Name}: sequence {s} has {target.Length} labels but only {frames} unpadded frames, too few to emit them: −log P is +∞ (Optax returns a loss near −log_epsilon)");

    /// <summary>Sequence s's labels before its padding (right-aligned: 0…0 1…1), each a class other than the blank.</summary>
    private int[] Target(string name, long[] labels, double[] pad, int s, int width, int k)
    {
        var target = new List<int>();
        bool padded = false;
        for (int n = 0; n < width; n++)
        {
            double p = pad[s * width + n];
            if (p != 0 && p != 1) throw LossArgumentException.Value($"{name}: label_paddings[{s}, {n}] = {p}; paddings are 0 (a label) or 1 (padding)");
            if (p == 1) { padded = true; continue; }
            if (padded) throw LossArgumentException.Value($"{name}: label_paddings[{s}] has a label after padding at {n}: labels must be right-padded");
            long label = labels[s * width + n];
            if (label < 0 || label >= k || label == blankId)
                throw LossArgumentException.Value($"{name}: labels[{s}, {n}] = {label} must be a class in [0, {k - 1}] other than the blank {blankId}");
            target.Add((int)label);
        }
        return [.. target];
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "OptaxCtcLoss",
        Aliases = ["optax.ctc_loss"],
        Family = LossFamily.Sequence,
        Task = LossTask.Sequence,
        Inputs =
        [
            new("logits", InputKind.Floating, true, "logits (B, T, K), not log-softmaxed"),
            new("logit_paddings", InputKind.Floating, false, "1 for padded frames, 0 for frames (B, T)"),
            new("labels", InputKind.Indices, false, "label indices (B, N), right-padded"),
            new("label_paddings", InputKind.Floating, false, "1 for padding, 0 for labels (B, N), right-aligned"),
        ],
        Options =
        [
            OptionSpec.Choice("reduction", "none", "none (Optax: one value per sequence), mean or sum", "none", "mean", "sum"),
            OptionSpec.Int("blank_id", 0, "the blank class"),
            OptionSpec.Float("log_epsilon", -1e5, "Optax's stand-in for log 0 (only impossible targets would see it; they are errors here)"),
        ],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 3, 8, 5);
            int b = x[0], t = x[1], k = x[2], n = Math.Max(1, t / 3);
            var pads = new double[b * t];
            for (int i = 0; i < b; i++) for (int f = t - i % 2; f < t; f++) pads[i * t + f] = 1;   // odd rows lose a frame
            var labels = new long[b * n];
            var labelPads = new double[b * n];
            for (int i = 0; i < b; i++)
            {
                int len = 1 + r.Next(n);
                for (int j = 0; j < n; j++)
                {
                    labels[i * n + j] = j < len ? 1 + r.Next(Math.Max(1, k - 1)) : 0;
                    labelPads[i * n + j] = j < len ? 0 : 1;
                }
            }
            return new LossInputs().Add("logits", Samples.Normal(r, x))
                .Add("logit_paddings", TensorData.Create(new Shape(b, t), DType.Float64, pads))
                .Add("labels", TensorData.FromArray(labels, b, n))
                .Add("label_paddings", TensorData.Create(new Shape(b, n), DType.Float64, labelPads));
        },
        Formula = "ℓ_b = −log Σ_{alignments → labels_b} Π_t softmax(z_bt)[π_t] over the unpadded frames",
        Gradient = "∂ℓ/∂z_tk = softmax_tk − occupancy_tk (0 on padded frames)",
        Reference = "optax.losses.ctc_loss (Graves et al., 2006); its α tables (ctc_loss_with_forward_probs) from C#: OptaxCtcLoss.ForwardProbabilities",
        Stability = "finite for every possible target (forward–backward in log space, in double)",
        Libraries = "Optax (PyTorch ctc_loss, Keras CTC with other inputs)",
        Factory = o => new OptaxCtcLoss(o.Int32("blank_id"), o.Float("log_epsilon"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
