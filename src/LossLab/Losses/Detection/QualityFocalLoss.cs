using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Detection;

/// <summary>
/// Quality focal loss (Li et al., Generalized Focal Loss, NeurIPS 2020; mmdetection's
/// <c>quality_focal_loss(pred, (label, score), beta=2.0)</c>): the focal loss extended to a continuous target, the
/// predicted box's quality (its IoU). Each class logit of a box is a binary prediction: against 0 for every class
/// but the box's own, against the quality score s for its own class, each term weighted by |target − σ(x)|^β.
/// </summary>
/// <remarks>
/// <para><b>Definition</b> (pred x (N, C), label (N) with C or any value outside [0, C) for background, score s (N)):
/// ℓ_i = Σ_j softplus(x_ij)·σ(x_ij)^β over the classes j ≠ label_i, plus BCE(x_iy, s_i)·|s_i − σ(x_iy)|^β at the label.
/// mmdetection returns ℓ_i per box, then the mean over boxes.</para>
/// <para><b>Gradient</b> (σ' = σ(1 − σ)): background terms σ^{β+1} + β·softplus(x)·σ^β·(1 − σ); the label's
/// (σ − s)·|σ − s|^β + β·BCE·|σ − s|^{β−1}·sgn(σ − s)·σ(1 − σ) (mmdetection does not detach the modulating factor, nor
/// does this). The labels and scores are targets, not differentiated.</para>
/// </remarks>
public sealed class QualityFocalLoss : Loss, ILossDefinition
{
    private const string Name = "QualityFocalLoss";
    private readonly double _beta;
    private readonly Reduction _reduction;

    public QualityFocalLoss(double beta = 2.0, Reduction reduction = Reduction.Mean)
    {
        if (!(beta >= 0 && double.IsFinite(beta))) throw LossArgumentException.Value($"{Name}: beta must be a finite number ≥ 0, got {beta}");
        if (reduction == Reduction.BatchMean) throw LossArgumentException.Value($"{Name}: reduction must be none, mean or sum");
        (_beta, _reduction) = (beta, reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        TensorData xT = inputs["pred"];
        if (xT.Shape.Rank != 2) throw LossArgumentException.Shape($"{Name}: 'pred' must be class logits (N, C), got shape {xT.Shape}");
        int n = xT.Shape[0], c = xT.Shape[1];
        TensorData labelT = inputs["label"], scoreT = inputs["score"];
        if (labelT.Shape.Rank != 1 || labelT.Shape[0] != n) throw LossArgumentException.Shape($"{Name}: 'label' must be one class index per box ({n}), got shape {labelT.Shape}");
        if (scoreT.Shape.Rank != 1 || scoreT.Shape[0] != n) throw LossArgumentException.Shape($"{Name}: 'score' must be one quality per box ({n}), got shape {scoreT.Shape}");
        double[] x = xT.ToArray<double>(), score = scoreT.ToArray<double>();
        for (int i = 0; i < n; i++)
            if (!(score[i] >= 0 && score[i] <= 1)) throw LossArgumentException.Value($"{Name}: score {score[i]} at position {i} is not a quality in [0, 1] (an IoU)");
        long[] label = inputs.Indices("label");
        var losses = new double[n];
        var g = computeGradients ? new double[x.Length] : [];
        for (int i = 0; i < n; i++)
        {
            bool positive = label[i] >= 0 && label[i] < c;   // C (or anything outside [0, C)) is background
            for (int j = 0; j < c; j++)
            {
                double v = x[i * c + j], p = Stable.SigmoidPair(v, out double oneMinusP), slope = p * oneMinusP;
                if (positive && j == label[i])
                {
                    double s = score[i], bce = (1 - s) * Stable.Softplus(v) + s * Stable.Softplus(-v), d = p - s, ad = Math.Abs(d);
                    losses[i] += bce * Math.Pow(ad, _beta);
                    if (computeGradients)
                    {
                        double modulating = _beta == 0 || ad == 0 ? 0 : _beta * bce * Math.Pow(ad, _beta - 1) * (d > 0 ? 1 : d < 0 ? -1 : d) * slope;
                        g[i * c + j] = ((1 - s) * p - s * oneMinusP) * Math.Pow(ad, _beta) + modulating;
                    }
                }
                else
                {
                    double softplus = Stable.Softplus(v), pb = Math.Pow(p, _beta);
                    losses[i] += softplus * pb;
                    if (computeGradients) g[i * c + j] = p * pb + (_beta == 0 ? 0 : _beta * softplus * pb * oneMinusP);
                }
            }
        }
        var (value, scale) = ReduceRows<T>(losses, _reduction, new Shape(n));
        if (!computeGradients) return Result(value);
        for (int k = 0; k < g.Length; k++) g[k] *= scale;
        return Result(value, ("pred", FromDoubles<T>(g, xT.Shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["quality_focal_loss", "qfl", "mmdet.QualityFocalLoss"],
        Family = LossFamily.Classification,
        Task = LossTask.MultilabelClassification,
        Inputs =
        [
            new("pred", InputKind.Floating, true, "class logits (N, C) of a dense detector's boxes"),
            new("label", InputKind.Indices, false, "each box's class (N); C (or any index outside [0, C)) is background"),
            new("score", InputKind.Floating, false, "each box's quality target (N), its IoU with the ground truth"),
        ],
        Options = [OptionSpec.Reduction("none", "mean", "sum"), OptionSpec.Float("beta", 2.0, "β, the modulating exponent of |target − σ(x)|")],
        Sample = (r, s) =>
        {
            int n = s.Rank == 2 ? s[0] : 5, c = s.Rank == 2 ? s[1] : 4;
            long[] labels = [.. Enumerable.Range(0, n).Select(_ => (long)r.Next(c + 1))];
            return new LossInputs().Add("pred", Samples.Normal(r, new Shape(n, c), 2)).Add("label", TensorData.FromArray(labels, n))
                .Add("score", Samples.Uniform(r, new Shape(n), 0.1, 0.95));
        },
        Formula = "ℓ_i = Σ_{j≠y} softplus(x_ij)·σ(x_ij)^β + BCE(x_iy, s_i)·|s_i − σ(x_iy)|^β",
        Gradient = "σ^{β+1} + β·softplus·σ^β(1 − σ) off the label; (σ − s)|σ − s|^β + β·BCE·|σ − s|^{β−1}sgn(σ − s)σ(1 − σ) at it",
        Reference = "Li et al., Generalized Focal Loss, NeurIPS 2020; mmdetection quality_focal_loss",
        Stability = "softplus and sigmoid in double: finite for every finite logit",
        LowerBound = 0,
        Libraries = "mmdetection (QualityFocalLoss), PaddleDetection, NanoDet",
        Factory = o => new QualityFocalLoss(o.Float("beta"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
