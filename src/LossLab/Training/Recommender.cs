using System.Globalization;
using LossLab.Data;

namespace LossLab.Training;

/// <summary>A ranked loss suggestion: what to train with, and why, quoting the measured statistic.</summary>
public sealed record Recommendation(int Rank, string Loss, IReadOnlyDictionary<string, object?> LossOptions, ClassWeighting ClassWeights, string Reason);

/// <summary>
/// Ranks losses for a data set from its <see cref="DataProfile"/>. The rules follow what the losses are designed for
/// (robust regression for outliers, Poisson for counts, class balancing for skewed classes, noise-robust losses
/// for conflicting labels); every reason quotes the statistic that triggered it, and <c>--verify</c> measures it.
/// </summary>
public static class Recommender
{
    /// <summary>Generalized cross-entropy (Zhang &amp; Sabuncu, 2018) with q = 0.7, written with the expression language.</summary>
    public const string GeneralizedCrossEntropy = "expr:mean((1 - exp(-0.7 * cross_entropy(input, target, reduction='none'))) / 0.7)";

    /// <summary>Log-cosh: log cosh(d) = softplus(2d) − d − log 2, exact for large |d|.</summary>
    public const string LogCosh = "expr:mean(softplus(2 * (input - target)) - (input - target) - log(2))";

    /// <summary>
    /// Log-cosh at scale s: s²·log cosh(d/s), which is d²/2 for |d| ≪ s and s·|d| − s²·log 2 far out, a smooth Huber
    /// with δ = s (plain <see cref="LogCosh"/> when s = 1).
    /// </summary>
    public static string ScaledLogCosh(double s)
    {
        if (s == 1) return LogCosh;
        string k = s.ToString("R", CultureInfo.InvariantCulture);
        return $"expr:mean({k} * {k} * (softplus(2 * (input - target) / {k}) - (input - target) / {k} - log(2)))";
    }

