using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LossLab.Data;
using LossLab.Nn;
using LossLab.Training;
using Spectre.Console;

namespace LossLab.Cli.Commands;

/// <summary>
/// <c>losslab train --data FILE.csv --loss NAME|expr:... [options]</c>: trains an MLP, prints a line per epoch (a live
/// line on a terminal) and a final summary; <c>--format json</c> prints settings, history and test metrics.
/// </summary>
internal static class TrainCommand
{
    public static Command Create(CliConsole console)
    {
        var a = new TrainArguments();
        var report = new Option<string?>("--report") { Description = "folder for an HTML report (index.html: loss and validation metric per epoch in one chart, the test metrics, a verdict), the learning curves (curves.csv) and the run (run.json)" };
        var command = new Command("train", "Train an MLP on a CSV with any loss and report loss and metrics per epoch.")
        {
            report,
            a.Data, a.Target, a.Task, a.Bins, a.Loss, a.LossOptions, a.Hidden, a.EmbeddingDim, a.Activation, a.Optimizer, a.Lr,
            a.Schedule, a.Epochs, a.Batch, a.L1, a.L2, a.WeightDecay, a.Dropout, a.Clip, a.ClassWeights,
            a.Oversample, a.LabeledFraction, a.EarlyStopping, a.Seed, a.TestFraction, a.ValidationFraction, a.DropMissing, a.Save, a.Format,
            a.Checkpoint, a.CheckpointEvery, a.Resume,
        };
        command.SetAction((parse, cancel) => Task.FromResult(CommandErrors.Guard(console, "train", () => Run(console, a, parse.GetValue(report), parse, cancel))));
        return command;
    }

