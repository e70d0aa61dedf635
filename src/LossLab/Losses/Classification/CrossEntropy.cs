using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Softmax cross-entropy of logits against class indices or class probabilities, with class weights,
/// <c>ignore_index</c> and label smoothing, exactly as PyTorch's <c>cross_entropy</c>.
/// </summary>
/// <remarks>
/// <para>Shapes (C = classes, class dim 1): input (C) with target () unbatched, (N, C) with (N), or (N, C, d1..dk) with
/// (N, d1..dk). A floating target with the input's shape holds probabilities.</para>
/// <para>Class indices, p = softmax(x), log p_c = x_c − logsumexp(x), W = Σ_c w_c:
/// ℓ = (1 − ε)·(−w_y log p_y) + (ε/C)·(−Σ_c w_c log p_c); rows with y = ignore_index give 0 and are not counted.
/// <c>mean</c> divides BOTH terms by Σ w_y over non-ignored rows (pytorch#104776: the smoothing term is weighted by
/// w_c, not w_y); all rows ignored gives 0/0 = NaN with zero gradients (pytorch#70348).
/// Gradient: ∂ℓ/∂x_j = (1 − ε)·w_y(p_j − [j = y]) + (ε/C)(W·p_j − w_j).</para>
/// <para>Probabilities: t' = (1 − ε)t + ε/C, ℓ = −Σ_c w_c t'_c log p_c, <c>mean</c> divides by the number of rows
/// (not by weights, pytorch#107680); ∂ℓ/∂x_j = (Σ_c w_c t'_c)·p_j − w_j t'_j, ∂ℓ/∂t_j = −(1 − ε)·w_j log p_j.
/// ignore_index must be negative there.</para>
/// <para>z-loss (not in PyTorch; Liger-Kernel's lse_square_scale): each counted row adds s·lse(x)², unweighted; with
/// class weights, <c>mean</c> divides it by the counted rows while the cross-entropy is divided by Σ w_y, as Liger does.</para>
/// <para>Stability: log-softmax with the row maximum subtracted and the sum in double: finite for logits up to ±1e4
/// and beyond (any finite logits).</para>
/// </remarks>
public sealed class CrossEntropy : Loss, ILossDefinition
{
    private readonly Options _o;

    public CrossEntropy() : this(new Options()) { }

    public CrossEntropy(Options options)
    {
        if (!(options.LabelSmoothing >= 0 && options.LabelSmoothing <= 1))
        {
            throw LossArgumentException.Value($"CrossEntropy: label_smoothing must be in [0, 1], got {options.LabelSmoothing}");
        }
        if (!(options.ZLoss >= 0) || !double.IsFinite(options.ZLoss))
            throw LossArgumentException.Value($"CrossEntropy: z_loss must be a finite number ≥ 0, got {options.ZLoss}");
        _o = options;
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>One weight per class, shape (C).</summary>
        public TensorData? Weight { get; init; }

        /// <summary>Rows whose target equals this are skipped (index targets only).</summary>
        public long IgnoreIndex { get; init; } = -100;

        /// <summary>ε in [0, 1]: the target becomes (1 − ε)·onehot + ε/C.</summary>
        public double LabelSmoothing { get; init; }

        /// <summary>
        /// z-loss scale s ≥ 0 (PaLM; Liger's lse_square_scale): each counted row adds s·lse(x)², which keeps the
        /// logits' normalizer near 0. Not a PyTorch option; 0 (the default) is exactly PyTorch's cross_entropy.
        /// </summary>
        public double ZLoss { get; init; }
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        Shape shape = inputs["input"].Shape;
        var layout = ClassLayout.Of("CrossEntropy", shape);
        T[] x = inputs.Floating<T>("input");
        T[]? w = layout.ClassWeights<T>("CrossEntropy", _o.Weight);
        if (inputs["target"].Shape == shape)
        {
            if (_o.IgnoreIndex >= 0)
            {
                throw LossArgumentException.Value($"CrossEntropy: ignore_index {_o.IgnoreIndex} is not supported with probability targets (it must be negative)");
            }
            return ProbabilityTargets(layout, x, inputs.Floating<T>("target"), w, shape, computeGradients);
        }
        layout.RequireIndexTarget("CrossEntropy", shape, inputs["target"].Shape);
        return IndexTargets(layout, x, inputs.Indices("target"), w, shape, computeGradients);
    }

