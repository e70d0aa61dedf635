using System.Numerics;
using System.Numerics.Tensors;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Sequence;

/// <summary>
/// The RNN transducer loss (Graves, Sequence Transduction with Recurrent Neural Networks, 2012), as torchaudio's
/// <c>torchaudio.functional.rnnt_loss(logits, targets, logit_lengths, target_lengths, blank=-1, clamp=-1,
/// reduction='mean')</c>: ℓ_b = −log P(y | x), summed over every alignment of the target y (U labels) to the T frames,
/// where the joiner's output at frame t after u emitted labels is a distribution over the labels and the blank.
/// </summary>
/// <remarks>
/// <para><b>Lattice</b> (lp = log_softmax(logits) over the classes, at each (t, u)): from node (t, u) a blank moves to
/// (t + 1, u) and the label y_{u+1} to (t, u + 1); every path ends with a blank at (T − 1, U). Forward:
/// α(0, 0) = 0, α(t, u) = logΣ(α(t − 1, u) + lp(t − 1, u, blank), α(t, u − 1) + lp(t, u − 1, y_u)); ℓ = −(α(T − 1, U) +
/// lp(T − 1, U, blank)). Backward β symmetrically from β(T − 1, U) = lp(T − 1, U, blank); β(0, 0) = −ℓ.</para>
/// <para><b>Gradient:</b> the share of the probability through each transition, e_blank(t, u) = exp(α(t, u) +
/// lp(t, u, blank) + β(t + 1, u) + ℓ) and e_label(t, u) = exp(α(t, u) + lp(t, u, y_{u+1}) + β(t, u + 1) + ℓ), and the
/// node's occupancy γ(t, u) = e_blank + e_label: ∂ℓ/∂logits(t, u, k) = γ(t, u)·p(t, u, k) − e_blank·[k = blank] −
/// e_label·[k = y_{u+1}] (through the log-softmax). Cells beyond a sequence's lengths get 0. With <c>clamp</c> &gt; 0 each
/// sequence's gradient is clamped to [−clamp, clamp] before the reduction scales it, as torchaudio does (then it is not
/// the value's derivative). α, β and the log-softmax are in double.</para>
/// <para><b>Against torchaudio:</b> <c>mean</c> is the batch mean (no division by the target lengths, unlike CTC). It
/// requires max(logit_lengths) = T and max(target_lengths) = U and int32 indices; here shorter lengths are allowed (the
/// rest is padding) and any integer type. It does not check its inputs: a target outside [0, V), a target equal to the
/// blank or a logit length of 0 give numbers there (read past the classes, or a loss of 0 with no frame); here each is a
/// typed error naming the sequence. It computes in float32 (float16 on GPU); this in double, rounded once.</para>
/// </remarks>
public sealed class RnntLoss : Loss, ILossDefinition
{
    private const string Name = "RnntLoss";
    private readonly Options _o;

    public RnntLoss() : this(new Options()) { }

