using System.CommandLine;
using System.Globalization;
using LossLab.Data;
using LossLab.Losses.Core;
using LossLab.Training;

namespace LossLab.Cli.Commands;

/// <summary><c>losslab evaluate --model M --data FILE.csv [--loss NAME ...]</c>: metrics and loss values of a saved model.</summary>
internal static class EvaluateCommand
{
    public static Command Create(CliConsole console)
    {
        var modelOption = new Option<string>("--model") { Description = "a model saved by losslab train --save", Required = true };
        var lossesOption = new Option<string[]>("--loss") { Description = "losses to evaluate (default: the one it was trained with)" };
        var t = new TrainArguments();
        var command = new Command("evaluate", "Evaluate a saved model on a CSV: metrics and loss values.")
        {
            modelOption, t.Data, t.Target, lossesOption, t.DropMissing,
        };
        command.SetAction(p => CommandErrors.Guard(console, "evaluate", () =>
        {
            Model model = Model.Load(p.GetValue(modelOption)!);
            Dataset data = CsvLoader.Load(p.GetValue(t.Data)!, model.CsvSchema with
            {
                TargetColumn = p.GetValue(t.Target) ?? model.TargetName,
                DropMissing = p.GetValue(t.DropMissing),
            });
            Dataset scaled = model.Standardizer.Transform(data);
            console.Out.WriteLine($"model: {model.Describe()} ({model.Task}, trained with {model.LossName}) on {data.Rows} rows");
            string[] losses = p.GetValue(lossesOption) is { Length: > 0 } l ? l : [model.LossName];
            foreach (string name in losses)
            {
                LossBinding binding;
                try
                {
                    binding = new LossBinding(console.Registry.Get(name), new Dictionary<string, object?>(), model.Task, model.ClassNames.Count, null,
                        model.Embedding?.Dimension ?? 16);
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
}
