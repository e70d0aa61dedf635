namespace LossLab.Metrics;

/// <summary>Precision, recall, F1 and support of one class.</summary>
public sealed record ClassScores(double Precision, double Recall, double F1, int Support);

/// <summary>Every classification metric of one evaluation.</summary>
public sealed record ClassificationResult(
    double Accuracy,
    double BalancedAccuracy,
    double MacroPrecision,
    double MacroRecall,
    double MacroF1,
    double RocAuc,
    double PrAuc,
    double LogLoss,
    double ExpectedCalibrationError,
    int[,] ConfusionMatrix,
    IReadOnlyList<ClassScores> PerClass);

/// <summary>
/// Streaming classification metrics: <see cref="Update"/> with predicted probabilities (N × C, rows summing to 1;
/// a binary model passes [1 − p, p]) and integer labels, then <see cref="Result"/>; <see cref="Reset"/> starts over.
/// </summary>
/// <remarks>
/// ROC-AUC is the Mann–Whitney statistic with average ranks for ties (binary: class 1's score; multiclass: the
/// macro mean of one-vs-rest over classes that have both positives and negatives). PR-AUC is average precision
/// Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct thresholds, macro-averaged the same way. Log loss clips probabilities to
/// [1e-15, 1]. ECE uses 15 equal-width bins of the top-label confidence. Macro means run over the classes present
/// in the labels or the predictions, as scikit-learn's default labels and torchmetrics do: a class absent from
/// both (a split without it) does not count. Precision of a class never predicted, and recall of a class never
/// present, count as 0 (scikit-learn's zero_division=0).
/// </remarks>
public sealed class ClassificationMetrics(int classes)
{
    private const int EceBins = 15;
    private readonly int _classes = classes >= 2 ? classes : throw new ArgumentOutOfRangeException(nameof(classes), $"classification needs at least 2 classes, got {classes}");
    private readonly List<double> _probabilities = [];
    private readonly List<int> _labels = [];

    public int Classes => _classes;

    public int Count => _labels.Count;

    public void Reset()
    {
        _probabilities.Clear();
        _labels.Clear();
    }

    public void Update(ReadOnlySpan<double> probabilities, ReadOnlySpan<int> labels)
    {
        if (probabilities.Length != labels.Length * _classes)
        {
            throw new ArgumentException($"{labels.Length} labels need {labels.Length * _classes} probabilities ({_classes} per row), got {probabilities.Length}", nameof(probabilities));
        }
        foreach (int y in labels)
        {
            if (y < 0 || y >= _classes) throw new ArgumentOutOfRangeException(nameof(labels), $"label {y} is outside [0, {_classes - 1}]");
        }
        foreach (double p in probabilities) _probabilities.Add(p);
        foreach (int y in labels) _labels.Add(y);
    }

    /// <summary>
    /// The metrics of everything added so far. A NaN probability (a diverged model) makes every score NaN, as the rank
    /// correlations do, rather than counting its row under whichever class a comparison with NaN happened to pick; the
    /// confusion matrix is then empty.
    /// </summary>
    public ClassificationResult Result()
    {
        int n = _labels.Count, c = _classes;
        var confusion = new int[c, c];
        if (_probabilities.Exists(double.IsNaN))
        {
            double nan = double.NaN;
            return new ClassificationResult(nan, nan, nan, nan, nan, nan, nan, nan, nan, confusion, []);
        }
        double logLoss = 0;
        var binConfidence = new double[EceBins];
        var binCorrect = new double[EceBins];
        var binCount = new int[EceBins];
        for (int i = 0; i < n; i++)
        {
            int predicted = 0;
            for (int k = 1; k < c; k++) if (_probabilities[i * c + k] > _probabilities[i * c + predicted]) predicted = k;
            int y = _labels[i];
            confusion[y, predicted]++;
            logLoss -= Math.Log(Math.Clamp(_probabilities[i * c + y], 1e-15, 1));
            double confidence = _probabilities[i * c + predicted];
            int bin = Math.Min(EceBins - 1, (int)(confidence * EceBins));
            binConfidence[bin] += confidence;
            binCorrect[bin] += predicted == y ? 1 : 0;
            binCount[bin]++;
        }
        var perClass = new List<ClassScores>();
        var seen = new List<ClassScores>();   // classes present in the labels or the predictions
        int correct = 0;
        for (int k = 0; k < c; k++)
        {
            correct += confusion[k, k];
            int support = 0, predictedK = 0;
            for (int j = 0; j < c; j++)
            {
                support += confusion[k, j];
                predictedK += confusion[j, k];
            }
            double precision = predictedK == 0 ? 0 : (double)confusion[k, k] / predictedK;
            double recall = support == 0 ? 0 : (double)confusion[k, k] / support;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass.Add(new ClassScores(precision, recall, f1, support));
            if (support > 0 || predictedK > 0) seen.Add(perClass[^1]);
        }
        double ece = 0;
        for (int b = 0; b < EceBins; b++)
        {
            if (binCount[b] > 0) ece += Math.Abs(binCorrect[b] - binConfidence[b]) / Math.Max(n, 1);
        }
        var present = perClass.Where(p => p.Support > 0).ToList();
        var (auc, ap) = RankingScores();
        return new ClassificationResult(
            Accuracy: n == 0 ? double.NaN : (double)correct / n,
            BalancedAccuracy: present.Count == 0 ? double.NaN : present.Average(p => p.Recall),
            MacroPrecision: seen.Count == 0 ? double.NaN : seen.Average(p => p.Precision),
            MacroRecall: seen.Count == 0 ? double.NaN : seen.Average(p => p.Recall),
            MacroF1: seen.Count == 0 ? double.NaN : seen.Average(p => p.F1),
            RocAuc: auc,
            PrAuc: ap,
            LogLoss: n == 0 ? double.NaN : logLoss / n,
            ExpectedCalibrationError: n == 0 ? double.NaN : ece,
            ConfusionMatrix: confusion,
            PerClass: perClass);
    }

