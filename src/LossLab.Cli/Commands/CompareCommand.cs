using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LossLab.Cli.Lab;
using LossLab.Data;
using LossLab.Nn;
using LossLab.Training;
using Spectre.Console;

namespace LossLab.Cli.Commands;

/// <summary>
/// <c>losslab compare --data FILE.csv --losses a,b,expr:... [train options] [--seeds 5] [--activations relu,tanh]
/// [--report DIR] [--format table|json]</c>: one model per loss (and activation) and seed on the same splits; mean ± std
/// of every metric with the best marked, and each arm against the first one paired by seed with a 95 % interval.
/// </summary>
internal static class CompareCommand
{
    /// <summary>The options of one <c>compare</c> command tree: its own and most of <c>train</c>'s.</summary>
    private sealed class Arguments
    {
        public readonly TrainArguments Train = new();
        public readonly Option<string> Losses = new("--losses") { Description = "comma-separated losses (names or expr:...); the first is the reference", Required = true };
        public readonly Option<int> Seeds = new("--seeds") { Description = "seeds (runs per loss)", DefaultValueFactory = _ => 5 };
        public readonly Option<string?> Activations = new("--activations") { Description = "comma-separated activations to compare too (default: --activation)" };
        public readonly Option<string?> Report = new("--report") { Description = "folder for the run records (runs.json), the learning curves (curves.csv) and an HTML report with charts (index.html)" };
    }

    public static Command Create(CliConsole console)
    {
        var a = new Arguments();
        TrainArguments t = a.Train;
        var command = new Command("compare", "Compare losses (and activations) on one data set: same splits, seeds and budget.")
        {
            a.Losses, a.Seeds, a.Activations, a.Report,
            t.Data, t.Target, t.Task, t.Bins, t.LossOptions, t.Hidden, t.EmbeddingDim, t.Activation, t.Optimizer, t.Lr, t.Schedule, t.Epochs,
            t.Batch, t.L1, t.L2, t.WeightDecay, t.Dropout, t.Clip, t.ClassWeights, t.LabeledFraction, t.Oversample, t.EarlyStopping,
            t.Seed, t.TestFraction, t.ValidationFraction, t.DropMissing, t.Format,
        };
        command.SetAction((p, cancel) => Task.FromResult(CommandErrors.Guard(console, "compare", () => Run(console, a, p, cancel))));
        return command;
    }

