using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Segmentation;

/// <summary>
/// Binary Lovász hinge (Berman et al., 2018; segmentation_models_pytorch <c>LovaszLoss(mode='binary', per_image=False,
/// ignore_index=None)</c>): with signs s = 2t − 1 and hinge errors e = 1 − x·s on the logits, sort e decreasingly and
/// ℓ = Σ_k max(e_(k), 0)·g_k, g the Lovász weights of the sorted labels (see <see cref="Lovasz"/>), a convex surrogate
/// of 1 − IoU of the foreground.
/// </summary>
/// <remarks>
/// Shapes: logits (N, *) or (N, 1, *) and binary targets of the same shape. per_image = false pools every pixel of the
/// batch; true gives one loss per image, which <c>reduction</c> combines (mean, smp's, by default; none gives the
/// per-image vector, or one value without per_image). Pixels whose target is ignore_index are dropped. Gradient (within one
/// ordering of the errors): ∂ℓ/∂x_i = −s_i·g_{rank(i)}·[e_i &gt; 0]. Targets must be 0 or 1 (or ignore_index).
/// </remarks>
public sealed class LovaszHingeLoss(bool perImage = false, long? ignoreIndex = null, Reduction reduction = Reduction.Mean) : Loss, ILossDefinition
{
    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        Shape xs = inputs["input"].Shape;
        if (xs.Rank < 1) throw LossArgumentException.Shape($"LovaszHingeLoss: 'input' must be (N, *) logits, got {xs}");
        RequireSameShape(inputs, "input", "target");
        double[] x = inputs["input"].ToArray<double>(), t = inputs["target"].ToArray<double>();
        for (int i = 0; i < t.Length; i++)
            if (t[i] != 0 && t[i] != 1 && !(ignoreIndex is long ig && t[i] == ig))
                throw LossArgumentException.Value($"LovaszHingeLoss: target {t[i]} at position {i} must be 0 or 1" + (ignoreIndex is null ? "" : $" (or ignore_index {ignoreIndex})"));
        int n = xs[0], per = n == 0 ? 0 : x.Length / n;
        int groups = perImage ? n : 1, size = perImage ? per : x.Length;
        var grad = new double[x.Length];
        var perGroup = new double[groups];
        double scale = reduction == Reduction.Mean ? 1.0 / Math.Max(groups, 1) : 1;
        int[] members = new int[size];
        var sortedTruth = new double[size];
        for (int g = 0; g < groups; g++)
        {
            int kept = 0;
            for (int i = g * size; i < (g + 1) * size; i++) if (!(ignoreIndex is long ig && t[i] == ig)) members[kept++] = i;
            var errors = new double[kept];
            for (int k = 0; k < kept; k++) errors[k] = 1 - x[members[k]] * (2 * t[members[k]] - 1);
            int[] order = Lovasz.Order(errors);
            for (int k = 0; k < kept; k++) sortedTruth[k] = t[members[order[k]]];
            double[] weights = Lovasz.Weights(sortedTruth.AsSpan(0, kept));
            for (int k = 0; k < order.Length; k++)
            {
                double e = errors[order[k]];
                if (e <= 0) continue;
                perGroup[g] += e * weights[k];
                int i = members[order[k]];
                grad[i] = -(2 * t[i] - 1) * weights[k] * scale;
            }
        }
        Reducer.Reduced reduced = Reducer.Reduce<double>(perGroup, reduction, groups);
        TensorData value = reduction == Reduction.None
            ? Wrap(perGroup.Select(T.CreateTruncating).ToArray(), new Shape(groups))
            : Wrap(new[] { T.CreateTruncating(reduced.Value) }, Shape.Scalar);
        return computeGradients ? Result(value, ("input", Wrap(grad.Select(T.CreateTruncating).ToArray(), xs))) : Result(value);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "LovaszHingeLoss",
        Aliases = ["lovasz_hinge", "lovasz_hinge_loss", "smp.LovaszLoss.binary"],
        Family = LossFamily.Segmentation,
        Task = LossTask.Segmentation,
        Inputs =
        [
            new("input", InputKind.Floating, true, "logits (N, *)"),
            new("target", InputKind.Floating, false, "binary targets, same shape"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Bool("per_image", false, "average per-image losses instead of pooling the batch"),
            OptionSpec.OptionalInt("ignore_index", "target value whose pixels are dropped"),
        ],
        Sample = (r, s) => { Shape x = s.Rank >= 1 ? s : new Shape(2, 6); return new LossInputs().Add("input", Samples.Normal(r, x, 2)).Add("target", Samples.Bernoulli(r, x)); },
        Formula = "ℓ = Σ_k max(e_(k), 0)·g_k,  e = 1 − x(2t − 1) sorted decreasingly, g = Lovász weights of 1 − IoU",
        Gradient = "∂ℓ/∂x_i = −(2t_i − 1)·g_rank(i) where e_i > 0",
        Reference = "segmentation_models_pytorch.losses.LovaszLoss, binary mode (Berman, Triki & Blaschko, CVPR 2018)",
        Stability = "finite for every finite logit (piecewise linear)",
        Libraries = "segmentation_models_pytorch",
        Factory = o => new LovaszHingeLoss(o.Bool("per_image"), o.NullableInt("ignore_index"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