    public RnntLoss(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (double.IsNaN(options.Clamp)) throw LossArgumentException.Value($"{Name}: clamp must be a number (≤ 0 turns it off), got NaN");
        _o = options;
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>The blank class; negative counts from the end (torchaudio's default −1, the last class).</summary>
        public int Blank { get; init; } = -1;

        /// <summary>&gt; 0: clamp each sequence's gradient to [−clamp, clamp] (torchaudio's); ≤ 0: off.</summary>
        public double Clamp { get; init; } = -1;
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        Shape ls = inputs["logits"].Shape;
        if (ls.Rank != 4 || ls[3] < 2) throw LossArgumentException.Shape($"{Name}: 'logits' must be (B, T, U + 1, V) with V ≥ 2 (labels and the blank), got {ls}");
        int batch = ls[0], frames = ls[1], width = ls[2], classes = ls[3];
        int blank = _o.Blank < 0 ? classes + _o.Blank : _o.Blank;
        if (blank < 0 || blank >= classes) throw LossArgumentException.Value($"{Name}: blank {_o.Blank} is not a class of logits with V = {classes}");
        Shape ts = inputs["targets"].Shape;
        if (ts.Rank != 2 || ts[0] != batch || ts[1] != width - 1)
            throw LossArgumentException.Shape($"{Name}: 'targets' has shape {ts}; expected (B, U) = ({batch}, {width - 1}) for logits {ls}");
        long[] logitLengths = Lengths(inputs, "logit_lengths", batch), targetLengths = Lengths(inputs, "target_lengths", batch);
        long[] targets = inputs.Indices("targets");
        var labelsOf = new int[batch][];
        for (int b = 0; b < batch; b++)
        {
            long tb = logitLengths[b], ub = targetLengths[b];
            if (tb < 1 || tb > frames) throw LossArgumentException.Value($"{Name}: logit_lengths[{b}] = {tb} is outside [1, {frames}] (a transducer emits its last blank on a frame; T = {frames})");
            if (ub < 0 || ub > width - 1) throw LossArgumentException.Value($"{Name}: target_lengths[{b}] = {ub} is outside [0, {width - 1}] (U of logits {ls})");
            var labels = labelsOf[b] = new int[ub];
            for (int u = 0; u < ub; u++)
            {
                long v = targets[b * (width - 1) + u];
                if (v < 0 || v >= classes || v == blank)
                    throw LossArgumentException.Value($"{Name}: target {v} of sequence {b} at position {u} must be a class in [0, {classes - 1}] other than the blank {blank}");
                labels[u] = (int)v;
            }
        }
        // The logits are read in their own type, a cell at a time (never copied whole to double: at B 8, T 500, U 100,
        // V 1024 that was 3.3 GB, and as much again for the gradient); the gradient is written in it, scaled once.
        T[] x = inputs["logits"].ToArray<T>();   // may be the tensor's own array: read only
        var losses = new double[batch];
        T[]? grad = computeGradients ? new T[x.Length] : null;
        double scale = Reducer.Reduce<double>(new double[batch], _o.Reduction, batch).Scale;
        long work = 0;
        for (int b = 0; b < batch; b++) work += logitLengths[b] * (targetLengths[b] + 1) * classes;
        int parts = work >= 1 << 20 && batch >= 2 ? Math.Min(Environment.ProcessorCount, batch) : 1;
        void Sequences(int from, int to)
        {
            var cell = new double[classes];
            var scratch = new double[classes];
            for (int b = from; b < to; b++)
            {
                var cells = new Cells<T>(x, grad, b * frames * width * classes, width, classes);
                losses[b] = Sequence(cells, (int)logitLengths[b], labelsOf[b], blank, grad is not null, _o.Clamp, scale, cell, scratch);
            }
        }
        // Sequences are independent (each one's arithmetic is the same wherever it runs; the reduction comes after).
        if (parts == 1) Sequences(0, batch);
        else Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, p => Sequences(batch * p / parts, batch * (p + 1) / parts));
        var (value, _) = ReduceRows<T>(losses, _o.Reduction, new Shape(batch));
        if (grad is null) return Result(value);
        return Result(value, ("logits", Wrap(grad, ls)));
    }

    /// <summary>One sequence's (T, U + 1, V) block of logits and of their gradient at an offset.</summary>
    private readonly record struct Cells<T>(T[] Logits, T[]? Grad, int Offset, int Width, int Classes) where T : struct, IFloatingPointIeee754<T>
    {
        public ReadOnlySpan<T> At(int t, int u) => Logits.AsSpan(Offset + (t * Width + u) * Classes, Classes);

        public Span<T> GradAt(int t, int u) => Grad.AsSpan(Offset + (t * Width + u) * Classes, Classes);
    }

