using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Ranking;

/// <summary>
/// Listwise softmax ranking loss (Optax <c>ranking_softmax_loss(logits, labels, where=None, weights=None,
/// reduce_fn=mean)</c>): per list of items, ℓ = −Σᵢ wᵢyᵢ·log softmax(s)ᵢ over the valid items, with relevance labels
/// y ≥ 0 that need not sum to 1. It raises the scores of relevant items against the rest of their list, the
/// ListNet-style loss of learning to rank.
/// </summary>
/// <remarks>
/// <para><b>Masking:</b> items with <c>where</c> = 0 leave the list: their logits become −∞ and their labels 0 (Optax),
/// so the softmax runs over the valid items only. A list with no valid item has loss 0, and the mean runs over the lists
/// that have one (0 when none has: Optax's safe reduction instead of 0/0). <c>weights</c> multiply the labels.</para>
/// <para><b>Gradient:</b> with Y = Σ_valid wᵢyᵢ and p the softmax over the valid items, ∂ℓ/∂sᵢ = Y·pᵢ − wᵢyᵢ (0 for
/// masked items), and ∂ℓ/∂yᵢ = −wᵢ·log pᵢ. Log-softmax is (s − max) − log Σ exp(s − max), in double. Shapes: (…, L)
/// for logits and labels (and where, weights); one value per list; finite for every finite input.</para>
/// </remarks>
public sealed class RankingSoftmaxLoss(Reduction reduction = Reduction.Mean, TensorData? where = null, TensorData? weights = null) : Loss, ILossDefinition
{
    public Reduction Reduction { get; } = reduction;