    private static int Run(CliConsole console, TrainArguments a, string? report, ParseResult p, CancellationToken cancel)
    {
        Dataset data = a.LoadData(p, console.Error);
        TrainingOptions options = a.Options(p) with
        {
            CheckpointPath = p.GetValue(a.Checkpoint),
            CheckpointEvery = (int)TrainArguments.Positive(p.GetValue(a.CheckpointEvery), "--checkpoint-every"),
            Resume = p.GetValue(a.Resume),
        };
        if (options.Resume && options.CheckpointPath is null) throw new ArgumentException("--resume needs --checkpoint FILE");
        OutputPaths.RequireWritableFile(p.GetValue(a.Save), "--save");
        OutputPaths.RequireWritableFile(options.CheckpointPath, "--checkpoint");
        OutputPaths.RequireWritableFolder(report, "--report");
        bool json = p.GetValue(a.Format) == "json";
        var clock = Stopwatch.StartNew();
        TrainingResult result;
        if (console.OutputIsTerminal && !json)
        {
            // A live Spectre.Console bar per epoch in a terminal.
            TrainingResult? done = null;
            Terminal(console).Progress().AutoClear(false).Start(ctx =>
            {
                var task = ctx.AddTask($"training {data.TargetName}", maxValue: options.Epochs);
                var bar = new SynchronousProgress<EpochRecord>(r =>
                {
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"epoch {r.Epoch}: train {r.TrainLoss:G4}, val {r.ValidationLoss:G4}");
                    task.Value = r.Epoch;
                });
                done = Trainer.Train(data, options, console.Registry, bar, cancel);
                task.Value = options.Epochs;
            });
            result = done!;
        }
        else
        {
            var lines = new SynchronousProgress<EpochRecord>(r =>
            {
                if (json) return;
                string metric = r.Validation.TryGetValue("accuracy", out double a) ? $"val accuracy {a:F4}" : r.Validation.TryGetValue("r2", out double r2) ? $"val r2 {r2:F4}" : "";
                if (r.Epoch == 1 || r.Epoch % Math.Max(1, options.Epochs / 10) == 0)
                {
                    string validation = double.IsNaN(r.ValidationLoss) && r.Validation.Count == 0 ? "n/a (no validation rows)" : r.ValidationLoss.ToString("G5", CultureInfo.InvariantCulture);
                    console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {r.Epoch,4}/{options.Epochs}  train loss {r.TrainLoss:G5}  val loss {validation}  {metric}"));
                }
            });
            result = Trainer.Train(data, options, console.Registry, lines, cancel);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        string? save = p.GetValue(a.Save);
        if (save is not null) result.Model.Save(save);
        if (report is not null) WriteReport(report, data, options, result, seconds, save);
        if (json)
        {
            console.Out.WriteLine(Json(data, options, result, seconds, save).ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            return ExitCodes.Ok;
        }
        console.Out.WriteLine($"model: {result.Model.Describe()}  loss: {result.Model.LossName}  stop: {result.StopReason}");
        console.Out.WriteLine($"  {KeptWeights(result)}");
        foreach (var (key, value) in result.Test) console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  test {key,-18} {value:G6}"));
        if (save is not null) console.Out.WriteLine($"saved {save}");
        if (report is not null) console.Out.WriteLine($"report: {Path.Combine(report, "index.html")} (with curves.csv and run.json)");
        string headline = CompareCommand.KeyMetric(result.Test) is string keyMetric
            ? string.Create(CultureInfo.InvariantCulture, $"test {keyMetric} {result.Test[keyMetric]:F4}")
            : "no test rows (--test-fraction 0)";   // every task reports accuracy, r2 or spearman when it has test rows
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"trained {data.TargetName} ({data.Task}, {data.Rows} rows) for {result.History.Count} epochs in {seconds:F1} s: {headline}"));
        return ExitCodes.Ok;
    }

    /// <summary>run.json (what --format json prints), curves.csv and the HTML page, in <paramref name="folder"/>.</summary>
    private static void WriteReport(string folder, Dataset data, TrainingOptions options, TrainingResult result, double seconds, string? saved)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, "run.json"), Json(data, options, result, seconds, saved).ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        AtomicFile.WriteAllText(Path.Combine(folder, "curves.csv"), Lab.TrainingReport.Curves(result));
        string key = CompareCommand.KeyMetric(result.Test) ?? result.History.SelectMany(e => e.Validation.Keys).FirstOrDefault(k => k is "accuracy" or "r2" or "spearman") ?? "accuracy";
        Lab.ReportWriter.Write(folder, [Lab.TrainingReport.Record(data, options, result, key, seconds)],
            string.Create(CultureInfo.InvariantCulture, $"One run of {result.Model.LossName} on {data.TargetName}, {result.History.Count} epochs in {seconds:F1} s."), "losslab train",
            $"Training {result.Model.LossName} on {data.TargetName}, measured");
    }

    internal static Spectre.Console.IAnsiConsole Terminal(CliConsole console) => Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
    {
        Out = new Spectre.Console.AnsiConsoleOutput(console.Out),
        Ansi = Spectre.Console.AnsiSupport.Detect,
        Interactive = Spectre.Console.InteractionSupport.Detect,
    });

    /// <summary>Which epoch's weights the model holds, and whether that is the epoch with the lowest monitored loss.</summary>
    internal static string KeptWeights(TrainingResult r)
    {
        string monitored = r.History.Any(h => !double.IsNaN(h.ValidationLoss)) ? "validation" : "training";
        if (r.BestEpoch == 0) return $"weights of epoch {r.KeptEpoch}; no epoch had a finite {monitored} loss";
        if (r.KeptEpoch == r.BestEpoch) return $"weights of epoch {r.KeptEpoch}, the lowest {monitored} loss";
        return $"weights of epoch {r.KeptEpoch}; the {monitored} loss was lowest at epoch {r.BestEpoch} (--early-stopping N keeps that epoch's weights)";
    }

    internal static JsonObject Json(Dataset data, TrainingOptions o, TrainingResult r, double seconds, string? saved)
    {
        static JsonNode Num(double v) => double.IsFinite(v) ? JsonValue.Create(v) : JsonValue.Create(double.IsNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
        static JsonObject Metrics(IReadOnlyDictionary<string, double> m) => new([.. m.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Num(kv.Value)))]);
        return new JsonObject
        {
            ["settings"] = new JsonObject
            {
                ["data"] = data.TargetName, ["rows"] = data.Rows, ["features"] = data.Columns, ["task"] = data.Task.ToString().ToLowerInvariant(),
                ["loss"] = r.Model.LossName, ["loss_options"] = new JsonObject([.. r.Binding.Options.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value?.ToString())))]),
                ["hidden"] = new JsonArray([.. o.Hidden.Select(h => (JsonNode)h)]), ["activation"] = o.Activation.ToString().ToLowerInvariant(),
                ["optimizer"] = o.Optimizer, ["lr"] = o.LearningRate, ["schedule"] = o.Schedule, ["epochs"] = o.Epochs, ["batch_size"] = o.BatchSize,
                ["l1"] = o.L1, ["l2"] = o.L2, ["weight_decay"] = o.WeightDecay, ["dropout"] = o.Dropout, ["clip_norm"] = o.ClipNorm,
                ["class_weights"] = o.ClassWeights.ToString().ToLowerInvariant(), ["labeled_fraction"] = o.LabeledFraction, ["oversample"] = o.Oversample, ["early_stopping"] = o.EarlyStopping,
                ["seed"] = o.Seed, ["test_fraction"] = o.TestFraction, ["validation_fraction"] = o.ValidationFraction,
                ["model"] = r.Model.Describe(),
                ["embedding_dim"] = r.Model.Embedding is null ? null : r.Model.Embedding.Dimension,
            },
            ["history"] = new JsonArray([.. r.History.Select(e => (JsonNode)new JsonObject
            {
                ["epoch"] = e.Epoch, ["lr"] = Num(e.LearningRate), ["train_loss"] = Num(e.TrainLoss), ["penalty"] = Num(e.Penalty),
                ["val_loss"] = Num(e.ValidationLoss), ["val"] = Metrics(e.Validation),
            })]),
            ["best_epoch"] = r.BestEpoch,
            ["kept_epoch"] = r.KeptEpoch,
            ["stop_reason"] = r.StopReason,
            ["test"] = Metrics(r.Test),
            ["saved"] = saved,
            ["timing"] = new JsonObject { ["seconds"] = seconds },
        };
    }
}

/// <summary>Reports on the calling thread (System.Progress would post to the thread pool and reorder lines).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>Turns expected failures of a command into one line on stderr and exit code 2.</summary>
internal static class CommandErrors
{
    public static int Guard(CliConsole console, string command, Func<int> run)
    {
        try
        {
            return run();
        }
        catch (Exception e) when (e is LossArgumentException or DataFormatException or ArgumentException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            string code = e is LossArgumentException l ? l.CodeName + ": " : "";
            string message = e is ArgumentException a && a.ParamName is not null ? a.Message.Replace($" (Parameter '{a.ParamName}')", "", StringComparison.Ordinal) : e.Message;
            console.Error.WriteLine($"losslab {command}: {code}{message}");
            return ExitCodes.InvalidInput;
        }
    }
}