    /// <summary>
    /// Huber's δ (and log-cosh's scale) in the targets' units: their robust scale 1.4826·MAD to two significant
    /// digits, 1 when it is not positive. The residuals of a useful model are smaller than the targets' spread, so
    /// this δ counts the typical residual as quadratic and only the far ones as linear, near the classic 1.345σ.
    /// </summary>
    public static double HuberDelta(DataProfile p)
    {
        ArgumentNullException.ThrowIfNull(p);
        double s = p.TargetScale;
        if (!(s > 0) || !double.IsFinite(s)) return 1;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(s)) - 1);
        return Math.Round(s / magnitude) * magnitude;
    }

    private static string P(double share) => share.ToString("P1", CultureInfo.InvariantCulture);

    private static string N(double v) => v.ToString("G3", CultureInfo.InvariantCulture);

    public static IReadOnlyList<Recommendation> Rank(DataProfile p)
    {
        ArgumentNullException.ThrowIfNull(p);
        var list = new List<(string Loss, Dictionary<string, object?> Options, ClassWeighting Weights, string Reason)>();
        double conflictShare = p.ConflictingDuplicates / (double)Math.Max(p.Rows, 1);
        if (p.Task == TaskKind.Regression)
        {
            bool outliers = p.OutlierShare >= 0.01, heavy = p.ExcessKurtosis > 3;
            double delta = HuberDelta(p);
            string scale = $"δ = {N(delta)}: 1.4826·MAD of the targets";
            // Small counts are where the Gaussian view of MSE fails (skewed, heteroscedastic: variance grows with the mean).
            if (p.CountValued && p.TargetMean <= 30 && !outliers)
            {
                list.Add(("poisson_nll_loss", new(), ClassWeighting.None, $"targets are small counts (integers ≥ 0, mean {N(p.TargetMean)}, variance {N(p.TargetVariance)}): the Poisson likelihood models their skew and mean-dependent variance"));
            }
            if (outliers || heavy)
            {
                string why = $"{P(p.OutlierShare)} of targets are outliers by the robust rule (|modified z| > 3.5) and the excess kurtosis is {N(p.ExcessKurtosis)}";
                list.Add(("huber_loss", new() { ["delta"] = delta }, ClassWeighting.None, why + $": Huber is quadratic near 0 and caps each row's gradient, so outliers cannot dominate ({scale})"));
                list.Add(("l1_loss", new(), ClassWeighting.None, why + ": L1 fits the median and weighs every residual alike"));
                list.Add((ScaledLogCosh(delta), new(), ClassWeighting.None, why + $": log-cosh is a smooth Huber-like loss (at the same scale, {N(delta)})"));
                list.Add(("mse_loss", new(), ClassWeighting.None, $"MSE fits the mean; with {P(p.OutlierShare)} outliers their squared residuals dominate its gradient"));
            }
            else
            {
                list.Add(("mse_loss", new(), ClassWeighting.None, $"only {P(p.OutlierShare)} outliers and excess kurtosis {N(p.ExcessKurtosis)} (skew {N(p.Skewness)}): near-Gaussian noise, where MSE is the efficient choice"));
                list.Add(("huber_loss", new() { ["delta"] = delta }, ClassWeighting.None, $"a safe alternative if outliers appear later: MSE-like near 0, capped gradient far away ({scale})"));
                list.Add(("l1_loss", new(), ClassWeighting.None, $"fits the median; useful if the skew ({N(p.Skewness)}) reflects a long tail"));
            }
            if (p.UnitInterval) list.Add(("binary_cross_entropy_with_logits", new(), ClassWeighting.None, "targets lie in [0, 1]: cross-entropy on a sigmoid output keeps predictions inside the range"));
        }
        else
        {
            bool binary = p.Task == TaskKind.Binary, multilabel = p.Task == TaskKind.Multilabel;
            if (p.Task == TaskKind.Ordinal)
            {
                // Ordered classes: the ordinal losses use the order that cross-entropy ignores (a rank-2 error costs it
                // as much as a rank-1 one). CORN first: its authors measured lower rank errors than CORAL's.
                string ranks = $"{p.ClassCounts.Count} ordered classes (counts {string.Join(" / ", p.ClassCounts)})";
                list.Add(("corn_loss", new(), ClassWeighting.None, ranks + ": CORN (Shi et al. 2023) learns P(rank > k | rank > k − 1) for each threshold, "
                    + "rank-consistent by construction and without CORAL's shared weight vector; its median rank is the prediction"));
                list.Add(("coral_loss", new(), ClassWeighting.None, ranks + ": CORAL (Cao et al. 2020) learns P(rank > k) with one weight vector and a bias "
                    + "per threshold, so the thresholds cannot cross"));
                list.Add(("cross_entropy", new(), ClassWeighting.None, ranks + ": cross-entropy ignores the order (a miss by two ranks costs what a miss "
                    + "by one does) but is the proper scoring rule for the class probabilities: the baseline to beat on rank_mae"));
                list.Add(("emd_loss", new(), ClassWeighting.None, ranks + ": the squared EMD (Hou et al. 2016), the ranked probability score, keeps "
                    + "the softmax head and charges probability by how many ranks it sits from the true one: a proper scoring rule for ordered outcomes"));
                return [.. list.Select((r, i) => new Recommendation(i + 1, r.Loss, r.Options, r.Weights, r.Reason))];
            }
            string baseLoss = binary || multilabel ? "binary_cross_entropy_with_logits" : "cross_entropy";
            string balance = multilabel
                ? $"the rarest label side is {P(p.MinorityShare)} of rows (imbalance up to {N(p.ImbalanceRatio)}:1)"
                : $"the class counts are {string.Join(" / ", p.ClassCounts)} (imbalance {N(p.ImbalanceRatio)}:1, minority {P(p.MinorityShare)})";
            if (p.ImbalanceRatio >= 3)
            {
                if (binary || multilabel)
                {
                    list.Add(("sigmoid_focal_loss", new() { ["reduction"] = "mean", ["gamma"] = 2.0 }, ClassWeighting.Balanced, balance + ": the focal term down-weights the many easy majority rows and α balances the classes"));
                }
                list.Add((baseLoss, new(), ClassWeighting.Balanced, balance + ": inverse-frequency class weights make each class count equally"));
                if (multilabel)
                {
                    list.Add(("asymmetric_loss", new(), ClassWeighting.None, balance + ": the asymmetric loss (Ridnik et al. 2021) focuses negatives harder than positives (γ₋ = 4) and "
                        + "drops the easiest below a probability margin, for rows with few positive labels"));
                }
                else if (!binary)
                {
                    list.Add(("logit_adjusted_loss", new(), ClassWeighting.None, balance + ": logit adjustment (Menon et al. 2021) trains on logits shifted by the log class "
                        + "priors and predicts without the shift, aiming at the balanced error without reweighting rows"));
                }
                list.Add((baseLoss, new(), ClassWeighting.Effective, balance + ": effective-number weights (Cui et al. 2019) balance more gently than inverse frequency"));
                list.Add((baseLoss, new(), ClassWeighting.None, balance + ": unweighted, the majority dominates the loss and minority recall suffers"));
            }
            else if (conflictShare >= 0.01 && !multilabel)
            {
                string why = $"{P(conflictShare)} of rows are duplicates with conflicting labels (label noise)";
                list.Add((GeneralizedCrossEntropy, new(), ClassWeighting.None, why + ": generalized cross-entropy (q = 0.7) bounds the loss of a wrong label"));
                if (!binary) list.Add((baseLoss, new() { ["label_smoothing"] = 0.1 }, ClassWeighting.None, why + ": label smoothing stops the model from chasing the noisy labels with full confidence"));
                list.Add((baseLoss, new(), ClassWeighting.None, why + ": plain cross-entropy keeps growing on mislabeled rows"));
            }
            else
            {
                list.Add((baseLoss, new(), ClassWeighting.None, $"{balance}{(conflictShare > 0 ? $", {P(conflictShare)} conflicting duplicates" : ", no conflicting duplicates")}: cross-entropy is the proper scoring rule and gives calibrated probabilities"));
                if (!binary && !multilabel) list.Add((baseLoss, new() { ["label_smoothing"] = 0.1 }, ClassWeighting.None, "label smoothing (0.1) often improves calibration at no cost in accuracy"));
                if (!binary && !multilabel) list.Add(("multi_margin_loss", new(), ClassWeighting.None, "a margin loss: optimizes the decision, not probabilities (worse log loss)"));
                if (binary) list.Add(("soft_margin_loss", new(), ClassWeighting.None, "the logistic loss on ±1 labels: the same optimum as cross-entropy"));
                if (multilabel) list.Add(("multilabel_soft_margin_loss", new(), ClassWeighting.None, "the per-label logistic loss averaged over labels"));
            }
        }
        return [.. list.Select((r, i) => new Recommendation(i + 1, r.Loss, r.Options, r.Weights, r.Reason))];
    }
}
