using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// The active–passive losses for noisy labels (Ma et al., Normalized Loss Functions for Deep Learning with Noisy Labels,
/// ICML 2020; its reference code's NCEandRCE, NCEandMAE, NFLandRCE, NFLandMAE): α·(a normalized active loss) +
/// β·(a passive loss). Normalizing a loss by its sum over every possible label makes it robust to symmetric label
/// noise, but alone it underfits; the passive term (which pushes down the other classes) restores the fit.
/// </summary>
/// <remarks>
/// <para><b>Per row</b> (p = softmax(x), lp = log p, label y, C classes):
/// NCE = lp_y / Σ_j lp_j; NFL = f_y / Σ_j f_j with f_j = −(1 − p_j)^γ·lp_j; RCE = −log(10⁻⁴)·Σ_{j≠y} max(p_j, 10⁻⁷)
/// (the reference's −Σ clamp(p, 10⁻⁷, 1)·log clamp(onehot, 10⁻⁴, 1)); MAE = 1 − p_y (the reference's code; the paper
/// writes 2 − 2p_y). The reference returns the mean over rows of each term.</para>
/// <para><b>Gradient</b> (∂p_j/∂x_k = p_j(δ_jk − p_k), ∂lp_j/∂x_k = δ_jk − p_k): NCE = A/B with A = −lp_y, B = −Σ lp_j,
/// ∂A = p − e_y and ∂B = C·p − 1, so ∂NCE = (∂A·B − A·∂B)/B². NFL: ∂f_j/∂x_k = (δ_jk − p_k)·h_j with
/// h_j = (1 − p_j)^γ·(γ·p_j·lp_j/(1 − p_j) − 1), lp_j/(1 − p_j) taken as −1 where p_j rounds to 1; then the quotient rule.
/// RCE: −log(10⁻⁴)·Σ_{j≠y, p_j &gt; 10⁻⁷} p_j(δ_jk − p_k) (the clamp's slope is 0 below it). MAE: −p_y(δ_yk − p_k).</para>
/// </remarks>
public sealed class ActivePassiveLoss : IndexedRowLoss, ILossDefinition
{
    private const string Name = "ActivePassiveLoss";
    private static readonly double RceFactor = -Math.Log(1e-4);
    private readonly bool _focal;
    private readonly string _passive;
    private readonly double _alpha, _beta, _gamma;

    public ActivePassiveLoss(string active = "nce", string passive = "rce", double alpha = 1, double beta = 1, double gamma = 0.5, Reduction reduction = Reduction.Mean)
        : base(reduction)
    {
        if (active is not ("nce" or "nfl")) throw LossArgumentException.Value($"{Name}: active must be nce or nfl, got '{active}'");
        if (passive is not ("rce" or "mae" or "none")) throw LossArgumentException.Value($"{Name}: passive must be rce, mae or none, got '{passive}'");
        if (!(alpha >= 0 && double.IsFinite(alpha) && beta >= 0 && double.IsFinite(beta))) throw LossArgumentException.Value($"{Name}: alpha and beta must be finite weights ≥ 0, got {alpha} and {beta}");
        if (!(gamma >= 0 && double.IsFinite(gamma))) throw LossArgumentException.Value($"{Name}: gamma must be a finite number ≥ 0, got {gamma}");
        if (reduction == Reduction.BatchMean) throw LossArgumentException.Value($"{Name}: reduction must be none, mean or sum");
        (_focal, _passive, _alpha, _beta, _gamma) = (active == "nfl", passive, alpha, beta, gamma);
    }

    /// <summary>f_j = −(1 − p_j)^γ·lp_j, the focal term (−lp_j at γ = 0), with 1 − p_j as −expm1(lp_j).</summary>
    private double Focal(double lp) => -Math.Pow(-Stable.Expm1(lp), _gamma) * lp;

    protected override T RowValue<T>(ReadOnlySpan<T> x, int y)
    {
        if (x.Length < 2) throw LossArgumentException.Shape($"{Name}: a row needs at least 2 classes to normalize over, got {x.Length}");
        var (lp, p) = RowSoftmax(x);
        double active;
        if (_focal)
        {
            double total = 0;
            foreach (double v in lp) total += Focal(v);
            active = Focal(lp[y]) / total;
        }
        else
        {
            active = lp[y] / lp.Sum();
        }
        return T.CreateTruncating(_alpha * active + _beta * Passive(lp, p, y));
    }

