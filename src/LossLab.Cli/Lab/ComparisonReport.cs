using System.Globalization;
using LossLab.Data;
using LossLab.Training;

namespace LossLab.Cli.Lab;

/// <summary>
/// The HTML report of <c>losslab compare --report</c>: two sections in the lab report's format, the key metric's
/// validation curves with the comparison table and a verdict on the best challenger against the reference arm, and
/// the training-loss curves (each relative to its first epoch, since every loss has its own scale) with a verdict
/// on whether every loss went down.
/// </summary>
public static class ComparisonReport
{
    /// <param name="metrics">The test metrics to tabulate; the first is the key metric (accuracy or R², higher is better; rank_mae on ordinal data, lower is better).</param>
    public static IReadOnlyList<ExperimentRecord> Records(Dataset data, TrainingOptions options, ComparisonResult result, string[] metrics, int seeds)
    {
        string key = metrics[0];
        double seconds = result.Arms.SelectMany(a => a.Runs).Sum(r => r.Seconds);
        string setup = string.Create(CultureInfo.InvariantCulture,
            $"{data.TargetName}: {data.Task.ToString().ToLowerInvariant()}, {data.Rows} rows; {seeds} seed(s) per arm, each seed the same split and initialization for every arm; MLP hidden {string.Join('-', options.Hidden)}, {options.Optimizer} {options.LearningRate:G3}, up to {options.Epochs} epochs.");
        return [MetricRecord(result, metrics, key, setup, seeds, seconds), LossRecord(result, setup, seeds, seconds)];
    }

    private static ExperimentRecord MetricRecord(ComparisonResult result, string[] metrics, string key, string setup, int seeds, double seconds)
    {
        ArmSummary reference = result.Arms[0];
        // The challenger: the best arm on the test split other than the reference (higher is better for accuracy and R²,
        // lower for the rank error that leads on ordinal data).
        bool lower = Comparison.LowerIsBetter(key);
        var candidates = result.Arms.Skip(1).Where(a => double.IsFinite(a.Metrics.GetValueOrDefault(key)?.Mean ?? double.NaN));
        ArmSummary? challenger = lower ? candidates.MinBy(a => a.Metrics[key].Mean) : candidates.MaxBy(a => a.Metrics[key].Mean);
        string better = lower ? "lower" : "higher";
        VerdictRecord verdict;
        string claim;
        if (challenger is null)
        {
            claim = $"{Label(reference)} is the only arm";
            verdict = new VerdictRecord("Inconclusive", double.NaN, double.NaN, double.NaN, "One arm only: there is nothing to compare it with.");
        }
        else
        {
            PairedDifference d = challenger.VersusFirst[key];
            claim = $"{Label(challenger)} scores a {better} test {key} than {Label(reference)}";
            bool improves = lower ? d.Mean < 0 : d.Mean > 0;
            string status = !d.Significant ? "Inconclusive" : improves ? "Supported" : "NotSupported";
            string text = (d.NoSpread
                    ? string.Create(CultureInfo.InvariantCulture, $"Mean paired difference in test {key} (challenger − reference) {Signed.Of(d.Mean)} on every one of {seeds} seeds (no spread for a t-interval; the sign test decides): ")
                    : string.Create(CultureInfo.InvariantCulture, $"Mean paired difference in test {key} (challenger − reference) {Signed.Of(d.Mean)}, 95 % interval [{Signed.Of(d.Low)}, {Signed.Of(d.High)}] over {seeds} seed(s): "))
                + (status switch
                {
                    "Supported" => d.NoSpread ? $"{better} on every seed, enough seeds for the sign test." : $"the interval lies {(lower ? "below" : "above")} 0.",
                    "NotSupported" => d.NoSpread ? $"{(lower ? "higher" : "lower")} on every seed, enough seeds for the sign test; the reference is better." : $"the interval lies {(lower ? "above" : "below")} 0; the reference is better.",
                    _ => seeds < 2 ? "one seed gives no interval; run more seeds."
                        : d.NoSpread && d.Mean != 0 ? "one sign on every seed, but the sign test needs at least 6 seeds."
                        : "the interval contains 0; more seeds or a larger effect would be needed.",
                });
            verdict = new VerdictRecord(status, d.Mean, d.Low, d.High, text);
        }
        string[] columns = ["arm", .. metrics.Select(m => m + " (test)"), $"Δ {key} vs first [95% CI]"];
        var rows = result.Arms.Select(arm => (string[])
        [
            Label(arm),
            .. metrics.Select(m => arm.Metrics.TryGetValue(m, out Spread? s)
                ? string.Create(CultureInfo.InvariantCulture, $"{s.Mean:F4} ± {s.Std:F4}{(ReferenceEquals(result.Best(m), arm) && result.Arms.Count > 1 ? " *" : "")}")
                : "–"),
            ReferenceEquals(arm, reference) ? "(reference)" : Difference(arm.VersusFirst[key]),
        ]).ToList();
        var series = result.Arms.Select(a => SeriesRecord.OverSeeds(Label(a), a.Runs.Select(r => r.History.Select(e => e.Validation.GetValueOrDefault(key, double.NaN)).ToList()).ToList(), spread: true)).ToList();
        var chart = new ChartRecord($"Validation {key} per epoch (mean ± std over seeds{(lower ? "; lower is better" : "")})", "line", "epoch", $"validation {key}", series);
        return new ExperimentRecord(1, "compare-metric", $"Test and validation {key} of each arm", claim,
            $"Which loss gives the best test {key}, with every arm trained on the same splits from the same initializations?",
            setup, new TableRecord(columns, rows), chart, verdict, seeds, seconds);
    }

