using LossLab.Autograd;
using LossLab.Data;
using LossLab.Losses.Core;
using LossLab.Metrics;
using LossLab.Nn;
using LossLab.Optim;

namespace LossLab.Training;

/// <summary>The test and validation metrics of <see cref="Trainer"/>: regression, classification and multilabel.</summary>
public static partial class Trainer
{
    /// <summary>The share of <paramref name="targets"/> at or below their prediction (NaN without rows).</summary>
    internal static double BelowPrediction(double[] predictions, double[] targets)
    {
        if (targets.Length == 0) return double.NaN;
        int below = 0;
        for (int i = 0; i < targets.Length; i++) if (targets[i] <= predictions[i]) below++;
        return (double)below / targets.Length;
    }

    /// <summary>
    /// Lower-case metric names: accuracy, balanced_accuracy, f1, roc_auc, log_loss, ece, ... (ordinal data adds rank_mae,
    /// the mean distance between the predicted median rank and the true one, and qwk, the quadratic weighted kappa) or mae, rmse, r2, mape, and
    /// below_prediction is the share of targets at or below the prediction: τ for a calibrated τ-quantile model
    /// (quantile_loss), about ½ for a median. With predicted <paramref name="variances"/> coverage_95: the share of targets within mean ± 1.96σ (0.95 when the
    /// variances are calibrated), and the rank metrics spearman, kendall_tau and concordance (Harrell's C). With
    /// <paramref name="calibrated"/> false the predictions only rank: a metric-learning model's nearest-centroid scores
    /// leave out log_loss and ece, which read them as probabilities, and a ranking model's scores leave out mae, rmse,
    /// r2 and mape, which read them as values.
    /// </summary>
    public static Dictionary<string, double> Metrics(double[] predictions, Dataset data, double[]? variances = null, bool calibrated = true)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Task == TaskKind.Regression)
        {
            var m = new RegressionMetrics();
            m.Update(predictions, data.Targets);
            RegressionResult r = m.Result();
            RankResult ranks = RankCorrelation.Of(predictions, data.Targets);
            var result = calibrated
                ? new Dictionary<string, double>
                {
                    ["mae"] = r.Mae, ["rmse"] = r.Rmse, ["r2"] = r.R2, ["mape"] = r.Mape,
                    ["below_prediction"] = BelowPrediction(predictions, data.Targets),
                }
                : [];
            (result["spearman"], result["kendall_tau"], result["concordance"]) = (ranks.Spearman, ranks.KendallTau, ranks.Concordance);
            if (variances is not null) result["coverage_95"] = IntervalCoverage.Of(predictions, variances, data.Targets);
            return result;
        }
        if (data.Task == TaskKind.Multilabel)
        {
            // A NaN probability (a diverged model) makes every score NaN: NaN ≥ ½ would count as a confident "no", and
            // the macro AUC leaves out labels whose AUC is NaN.
            Dictionary<string, double> scores = MultilabelMetrics(predictions, data);
            if (Array.Exists(predictions, double.IsNaN)) foreach (string key in scores.Keys) scores[key] = double.NaN;
            return scores;
        }
        var c = new ClassificationMetrics(data.Classes);
        c.Update(predictions, [.. data.Targets.Select(t => (int)t)]);
        ClassificationResult res = c.Result();
        var classification = new Dictionary<string, double>
        {
            ["accuracy"] = res.Accuracy, ["balanced_accuracy"] = res.BalancedAccuracy, ["precision"] = res.MacroPrecision,
            ["recall"] = res.MacroRecall, ["f1"] = res.MacroF1, ["roc_auc"] = res.RocAuc, ["pr_auc"] = res.PrAuc,
            ["log_loss"] = res.LogLoss, ["ece"] = res.ExpectedCalibrationError,
            ["minority_recall"] = res.PerClass.Where(p => p.Support > 0).MinBy(p => p.Support)?.Recall ?? double.NaN,
        };
        if (!calibrated)
        {
            classification.Remove("log_loss");
            classification.Remove("ece");
        }
        else if (data.Task == TaskKind.Ordinal)
        {
            // Both read the median ranks; a NaN probability (a diverged model) or no rows makes both NaN.
            int[]? ranks = data.Rows == 0 || Array.Exists(predictions, double.IsNaN) ? null : OrdinalRanks.MedianRanks(predictions, data.Classes);
            classification["rank_mae"] = ranks is null ? double.NaN : RankMae(ranks, data);
            classification["qwk"] = ranks is null ? double.NaN : QuadraticWeightedKappa(ranks, data);
        }
        return classification;
    }

    /// <summary>
    /// The mean distance between each row's predicted median rank (<see cref="OrdinalRanks.MedianRanks"/>: the reference
    /// libraries' label for CORAL and CORN, the median of the softmax for the others) and its true rank.
    /// </summary>
    private static double RankMae(int[] ranks, Dataset data)
    {
        double sum = 0;
        for (int i = 0; i < ranks.Length; i++) sum += Math.Abs(ranks[i] - data.Targets[i]);
        return sum / ranks.Length;
    }

    /// <summary>
    /// Cohen's quadratic weighted kappa between the predicted median ranks (as for <see cref="RankMae"/>) and the true
    /// ones: 1 − Σ W∘O / Σ W∘E, W_ab = (a − b)²/(K − 1)², O the confusion counts and E = outer(true counts, predicted
    /// counts)/N (scikit-learn's cohen_kappa_score with weights="quadratic"). 1 is perfect agreement, 0 chance; NaN when
    /// chance alone cannot disagree (every row and prediction in one class).
    /// </summary>
    private static double QuadraticWeightedKappa(int[] predicted, Dataset data)
    {
        int k = data.Classes;
        var truth = new double[k];
        var made = new double[k];
        double observed = 0;
        for (int i = 0; i < predicted.Length; i++)
        {
            int t = (int)data.Targets[i], p = predicted[i];
            truth[t]++;
            made[p]++;
            observed += (double)(t - p) * (t - p);
        }
        double expected = 0;
        for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++) expected += (double)(a - b) * (a - b) * truth[a] * made[b];
        expected /= predicted.Length;
        return expected == 0 ? double.NaN : 1 - observed / expected;
    }

    /// <summary>The positive class's scores of a binary result; NaN ones when a NaN probability emptied it.</summary>
    private static ClassScores Positive(ClassificationResult r) => r.PerClass.Count > 1 ? r.PerClass[1] : new(double.NaN, double.NaN, double.NaN, 0);

    /// <summary>
    /// Multilabel metrics: accuracy = exact match of every label (subset accuracy), hamming_accuracy = share of correct
    /// labels; the others are the macro mean over labels of the binary metric.
    /// </summary>
    private static Dictionary<string, double> MultilabelMetrics(double[] probabilities, Dataset data)
    {
        int l = data.TargetWidth, n = data.Rows;
        int exact = 0, correctLabels = 0;
        for (int i = 0; i < n; i++)
        {
            int rowCorrect = 0;
            for (int k = 0; k < l; k++) rowCorrect += (probabilities[i * l + k] >= 0.5) == (data.Targets[i * l + k] > 0) ? 1 : 0;
            correctLabels += rowCorrect;
            exact += rowCorrect == l ? 1 : 0;
        }
        var perLabel = Enumerable.Range(0, l).Select(k =>
        {
            var m = new ClassificationMetrics(2);
            m.Update([.. Enumerable.Range(0, n).SelectMany(i => new[] { 1 - probabilities[i * l + k], probabilities[i * l + k] })],
                [.. Enumerable.Range(0, n).Select(i => data.Targets[i * l + k] > 0 ? 1 : 0)]);
            return m.Result();
        }).ToList();
        return new()
        {
            ["accuracy"] = (double)exact / n, ["hamming_accuracy"] = (double)correctLabels / (n * l),
            ["balanced_accuracy"] = perLabel.Average(r => r.BalancedAccuracy), ["precision"] = perLabel.Average(r => Positive(r).Precision),
            ["recall"] = perLabel.Average(r => Positive(r).Recall), ["f1"] = perLabel.Average(r => Positive(r).F1),
            ["roc_auc"] = perLabel.Where(r => !double.IsNaN(r.RocAuc)).Select(r => r.RocAuc).DefaultIfEmpty(double.NaN).Average(),
            ["pr_auc"] = perLabel.Where(r => !double.IsNaN(r.PrAuc)).Select(r => r.PrAuc).DefaultIfEmpty(double.NaN).Average(),
            ["log_loss"] = perLabel.Average(r => r.LogLoss), ["ece"] = perLabel.Average(r => r.ExpectedCalibrationError),
        };
    }
}
