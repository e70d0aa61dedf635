using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Geometric unimodal label smoothing (Haas and Hüllermeier, Rectifying Bias in Ordinal Observational Data Using Unimodal
/// Label Smoothing, 2023; dlordinal's <c>GeometricLoss</c> with cross-entropy as base_loss): the true rank keeps 1 − α and
/// α is spread over the others in proportion to α^|k − y|, so it decays geometrically away from y. alphas is one α for
/// every class, one per class (K), or one (α, F_l, F_r) row per class (K × 3), which sends the share F_l of α to the
/// ranks below y and F_r above (the first class sends all of it up, the last all down).
/// </summary>
/// <remarks>
/// Row y, symmetric: S_yy = 1 − α, S_yk = α·α^|y−k|(1 − α)/G with G = Σ_{k≠y} α^|y−k|(1 − α). α = 0 gives the one-hot row,
/// the limit, where dlordinal divides by G = 0. Asymmetric: each side normalized by its own G and scaled by its F.
/// </remarks>
public sealed class GeometricLoss : UnimodalSoftLabelLoss, ILossDefinition
{
    private readonly double[]? _alpha;          // one α per class, or null with _single
    private readonly double _single = 0.1;
    private readonly double[,]? _asymmetric;    // (K, 3): α, F_l, F_r

    public GeometricLoss(TensorData? alphas = null, double eta = 1, TensorData? weight = null, double labelSmoothing = 0, Reduction reduction = Reduction.Mean)
        : base(eta, weight, labelSmoothing, reduction)
    {
        if (alphas is not TensorData a) return;
        double[] v = a.ToArray<double>();
        foreach (double x in v)
        {
            if (!double.IsFinite(x)) throw LossArgumentException.Value($"GeometricLoss: alphas holds {x}; it must be finite");
        }
        switch (a.Shape.Rank)
        {
            case 0:
                _single = v[0];
                Check(_single, "alphas");
                break;
            case 1:
                for (int k = 0; k < v.Length; k++) Check(v[k], $"alphas[{k}]");
                _alpha = v;
                break;
            case 2 when a.Shape[1] == 3:
                _asymmetric = new double[a.Shape[0], 3];
                for (int k = 0; k < a.Shape[0]; k++)
                {
                    Check(v[3 * k], $"alphas[{k}, 0]");
                    if (v[3 * k + 1] + v[3 * k + 2] != 1 || v[3 * k + 1] < 0 || v[3 * k + 2] < 0)
                        throw LossArgumentException.Value($"GeometricLoss: row {k} of alphas has F_l = {v[3 * k + 1]} and F_r = {v[3 * k + 2]}; they must be in [0, 1] and sum to 1");
                    for (int c = 0; c < 3; c++) _asymmetric[k, c] = v[3 * k + c];
                }
                break;
            default:
                throw LossArgumentException.Shape($"GeometricLoss: alphas must be one α, one per class (K), or (α, F_l, F_r) per class (K, 3); got shape {a.Shape}");
        }
    }

    private static void Check(double alpha, string what)
    {
        if (!(alpha >= 0 && alpha <= 1)) throw LossArgumentException.Value($"GeometricLoss: {what} = {alpha}; a smoothing factor must be in [0, 1]");
    }

    protected override double[,] SoftLabels(int classes)
    {
        int rows = _alpha?.Length ?? _asymmetric?.GetLength(0) ?? classes;
        if (rows != classes) throw LossArgumentException.Shape($"GeometricLoss: alphas has {rows} rows but the input has {classes} classes");
        var s = new double[classes, classes];
        for (int y = 0; y < classes; y++)
        {
            double alpha = _asymmetric is not null ? _asymmetric[y, 0] : _alpha?[y] ?? _single;
            s[y, y] = 1 - alpha;
            if (alpha == 0) continue;   // the one-hot row
            double left = 0, right = 0;
            for (int k = 0; k < classes; k++)
            {
                double term = Math.Pow(alpha, Math.Abs(y - k)) * (1 - alpha);
                if (k < y) left += term;
                else if (k > y) right += term;
            }
            if (_asymmetric is null)
            {
                double g = left + right;
                for (int k = 0; k < classes; k++) if (k != y) s[y, k] = alpha * Math.Pow(alpha, Math.Abs(y - k)) * (1 - alpha) / g;
                continue;
            }
            (double fl, double fr) = y == classes - 1 ? (1.0, 0.0) : y == 0 ? (0.0, 1.0) : (_asymmetric[y, 1], _asymmetric[y, 2]);
            for (int k = 0; k < classes; k++)
            {
                if (k < y && fl > 0) s[y, k] = fl * alpha * Math.Pow(alpha, y - k) * (1 - alpha) / left;
                else if (k > y && fr > 0) s[y, k] = fr * alpha * Math.Pow(alpha, k - y) * (1 - alpha) / right;
            }
        }
        return s;
    }

    public static LossDescriptor Entry { get; } = Describe(
        "GeometricLoss",
        ["geometric_loss", "GeometricCrossEntropyLoss", "geometric_cross_entropy_loss"],
        [OptionSpec.Tensor("alphas", "α in [0, 1] (default 0.1), one α per class (K), or (α, F_l, F_r) per class (K, 3) with F_l + F_r = 1")],
        "ℓ = CE(x, (1 − η)·onehot(y) + η·S_y),  S_yy = 1 − α,  S_yk ∝ α^|k − y| (k ≠ y), summing to α",
        "Haas and Hüllermeier, Rectifying Bias in Ordinal Observational Data Using Unimodal Label Smoothing, 2023; dlordinal GeometricLoss",
        "dlordinal (GeometricLoss, GeometricCrossEntropyLoss)",
        o => new GeometricLoss(o.Tensor("alphas"), o.Float("eta"), o.Tensor("weight"), o.Float("label_smoothing"), o.Reduction));

    public override LossDescriptor Descriptor => Entry;
}
