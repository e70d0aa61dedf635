using System.Globalization;
using System.Text;
using LossLab.Data;
using LossLab.Training;

namespace LossLab.Cli.Lab;

/// <summary>
/// The report of <c>losslab train --report DIR</c>: one run's training and validation loss (left axis) and its key
/// validation metric (right axis) per epoch in one chart, the test metrics of the kept weights, and a verdict on whether
/// the loss steered learning (the training loss fell and the key metric improved on the first epoch), with the
/// epoch where the validation loss was lowest and how far it rose after it.
/// </summary>
public static class TrainingReport
{
    /// <summary>The record the HTML page shows; <paramref name="key"/> is the task's key metric (accuracy, r2 or spearman).</summary>
    public static ExperimentRecord Record(Dataset data, TrainingOptions options, TrainingResult result, string key, double seconds)
    {
        IReadOnlyList<EpochRecord> h = result.History;
        double[] epochs = [.. h.Select(e => (double)e.Epoch)];
        double[] metric = [.. h.Select(e => e.Validation.GetValueOrDefault(key, double.NaN))];
        string loss = result.Model.LossName;
        var left = new List<SeriesRecord> { new($"training loss ({loss})", epochs, [.. h.Select(e => e.TrainLoss)]) };
        if (h.Any(e => double.IsFinite(e.ValidationLoss))) left.Add(new SeriesRecord("validation loss", epochs, [.. h.Select(e => e.ValidationLoss)]));
        var chart = new ChartRecord($"Loss (left) and validation {key} (right) per epoch", "line", "epoch", $"loss ({loss})", left,
            RightYLabel: $"validation {key}", RightSeries: metric.Any(double.IsFinite) ? [new SeriesRecord($"validation {key}", epochs, metric)] : []);
        var rows = result.Test.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new[] { kv.Key, kv.Value.ToString("G6", CultureInfo.InvariantCulture) }).ToList();
        string setup = string.Create(CultureInfo.InvariantCulture,
            $"{data.TargetName}: {data.Task.ToString().ToLowerInvariant()}, {data.Rows} rows; {result.Model.Describe()}; {options.Optimizer} {options.LearningRate:G3}, batch {options.BatchSize}, up to {options.Epochs} epochs, seed {options.Seed}; stopped: {result.StopReason}. The test metrics are those of epoch {result.KeptEpoch}'s weights.");
        return new ExperimentRecord(1, "train", $"Training {loss} on {data.TargetName}", $"The loss steered learning: the training loss fell and validation {key} improved",
            $"Did minimizing {loss} lower the training loss and improve validation {key}, and where did the validation loss stop falling?",
            setup, new TableRecord(["test metric", "value"], rows), chart, Verdict(h, metric, key, result), 1, seconds);
    }

    private static VerdictRecord Verdict(IReadOnlyList<EpochRecord> h, double[] metric, string key, TrainingResult result)
    {
        if (h.Count < 2) return new VerdictRecord("Inconclusive", double.NaN, double.NaN, double.NaN, "One epoch gives no curve to judge.");
        double first = h[0].TrainLoss, last = h[^1].TrainLoss;
        int kept = Math.Clamp(result.KeptEpoch, 1, h.Count) - 1;
        double gain = metric[kept] - metric[0];   // accuracy, R² and Spearman's ρ: higher is better
        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"The training loss went from {first:G4} to {last:G4} ({last / first:G3} of its first epoch). "));
        if (!double.IsFinite(gain))
        {
            text.Append($"There are no validation {key} values to compare (no validation rows, or --validation-fraction 0).");
            return new VerdictRecord("Inconclusive", double.NaN, double.NaN, double.NaN, text.ToString());
        }
        text.Append(string.Create(CultureInfo.InvariantCulture, $"Validation {key} went from {metric[0]:G4} at epoch 1 to {metric[kept]:G4} at epoch {kept + 1}, the kept weights. "));
        double[] val = [.. h.Select(e => e.ValidationLoss)];
        if (val.Any(double.IsFinite))
        {
            int best = Array.IndexOf(val, val.Where(double.IsFinite).Min());
            double rise = val[^1] / val[best] - 1;
            text.Append(best == val.Length - 1
                ? "The validation loss was lowest at the last epoch: it was still falling, and more epochs may help."
                : rise > 0.05
                    ? string.Create(CultureInfo.InvariantCulture, $"The validation loss was lowest at epoch {best + 1} and {(rise <= 1 ? $"{rise * 100:F0} % higher" : $"{rise + 1:G3} times as high")} at the end: the model overfits after it (--early-stopping keeps the best epoch's weights).")
                    : string.Create(CultureInfo.InvariantCulture, $"The validation loss was lowest at epoch {best + 1} and no more than 5 % higher after it."));
        }
        bool steered = last < first && gain > 0;
        return new VerdictRecord(steered ? "Supported" : "NotSupported", gain, double.NaN, double.NaN, text.ToString());
    }

    /// <summary>curves.csv: one row per epoch, every validation metric a column.</summary>
    public static string Curves(TrainingResult result)
    {
        // The validation loss has its own column (the metrics repeat it as "loss").
        string[] metrics = [.. result.History.SelectMany(e => e.Validation.Keys).Where(k => k != "loss").Distinct().Order(StringComparer.Ordinal)];
        var csv = new StringBuilder("epoch,lr,train_loss,penalty,val_loss");
        foreach (string m in metrics) csv.Append(",val_").Append(m);
        csv.Append('\n');
        foreach (EpochRecord e in result.History)
        {
            csv.Append(string.Create(CultureInfo.InvariantCulture, $"{e.Epoch},{e.LearningRate:R},{e.TrainLoss:R},{e.Penalty:R},{e.ValidationLoss:R}"));
            foreach (string m in metrics) csv.Append(',').Append(e.Validation.GetValueOrDefault(m, double.NaN).ToString("R", CultureInfo.InvariantCulture));
            csv.Append('\n');
        }
        return csv.ToString();
    }
}
