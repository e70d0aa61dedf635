using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// SORD, soft ordinal labels (Díaz and Marathe, Soft Labels for Ordinal Regression, CVPR 2019; dlordinal's
/// <c>SORDLoss</c>): cross-entropy against the target distribution q = softmax(−α·φ(y, ·)), where φ(y, j) is how far
/// class j lies from the true rank y: |j − y| by default, or a proximity learned from the training class counts
/// (Nachmani-style ordinal proximity, dlordinal's <c>prox=True</c> with its six <c>ftype</c>s). Nearby ranks share the
/// target's mass, so a miss by one costs less than a miss by three.
/// </summary>
/// <remarks>
/// <para><b>Proximity</b> (class counts c, total C): prox_ab = −log((c_a/2 + Σ c_m) / C), the sum over the ranks m from a
/// towards b, b included; its column-normalized form divides each column by its sum. φ(y, j) is, by ftype: max prox −
/// prox_yj (max), the same on the normalized matrix (norm_max), −log prox_yj (log), −log of the normalized (norm_log),
/// 1/prox_yj (division), 1/normalized (norm_division).</para>
/// <para><b>Value and gradient</b>: ℓ = −w_y·Σ_j q_j·log p_j with p = softmax(x) (use_logits) or log(x_j + 10⁻⁹) as
/// dlordinal takes probabilities; the mean is over N (dlordinal's, class weights or not). ∂ℓ/∂x_j = w_y·(p_j − q_j) on
/// logits (Σ q = 1), −w_y·q_j/(x_j + 10⁻⁹) on probabilities. q carries no gradient.</para>
/// </remarks>
public sealed class SordLoss : IndexedRowLoss, ILossDefinition
{
    private const string Name = "SordLoss";
    private const double ProbabilityEps = 1e-9;
    private readonly double _alpha;
    private readonly double[,]? _phi;   // φ(y, j) from the proximity matrix, or null for |j − y|
    private readonly double[]? _weight;
    private readonly bool _logits;

    public SordLoss(double alpha = 1, bool prox = false, string ftype = "max", TensorData? classCounts = null, TensorData? weight = null,
        bool useLogits = true, Reduction reduction = Reduction.Mean) : base(reduction)
    {
        if (!double.IsFinite(alpha)) throw LossArgumentException.Value($"{Name}: alpha must be finite, got {alpha}");
        if (reduction == Reduction.BatchMean) throw LossArgumentException.Value($"{Name}: reduction must be none, mean or sum");
        _alpha = alpha;
        _logits = useLogits;
        if (weight is TensorData w)
        {
            if (w.Shape.Rank != 1) throw LossArgumentException.Shape($"{Name}: weight must be one weight per class, got shape {w.Shape}");
            _weight = w.ToArray<double>();
        }
        if (ftype is not ("max" or "norm_max" or "log" or "norm_log" or "division" or "norm_division"))
        {
            throw LossArgumentException.Value($"{Name}: ftype must be max, norm_max, log, norm_log, division or norm_division, got '{ftype}'");
        }
        if (prox)
        {
            if (classCounts is not TensorData counts || counts.Shape.Rank != 1 || counts.Shape[0] < 2)
                throw LossArgumentException.Value($"{Name}: prox needs class_counts, the training targets' count of each class (one per class, at least 2)");
            _phi = Phi(counts.ToArray<double>(), ftype);
        }
    }

