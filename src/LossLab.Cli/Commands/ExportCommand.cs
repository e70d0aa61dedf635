using System.CommandLine;
using LossLab.Training;

namespace LossLab.Cli.Commands;

/// <summary><c>losslab export --model model.json --out model.onnx</c>: writes a trained model as an ONNX graph (opset 17).</summary>
internal static class ExportCommand
{
    private static readonly Option<string> ModelOption = new("--model") { Description = "a model saved by losslab train --save", Required = true };
    private static readonly Option<string> OutOption = new("--out") { Description = "the ONNX file to write", Required = true };

    public static Command Create(CliConsole console)
    {
        var command = new Command("export", "Export a trained model to ONNX (standardizer, layers and output head).") { ModelOption, OutOption };
        command.SetAction(p => CommandErrors.Guard(console, "export", () =>
        {
            Model model = Model.Load(p.GetValue(ModelOption)!);
            string path = p.GetValue(OutOption)!;
            OnnxExport.Save(model, path);
            console.Out.WriteLine($"wrote {path}: ONNX opset {OnnxExport.Opset}, input 'features' (batch, {model.FeatureNames.Count}), output 'output' ({model.Task}{(model.HasVariance ? ": mean, variance" : "")}), {new FileInfo(path).Length} bytes");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
