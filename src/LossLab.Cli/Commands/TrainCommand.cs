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
    internal static readonly Option<string> DataOption = new("--data") { Description = "CSV file with a header; the target is the last column unless --target", Required = true };
    internal static readonly Option<string?> TargetOption = new("--target") { Description = "name of the target column (multilabel: the label columns, a,b,c)" };
    internal static readonly Option<string> TaskOption = new("--task") { Description = "auto, regression, binary, multiclass or multilabel", DefaultValueFactory = _ => "auto" };
    internal static readonly Option<string?> LossOption = new("--loss") { Description = "loss name or expr:FORMULA (default: mse_loss for regression, cross_entropy otherwise)" };
    internal static readonly Option<string[]> LossOptionOption = new("--loss-option") { Description = "a loss option as name=value (JSON value), repeatable" };
    internal static readonly Option<string> HiddenOption = new("--hidden") { Description = "hidden layer widths, e.g. 64,32 (empty: linear model)", DefaultValueFactory = _ => "64,32" };
    internal static readonly Option<int> EmbeddingDimOption = new("--embedding-dim") { Description = "embedding width trained by a metric-learning loss (circle, supcon, triplet...); classes by nearest class centre", DefaultValueFactory = _ => 16 };
    internal static readonly Option<string> ActivationOption = new("--activation") { Description = "relu, leakyrelu, elu, gelu, sigmoid, tanh, softplus, identity", DefaultValueFactory = _ => "relu" };
    internal static readonly Option<string> OptimizerOption = new("--optimizer") { Description = "sgd, momentum, nesterov, rmsprop, adam, adamw", DefaultValueFactory = _ => "adam" };
    internal static readonly Option<double> LrOption = new("--lr") { Description = "learning rate", DefaultValueFactory = _ => 1e-3 };
    internal static readonly Option<string> ScheduleOption = new("--schedule") { Description = "constant, step, cosine, warmup", DefaultValueFactory = _ => "constant" };
    internal static readonly Option<int> EpochsOption = new("--epochs") { Description = "epochs", DefaultValueFactory = _ => 100 };
    internal static readonly Option<int> BatchOption = new("--batch-size") { Description = "mini-batch size", DefaultValueFactory = _ => 32 };
    internal static readonly Option<double> L1Option = new("--l1") { Description = "L1 penalty on weights" };
    internal static readonly Option<double> L2Option = new("--l2") { Description = "L2 penalty on weights" };
    internal static readonly Option<double> WeightDecayOption = new("--weight-decay") { Description = "optimizer weight decay (decoupled for adamw)" };
    internal static readonly Option<double> DropoutOption = new("--dropout") { Description = "dropout probability after each hidden layer" };
    internal static readonly Option<double?> ClipOption = new("--clip-norm") { Description = "clip the global gradient norm" };
    internal static readonly Option<string> ClassWeightsOption = new("--class-weights") { Description = "none, balanced or effective", DefaultValueFactory = _ => "none" };
    internal static readonly Option<double> LabeledFractionOption = new("--labeled-fraction") { Description = "share of training rows that keep their labels (stratified); fixmatch_loss and mixmatch_loss learn from the rest too", DefaultValueFactory = _ => 1.0 };
    internal static readonly Option<bool> OversampleOption = new("--oversample") { Description = "repeat minority-class training rows" };
    internal static readonly Option<int?> EarlyStoppingOption = new("--early-stopping") { Description = "patience in epochs (keeps the best weights)" };
    internal static readonly Option<int> SeedOption = new("--seed") { Description = "seed of the split, initialization, batches and dropout", DefaultValueFactory = _ => 0 };
    internal static readonly Option<double> TestFractionOption = new("--test-fraction") { Description = "share of rows held out for the test metrics", DefaultValueFactory = _ => 0.2 };
    internal static readonly Option<double> ValidationFractionOption = new("--validation-fraction") { Description = "share of rows for validation", DefaultValueFactory = _ => 0.1 };
    internal static readonly Option<bool> DropMissingOption = new("--drop-missing") { Description = "drop rows with empty cells instead of failing" };
    internal static readonly Option<string?> SaveOption = new("--save") { Description = "write the trained model (JSON, written atomically)" };
    internal static readonly Option<string> FormatOption = new("--format") { Description = "table or json", DefaultValueFactory = _ => "table" };
    internal static readonly Option<string?> CheckpointOption = new("--checkpoint") { Description = "checkpoint file, written atomically every --checkpoint-every epochs, on Ctrl-C and at the end" };
    internal static readonly Option<int> CheckpointEveryOption = new("--checkpoint-every") { Description = "epochs between checkpoints", DefaultValueFactory = _ => 1 };
    internal static readonly Option<bool> ResumeOption = new("--resume") { Description = "continue from --checkpoint if it exists (same options and data: same final weights as an uninterrupted run)" };

    public static Command Create(CliConsole console)
    {
        foreach (var (option, values) in new (Option<string>, string[])[]
        {
            (TaskOption, ["auto", "regression", "binary", "multiclass", "multilabel"]), (ClassWeightsOption, ["none", "balanced", "effective"]),
            (FormatOption, ["table", "json"]), (ScheduleOption, ["constant", "step", "cosine", "warmup"]),
            (OptimizerOption, ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"]),
            (ActivationOption, ["relu", "leakyrelu", "elu", "gelu", "sigmoid", "tanh", "softplus", "identity"]),
        })
        {
            option.AcceptOnlyFromAmong(values);
        }
        var command = new Command("train", "Train an MLP on a CSV with any loss and report loss and metrics per epoch.")
        {
            DataOption, TargetOption, TaskOption, LossOption, LossOptionOption, HiddenOption, EmbeddingDimOption, ActivationOption, OptimizerOption, LrOption,
            ScheduleOption, EpochsOption, BatchOption, L1Option, L2Option, WeightDecayOption, DropoutOption, ClipOption, ClassWeightsOption,
            OversampleOption, LabeledFractionOption, EarlyStoppingOption, SeedOption, TestFractionOption, ValidationFractionOption, DropMissingOption, SaveOption, FormatOption,
            CheckpointOption, CheckpointEveryOption, ResumeOption,
        };
        command.SetAction((parse, cancel) => Task.FromResult(CommandErrors.Guard(console, "train", () => Run(console, parse, cancel))));
        return command;
    }

    internal static Dataset LoadData(ParseResult p)
    {
        string task = p.GetValue(TaskOption)!;
        return CsvLoader.Load(p.GetValue(DataOption)!, new CsvOptions
        {
            TargetColumn = p.GetValue(TargetOption),
            DropMissing = p.GetValue(DropMissingOption),
            Task = task switch { "regression" => TaskKind.Regression, "binary" => TaskKind.Binary, "multiclass" => TaskKind.Multiclass, "multilabel" => TaskKind.Multilabel, _ => null },
        });
    }

    internal static TrainingOptions Options(ParseResult p) => new()
    {
        Loss = p.GetValue(LossOption),
        LossOptions = GradCheckCommand.ParseOptions(p.GetValue(LossOptionOption) ?? []),
        Hidden = Mlp.ParseHidden(p.GetValue(HiddenOption)),
        EmbeddingDimension = (int)Positive(p.GetValue(EmbeddingDimOption), "--embedding-dim"),
        Activation = Enum.GetValues<Activation>().First(a => a.ToString().Equals(p.GetValue(ActivationOption), StringComparison.OrdinalIgnoreCase)),
        Optimizer = p.GetValue(OptimizerOption)!,
        LearningRate = Positive(p.GetValue(LrOption), "--lr"),
        Schedule = p.GetValue(ScheduleOption)!,
        Epochs = (int)Positive(p.GetValue(EpochsOption), "--epochs"),
        BatchSize = (int)Positive(p.GetValue(BatchOption), "--batch-size"),
        L1 = p.GetValue(L1Option),
        L2 = p.GetValue(L2Option),
        WeightDecay = p.GetValue(WeightDecayOption),
        Dropout = p.GetValue(DropoutOption),
        ClipNorm = p.GetValue(ClipOption),
        ClassWeights = Enum.Parse<ClassWeighting>(p.GetValue(ClassWeightsOption)!, ignoreCase: true),
        Oversample = p.GetValue(OversampleOption),
        LabeledFraction = p.GetValue(LabeledFractionOption) is double f && f > 0 && f <= 1 ? f
            : throw new ArgumentException($"--labeled-fraction must be in (0, 1], got {p.GetValue(LabeledFractionOption).ToString(CultureInfo.InvariantCulture)}"),
        EarlyStopping = p.GetValue(EarlyStoppingOption),
        Seed = p.GetValue(SeedOption),
        TestFraction = p.GetValue(TestFractionOption),
        ValidationFraction = p.GetValue(ValidationFractionOption),
    };

    private static double Positive(double v, string name) => v > 0 ? v : throw new ArgumentException($"{name} must be positive, got {v.ToString(CultureInfo.InvariantCulture)}");

    private static int Run(CliConsole console, ParseResult p, CancellationToken cancel)
    {
        Dataset data = LoadData(p);
        TrainingOptions options = Options(p) with
        {
            CheckpointPath = p.GetValue(CheckpointOption),
            CheckpointEvery = (int)Positive(p.GetValue(CheckpointEveryOption), "--checkpoint-every"),
            Resume = p.GetValue(ResumeOption),
        };
        if (options.Resume && options.CheckpointPath is null) throw new ArgumentException("--resume needs --checkpoint FILE");
        bool json = p.GetValue(FormatOption) == "json";
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
        string? save = p.GetValue(SaveOption);
        if (save is not null) result.Model.Save(save);
        if (json)
        {
            console.Out.WriteLine(Json(data, options, result, seconds, save).ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            return ExitCodes.Ok;
        }
        console.Out.WriteLine($"model: {result.Model.Describe()}  loss: {result.Model.LossName}  stop: {result.StopReason}");
        console.Out.WriteLine($"  {KeptWeights(result)}");
        foreach (var (key, value) in result.Test) console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  test {key,-18} {value:G6}"));
        if (save is not null) console.Out.WriteLine($"saved {save}");
        string headline = CompareCommand.KeyMetric(result.Test) is string keyMetric
            ? string.Create(CultureInfo.InvariantCulture, $"test {keyMetric} {result.Test[keyMetric]:F4}")
            : "no test rows (--test-fraction 0)";   // every task reports accuracy, r2 or spearman when it has test rows
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"trained {data.TargetName} ({data.Task}, {data.Rows} rows) for {result.History.Count} epochs in {seconds:F1} s: {headline}"));
        return ExitCodes.Ok;
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
