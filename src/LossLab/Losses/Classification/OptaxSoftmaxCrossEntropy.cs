using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Optax's softmax cross-entropy with probability labels, one value per row (<c>softmax_cross_entropy(logits, labels,
/// where=None)</c> and <c>safe_softmax_cross_entropy(logits, labels)</c>): ℓ = −Σ_c t_c·log softmax(x)_c over the last
/// axis, where a −∞ logit with a zero label adds 0 (0·log 0 = 0), so that masked-out classes can be given as −∞.
/// </summary>
/// <remarks>
/// <para>Derivation: with p the softmax over the finite (and kept) logits and S = Σ t, ∂ℓ/∂x_j = S·p_j − t_j, and
/// ∂ℓ/∂t_j = −log p_j (+∞ at a −∞ logit, its limit). <c>where</c> leaves classes out of the softmax and the sum, as
/// Optax's; a row with nothing left has loss 0.</para>
/// <para>A positive label on a −∞ logit would make the loss +∞, and a row of only −∞ logits has no softmax: both are
/// errors naming the row. Optax returns ∞ and NaN, and its plain <c>softmax_cross_entropy</c> returns NaN for every
/// −∞ logit (this is its <c>safe_</c> variant's rule for both). Log-softmax is (x − max) − log Σ exp(x − max) in
/// double. Default reduction <c>none</c> (Optax).</para>
/// </remarks>
public sealed class OptaxSoftmaxCrossEntropy(Reduction reduction = Reduction.None, TensorData? where = null, int[]? axes = null) : Loss, ILossDefinition
{
    public Reduction Reduction { get; } = reduction;

    /// <summary>The class axis or axes (Optax's <c>axis</c>); null is the last.</summary>
    public int[]? Axes { get; } = axes;

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        string name = Entry.Name;
        if (OverAxes(Axes, inputs, "logits", "labels", where, w => new OptaxSoftmaxCrossEntropy(Reduction, w), computeGradients) is { } moved) return moved;
        RequireSameShape(inputs, "logits", "labels");
        Shape shape = inputs["logits"].Shape;
        if (shape.Rank == 0) throw LossArgumentException.Shape($"{name}: 'logits' must have a class axis (…, C), got a scalar");
        double[] x = inputs.Floating<double>("logits"), t = inputs.Floating<double>("labels");
        double[]? keep = ExactOption<double>(where, "where", shape, "logits", mask: true);
        bool Kept(int j) => keep is null || keep[j] != 0;
        int c = shape[-1];
        Shape rowShape = shape.WithoutAxis(shape.Rank - 1);
        int rows = rowShape.Numel;
        var logp = new double[x.Length];   // −∞ for −∞ logits and for masked classes
        var loss = new T[rows];
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<double> rowKeep = keep is null ? default : keep.AsSpan(r * c, c);
            if (rowKeep.IsEmpty ? c == 0 : !rowKeep.ContainsAnyExcept(0.0)) continue;   // nothing kept: loss 0
            if (!Stable.MaskedLogSoftmax<double>(x.AsSpan(r * c, c), rowKeep, logp.AsSpan(r * c, c)))
                throw LossArgumentException.Value($"{name}: row {r} has only −∞ logits, so its softmax is 0/0");
            double value = 0;
            for (int j = r * c; j < (r + 1) * c; j++)
            {
                if (!Kept(j) || t[j] == 0) continue;   // masked, or 0·log p = 0 (also at p = 0)
                if (double.IsNegativeInfinity(logp[j])) throw LossArgumentException.Value($"{name}: labels[{j}] = {t[j]} is positive but its logit is −∞, so the loss is +∞");
                value -= t[j] * logp[j];
            }
            loss[r] = T.CreateTruncating(value);
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, Reduction, rows);
        TensorData result = ValueTensor(Reduction, reduced, loss, rowShape);
        if (!computeGradients) return Result(result);
        var gx = new T[x.Length];
        var gt = new T[t.Length];
        for (int r = 0; r < rows; r++)
        {
            double total = 0;
            for (int j = r * c; j < (r + 1) * c; j++) if (Kept(j)) total += t[j];
            for (int j = r * c; j < (r + 1) * c; j++)
            {
                if (!Kept(j)) continue;   // masked: no gradient
                gx[j] = T.CreateTruncating(reduced.Scale * (total * Math.Exp(logp[j]) - t[j]));
                gt[j] = T.CreateTruncating(-reduced.Scale * logp[j]);
            }
        }
        return Result(result, ("logits", Wrap(gx, shape)), ("labels", Wrap(gt, shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "OptaxSoftmaxCrossEntropy",
        Aliases = ["optax.softmax_cross_entropy", "optax.safe_softmax_cross_entropy", "safe_softmax_cross_entropy"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("logits", InputKind.Floating, true, "logits (…, C); −∞ where a class is impossible") { AcceptsNegativeInfinity = true },
            new("labels", InputKind.Floating, true, "probability vectors, same shape (0 where the logit is −∞)"),
        ],
        Options =
        [
            OptionSpec.Choice("reduction", "none", "none (Optax: one value per row), mean or sum", "none", "mean", "sum"),
            OptionSpec.Tensor("where", "1 for the classes to include, 0 for those to leave out (the logits' shape)"),
            AxisOption,
        ],
        Sample = (r, s) => { Shape x = Samples.Or(s, 4, 5); return new LossInputs().Add("logits", Samples.Normal(r, x, 2)).Add("labels", Samples.Simplex(r, x)); },
        Formula = "ℓ = −Σ_c t_c·log softmax(x)_c over the last axis, 0·log 0 = 0",
        Gradient = "∂ℓ/∂x_j = (Σt)·p_j − t_j;  ∂ℓ/∂t_j = −log p_j",
        Reference = "optax.losses.safe_softmax_cross_entropy, optax.losses.softmax_cross_entropy",
        Stability = "finite for every finite input and for −∞ logits with zero labels (log-softmax in double)",
        Libraries = "Optax (PyTorch cross_entropy with probability targets and reduction none, for finite logits)",
        Factory = o => new OptaxSoftmaxCrossEntropy(o.Reduction, o.Tensor("where"), AxisGroups.Parse(o.Tensor("axis"))),
    };

    public override LossDescriptor Descriptor => Entry;
}
