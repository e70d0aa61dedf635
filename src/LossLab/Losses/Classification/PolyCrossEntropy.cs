using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Poly-1 cross-entropy (Leng et al., 2022; Optax <c>poly_loss_cross_entropy(logits, labels, epsilon=2.0, where=None)</c>):
/// ℓ = −Σ_c t_c·log p_c + ε·Σ_c t_c(1 − p_c) with p = softmax(logits) over the last axis and t a probability
/// vector (one-hot or soft). ε = 0 is cross-entropy; ε &gt; 0 strengthens the gradient of the leading polynomial term.
/// For labels that sum to 1 the second term is ε(1 − p_t), the paper's form.
/// </summary>
/// <remarks>
/// Shapes: logits and labels (N, C) or (C). Derivation, with p_t = Σ t_c p_c and ∂p_c/∂x_j = p_c(δ_cj − p_j):
/// ∂ℓ/∂x_j = p_j·Σt − t_j − ε·p_j(t_j − p_t); ∂ℓ/∂t_c = −log p_c + ε(1 − p_c). <c>where</c> (Optax's mask) leaves
/// classes out of the softmax and the sums: they get p = 0 and no gradient, and a row with none left has loss 0. Optax
/// returns one value per row, so the default reduction is <c>none</c>. log p comes from a max-shifted log-softmax:
/// finite for every finite input.
/// </remarks>
public sealed class PolyCrossEntropy : Loss, ILossDefinition
{
    private readonly double _epsilon;
    private readonly Reduction _reduction;
    private readonly TensorData? _where;
    private readonly int[]? _axes;

    public PolyCrossEntropy(double epsilon = 2.0, Reduction reduction = Reduction.None, TensorData? where = null, int[]? axes = null)
    {
        if (!double.IsFinite(epsilon)) throw LossArgumentException.Value($"PolyCrossEntropy: epsilon must be finite, got {epsilon}");
        (_epsilon, _reduction, _where, _axes) = (epsilon, reduction, where, axes);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        if (OverAxes(_axes, inputs, "logits", "labels", _where, w => new PolyCrossEntropy(_epsilon, _reduction, w), computeGradients) is { } moved) return moved;
        Shape shape = inputs["logits"].Shape;
        if (shape.Rank == 0) throw LossArgumentException.Shape($"PolyCrossEntropy: 'logits' must have a class axis (…, C), got a scalar");
        RequireSameShape(inputs, "logits", "labels");
        Shape rowShape = shape.WithoutAxis(shape.Rank - 1);
        int c = shape[shape.Rank - 1], n = rowShape.Numel;
        T[] x = inputs.Floating<T>("logits"), t = inputs.Floating<T>("labels");
        T[] keep = ExactOption<T>(_where, "where", shape, "logits", mask: true) ?? [];
        T eps = T.CreateTruncating(_epsilon);
        var logp = new T[x.Length];
        var live = new bool[n];
        var loss = new T[n];
        for (int r = 0; r < n; r++)
        {
            ReadOnlySpan<T> mask = keep.Length == 0 ? default : keep.AsSpan(r * c, c);
            live[r] = Stable.MaskedLogSoftmax<T>(x.AsSpan(r * c, c), mask, logp.AsSpan(r * c, c));
            if (!live[r]) continue;
            T ce = T.Zero, poly = T.Zero;
            for (int k = 0; k < c; k++)
            {
                T tk = t[r * c + k], lpk = logp[r * c + k];
                bool masked = !mask.IsEmpty && mask[k] == T.Zero;
                if (tk == T.Zero || masked) continue;   // 0·log p = 0 even where p underflows; masked classes add nothing
                ce -= tk * lpk;
                poly -= tk * Stable.Expm1(lpk);   // 1 − p, its digits kept where p is near 1
            }
            loss[r] = ce + eps * poly;
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, _reduction, n);
        TensorData value = ValueTensor(_reduction, reduced, loss, rowShape);
        if (!computeGradients) return Result(value);
        var gx = new T[x.Length];
        var gt = new T[t.Length];
        T scale = T.CreateTruncating(reduced.Scale);
        for (int r = 0; r < n; r++)
        {
            if (!live[r]) continue;
            bool Kept(int k) => keep.Length == 0 || keep[r * c + k] != T.Zero;
            // q = Σ t(1 − p) by expm1, so that the one-hot target's p_y − 1 and 1 − p_y keep their digits when p_y is
            // near 1: p_j·Σt − t_j = t_j(p_j − 1) + p_j(Σt − t_j) and t_j − Σt·p = (t_j − Σt) + q.
            T tSum = T.Zero, q = T.Zero;
            for (int k = 0; k < c; k++)
            {
                if (!Kept(k)) continue;
                tSum += t[r * c + k];
                q -= t[r * c + k] * Stable.Expm1(logp[r * c + k]);
            }
            for (int j = 0; j < c; j++)
            {
                if (!Kept(j)) continue;
                int i = r * c + j;
                T pj = T.Exp(logp[i]);
                gx[i] = scale * (t[i] * Stable.Expm1(logp[i]) + pj * (tSum - t[i]) - eps * pj * ((t[i] - tSum) + q));
                gt[i] = scale * (-logp[i] - eps * Stable.Expm1(logp[i]));
            }
        }
        return Result(value, ("logits", Wrap(gx, shape)), ("labels", Wrap(gt, shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "PolyCrossEntropy",
        Aliases = ["poly_loss_cross_entropy", "optax.poly_loss_cross_entropy", "poly1"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("logits", InputKind.Floating, true, "logits (…, C)"),
            new("labels", InputKind.Floating, true, "probability vectors, same shape"),
        ],
        Options =
        [
            OptionSpec.Choice("reduction", "none", "none (Optax: one value per row), mean or sum", "none", "mean", "sum"),
            OptionSpec.Float("epsilon", 2.0, "coefficient of the first polynomial term (0 = cross-entropy)"),
            OptionSpec.Tensor("where", "1 for the classes to include, 0 for those to leave out (the logits' shape)"),
            AxisOption,
        ],
        Sample = (r, s) => { Shape x = Samples.Or(s, 4, 5); return new LossInputs().Add("logits", Samples.Normal(r, x, 2)).Add("labels", Samples.Simplex(r, x)); },
        Formula = "ℓ = −Σ t·log softmax(x) + ε·Σ t·(1 − softmax(x))",
        Gradient = "∂ℓ/∂x_j = p_j·Σt − t_j − ε·p_j(t_j − p_t)",
        Reference = "optax.losses.poly_loss_cross_entropy (Leng et al., PolyLoss, ICLR 2022)",
        Stability = "finite for every finite input (max-shifted log-softmax)",
        Libraries = "Optax",
        Factory = o => new PolyCrossEntropy(o.Float("epsilon"), o.Reduction, o.Tensor("where"), AxisGroups.Parse(o.Tensor("axis"))),
    };

    public override LossDescriptor Descriptor => Entry;
}