    /// <summary>(ROC-AUC, average precision): binary uses class 1; multiclass the macro mean of one-vs-rest.</summary>
    private (double Auc, double Ap) RankingScores()
    {
        int[] classes = _classes == 2 ? [1] : [.. Enumerable.Range(0, _classes)];
        var aucs = new List<double>();
        var aps = new List<double>();
        foreach (int k in classes)
        {
            double[] scores = [.. Enumerable.Range(0, _labels.Count).Select(i => _probabilities[i * _classes + k])];
            bool[] positive = [.. _labels.Select(y => y == k)];
            int pos = positive.Count(p => p), neg = positive.Length - pos;
            if (pos == 0 || neg == 0) continue;
            aucs.Add(Auc(scores, positive, pos, neg));
            aps.Add(AveragePrecision(scores, positive, pos));
        }
        return (aucs.Count == 0 ? double.NaN : aucs.Average(), aps.Count == 0 ? double.NaN : aps.Average());
    }

    /// <summary>Mann–Whitney U / (P·N) with average ranks for tied scores.</summary>
    internal static double Auc(double[] scores, bool[] positive, int pos, int neg)
    {
        int[] order = [.. Enumerable.Range(0, scores.Length).OrderBy(i => scores[i])];
        double rankSum = 0;
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && scores[order[end + 1]] == scores[order[start]]) end++;
            double averageRank = (start + end) / 2.0 + 1;
            for (int j = start; j <= end; j++) if (positive[order[j]]) rankSum += averageRank;
            start = end + 1;
        }
        return (rankSum - pos * (pos + 1) / 2.0) / ((double)pos * neg);
    }

    /// <summary>Σ (Rₙ − Rₙ₋₁)·Pₙ over the distinct thresholds, highest score first.</summary>
    internal static double AveragePrecision(double[] scores, bool[] positive, int pos)
    {
        int[] order = [.. Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i])];
        double ap = 0, previousRecall = 0;
        int truePositives = 0, seen = 0;
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && scores[order[end + 1]] == scores[order[start]]) end++;
            for (int j = start; j <= end; j++) if (positive[order[j]]) truePositives++;
            seen = end + 1;
            double recall = (double)truePositives / pos, precision = (double)truePositives / seen;
            ap += (recall - previousRecall) * precision;
            previousRecall = recall;
            start = end + 1;
        }
        return ap;
    }
}

/// <summary>Every regression metric of one evaluation; MAPE is a fraction (0.1 = 10 %), as scikit-learn's.</summary>
public sealed record RegressionResult(double Mae, double Rmse, double R2, double Mape);

/// <summary>Streaming regression metrics (Welford sums, so one pass and no stored rows).</summary>
public sealed class RegressionMetrics
{
    private long _n;
    private double _absolute, _squared, _percentage, _mean, _m2;

    public long Count => _n;

    public void Reset() => (_n, _absolute, _squared, _percentage, _mean, _m2) = (0, 0, 0, 0, 0, 0);

    public void Update(ReadOnlySpan<double> predictions, ReadOnlySpan<double> targets)
    {
        if (predictions.Length != targets.Length) throw new ArgumentException($"{predictions.Length} predictions for {targets.Length} targets", nameof(predictions));
        for (int i = 0; i < targets.Length; i++)
        {
            double e = predictions[i] - targets[i];
            _n++;
            _absolute += Math.Abs(e);
            _squared += e * e;
            _percentage += Math.Abs(e) / Math.Max(Math.Abs(targets[i]), 2.220446049250313e-16);   // scikit-learn: max(|y|, machine epsilon)
            double delta = targets[i] - _mean;
            _mean += delta / _n;
            _m2 += delta * (targets[i] - _mean);
        }
    }

    public RegressionResult Result() => _n == 0
        ? new RegressionResult(double.NaN, double.NaN, double.NaN, double.NaN)
        : new RegressionResult(_absolute / _n, Math.Sqrt(_squared / _n), _m2 == 0 ? double.NaN : 1 - _squared / _m2, _percentage / _n);
}