    private static ExperimentRecord LossRecord(ComparisonResult result, string setup, int seeds, double seconds)
    {
        // Each loss on its own scale: every run's curve divided by its first epoch, then averaged over seeds.
        var ratios = new List<double>();
        var rows = new List<string[]>();
        var series = new List<SeriesRecord>();
        foreach (ArmSummary arm in result.Arms)
        {
            var relative = arm.Runs.Where(r => r.History.Count > 0)
                .Select(r => r.History.Select(e => e.TrainLoss / r.History[0].TrainLoss).ToList()).ToList();
            double first = arm.Runs.Where(r => r.History.Count > 0).Select(r => r.History[0].TrainLoss).DefaultIfEmpty(double.NaN).Average();
            double last = arm.Runs.Where(r => r.History.Count > 0).Select(r => r.History[^1].TrainLoss).DefaultIfEmpty(double.NaN).Average();
            double ratio = last / first;
            ratios.Add(ratio);
            rows.Add([Label(arm), Num(first), Num(last), string.Create(CultureInfo.InvariantCulture, $"{ratio:F3}"),
                string.Create(CultureInfo.InvariantCulture, $"{arm.Runs.Average(r => r.BestEpoch):F1}")]);
            if (relative.Count > 0) series.Add(SeriesRecord.OverSeeds(Label(arm), relative, spread: true));
        }
        bool allFall = ratios.All(r => r < 1);
        double worst = ratios.Any(double.IsNaN) ? double.NaN : ratios.Max();
        string text = allFall
            ? string.Create(CultureInfo.InvariantCulture, $"Every arm ends its training below its first epoch's loss; the one that fell least ends at {worst:F3} of it.")
            : $"Not every arm's training loss fell: {string.Join(", ", result.Arms.Where((_, i) => !(ratios[i] < 1)).Select(Label))} did not.";
        var verdict = new VerdictRecord(allFall ? "Supported" : "NotSupported", worst, double.NaN, double.NaN, text);
        var chart = new ChartRecord("Training loss per epoch, relative to the first epoch (mean ± std over seeds)", "line", "epoch", "training loss / first epoch", series);
        return new ExperimentRecord(2, "compare-loss", "Training loss of each arm", "Every arm's training loss falls during training",
            "Does each loss steer the model: does the quantity it minimizes go down? Losses have their own scales, so each curve is divided by its first epoch.",
            setup, new TableRecord(["arm", "first-epoch loss", "last-epoch loss", "last / first", "best epoch (mean)"], rows), chart, verdict, seeds, seconds);
    }

    private static string Difference(PairedDifference d) => d.NoSpread
        ? string.Create(CultureInfo.InvariantCulture, $"{Signed.Of(d.Mean)} on every seed{(d.Significant ? " significant (sign test)" : "")}")
        : string.Create(CultureInfo.InvariantCulture, $"{Signed.Of(d.Mean)} [{Signed.Of(d.Low)}, {Signed.Of(d.High)}]{(d.Significant ? " significant" : "")}");

    private static string Num(double v) => v.ToString("G5", CultureInfo.InvariantCulture);

    /// <summary>An arm's name: its loss, and its activation when that is not the default ReLU.</summary>
    internal static string Label(ArmSummary a) => a.Activation == "relu" ? a.Loss : $"{a.Loss} / {a.Activation}";
}
