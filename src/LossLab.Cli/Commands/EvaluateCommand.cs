using System.CommandLine;
using System.Globalization;
using LossLab.Data;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Training;

namespace LossLab.Cli.Commands;

/// <summary>
/// <c>losslab evaluate --model M --data FILE.csv [--loss NAME ...] [--loss-option K=V ...]</c>: metrics and loss values of a
/// saved model. The loss it was trained with is scored with the options it was trained with (the user's and the class
/// weights or priors derived from the training data), which <c>--loss-option</c> overrides; another loss gets
/// <c>--loss-option</c>'s alone.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create(CliConsole console)
    {
        var modelOption = new Option<string>("--model") { Description = "a model saved by losslab train --save", Required = true };
        var lossesOption = new Option<string[]>("--loss") { Description = "losses to evaluate (default: the one it was trained with, with its options)" };
        var t = new TrainArguments();
        t.LossOptions.Description = "a loss option as name=value (JSON value), repeatable; for the trained loss it overrides the saved option";
        var command = new Command("evaluate", "Evaluate a saved model on a CSV: metrics and loss values.")
        {
            modelOption, t.Data, t.Target, lossesOption, t.LossOptions, t.DropMissing,
        };
        command.SetAction(p => CommandErrors.Guard(console, "evaluate", () =>
        {
            Dictionary<string, object?> given = GradCheckCommand.ParseOptions(p.GetValue(t.LossOptions) ?? []);   // a malformed option fails before any output
            Model model = Model.Load(p.GetValue(modelOption)!);
            Dataset data = CsvLoader.Load(p.GetValue(t.Data)!, model.CsvSchema with
            {
                TargetColumn = p.GetValue(t.Target) ?? model.TargetName,
                DropMissing = p.GetValue(t.DropMissing),
            });
            Dataset scaled = model.Standardizer.Transform(data);
            console.Out.WriteLine($"model: {model.Describe()} ({model.Task}, trained with {model.LossName}{Describe(model.LossOptions)}) on {data.Rows} rows");
            string[] losses = p.GetValue(lossesOption) is { Length: > 0 } l ? l : [model.LossName];
            foreach (string name in losses)
            {
                LossBinding binding;
                try
                {
                    LossDescriptor descriptor = console.Registry.Get(name);
                    var options = new Dictionary<string, object?>(IsTrainedLoss(console.Registry, model, name, descriptor) ? model.LossOptions : new Dictionary<string, object?>());
                    foreach (var (key, value) in given) options[key] = value;
                    binding = new LossBinding(descriptor, options, model.Task, model.ClassNames.Count, null, model.Embedding?.Dimension ?? 16);
                }
                catch (LossArgumentException e) when (e.Code == LossErrorCode.UnsupportedOption)
                {
                    console.Out.WriteLine($"  loss {name,-28} n/a ({e.Message})");   // a loss that does not fit this data; the others still run
                    continue;
                }
                // An embedding model first lends the loss its saved class parameters (ArcFace's W...), if it has the right ones.
                string? why = model.Embedding is null ? Trainer.Incompatibility(model, binding) : binding.UseSavedParameters(model) ?? Trainer.Incompatibility(model, binding);
                if (why is not null)
                {
                    console.Out.WriteLine($"  loss {name,-28} n/a ({why})");
                    continue;
                }
                double loss = Trainer.LossOf(model, binding, scaled);
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  loss {name,-28} {loss:G6}"));
            }
            foreach (var (key, value) in Trainer.Metrics(model.Predict(data), data, model.HasVariance ? model.PredictVariance(data) : null, model.Calibrated))
            {
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {key,-33} {value:G6}"));
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Whether <paramref name="name"/> is the loss the model was trained with: the same name, or an alias of the same catalog loss.</summary>
    private static bool IsTrainedLoss(LossRegistry registry, Model model, string name, LossDescriptor descriptor)
        => string.Equals(name, model.LossName, StringComparison.Ordinal)
           || (!name.StartsWith(LossRegistry.ExpressionPrefix, StringComparison.Ordinal) && registry.TryGet(model.LossName, out LossDescriptor trained) && ReferenceEquals(trained, descriptor));

    /// <summary>" (gamma=3, weight=[3 values])" for the header line; tensors by their size, not their values.</summary>
    private static string Describe(IReadOnlyDictionary<string, object?> options) => options.Count == 0 ? "" :
        " (" + string.Join(", ", options.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value switch
        {
            null => "null",
            bool b => b ? "true" : "false",
            TensorData td => $"[{td.Length} values]",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            object o => o.ToString(),
        })) + ")";
}
