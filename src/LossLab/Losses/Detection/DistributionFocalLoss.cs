using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Detection;

/// <summary>
/// Distribution focal loss (Li et al., Generalized Focal Loss, NeurIPS 2020; mmdetection's
/// <c>distribution_focal_loss(pred, label)</c>, YOLOv8's box loss beside CIoU): a box edge's distance y, a real number
/// in [0, n), is learned as a distribution over the n + 1 integer bins 0..n; the loss is the cross-entropy against its
/// two neighbouring bins ⌊y⌋ and ⌊y⌋ + 1, weighted by how near y is to each, which concentrates the distribution at y.
/// </summary>
/// <remarks>
/// <para><b>Definition:</b> with l = ⌊y⌋, ℓ = (l + 1 − y)·CE(x, l) + (y − l)·CE(x, l + 1), CE(x, k) = lse(x) − x_k;
/// mmdetection's mean over the rows. <b>Gradient:</b> the two weights sum to 1, so ∂ℓ/∂x = softmax(x) − (l + 1 − y)·e_l −
/// (y − l)·e_{l+1}. The label is a target, not differentiated. A label outside [0, n) (n = C − 1, so that the right bin
/// exists) is an error naming it, where mmdetection's indexing would fail.</para>
/// </remarks>
public sealed class DistributionFocalLoss : Loss, ILossDefinition
{
    private const string Name = "DistributionFocalLoss";
    private readonly Reduction _reduction;

    public DistributionFocalLoss(Reduction reduction = Reduction.Mean)
    {
        if (reduction == Reduction.BatchMean) throw LossArgumentException.Value($"{Name}: reduction must be none, mean or sum");
        _reduction = reduction;
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        TensorData xT = inputs["pred"], yT = inputs["label"];
        if (xT.Shape.Rank != 2 || xT.Shape[1] < 2) throw LossArgumentException.Shape($"{Name}: 'pred' must be bin logits (N, n + 1) with n ≥ 1, got shape {xT.Shape}");
        int n = xT.Shape[0], c = xT.Shape[1];
        if (yT.Shape.Rank != 1 || yT.Shape[0] != n) throw LossArgumentException.Shape($"{Name}: 'label' must be one distance per row ({n}), got shape {yT.Shape}");
        double[] x = xT.ToArray<double>(), y = yT.ToArray<double>();
        var losses = new double[n];
        var g = computeGradients ? new double[x.Length] : [];
        for (int i = 0; i < n; i++)
        {
            if (!(y[i] >= 0 && y[i] < c - 1)) throw LossArgumentException.Value($"{Name}: label {y[i]} at position {i} must be in [0, {c - 1}) for {c} bins");
            int left = (int)Math.Floor(y[i]);
            double wLeft = left + 1 - y[i], wRight = y[i] - left;
            // −log p = logSum − (x − max), logSum as log1p of the non-maximum terms: a confident bin keeps its digits.
            double logSum = Stable.ShiftedLogSumExp<double>(x.AsSpan(i * c, c), out double max);
            losses[i] = wLeft * (logSum - (x[i * c + left] - max)) + wRight * (logSum - (x[i * c + left + 1] - max));
            if (!computeGradients) continue;
            for (int j = 0; j < c; j++) g[i * c + j] = Math.Exp((x[i * c + j] - max) - logSum);
            g[i * c + left] -= wLeft;
            g[i * c + left + 1] -= wRight;
        }
        var (value, scale) = ReduceRows<T>(losses, _reduction, new Shape(n));
        if (!computeGradients) return Result(value);
        for (int k = 0; k < g.Length; k++) g[k] *= scale;
        return Result(value, ("pred", FromDoubles<T>(g, xT.Shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["distribution_focal_loss", "dfl", "mmdet.DistributionFocalLoss"],
        Family = LossFamily.Classification,
        Task = LossTask.Regression,
        Inputs =
        [
            new("pred", InputKind.Floating, true, "bin logits (N, n + 1) of a box edge's distance"),
            new("label", InputKind.Floating, false, "each edge's distance target (N), in [0, n)"),
        ],
        Options = [OptionSpec.Reduction("none", "mean", "sum")],
        Sample = (r, s) =>
        {
            int n = s.Rank == 2 ? s[0] : 5, c = s.Rank == 2 ? s[1] : 8;
            // Away from the integers, where ⌊y⌋ steps (the finite-difference checks never cross one).
            double[] y = [.. Enumerable.Range(0, n).Select(_ => r.Next(c - 1) + 0.1 + 0.8 * r.NextDouble())];
            return new LossInputs().Add("pred", Samples.Normal(r, new Shape(n, c), 2)).Add("label", TensorData.FromArray(y, n));
        },
        Formula = "ℓ = (⌊y⌋ + 1 − y)·CE(x, ⌊y⌋) + (y − ⌊y⌋)·CE(x, ⌊y⌋ + 1)",
        Gradient = "∂ℓ/∂x = softmax(x) − (⌊y⌋ + 1 − y)·e_⌊y⌋ − (y − ⌊y⌋)·e_{⌊y⌋+1}",
        Reference = "Li et al., Generalized Focal Loss, NeurIPS 2020; mmdetection distribution_focal_loss",
        Stability = "log-sum-exp by the row's maximum in double: finite for every finite logit",
        LowerBound = 0,
        Libraries = "mmdetection (DistributionFocalLoss), ultralytics (DFLoss), PaddleDetection",
        Factory = o => new DistributionFocalLoss(o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
