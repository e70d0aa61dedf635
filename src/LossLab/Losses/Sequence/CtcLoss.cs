using System.Numerics.Tensors;
using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Sequence;

/// <summary>
/// Connectionist temporal classification: ℓ_b = −log Σ over all alignments of the target (with blanks and repeats
/// collapsed) of Π_t y_t(π_t), computed with the forward–backward algorithm in log space.
/// </summary>
/// <remarks>
/// <para>PyTorch <c>torch.nn.functional.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0,
/// reduction='mean', zero_infinity=False)</c> (Graves et al., 2006). Shapes (T = frames, N = batch, C = classes with
/// the blank, S = longest target): log_probs (T, N, C) or (T, C) unbatched; targets (N, S) padded, or 1-D concatenated
/// of length ≥ Σ target_lengths, or (S) unbatched; input_lengths and target_lengths (N), or 0-dim when unbatched.</para>
/// <para>With the extended label l' = (blank, l₁, blank, l₂, …, blank) of length 2L + 1:
/// α_t(s) = logΣ(α_{t−1}(s), α_{t−1}(s−1), α_{t−1}(s−2) if l'_s ≠ blank and l'_s ≠ l'_{s−2}) + lp_t(l'_s), and β
/// symmetrically; ℓ = −logΣ(α_{T−1}(2L), α_{T−1}(2L − 1)). Then Σ_{s: l'_s = c} α_t(s)β_t(s) = P·y_t(c)·∂P/∂y_t(c)/P…
/// so the true derivative is ∂ℓ/∂lp_t(c) = −exp(logΣ_{s: l'_s = c}(α_t(s) + β_t(s)) + ℓ − lp_t(c)).</para>
/// <para>Gradient convention: like PyTorch, the returned gradient is exp(lp) + the true derivative (the gradient
/// with respect to the logits when log_probs = log_softmax(logits)); <c>true_gradient</c> returns the true one.
/// Frames t ≥ input_length get 0. <c>mean</c> = mean_b(ℓ_b / max(L_b, 1)).</para>
/// <para>Infeasible alignments (T too short for the target and its repeats) give ℓ = +∞ and NaN gradients for
/// t &lt; input_length, as PyTorch; <c>zero_infinity</c> turns both into 0. input_length 0 gives 0 for an empty target,
/// else +∞. Never a hang or an exception for such inputs; α and β are kept in double.</para>
/// </remarks>
public sealed class CtcLoss : Loss, ILossDefinition
{
    private readonly Options _o;

    public CtcLoss() : this(new Options()) { }