    /// <summary>
    /// ℓ for one sequence of <paramref name="tb"/> frames and its labels, and its gradient cells (clamped, times the
    /// reduction's <paramref name="scale"/>) when asked. Each cell's log-softmax is kept as its maximum m and
    /// log Σ e^{x − m} (lp = (x − m) − that, as PyTorch takes it): the recursions read two entries a cell, the gradient
    /// recomputes e^{lp} from the logits, so no (T, U + 1, V) array in double is held.
    /// </summary>
    private static double Sequence<T>(Cells<T> logits, int tb, int[] labels, int blank, bool gradients, double clamp, double scale,
        double[] cell, double[] scratch) where T : struct, IFloatingPointIeee754<T>
    {
        int ub = labels.Length, w = ub + 1;
        var max = new double[tb * w];
        var logSum = new double[tb * w];
        for (int t = 0; t < tb; t++)
            for (int u = 0; u <= ub; u++)
            {
                TensorPrimitives.ConvertTruncating<T, double>(logits.At(t, u), cell);
                if (Stable.TryShiftedExp(cell, scratch, out double m, out _, out double ls)) (max[t * w + u], logSum[t * w + u]) = (m, ls);
                else logSum[t * w + u] = Stable.ShiftedLogSumExp<double>(cell, out max[t * w + u]);   // a NaN or infinite maximum: the scalar rules
            }
        double Lp(int t, int u, int k) => double.CreateTruncating(logits.At(t, u)[k]) - max[t * w + u] - logSum[t * w + u];
        double Blank(int t, int u) => Lp(t, u, blank);
        double Label(int t, int u) => Lp(t, u, labels[u]);
        var alpha = new double[tb * w];
        for (int t = 0; t < tb; t++)
            for (int u = 0; u <= ub; u++)
            {
                if (t == 0 && u == 0) continue;
                double fromAbove = t > 0 ? alpha[(t - 1) * w + u] + Blank(t - 1, u) : double.NegativeInfinity;
                double fromLeft = u > 0 ? alpha[t * w + u - 1] + Label(t, u - 1) : double.NegativeInfinity;
                alpha[t * w + u] = Stable.LogAddExp(fromAbove, fromLeft);
            }
        double loss = -(alpha[(tb - 1) * w + ub] + Blank(tb - 1, ub));
        if (!gradients) return loss;
        var beta = new double[tb * w];
        for (int t = tb - 1; t >= 0; t--)
            for (int u = ub; u >= 0; u--)
            {
                if (t == tb - 1 && u == ub) { beta[t * w + u] = Blank(t, u); continue; }
                double down = t < tb - 1 ? beta[(t + 1) * w + u] + Blank(t, u) : double.NegativeInfinity;
                double right = u < ub ? beta[t * w + u + 1] + Label(t, u) : double.NegativeInfinity;
                beta[t * w + u] = Stable.LogAddExp(down, right);
            }
        for (int t = 0; t < tb; t++)
            for (int u = 0; u <= ub; u++)
            {
                double a = alpha[t * w + u];
                // The flow through this node's blank (the last node's blank ends the path: β after it is 0) and label.
                double eBlank = t < tb - 1 ? Math.Exp(a + Blank(t, u) + beta[(t + 1) * w + u] + loss)
                    : u == ub ? Math.Exp(a + Blank(t, u) + loss) : 0;
                double eLabel = u < ub ? Math.Exp(a + Label(t, u) + beta[t * w + u + 1] + loss) : 0;
                double occupancy = eBlank + eLabel;
                // γ·e^{lp} for every class, then the two transitions taken off.
                TensorPrimitives.ConvertTruncating<T, double>(logits.At(t, u), cell);
                TensorPrimitives.Subtract<double>(cell, max[t * w + u], cell);
                TensorPrimitives.Subtract<double>(cell, logSum[t * w + u], cell);
                TensorPrimitives.Exp<double>(cell, cell);
                TensorPrimitives.Multiply<double>(cell, occupancy, cell);
                cell[blank] -= eBlank;
                if (u < ub) cell[labels[u]] -= eLabel;
                if (clamp > 0) { TensorPrimitives.Max<double>(cell, -clamp, cell); TensorPrimitives.Min<double>(cell, clamp, cell); }
                TensorPrimitives.Multiply<double>(cell, scale, cell);
                TensorPrimitives.ConvertTruncating<double, T>(cell, logits.GradAt(t, u));
            }
        return loss;
    }

