using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Class distance weighted cross-entropy for ordered classes (Polat et al., Class Distance Weighted Cross-Entropy Loss for
/// Ulcerative Colitis Severity Estimation, 2022; dlordinal's <c>CDWCELoss</c>): ℓ = −Σ_j |j − y|^α·log(1 − p_j),
/// p = softmax(x). Probability on a wrong class costs more the farther that class is from the true rank; the true class
/// itself carries weight 0 (for α &gt; 0). Optional class weights w scale a row by w_y / Σ_c w_c (dlordinal normalizes them).
/// </summary>
/// <remarks>
/// <b>Stable log(1 − p_j):</b> log1p(−p_j) while p_j &lt; ½, else log Σ_{k≠j} e^{x_k} − lse(x) (at most one class per row):
/// exact where dlordinal's log(Σe^x − e^{x_j} + 10⁻⁸) − log(Σe^x + 10⁻⁸) overflows (logits above 88) or is moved by its
/// 10⁻⁸ (rows whose Σe^x is not much above 10⁻⁸). Elsewhere the two differ by about 10⁻⁸/Σe^x.
/// <b>Gradient:</b> −log(1 − p_j) = lse(x) − lse_{k≠j}(x), whose derivative in x_i is p_i − p_i/(1 − p_j) for i ≠ j
/// and p_j for i = j; with a_j = |j − y|^α and A = Σ_j a_j, ∂ℓ/∂x_i = w_y·(A·p_i − Σ_{j≠i} a_j·p_i/(1 − p_j)). Every
/// p_i/(1 − p_j) (i ≠ j) is at most 1; for the one class m with p_m ≥ ½ it is taken as e^{log p_i − log(1 − p_m)},
/// since 1/(1 − p_m) alone overflows for a confident row (logits 1000 apart), and the others' 1/(1 − p_j) ≤ 2 are summed once.
/// </remarks>
public sealed class ClassDistanceWeightedCrossEntropy : IndexedRowLoss, ILossDefinition
{
    private readonly double _alpha;
    private readonly double[]? _weight;

    public ClassDistanceWeightedCrossEntropy(double alpha = 0.5, TensorData? weight = null, Reduction reduction = Reduction.Mean) : base(reduction)
    {
        if (!(alpha >= 0) || double.IsInfinity(alpha)) throw LossArgumentException.Value($"ClassDistanceWeightedCrossEntropy: alpha must be a finite exponent ≥ 0, got {alpha}");
        if (reduction == Reduction.BatchMean) throw LossArgumentException.Value("ClassDistanceWeightedCrossEntropy: reduction must be none, mean or sum");
        if (weight is TensorData wt)
        {
            if (wt.Shape.Rank != 1) throw LossArgumentException.Shape($"ClassDistanceWeightedCrossEntropy: weight must be one weight per class (J), got shape {wt.Shape}");
            double[] w = wt.ToArray<double>();
            for (int c = 0; c < w.Length; c++)
            {
                if (!(w[c] >= 0) || double.IsInfinity(w[c])) throw LossArgumentException.Value($"ClassDistanceWeightedCrossEntropy: weight[{c}] = {w[c]}; class weights must be finite and ≥ 0");
            }
            double total = w.Sum();
            if (!(total > 0)) throw LossArgumentException.Value("ClassDistanceWeightedCrossEntropy: the class weights sum to 0; they are normalized by their sum");
            _weight = [.. w.Select(v => v / total)];
        }
        _alpha = alpha;
    }

    protected override T RowValue<T>(ReadOnlySpan<T> x, int y)
    {
        CheckWeights(x.Length);
        var (lp, p) = RowSoftmax(x);
        double[] l = LogComplements(lp, p);
        double sum = 0;
        for (int j = 0; j < p.Length; j++)
        {
            double a = Distance(j, y);
            if (a != 0) sum -= a * l[j];
        }
        return T.CreateTruncating(RowWeight(y) * sum);
    }

    protected override void RowGradient<T>(ReadOnlySpan<T> x, int y, T scale, Span<T> g)
    {
        var (lp, p) = RowSoftmax(x);
        double[] l = LogComplements(lp, p);
        int c = p.Length;
        // The class at or above ½, if any (m): its 1/(1 − p_m) may overflow, so its terms go through e^{log p_i − log(1 − p_m)} ≤ 1.
        int m = -1;
        for (int j = 0; j < c; j++) if (p[j] >= 0.5) m = j;
        double total = 0, others = 0;
        var a = new double[c];
        for (int j = 0; j < c; j++)
        {
            a[j] = Distance(j, y);
            total += a[j];
            if (j != m && a[j] != 0) others += a[j] / (1 - p[j]);   // 1 − p_j ≥ ½ here
        }
        double s = double.CreateTruncating(scale) * RowWeight(y);
        for (int i = 0; i < c; i++)
        {
            double gi = i == m
                ? p[i] * (total - others)
                : p[i] * (total - others + (a[i] == 0 ? 0 : a[i] / (1 - p[i]))) - (m >= 0 && a[m] != 0 ? a[m] * Math.Exp(lp[i] - l[m]) : 0);
            g[i] = T.CreateTruncating(s * gi);
        }
    }

    /// <summary>|j − y|^α (0^0 = 1, as PyTorch's and .NET's pow give it).</summary>
    private double Distance(int j, int y) => Math.Pow(Math.Abs(j - y), _alpha);

    private double RowWeight(int y) => _weight is null ? 1 : _weight[y];

    private void CheckWeights(int classes)
    {
        if (_weight is not null && _weight.Length != classes)
            throw LossArgumentException.Shape($"ClassDistanceWeightedCrossEntropy: weight has {_weight.Length} entries but the input has {classes} classes");
        // The farthest class's weight (C − 1)^α: past a double it would make the loss ∞ and its gradient ∞ − ∞.
        if (!double.IsFinite(Distance(classes - 1, 0)))
            throw LossArgumentException.Value($"ClassDistanceWeightedCrossEntropy: alpha = {_alpha} makes the farthest class's weight {classes - 1}^alpha overflow a double; take a smaller alpha");
    }

    /// <summary>log(1 − p_j) for every j: log1p(−p_j) below ½; for the one class at or above ½, lse of the others − lse.</summary>
    private static double[] LogComplements(double[] lp, double[] p)
    {
        int c = p.Length;
        var l = new double[c];
        for (int j = 0; j < c; j++)
        {
            if (p[j] < 0.5)
            {
                l[j] = Stable.Log1p(-p[j]);
                continue;
            }
            // log Σ_{k≠j} p_k from the log-probabilities (lp already has lse(x) subtracted); −∞ for a single class.
            double m = double.NegativeInfinity;
            for (int k = 0; k < c; k++) if (k != j) m = Math.Max(m, lp[k]);
            if (double.IsNegativeInfinity(m)) { l[j] = double.NegativeInfinity; continue; }
            double s = 0;
            for (int k = 0; k < c; k++) if (k != j) s += Math.Exp(lp[k] - m);
            l[j] = m + Math.Log(s);
        }
        return l;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "ClassDistanceWeightedCrossEntropy",
        Aliases = ["class_distance_weighted_cross_entropy", "cdw_ce_loss", "cdw_ce", "CDWCELoss"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("input", InputKind.Floating, true, "logits (N, J) or (J) over J ordered classes"),
            new("target", InputKind.Indices, false, "ranks (N) or () in [0, J); dlordinal's one-hot form is these indices"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("alpha", 0.5, "the exponent of the class distance |j − y| (≥ 0; 0 weighs every class, the true one too, by 1)"),
            OptionSpec.Tensor("weight", "one weight per class (J), normalized by their sum; a row is scaled by its true class's"),
        ],
        Sample = Sample,
        Formula = "ℓ = −w_y·Σ_j |j − y|^α·log(1 − softmax(x)_j)",
        Gradient = "∂ℓ/∂x_i = w_y·(A·p_i − Σ_{j≠i} a_j·p_i/(1 − p_j)),  a_j = |j − y|^α, A = Σ_j a_j",
        Reference = "Polat et al., Class Distance Weighted Cross-Entropy Loss for Ulcerative Colitis Severity Estimation, 2022; dlordinal CDWCELoss",
        Stability = "log-softmax in double; log(1 − p_j) by log1p below ½ and as the others' log-sum-exp above: finite for every finite logit (dlordinal's e^x overflows above 88)",
        LowerBound = 0,
        Libraries = "dlordinal (CDWCELoss)",
        Factory = o => new ClassDistanceWeightedCrossEntropy(o.Float("alpha"), o.Tensor("weight"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