    /// <summary>
    /// One list: its loss, and (when <paramref name="gs"/> is not empty) the logit and label gradients times
    /// <paramref name="scale"/>. valid/w are null for "all valid"/"all ones". A list with no valid item gives 0 (Optax
    /// leaves it out of the mean); a NaN logit or label gives NaN.
    /// </summary>
    public static double List<T>(ReadOnlySpan<T> s, ReadOnlySpan<T> y, ReadOnlySpan<T> valid, ReadOnlySpan<T> w, double scale, Span<T> gs, Span<T> gy)
        where T : struct, IFloatingPointIeee754<T>
    {
        bool all = valid.IsEmpty;
        double max = double.NegativeInfinity;
        int top = -1;
        for (int i = 0; i < s.Length; i++)
        {
            if (!all && valid[i] == T.Zero) continue;
            double si = double.CreateTruncating(s[i]);
            if (top < 0 || si > max || double.IsNaN(si)) (max, top) = (si, i);   // NaN wins, as the IEEE maximum
        }
        if (top < 0) return 0;   // no valid item (or an empty list)
        // log1p of the terms other than the maximum's 1 (as Stable.ShiftedLogSumExp): a confident list keeps its digits.
        double others = 0, total = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (!all && valid[i] == T.Zero) continue;
            if (i != top) others += Math.Exp(double.CreateTruncating(s[i]) - max);
            total += Label(y, w, i);
        }
        double logSum = double.IsFinite(max) ? Stable.Log1p(others) : Math.Log(others + Math.Exp(double.CreateTruncating(s[top]) - max)), loss = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (!all && valid[i] == T.Zero) continue;
            double logP = (double.CreateTruncating(s[i]) - max) - logSum, yi = Label(y, w, i);
            loss -= yi * logP;
            if (gs.IsEmpty) continue;
            // total·p − y = y(p − 1) + p(total − y), p − 1 by expm1: a one-hot list near p = 1 keeps its slope.
            gs[i] = T.CreateTruncating(scale * (yi * Stable.Expm1(logP) + Math.Exp(logP) * (total - yi)));
            gy[i] = T.CreateTruncating(-scale * (w.IsEmpty ? 1 : double.CreateTruncating(w[i])) * logP);
        }
        return loss;
    }

    private static double Label<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> w, int i) where T : struct, IFloatingPointIeee754<T>
        => double.CreateTruncating(y[i]) * (w.IsEmpty ? 1 : double.CreateTruncating(w[i]));

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        string name = Entry.Name;
        RequireSameShape(inputs, "logits", "labels");
        Shape shape = inputs["logits"].Shape;
        if (shape.Rank == 0) throw LossArgumentException.Shape($"{name}: 'logits' must have a last axis of list items (…, L), got a scalar");
        T[] s = inputs.Floating<T>("logits"), y = inputs.Floating<T>("labels");
        T[]? valid = ExactOption<T>(where, "where", shape, "logits", mask: true), w = ExactOption<T>(weights, "weights", shape, "logits");
        int l = shape[shape.Rank - 1];
        Shape listShape = shape.WithoutAxis(shape.Rank - 1);
        int lists = (int)listShape.Numel;
        // Optax: the mean runs over the lists with a valid item (all lists without `where`); none gives 0, not 0/0. The
        // count comes from the mask, so each list's value and gradient come from one pass.
        int counted = lists;
        if (valid is not null)
        {
            counted = 0;
            for (int r = 0; r < lists; r++) if (Slice(valid, r, l).ContainsAnyExcept(T.Zero)) counted++;
        }
        double scale = Reduction == Reduction.Mean ? (counted == 0 ? 0 : 1.0 / counted) : 1;
        var loss = new T[lists];
        var gs = computeGradients ? new T[s.Length] : [];
        var gy = computeGradients ? new T[y.Length] : [];
        for (int r = 0; r < lists; r++)
        {
            double v = List<T>(Slice(s, r, l), Slice(y, r, l), Slice(valid, r, l), Slice(w, r, l), scale,
                computeGradients ? gs.AsSpan(r * l, l) : [], computeGradients ? gy.AsSpan(r * l, l) : []);
            loss[r] = T.CreateTruncating(v);
        }
        Reducer.Reduced reduced = Reduction == Reduction.Mean && counted == 0
            ? new Reducer.Reduced(0, 0)
            : Reducer.Reduce<T>(loss, Reduction, counted);
        TensorData value = ValueTensor(Reduction, reduced, loss, listShape);
        if (!computeGradients) return Result(value);
        return Result(value, ("logits", Wrap(gs, shape)), ("labels", Wrap(gy, shape)));
    }

    private static ReadOnlySpan<T> Slice<T>(T[]? a, int row, int l) => a is null ? default : a.AsSpan(row * l, l);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "RankingSoftmaxLoss",
        Aliases = ["ranking_softmax_loss", "optax.ranking_softmax_loss"],
        Family = LossFamily.Ranking,
        Task = LossTask.Ranking,
        Inputs =
        [
            new("logits", InputKind.Floating, true, "item scores (…, L), one list per leading index"),
            new("labels", InputKind.Floating, true, "relevance labels ≥ 0, same shape"),
        ],
        Options =
        [
            OptionSpec.Choice("reduction", "mean", "mean over the lists with a valid item (Optax's default reduce_fn), sum, or none", "mean", "sum", "none"),
            OptionSpec.Tensor("where", "1 for valid items, 0 for masked ones (logits' shape)"),
            OptionSpec.Tensor("weights", "per-item weights multiplying the labels (logits' shape)"),
        ],
        Sample = (r, sh) => { Shape x = Samples.Or(sh, 3, 5); return new LossInputs().Add("logits", Samples.Normal(r, x, 2)).Add("labels", Samples.Uniform(r, x, 0, 2)); },
        Formula = "ℓ = −Σ_i w_i·y_i·log softmax(s)_i over the valid items of each list",
        Gradient = "∂ℓ/∂s_i = (Σ_j w_j y_j)·p_i − w_i y_i;  ∂ℓ/∂y_i = −w_i·log p_i",
        Reference = "optax.losses.ranking_softmax_loss",
        Stability = "finite for every finite input (log-softmax shifted by the list's max, in double)",
        Libraries = "Optax",
        LowerBound = double.NegativeInfinity,   // ≥ 0 for labels and weights ≥ 0, which Optax does not require
        Factory = o => new RankingSoftmaxLoss(o.Reduction, o.Tensor("where"), o.Tensor("weights")),
    };

    public override LossDescriptor Descriptor => Entry;
}