    private static long[] Lengths(LossInputs inputs, string name, int batch)
    {
        TensorData t = inputs[name];
        if (t.Shape != new Shape(batch)) throw LossArgumentException.Shape($"{Name}: '{name}' has shape {t.Shape}; expected ({batch},), one per sequence");
        return inputs.Indices(name);
    }

    /// <summary>B sequences of T frames and targets of up to U labels, the first at full length (torchaudio's shape rule).</summary>
    private static LossInputs RandomBatch(Random r, Shape s)
    {
        Shape x = s.Rank == 4 ? s : new Shape(2, 3, 2, 3);   // 36 logits: small enough for the loss card's example
        int batch = x[0], frames = x[1], width = x[2], classes = x[3];
        long[] targets = [.. Enumerable.Range(0, batch * (width - 1)).Select(_ => (long)r.Next(0, classes - 1))];   // blank = the last class
        long[] logitLengths = [.. Enumerable.Range(0, batch).Select(b => b == 0 ? frames : (long)r.Next(1, frames + 1))];
        long[] targetLengths = [.. Enumerable.Range(0, batch).Select(b => b == 0 ? width - 1 : (long)r.Next(0, width))];
        return new LossInputs().Add("logits", Samples.Normal(r, x)).Add("targets", TensorData.FromArray(targets, batch, width - 1))
            .Add("logit_lengths", TensorData.FromArray(logitLengths, batch)).Add("target_lengths", TensorData.FromArray(targetLengths, batch));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["rnnt_loss", "RNNTLoss", "transducer_loss", "torchaudio.functional.rnnt_loss"],
        Family = LossFamily.Sequence,
        Task = LossTask.Sequence,
        Inputs =
        [
            new("logits", InputKind.Floating, true, "the joiner's output (B, T, U + 1, V), before the softmax"),
            new("targets", InputKind.Indices, false, "labels (B, U), padded"),
            new("logit_lengths", InputKind.Indices, false, "frames per sequence (B), in [1, T]"),
            new("target_lengths", InputKind.Indices, false, "labels per sequence (B), in [0, U]"),
        ],
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Int("blank", -1, "the blank class; negative counts from the end (−1: the last)"),
            OptionSpec.Float("clamp", -1, "> 0: clamp each sequence's gradient to [−clamp, clamp] (torchaudio's); ≤ 0 off"),
        ],
        Sample = RandomBatch,
        TrueGradientOptions = new Dictionary<string, object?> { ["clamp"] = -1.0 },
        Formula = "ℓ = −log Σ_{alignments of y to the T frames} Π p(t, u, ·)  (a blank moves to the next frame, a label to the next position)",
        Gradient = "∂ℓ/∂logits(t, u, k) = γ(t, u)·p_k − e_blank·[k = blank] − e_label·[k = y_{u+1}],  e the flow through each transition",
        Reference = "Graves, Sequence Transduction with Recurrent Neural Networks, 2012; torchaudio.functional.rnnt_loss",
        Stability = "log-space forward–backward in double: finite for every finite input",
        Libraries = "torchaudio, NVIDIA NeMo, k2 / icefall (rnnt_loss)",
        Factory = o => new RnntLoss(new Options
        {
            Reduction = o.Reduction,
            Blank = (int)Math.Clamp(o.Int("blank"), int.MinValue, int.MaxValue),
            Clamp = o.Float("clamp"),
        }),
    };

    public override LossDescriptor Descriptor => Entry;
}