    /// <summary>Splits on commas outside parentheses and quotes, so expressions with arguments stay whole.</summary>
    internal static List<string> SplitTopLevel(string text)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        int depth = 0;
        char quote = '\0';
        foreach (char c in text)
        {
            if (quote != '\0') { if (c == quote) quote = '\0'; }
            else if (c is '\'' or '"') quote = c;
            else if (c == '(') depth++;
            else if (c == ')') depth--;
            else if (c == ',' && depth == 0)
            {
                parts.Add(current.ToString().Trim());
                current.Clear();
                continue;
            }
            current.Append(c);
        }
        if (current.Length > 0) parts.Add(current.ToString().Trim());
        return [.. parts.Where(p => p.Length > 0)];
    }

    private static int Run(CliConsole console, Arguments a, ParseResult p, CancellationToken cancel)
    {
        Dataset data = a.Train.LoadData(p, console.Error);
        TrainingOptions options = a.Train.Options(p);
        OutputPaths.RequireWritableFolder(p.GetValue(a.Report), "--report");
        List<string> losses = SplitTopLevel(p.GetValue(a.Losses)!);
        string? activationText = p.GetValue(a.Activations);
        Activation[] activations = activationText is null
            ? [options.Activation]
            : [.. activationText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(ParseActivation)];
        int seeds = p.GetValue(a.Seeds);
        bool json = p.GetValue(a.Train.Format) == "json";
        int total = losses.Count * activations.Length * seeds, done = 0;
        ComparisonResult result;
        if (console.OutputIsTerminal && !json)
        {
            ComparisonResult? finished = null;
            TrainCommand.Terminal(console).Progress().AutoClear(false).Start(ctx =>
            {
                var task = ctx.AddTask("runs", maxValue: total);
                var bar = new SynchronousProgress<RunRecord>(r =>
                {
                    task.Description = $"{r.Loss} ({r.Activation}, seed {r.Seed}) {Headline(r.Test)}";
                    task.Increment(1);
                });
                finished = Comparison.Run(data, losses, activations, seeds, options, console.Registry, bar, cancel);
            });
            result = finished!;
        }
        else
        {
            var lines = new SynchronousProgress<RunRecord>(r =>
            {
                done++;
                if (!json) console.Out.WriteLine($"run {done}/{total}: {r.Loss} ({r.Activation}, seed {r.Seed}) {Headline(r.Test)}");
            });
            result = Comparison.Run(data, losses, activations, seeds, options, console.Registry, lines, cancel);
        }
        string? report = p.GetValue(a.Report);
        if (report is not null) WriteReport(report, data, options, result);
        if (json)
        {
            console.Out.WriteLine(Json(data, result, seeds).ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            return ExitCodes.Ok;
        }
        console.Out.Write(Table(data, result, seeds));
        if (report is not null) console.Out.WriteLine($"run records, learning curves and the HTML report ({Path.Combine(report, "index.html")}) written to {report}");
        return ExitCodes.Ok;
    }

    private static Activation ParseActivation(string name)
        => Enum.GetValues<Activation>().FirstOrDefault(a => a.ToString().Equals(name, StringComparison.OrdinalIgnoreCase)) is var a && a.ToString().Equals(name, StringComparison.OrdinalIgnoreCase)
            ? a
            : throw new ArgumentException($"unknown activation '{name}'; choose {string.Join(", ", Enum.GetNames<Activation>().Select(n => n.ToLowerInvariant()))}");

    private static string Headline(IReadOnlyDictionary<string, double> test)
    {
        string key = KeyMetric(test) ?? "spearman";   // without test rows: 0, as the progress line always printed
        return string.Create(CultureInfo.InvariantCulture, $"{key} {test.GetValueOrDefault(key):F4}");
    }

    /// <summary>
    /// The metric that sums up a run: accuracy for classification, R² for regression, Spearman's ρ for a model whose
    /// scores only rank; null without test rows.
    /// </summary>
    internal static string? KeyMetric(IReadOnlyDictionary<string, double> test)
        => new[] { "accuracy", "r2", "spearman" }.FirstOrDefault(test.ContainsKey);

    /// <summary>
    /// The metrics to tabulate, the key one first. Ordinal data: the rank error (lower is better), which every arm reports
    /// whatever its head. Regression: R² and the errors, unless an arm only ranks (the margin ranking loss), where every
    /// arm is compared on Spearman's ρ and the rank metrics, which all arms report.
    /// </summary>
    internal static string[] MainMetrics(Dataset data, ComparisonResult result) => data.Task == TaskKind.Ordinal
        ? ["rank_mae", "qwk", "accuracy", "balanced_accuracy", "f1", "log_loss", "ece"]
        : data.Task != TaskKind.Regression
        ? ["accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss", "ece"]
        : result.Arms.All(a => a.Metrics.ContainsKey("r2"))
        ? ["r2", "rmse", "mae", "mape", "spearman"]
        : ["spearman", "kendall_tau", "concordance", "r2", "rmse"];

    internal static string Table(Dataset data, ComparisonResult result, int seeds)
    {
        string[] metrics = MainMetrics(data, result);
        string key = metrics[0];
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{data.TargetName}: {data.Task}, {data.Rows} rows; {seeds} seed(s) per arm; test-split metrics, mean ± std (* best)"));
        int width = Math.Max(12, result.Arms.Max(a => ComparisonReport.Label(a).Length) + 2);
        sb.Append("  " + "arm".PadRight(width));
        foreach (string m in metrics) sb.Append(m.PadLeft(19));
        sb.AppendLine($"   Δ {key} vs first [95% CI]{(Comparison.LowerIsBetter(key) ? " (lower is better)" : "")}");
        foreach (ArmSummary arm in result.Arms)
        {
            sb.Append("  " + ComparisonReport.Label(arm).PadRight(width));
            foreach (string m in metrics)
            {
                if (arm.Metrics.GetValueOrDefault(m) is not Spread s)
                {
                    sb.Append("–".PadLeft(10).PadRight(19));   // not measured for this arm (log_loss of an embedding's scores)
                    continue;
                }
                string star = ReferenceEquals(result.Best(m), arm) && result.Arms.Count > 1 ? "*" : " ";
                sb.Append(string.Create(CultureInfo.InvariantCulture, $"{s.Mean,9:F4} ± {s.Std,-6:F4}{star}"));
            }
            PairedDifference d = arm.VersusFirst[key];
            sb.AppendLine(ReferenceEquals(arm, result.Arms[0])
                ? "   (reference)"
                : d.NoSpread
                    ? string.Create(CultureInfo.InvariantCulture, $"   {Signed.Of(d.Mean),8} on every seed{(d.Significant ? " significant (sign test)" : "")}")
                    : string.Create(CultureInfo.InvariantCulture, $"   {Signed.Of(d.Mean),8} [{Signed.Of(d.Low)}, {Signed.Of(d.High)}]{(d.Significant ? " significant" : "")}"));
        }
        return sb.ToString();
    }

    private static JsonNode Num(double v) => double.IsFinite(v) ? JsonValue.Create(v) : JsonValue.Create(double.IsNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");

    internal static JsonObject Json(Dataset data, ComparisonResult result, int seeds) => new()
    {
        ["data"] = data.TargetName,
        ["task"] = data.Task.ToString().ToLowerInvariant(),
        ["rows"] = data.Rows,
        ["seeds"] = seeds,
        ["arms"] = new JsonArray([.. result.Arms.Select(a => (JsonNode)new JsonObject
        {
            ["loss"] = a.Loss,
            ["activation"] = a.Activation,
            ["metrics"] = new JsonObject([.. a.Metrics.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)new JsonObject
            {
                ["mean"] = Num(kv.Value.Mean), ["std"] = Num(kv.Value.Std), ["best"] = kv.Key != "loss" && ReferenceEquals(result.Best(kv.Key), a),
            }))]),
            ["versus_first"] = new JsonObject([.. a.VersusFirst.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)new JsonObject
            {
                ["mean"] = Num(kv.Value.Mean), ["low"] = Num(kv.Value.Low), ["high"] = Num(kv.Value.High),
            }))]),
            ["runs"] = new JsonArray([.. a.Runs.Select(r => (JsonNode)new JsonObject
            {
                ["seed"] = r.Seed, ["best_epoch"] = r.BestEpoch, ["stop_reason"] = r.StopReason,
                ["test"] = new JsonObject([.. r.Test.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Num(kv.Value)))]),
            })]),
        })]),
    };

    /// <summary>runs.json (every run with its history) and curves.csv (one row per run and epoch) for the report stage.</summary>
    private static void WriteReport(string folder, Dataset data, TrainingOptions options, ComparisonResult result)
    {
        Directory.CreateDirectory(folder);
        var runs = new JsonArray();
        var csv = new StringBuilder("loss,activation,seed,epoch,train_loss,val_loss,val_metric\n");
        string key = MainMetrics(data, result)[0];
        foreach (ArmSummary arm in result.Arms)
        {
            foreach (RunRecord r in arm.Runs)
            {
                runs.Add(new JsonObject
                {
                    ["loss"] = r.Loss, ["activation"] = r.Activation, ["seed"] = r.Seed, ["best_epoch"] = r.BestEpoch, ["stop_reason"] = r.StopReason,
                    ["test"] = new JsonObject([.. r.Test.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Num(kv.Value)))]),
                    ["history"] = new JsonArray([.. r.History.Select(e => (JsonNode)new JsonObject
                    {
                        ["epoch"] = e.Epoch, ["train_loss"] = Num(e.TrainLoss), ["val_loss"] = Num(e.ValidationLoss),
                        ["val"] = new JsonObject([.. e.Validation.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Num(kv.Value)))]),
                    })]),
                });
                foreach (EpochRecord e in r.History)
                {
                    csv.Append(string.Create(CultureInfo.InvariantCulture,
                        $"\"{r.Loss.Replace("\"", "\"\"", StringComparison.Ordinal)}\",{r.Activation},{r.Seed},{e.Epoch},{e.TrainLoss:R},{e.ValidationLoss:R},{e.Validation.GetValueOrDefault(key, double.NaN):R}\n"));
                }
            }
        }
        var record = new JsonObject
        {
            ["format"] = "losslab-comparison", ["version"] = 1, ["data"] = data.TargetName, ["task"] = data.Task.ToString().ToLowerInvariant(),
            ["epochs"] = options.Epochs, ["hidden"] = new JsonArray([.. options.Hidden.Select(h => (JsonNode)h)]), ["runs"] = runs,
        };
        AtomicFile.WriteAllText(Path.Combine(folder, "runs.json"), record.ToJsonString());
        AtomicFile.WriteAllText(Path.Combine(folder, "curves.csv"), csv.ToString());
        // The same runs as an HTML page with charts: the key metric's validation curves and the training-loss curves.
        int seeds = result.Arms.Max(a => a.Runs.Count);
        ReportWriter.Write(folder, ComparisonReport.Records(data, options, result, MainMetrics(data, result), seeds),
            string.Create(CultureInfo.InvariantCulture, $"{result.Arms.Count} arm(s) compared on {data.TargetName}, {seeds} seed(s) each."), "losslab compare",
            $"Losses compared on {data.TargetName}, measured");
    }
}

/// <summary>Writes a file through a temporary file and a rename, so readers never see half of it.</summary>
internal static class AtomicFile
{
    public static void WriteAllText(string path, string text)
    {
        string temp = path + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }
}