    private double Passive(double[] lp, double[] p, int y) => _passive switch
    {
        "rce" => RceFactor * p.Select((v, j) => j == y ? 0 : Math.Max(v, 1e-7)).Sum(),
        "mae" => -Stable.Expm1(lp[y]),   // 1 − p_y with its digits where p_y is near 1
        _ => 0,
    };

    protected override void RowGradient<T>(ReadOnlySpan<T> x, int y, T scale, Span<T> g)
    {
        var (lp, p) = RowSoftmax(x);
        int c = x.Length;
        var d = new double[c];
        if (_focal)
        {
            // f_j and h_j; ∂(Σf)/∂x_k = h_k − p_k·Σh, ∂f_y/∂x_k = (δ_yk − p_k)·h_y.
            double fSum = 0, hSum = 0;
            var h = new double[c];
            for (int j = 0; j < c; j++)
            {
                double oneMinus = -Stable.Expm1(lp[j]), ratio = oneMinus > 0 ? lp[j] / oneMinus : -1;
                h[j] = Math.Pow(oneMinus, _gamma) * (_gamma * p[j] * ratio - 1);
                fSum += Focal(lp[j]);
                hSum += h[j];
            }
            double fy = Focal(lp[y]);
            for (int k = 0; k < c; k++)
            {
                double dNum = ((k == y ? 1 : 0) - p[k]) * h[y], dDen = h[k] - p[k] * hSum;
                d[k] = _alpha * (dNum * fSum - fy * dDen) / (fSum * fSum);
            }
        }
        else
        {
            double a = -lp[y], b = -lp.Sum();
            for (int k = 0; k < c; k++)
            {
                double dA = p[k] - (k == y ? 1 : 0), dB = c * p[k] - 1;
                d[k] = _alpha * (dA * b - a * dB) / (b * b);
            }
        }
        if (_passive == "rce")
        {
            // Σ_{j≠y, p_j > 1e-7} p_j(δ_jk − p_k) = [k ≠ y, p_k > 1e-7]·p_k − p_k·S, S the sum of the counted p_j.
            double counted = 0;
            for (int j = 0; j < c; j++) if (j != y && p[j] > 1e-7) counted += p[j];
            for (int k = 0; k < c; k++) d[k] += _beta * RceFactor * ((k != y && p[k] > 1e-7 ? p[k] : 0) - p[k] * counted);
        }
        else if (_passive == "mae")
        {
            for (int k = 0; k < c; k++) d[k] -= _beta * p[y] * ((k == y ? 1 : 0) - p[k]);
        }
        for (int k = 0; k < c; k++) g[k] = scale * T.CreateTruncating(d[k]);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["active_passive_loss", "apl", "nce_rce", "normalized_cross_entropy"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs = ScoresAndLabels,
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Choice("active", "nce", "the normalized active loss: nce (normalized cross-entropy) or nfl (normalized focal)", "nce", "nfl"),
            OptionSpec.Choice("passive", "rce", "the passive loss: rce (reverse cross-entropy), mae (1 − p_y) or none", "rce", "mae", "none"),
            OptionSpec.Float("alpha", 1, "α, the active loss's weight"),
            OptionSpec.Float("beta", 1, "β, the passive loss's weight"),
            OptionSpec.Float("gamma", 0.5, "γ of the normalized focal loss (nfl; 0 is nce)"),
        ],
        Sample = Sample,
        Formula = "ℓ = α·(lp_y/Σ_j lp_j  or  f_y/Σ_j f_j) + β·(−log(1e-4)·Σ_{j≠y} max(p_j, 1e-7)  or  1 − p_y),  f = −(1 − p)^γ·lp",
        Gradient = "the quotient rule on the normalized term (∂lp_j/∂x_k = δ_jk − p_k); RCE and MAE through ∂p_j/∂x_k = p_j(δ_jk − p_k)",
        Reference = "Ma et al., Normalized Loss Functions for Deep Learning with Noisy Labels, ICML 2020 (reference code: NCEandRCE, NCEandMAE, NFLandRCE, NFLandMAE)",
        Stability = "log-softmax in double: finite for any finite logits",
        LowerBound = 0,
        Libraries = "the paper's reference code (Active-Passive-Losses); noisy-label toolkits",
        Factory = o => new ActivePassiveLoss(o.Choice("active"), o.Choice("passive"), o.Float("alpha"), o.Float("beta"), o.Float("gamma"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