    /// <summary>φ(y, j) for every pair from the class counts (dlordinal's create_prox_mat with inv=False, then ftype).</summary>
    private static double[,] Phi(double[] counts, string ftype)
    {
        int k = counts.Length;
        double total = 0;
        foreach (double c in counts)
        {
            if (!(c >= 0) || double.IsInfinity(c)) throw LossArgumentException.Value($"{Name}: class_counts must be finite counts ≥ 0, got {c}");
            total += c;
        }
        if (!(total > 0)) throw LossArgumentException.Value($"{Name}: class_counts sum to 0");
        var prox = new double[k, k];
        for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++)
            {
                double numerator = counts[a] / 2;
                if (a <= b) for (int m = a + 1; m <= b; m++) numerator += counts[m];
                else for (int m = a - 1; m >= b; m--) numerator += counts[m];
                prox[a, b] = -Math.Log(numerator / total);
            }
        var norm = new double[k, k];
        for (int b = 0; b < k; b++)
        {
            double column = 0;
            for (int a = 0; a < k; a++) column += Math.Abs(prox[a, b]);
            for (int a = 0; a < k; a++) norm[a, b] = prox[a, b] / Math.Max(column, 1e-12);   // F.normalize's eps
        }
        double maxProx = prox.Cast<double>().Max(), maxNorm = norm.Cast<double>().Max();
        var phi = new double[k, k];
        for (int y = 0; y < k; y++)
            for (int j = 0; j < k; j++)
                phi[y, j] = ftype switch
                {
                    "max" => maxProx - prox[y, j],
                    "norm_max" => maxNorm - norm[y, j],
                    "log" => -Math.Log(prox[y, j]),
                    "norm_log" => -Math.Log(norm[y, j]),
                    "division" => 1 / prox[y, j],
                    _ => 1 / norm[y, j],   // norm_division (the constructor checked the name)
                };
        return phi;
    }

    /// <summary>The soft target q = softmax(−α·φ(y, ·)) over the row's classes.</summary>
    private double[] Target(int classes, int y)
    {
        if (_phi is not null && _phi.GetLength(0) != classes)
            throw LossArgumentException.Shape($"{Name}: class_counts has {_phi.GetLength(0)} classes but the input has {classes}");
        if (_weight is not null && _weight.Length != classes)
            throw LossArgumentException.Shape($"{Name}: weight has {_weight.Length} entries but the input has {classes} classes");
        var q = new double[classes];
        for (int j = 0; j < classes; j++) q[j] = -_alpha * (_phi is null ? Math.Abs(j - y) : _phi[y, j]);
        Stable.Softmax<double>(q, q);
        return q;
    }

    private double RowWeight(int y) => _weight is null ? 1 : _weight[y];

    protected override T RowValue<T>(ReadOnlySpan<T> x, int y)
    {
        double[] q = Target(x.Length, y);
        double sum = 0;
        if (_logits)
        {
            double[] lp = RowSoftmax(x).Lp;
            for (int j = 0; j < q.Length; j++) if (q[j] != 0) sum -= q[j] * lp[j];
        }
        else
        {
            for (int j = 0; j < q.Length; j++)
            {
                double v = double.CreateTruncating(x[j]);
                if (!(v >= 0 && v <= 1)) throw LossArgumentException.Value($"{Name}: with use_logits false the input holds probabilities in [0, 1]; class {j} of a row holds {v}");
                if (q[j] != 0) sum -= q[j] * Math.Log(v + ProbabilityEps);
            }
        }
        return T.CreateTruncating(RowWeight(y) * sum);
    }

    protected override void RowGradient<T>(ReadOnlySpan<T> x, int y, T scale, Span<T> g)
    {
        double[] q = Target(x.Length, y);
        double s = double.CreateTruncating(scale) * RowWeight(y);
        if (_logits)
        {
            double[] p = RowSoftmax(x).P;
            for (int j = 0; j < q.Length; j++) g[j] = T.CreateTruncating(s * (p[j] - q[j]));
        }
        else
        {
            for (int j = 0; j < q.Length; j++) g[j] = T.CreateTruncating(-s * q[j] / (double.CreateTruncating(x[j]) + ProbabilityEps));
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["sord_loss", "SORDLoss", "soft_ordinal_labels"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("input", InputKind.Floating, true, "logits (N, K) or (K) over K ordered classes (probabilities with use_logits false)"),
            new("target", InputKind.Indices, false, "ranks (N) or () in [0, K)"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("alpha", 1, "α > 0 sharpens the soft target softmax(−α·φ) towards the true rank (dlordinal requires it; 1 here)"),
            OptionSpec.Bool("prox", false, "φ from the ordinal proximity of the training class counts instead of |j − y|"),
            OptionSpec.Choice("ftype", "max", "how the proximity becomes φ (with prox)", "max", "norm_max", "log", "norm_log", "division", "norm_division"),
            OptionSpec.Tensor("class_counts", "the training targets' count per class (K), read with prox only (dlordinal's train_targets, counted; losslab train fills it in)"),
            OptionSpec.Tensor("weight", "one weight per class (K): a row is multiplied by its true class's, the mean stays over N"),
            OptionSpec.Bool("use_logits", true, "input are logits (log-softmax); false: probabilities, log(x + 1e-9)"),
        ],
        Sample = Sample,
        Formula = "ℓ = −w_y·Σ_j q_j·log softmax(x)_j,  q = softmax(−α·φ(y, ·)),  φ(y, j) = |j − y| or from the class-count proximity",
        Gradient = "∂ℓ/∂x_j = w_y·(softmax(x)_j − q_j) (probabilities: −w_y·q_j/(x_j + 1e-9))",
        Reference = "Díaz and Marathe, Soft Labels for Ordinal Regression, CVPR 2019; dlordinal SORDLoss",
        Stability = "log-softmax and the target's softmax in double: finite for every finite logit",
        LowerBound = 0,
        Libraries = "dlordinal (SORDLoss)",
        Factory = o => new SordLoss(o.Float("alpha"), o.Bool("prox"), o.Choice("ftype"), o.Tensor("class_counts"), o.Tensor("weight"), o.Bool("use_logits"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