    private LossResult IndexTargets<T>(ClassLayout L, T[] x, long[] target, T[]? w, Shape shape, bool computeGradients)
        where T : struct, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && L.S == 1 && _o.IgnoreIndex is >= int.MinValue and <= int.MaxValue)
        {
            return IndexTargetsFused(L, (float[])(object)x, target, (float[]?)(object?)w, shape, computeGradients);
        }
        T eps = T.CreateTruncating(_o.LabelSmoothing), z = T.CreateTruncating(MeanZLoss(target, w));
        T epsOverC = eps / T.CreateTruncating(L.C);
        var loss = new T[L.Rows];
        var (max, logSum) = (new T[L.Rows], new T[L.Rows]);   // log p_c = (x_c − max) − logSum, as PyTorch rounds it
        double denominator = 0;
        for (int r = 0; r < L.Rows; r++)
        {
            long t = target[r];
            L.CheckIndex("CrossEntropy", t, _o.IgnoreIndex, r);
            if (t == _o.IgnoreIndex) continue;
            int o = L.Offset(r);
            logSum[r] = RowLogSumExp(x, o, L.C, L.S, out max[r]);
            T wy = w is null ? T.One : w[t];
            T nll = -wy * (x[o + (int)t * L.S] - max[r] - logSum[r]);
            T smooth = T.Zero;
            if (eps != T.Zero)
            {
                for (int c = 0; c < L.C; c++) smooth -= (w is null ? T.One : w[c]) * (x[o + c * L.S] - max[r] - logSum[r]);
            }
            T lse = max[r] + logSum[r];
            loss[r] = (T.One - eps) * nll + epsOverC * smooth + z * lse * lse;
            denominator += double.CreateTruncating(wy);
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, _o.Reduction, denominator);
        TensorData value = ValueTensor(_o.Reduction, reduced, loss, L.RowShape);
        if (!computeGradients) return Result(value);

        var grad = new T[x.Length];
        T scale = T.CreateTruncating(reduced.Scale);
        T wSum = T.Zero;
        for (int c = 0; c < L.C; c++) wSum += w is null ? T.One : w[c];
        for (int r = 0; r < L.Rows; r++)
        {
            long t = target[r];
            if (t == _o.IgnoreIndex) continue;   // masked rows keep an exact 0, even when scale is infinite
            int o = L.Offset(r);
            T wy = w is null ? T.One : w[t], lse = max[r] + logSum[r];
            for (int c = 0; c < L.C; c++)
            {
                int i = o + c * L.S;
                T logp = x[i] - max[r] - logSum[r], p = T.Exp(logp);
                // p_t − 1 as expm1(log p_t): near 1, p − 1 keeps no digit of a confident row's −Σ_{c≠t} p_c.
                T g = (T.One - eps) * wy * (c == t ? Stable.Expm1(logp) : p);
                if (eps != T.Zero) g += epsOverC * (wSum * p - (w is null ? T.One : w[c]));
                g += (z + z) * lse * p;   // ∂(s·lse²)/∂x_c = 2s·lse·p_c
                grad[i] = scale * g;
            }
        }
        return Result(value, ("input", Wrap(grad, shape)));
    }

    /// <summary>
    /// The z-loss scale to give every counted row so that <c>mean</c> divides the z-loss by the counted rows, not by
    /// Σ w_y as the weighted cross-entropy: Liger-Kernel's rule (its z-loss is not weighted). Both terms share the
    /// denominator Σ w_y in the reduction, so the scale is s·Σw_y/count; without class weights, or for another
    /// reduction, it is s.
    /// </summary>
    private double MeanZLoss<T>(long[] target, T[]? w) where T : struct, IFloatingPointIeee754<T>
    {
        if (_o.ZLoss == 0 || w is null || _o.Reduction != Reduction.Mean) return _o.ZLoss;
        double weights = 0;
        int count = 0;
        foreach (long t in target)
        {
            if (t == _o.IgnoreIndex || t < 0 || t >= w.Length) continue;   // out-of-range targets are named by the row check
            weights += double.CreateTruncating(w[t]);
            count++;
        }
        return count > 0 && weights != 0 ? _o.ZLoss * weights / count : _o.ZLoss;
    }

    /// <summary>
    /// float32 logits (N, C) or (C): the SIMD <see cref="Fused.FusedCrossEntropy"/> kernel (one pass over memory for
    /// value and gradient), same semantics; tested against the generic path below.
    /// </summary>
    private LossResult IndexTargetsFused(ClassLayout L, float[] x, long[] target, float[]? w, Shape shape, bool computeGradients)
    {
        var t = new int[L.Rows];
        for (int r = 0; r < t.Length; r++)
        {
            L.CheckIndex("CrossEntropy", target[r], _o.IgnoreIndex, r);
            t[r] = (int)target[r];
        }
        float[] grad = computeGradients ? new float[x.Length] : [];
        bool none = _o.Reduction == Reduction.None;
        float[] rows = none ? new float[L.Rows] : [];
        double value = Fused.FusedCrossEntropy.Compute(x, t, L.C, grad, _o.Reduction, w ?? default(ReadOnlySpan<float>), (int)_o.IgnoreIndex,
            (float)_o.LabelSmoothing, (float)_o.ZLoss, rows);   // the kernel applies the weighted mean's z-loss rule itself
        TensorData v = none ? Wrap(rows, L.RowShape) : Wrap(new[] { (float)value }, Shape.Scalar);
        return computeGradients ? Result(v, ("input", Wrap(grad, shape))) : Result(v);
    }

    private LossResult ProbabilityTargets<T>(ClassLayout L, T[] x, T[] target, T[]? w, Shape shape, bool computeGradients)
        where T : struct, IFloatingPointIeee754<T>
    {
        T eps = T.CreateTruncating(_o.LabelSmoothing), z = T.CreateTruncating(_o.ZLoss);
        T epsOverC = eps / T.CreateTruncating(L.C);
        var loss = new T[L.Rows];
        var (max, logSum) = (new T[L.Rows], new T[L.Rows]);
        for (int r = 0; r < L.Rows; r++)
        {
            int o = L.Offset(r);
            logSum[r] = RowLogSumExp(x, o, L.C, L.S, out max[r]);
            T sum = T.Zero;
            for (int c = 0; c < L.C; c++)
            {
                int i = o + c * L.S;
                T ts = (T.One - eps) * target[i] + epsOverC;
                sum -= (w is null ? T.One : w[c]) * ts * (x[i] - max[r] - logSum[r]);
            }
            T lse = max[r] + logSum[r];
            loss[r] = sum + z * lse * lse;
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, _o.Reduction, L.Rows);
        TensorData value = ValueTensor(_o.Reduction, reduced, loss, L.RowShape);
        if (!computeGradients) return Result(value);

        var gx = new T[x.Length];
        var gt = new T[x.Length];
        T scale = T.CreateTruncating(reduced.Scale);
        for (int r = 0; r < L.Rows; r++)
        {
            int o = L.Offset(r);
            T mass = T.Zero, lse = max[r] + logSum[r];   // Σ_c w_c t'_c
            for (int c = 0; c < L.C; c++) mass += (w is null ? T.One : w[c]) * ((T.One - eps) * target[o + c * L.S] + epsOverC);
            for (int c = 0; c < L.C; c++)
            {
                int i = o + c * L.S;
                T wc = w is null ? T.One : w[c];
                T logp = x[i] - max[r] - logSum[r];
                T ts = (T.One - eps) * target[i] + epsOverC;
                gx[i] = scale * ((mass + (z + z) * lse) * T.Exp(logp) - wc * ts);
                gt[i] = scale * -(T.One - eps) * wc * logp;
            }
        }
        return Result(value, ("input", Wrap(gx, shape)), ("target", Wrap(gt, shape)));
    }

    /// <summary>
    /// Cross-entropy on another loss's behalf (the logit-adjusted loss and LDAM at their shifted logits): its errors are
    /// reported under <paramref name="loss"/>'s name.
    /// </summary>
    internal LossResult EvaluateFor(string loss, LossInputs inputs, bool computeGradients)
    {
        try
        {
            return Evaluate(inputs, computeGradients);
        }
        catch (LossArgumentException e) when (e.Message.StartsWith("CrossEntropy: ", StringComparison.Ordinal))
        {
            throw new LossArgumentException(e.Code, $"{loss}: " + e.Message["CrossEntropy: ".Length..]);
        }
    }

    /// <summary>The row's maximum and log Σ exp(x − max) over its C values spaced by <paramref name="stride"/>.</summary>
    internal static T RowLogSumExp<T>(T[] x, int offset, int classes, int stride, out T max) where T : struct, IFloatingPointIeee754<T>
        => Stable.ShiftedLogSumExp<T>(x.AsSpan(offset), classes, stride, out max);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "CrossEntropy",
        Aliases = ["cross_entropy", "CrossEntropyLoss", "softmax_cross_entropy", "softmax_cross_entropy_with_integer_labels", "ce"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("input", InputKind.Floating, true, "logits (C), (N, C) or (N, C, d1..dk)"),
            new("target", InputKind.IndicesOrFloating, true, "class indices (N, d1..dk), or probabilities with the input's shape"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Tensor("weight", "one weight per class, shape (C)"),
            OptionSpec.Int("ignore_index", -100, "target value whose rows are skipped (index targets)"),
            OptionSpec.Float("label_smoothing", 0.0, "ε in [0, 1]: target → (1 − ε)·onehot + ε/C"),
            OptionSpec.Float("z_loss", 0.0, "s ≥ 0: add s·lse(x)² per counted row (PaLM z-loss; not in PyTorch)"),
        ],
        Sample = (r, s) => { Shape x = Samples.Or(s, 4, 5); return new LossInputs().Add("input", Samples.Normal(r, x, 2)).Add("target", Samples.Classes(r, x.Rank == 1 ? Shape.Scalar : x.WithoutAxis(1), x[x.Rank == 1 ? 0 : 1])); },
        Formula = "ℓ = −Σ_c w_c·t'_c·log softmax(x)_c + s·lse(x)²,  t' = (1 − ε)·onehot(y) + ε/C",
        Gradient = "∂ℓ/∂x_j = (1 − ε)·w_y(p_j − [j = y]) + (ε/C)(Σw·p_j − w_j) + 2s·lse·p_j",
        Reference = "torch.nn.functional.cross_entropy",
        Stability = "finite for any finite logits (max-shifted log-softmax)",
        Libraries = "PyTorch, TorchSharp, Keras (CategoricalCrossentropy, SparseCategoricalCrossentropy), Optax (softmax_cross_entropy)",
        Factory = o => new CrossEntropy(new Options
        {
            Reduction = o.Reduction,
            Weight = o.Tensor("weight"),
            IgnoreIndex = o.Int("ignore_index"),
            LabelSmoothing = o.Float("label_smoothing"),
            ZLoss = o.Float("z_loss"),
        }),
    };

    public override LossDescriptor Descriptor => Entry;
}