    public CtcLoss(Options options)
    {
        if (options.Blank < 0) throw LossArgumentException.Value($"CtcLoss: blank must be ≥ 0, got {options.Blank}");
        _o = options;
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>Index of the blank class.</summary>
        public int Blank { get; init; }

        /// <summary>Replace infinite losses (infeasible alignments) and their gradients by 0.</summary>
        public bool ZeroInfinity { get; init; }

        /// <summary>Return the true ∂ℓ/∂log_probs instead of PyTorch's exp(lp) + ∂ℓ/∂log_probs.</summary>
        public bool TrueGradient { get; init; }
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        Shape lpShape = inputs["log_probs"].Shape;
        bool batched = lpShape.Rank == 3;
        if (!(lpShape.Rank is 2 or 3)) throw LossArgumentException.Shape($"CtcLoss: 'log_probs' must be (T, N, C) or (T, C), got {lpShape}");
        int frames = lpShape[0], n = batched ? lpShape[1] : 1, c = lpShape[lpShape.Rank - 1];
        if (_o.Blank >= c) throw LossArgumentException.Value($"CtcLoss: blank {_o.Blank} is not a class of log_probs with C = {c}");
        long[] inputLengths = Lengths(inputs, "input_lengths", n, batched);
        long[] targetLengths = Lengths(inputs, "target_lengths", n, batched);
        int[][] labels = Labels(inputs, targetLengths, n, c, batched);
        for (int b = 0; b < n; b++)
            if (inputLengths[b] < 0 || inputLengths[b] > frames) throw LossArgumentException.Value($"CtcLoss: input_lengths[{b}] = {inputLengths[b]} is outside [0, {frames}] (T of log_probs)");
        // Reduction: mean = mean_b(ℓ_b / max(L_b, 1)); the per-sample factor goes into each sample's gradient.
        var perSample = new double[n];
        for (int b = 0; b < n; b++) perSample[b] = _o.Reduction == Reduction.Mean ? 1.0 / (n * Math.Max(targetLengths[b], 1)) : 1.0;

        // One sample at a time: its frames (T, C) in double, and its gradient rows, written into the (T, N, C) result
        // with the sample's factor. The whole (T, N, C) in double was 1.3 GB at T = 1000, N = 32, C = 5000. Without
        // gradients only the label's classes are read. Samples are independent: large batches split them between the
        // cores (each sample's arithmetic is the same wherever it runs; the reduction comes after, in sample order).
        T[] lp = inputs["log_probs"].ToArray<T>();   // may be the tensor's own array: read only
        var losses = new double[n];
        T[]? g = computeGradients ? new T[lp.Length] : null;   // rows t ≥ input length stay 0
        long work = 0;
        for (int b = 0; b < n; b++) work += inputLengths[b] * (2L * labels[b].Length + 1 + (computeGradients ? c : 0));
        int parts = work >= 1 << 20 && n >= 2 ? Math.Min(Environment.ProcessorCount, n) : 1;
        void Samples(int from, int to)
        {
            var sampleLp = new double[frames * c];
            double[]? sampleGrad = g is null ? null : new double[frames * c];
            for (int b = from; b < to; b++)
            {
                int tb = (int)inputLengths[b];
                if (g is not null)
                {
                    for (int t = 0; t < tb; t++) TensorPrimitives.ConvertTruncating<T, double>(lp.AsSpan((t * n + b) * c, c), sampleLp.AsSpan(t * c, c));
                }
                else
                {
                    // The forward pass reads lp[t, k] only for the blank and the label's classes.
                    for (int t = 0; t < tb; t++)
                    {
                        sampleLp[t * c + _o.Blank] = double.CreateTruncating(lp[(t * n + b) * c + _o.Blank]);
                        foreach (int k in labels[b]) sampleLp[t * c + k] = double.CreateTruncating(lp[(t * n + b) * c + k]);
                    }
                }
                losses[b] = ForwardBackward(new Frames(sampleLp, 0, c, c), tb, labels[b], _o.Blank, sampleGrad is null ? null : new Frames(sampleGrad, 0, c, c), _o.TrueGradient);
                if (double.IsPositiveInfinity(losses[b]) && _o.ZeroInfinity)
                {
                    losses[b] = 0;
                    continue;   // its gradient rows stay 0
                }
                if (g is null || sampleGrad is null) continue;
                for (int t = 0; t < tb; t++)
                {
                    Span<double> row = sampleGrad.AsSpan(t * c, c);
                    TensorPrimitives.Multiply<double>(row, perSample[b], row);
                    TensorPrimitives.ConvertTruncating<double, T>(row, g.AsSpan((t * n + b) * c, c));
                }
            }
        }
        if (parts == 1) Samples(0, n);
        else Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, p => Samples(n * p / parts, n * (p + 1) / parts));
        double reducedValue = _o.Reduction switch
        {
            Reduction.Mean => Enumerable.Range(0, n).Sum(b => losses[b] * perSample[b]),
            Reduction.Sum => losses.Sum(),
            _ => double.NaN,
        };
        if (_o.Reduction == Reduction.Mean && n == 0) reducedValue = double.NaN;
        TensorData value = _o.Reduction == Reduction.None
            ? Wrap(losses.Select(T.CreateTruncating).ToArray(), batched ? new Shape(n) : Shape.Scalar)
            : Wrap(new[] { T.CreateTruncating(reducedValue) }, Shape.Scalar);
        if (g is null) return Result(value);
        return Result(value, ("log_probs", Wrap(g, lpShape)));
    }

    /// <summary>Rows of one sample in the (T, N, C) layout: frame t starts at offset + t·stride.</summary>
    internal readonly record struct Frames(double[] Data, int Offset, int Stride, int Classes)
    {
        public Span<double> Row(int t) => Data.AsSpan(Offset + t * Stride, Classes);

        public double this[int t, int k] => Data[Offset + t * Stride + k];
    }

    /// <summary>
    /// ℓ = −log P for one sample and, when <paramref name="grad"/> is given, its gradient rows for t &lt; tb (already
    /// zero for t ≥ tb). Alignments are restricted to the feasible window s ∈ [S' − 2(tb − t), 2t + 1].
    /// </summary>
    internal static double ForwardBackward(Frames lp, int tb, int[] label, int blank, Frames? grad, bool trueGradient)
    {
        int sLen = 2 * label.Length + 1;
        if (tb == 0) return label.Length == 0 ? 0 : double.PositiveInfinity;
        int Ext(int s) => s % 2 == 0 ? blank : label[s / 2];
        bool CanSkip(int s) => s >= 2 && s % 2 == 1 && Ext(s) != Ext(s - 2);

        var alpha = new double[tb * sLen];
        var beta = new double[tb * sLen];
        Array.Fill(alpha, double.NegativeInfinity);
        Array.Fill(beta, double.NegativeInfinity);
        alpha[0] = lp[0, blank];
        if (sLen > 1) alpha[1] = lp[0, Ext(1)];
        for (int t = 1; t < tb; t++)
        {
            int lo = Math.Max(0, sLen - 2 * (tb - t)), hi = Math.Min(sLen - 1, 2 * t + 1);
            for (int s = lo; s <= hi; s++)
            {
                int prev = (t - 1) * sLen;
                double a = alpha[prev + s];
                if (s >= 1) a = Stable.LogAddExp(a, alpha[prev + s - 1]);
                if (CanSkip(s)) a = Stable.LogAddExp(a, alpha[prev + s - 2]);
                alpha[t * sLen + s] = a + lp[t, Ext(s)];
            }
        }
        int last = (tb - 1) * sLen;
        double logP = Stable.LogAddExp(alpha[last + sLen - 1], sLen > 1 ? alpha[last + sLen - 2] : double.NegativeInfinity);
        double nll = -logP;
        if (grad is not Frames g) return nll;

        beta[last + sLen - 1] = lp[tb - 1, Ext(sLen - 1)];
        if (sLen > 1) beta[last + sLen - 2] = lp[tb - 1, Ext(sLen - 2)];
        for (int t = tb - 2; t >= 0; t--)
        {
            int lo = Math.Max(0, sLen - 2 * (tb - t)), hi = Math.Min(sLen - 1, 2 * t + 1);
            for (int s = lo; s <= hi; s++)
            {
                int next = (t + 1) * sLen;
                double v = beta[next + s];
                if (s + 1 < sLen) v = Stable.LogAddExp(v, beta[next + s + 1]);
                if (s + 2 < sLen && CanSkip(s + 2)) v = Stable.LogAddExp(v, beta[next + s + 2]);
                beta[t * sLen + s] = v + lp[t, Ext(s)];
            }
        }
        // The classes of the extended label (at most S + 1 distinct) and each position's slot among them: only they have
        // an occupancy; every other class's gradient is e^{lp} (0 for the true gradient), taken for the whole row on
        // vectors. Per class and frame: e^{lp} − e^{log Σ_{s: l'_s = k} α_t(s)β_t(s) + nll − lp}.
        var distinct = new List<int>();
        var slot = new int[sLen];
        for (int s = 0; s < sLen; s++)
        {
            int at = distinct.IndexOf(Ext(s));
            if (at < 0) { at = distinct.Count; distinct.Add(Ext(s)); }
            slot[s] = at;
        }
        var acc = new double[distinct.Count];
        for (int t = 0; t < tb; t++)
        {
            Span<double> row = g.Row(t);
            Array.Fill(acc, double.NegativeInfinity);
            for (int s = 0; s < sLen; s++) acc[slot[s]] = Stable.LogAddExp(acc[slot[s]], alpha[t * sLen + s] + beta[t * sLen + s]);
            if (!double.IsFinite(nll))
            {
                // An infeasible alignment (nll = ∞): every class's term as PyTorch takes it, e^{−∞ + ∞} = NaN outside the
                // label (its zero_infinity exists for this), −∞ or NaN inside; a NaN input likewise.
                for (int k = 0; k < row.Length; k++)
                {
                    int at = distinct.IndexOf(k);
                    double lpk = lp[t, k], occupancy = Math.Exp((at < 0 ? double.NegativeInfinity : acc[at]) + nll - lpk);
                    row[k] = trueGradient ? -occupancy : Math.Exp(lpk) - occupancy;
                }
                continue;
            }
            if (trueGradient) row.Clear();
            else TensorPrimitives.Exp<double>(lp.Row(t), row);
            for (int q = 0; q < acc.Length; q++)
            {
                int k = distinct[q];
                double lpk = lp[t, k];
                double occupancy = Math.Exp(acc[q] + nll - lpk);
                row[k] = trueGradient ? -occupancy : Math.Exp(lpk) - occupancy;
            }
        }
        return nll;
    }

    /// <summary>
    /// Random feasible inputs for a (T, N, C) shape (default (12, 3, 5)): log-softmaxed scores, padded targets of
    /// length up to T/3 that never contain the blank 0, input lengths T − b.
    /// </summary>
    private static LossInputs RandomBatch(Random r, Shape s)
    {
        Shape x = s.Rank == 3 ? s : new Shape(12, 3, 5);
        int frames = x[0], n = x[1], c = x[2], width = Math.Max(1, frames / 3);
        long[] targetLengths = Enumerable.Range(0, n).Select(_ => (long)r.Next(1, width + 1)).ToArray();
        long[] targets = Enumerable.Range(0, n * width).Select(_ => (long)r.Next(1, Math.Max(c, 2))).ToArray();
        long[] inputLengths = Enumerable.Range(0, n).Select(b => (long)Math.Max(frames - b, 2 * width + 1)).Select(v => Math.Min(v, frames)).ToArray();
        return new LossInputs().Add("log_probs", Samples.Simplex(r, x, log: true)).Add("targets", TensorData.FromArray(targets, n, width))
            .Add("input_lengths", TensorData.FromArray(inputLengths, n)).Add("target_lengths", TensorData.FromArray(targetLengths, n));
    }

    private static long[] Lengths(LossInputs inputs, string name, int n, bool batched)
    {
        TensorData t = inputs[name];
        bool ok = batched ? t.Shape == new Shape(n) : t.Length == 1 && t.Shape.Rank <= 1;
        if (!ok) throw LossArgumentException.Shape($"CtcLoss: '{name}' has shape {t.Shape}; expected {(batched ? $"({n},), one per sample" : "() for an unbatched input")}");
        return inputs.Indices(name);
    }

    private int[][] Labels(LossInputs inputs, long[] targetLengths, int n, int c, bool batched)
    {
        TensorData t = inputs["targets"];
        long[] flat = inputs.Indices("targets");
        bool concatenated = batched && t.Shape.Rank == 1;
        bool padded = batched ? t.Shape.Rank == 2 && t.Shape[0] == n : t.Shape.Rank == 1;
        if (!concatenated && !padded)
        {
            throw LossArgumentException.Shape($"CtcLoss: 'targets' has shape {t.Shape}; expected (N, S) = ({n}, S) padded, or 1-D concatenated" + (batched ? "" : ", or (S) unbatched"));
        }
        int width = concatenated ? 0 : t.Shape[t.Shape.Rank - 1];
        long total = 0;
        var labels = new int[n][];
        for (int b = 0; b < n; b++)
        {
            long len = targetLengths[b];
            long start = concatenated ? total : (long)b * width;
            if (len < 0 || (!concatenated && len > width))
            {
                throw LossArgumentException.Value($"CtcLoss: target_lengths[{b}] = {len} is outside [0, {width}] (the padded target width)");
            }
            total += len;
            if (concatenated && total > flat.Length)
            {
                throw LossArgumentException.Shape($"CtcLoss: concatenated 'targets' has {flat.Length} labels but target_lengths add up to at least {total}");
            }
            labels[b] = new int[len];
            for (int k = 0; k < len; k++)
            {
                long v = flat[start + k];
                if (v < 0 || v >= c || v == _o.Blank)
                {
                    throw LossArgumentException.Value($"CtcLoss: target {v} of sample {b} at position {k} must be a class in [0, {c - 1}] other than the blank {_o.Blank}");
                }
                labels[b][k] = (int)v;
            }
        }
        return labels;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "CtcLoss",
        Aliases = ["ctc_loss", "CTCLoss", "ctc"],
        Family = LossFamily.Sequence,
        Task = LossTask.Sequence,
        Inputs =
        [
            new("log_probs", InputKind.Floating, true, "log-softmaxed scores (T, N, C) or (T, C)") { AcceptsNegativeInfinity = true },
            new("targets", InputKind.Indices, false, "labels (N, S) padded, concatenated 1-D, or (S)"),
            new("input_lengths", InputKind.Indices, false, "frames used per sample (N) or ()"),
            new("target_lengths", InputKind.Indices, false, "target length per sample (N) or ()"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Int("blank", 0, "index of the blank class"),
            OptionSpec.Bool("zero_infinity", false, "replace infinite losses and their gradients by 0"),
            OptionSpec.Bool("true_gradient", false, "LossLab: return the true ∂ℓ/∂log_probs instead of PyTorch's exp(lp) + ∂ℓ/∂log_probs"),
        ],
        Sample = RandomBatch,
        TrueGradientOptions = new Dictionary<string, object?> { ["true_gradient"] = true },
        Formula = "ℓ = −log Σ_{alignments π of the target} Π_t y_t(π_t)",
        Gradient = "∂ℓ/∂lp_t(c) = −exp(logΣ_{s: l'_s = c} α_t(s)β_t(s) + ℓ − lp_t(c)) (+ exp(lp) in PyTorch's convention)",
        Reference = "torch.nn.functional.ctc_loss (Graves et al., 2006)",
        Stability = "log-space forward–backward in double: finite for any feasible alignment; infeasible gives +∞ (0 with zero_infinity)",
        Libraries = "PyTorch, TorchSharp, Keras (CTC), Optax (ctc_loss)",
        Factory = o => new CtcLoss(new Options
        {
            Reduction = o.Reduction,
            Blank = (int)Math.Clamp(o.Int("blank"), -1, int.MaxValue),
            ZeroInfinity = o.Bool("zero_infinity"),
            TrueGradient = o.Bool("true_gradient"),
        }),
    };

    public override LossDescriptor Descriptor => Entry;
}
