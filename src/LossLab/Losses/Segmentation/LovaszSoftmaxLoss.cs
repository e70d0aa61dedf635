using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Segmentation;

/// <summary>
/// Lovász-softmax (Berman et al., 2018; segmentation_models_pytorch <c>LovaszLoss(mode='multiclass', per_image=False,
/// ignore_index=None, from_logits=True)</c>): p = softmax over C; for every class c present in the target,
/// e = |[t = c] − p_c| over the pixels sorted decreasingly, ℓ_c = Σ_k e_(k)·g_k (Lovász weights of the sorted
/// foreground); the loss is the mean over the present classes (0 when none is present).
/// </summary>
/// <remarks>
/// Shapes: input (N, C, *), target (N, *) class indices. per_image gives one loss per image, combined by
/// <c>reduction</c> (mean by default); otherwise every pixel of the batch is pooled (none then has one value).
/// Gradient (within one ordering): ∂ℓ/∂p_{c,i} = sgn(p_{c,i} − [t_i = c])·g_{rank}/#present, then through the softmax.
/// </remarks>
public sealed class LovaszSoftmaxLoss(bool perImage = false, long? ignoreIndex = null, bool fromLogits = true, Reduction reduction = Reduction.Mean)
    : Loss, ILossDefinition
{
    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        const string name = "LovaszSoftmaxLoss";
        Shape xs = inputs["input"].Shape, ts = inputs["target"].Shape;
        if (xs.Rank < 2) throw LossArgumentException.Shape($"{name}: 'input' must be (N, C, *), got {xs}");
        if (ts != xs.WithoutAxis(1)) throw LossArgumentException.Shape($"{name}: 'target' has shape {ts} but 'input' {xs} needs class indices of shape {xs.WithoutAxis(1)}");
        int n = xs[0], c = xs[1], pixels = n * c == 0 ? 0 : xs.Numel / (n * c);
        double[] x = inputs["input"].ToArray<double>();
        long[] labels = inputs.Indices("target");
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] != ignoreIndex && (labels[i] < 0 || labels[i] >= c))
                throw LossArgumentException.Value($"{name}: target {labels[i]} at position {i} is out of range: class indices must be in [0, {c - 1}]"
                    + (ignoreIndex is null ? "" : $" (or ignore_index {ignoreIndex})"));
        // p[(b·C + k)·P + q]: softmax over k.
        var p = fromLogits ? new double[x.Length] : x;
        if (fromLogits) SoftOverlapLoss.ChannelSoftmax(x, p, n, c, pixels);
        int groups = perImage ? n : 1;
        var perGroup = new double[groups];
        var gp = new double[x.Length];
        double scale = reduction == Reduction.Mean ? 1.0 / Math.Max(groups, 1) : 1;
        for (int g = 0; g < groups; g++)
        {
            // Pixels (b, q) of this group that are not ignored.
            var members = new List<(int B, int Q)>();
            for (int b = perImage ? g : 0; b < (perImage ? g + 1 : n); b++)
                for (int q = 0; q < pixels; q++)
                    if (labels[b * pixels + q] != ignoreIndex) members.Add((b, q));
            // The classes present among them, in one pass.
            var isPresent = new bool[c];
            foreach (var (b, q) in members) isPresent[labels[b * pixels + q]] = true;
            int[] present = [.. Enumerable.Range(0, c).Where(k => isPresent[k])];
            var fg = new double[members.Count];
            var errors = new double[members.Count];
            var fgSorted = new double[members.Count];
            foreach (int k in present)
            {
                for (int i = 0; i < members.Count; i++)
                {
                    var (b, q) = members[i];
                    fg[i] = labels[b * pixels + q] == k ? 1.0 : 0.0;
                    errors[i] = Math.Abs(fg[i] - p[(b * c + k) * pixels + q]);
                }
                int[] order = Lovasz.Order(errors);
                for (int r = 0; r < order.Length; r++) fgSorted[r] = fg[order[r]];
                double[] w = Lovasz.Weights(fgSorted);
                for (int r = 0; r < order.Length; r++)
                {
                    int i = order[r];
                    perGroup[g] += errors[i] * w[r] / present.Length;
                    int flat = (members[i].B * c + k) * pixels + members[i].Q;
                    gp[flat] += Stable.Sign(p[flat] - fg[i]) * w[r] / present.Length * scale;
                }
            }
        }
        Reducer.Reduced reduced = Reducer.Reduce<double>(perGroup, reduction, groups);
        TensorData value = reduction == Reduction.None
            ? Wrap(perGroup.Select(T.CreateTruncating).ToArray(), new Shape(groups))
            : Wrap(new[] { T.CreateTruncating(reduced.Value) }, Shape.Scalar);
        if (!computeGradients) return Result(value);
        var gx = gp;
        if (fromLogits)
        {
            gx = new double[x.Length];
            SoftOverlapLoss.ChannelSoftmaxBackward(p, gp, gx, n, c, pixels);
        }
        return Result(value, ("input", Wrap(gx.Select(T.CreateTruncating).ToArray(), xs)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "LovaszSoftmaxLoss",
        Aliases = ["lovasz_softmax", "lovasz_softmax_loss", "smp.LovaszLoss"],
        Family = LossFamily.Segmentation,
        Task = LossTask.Segmentation,
        Inputs =
        [
            new("input", InputKind.Floating, true, "logits (N, C, *)"),
            new("target", InputKind.Indices, false, "class indices (N, *)"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Bool("per_image", false, "one loss per image instead of pooling the batch"),
            OptionSpec.OptionalInt("ignore_index", "target value whose pixels are dropped"),
            OptionSpec.Bool("from_logits", true, "apply softmax over C first"),
        ],
        Sample = SoftOverlapLoss.Sample,
        Formula = "ℓ = mean_{c present} Σ_k e_c,(k)·g_k,  e_c = |[t = c] − softmax_c| sorted decreasingly",
        Gradient = "∂ℓ/∂p_c,i = sgn(p_c,i − [t_i = c])·g_rank/#present, through the softmax",
        Reference = "segmentation_models_pytorch.losses.LovaszLoss, multiclass mode (Berman, Triki & Blaschko, CVPR 2018)",
        Stability = "finite for every finite logit (max-shifted softmax, piecewise linear)",
        Libraries = "segmentation_models_pytorch",
        Factory = o => new LovaszSoftmaxLoss(o.Bool("per_image"), o.NullableInt("ignore_index"), o.Bool("from_logits"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
