using System.CommandLine;
using LossLab.Training;

namespace LossLab.Cli.Commands;

/// <summary><c>losslab export --model model.json --out model.onnx</c>: writes a trained model as an ONNX graph (opset 17).</summary>
internal static class ExportCommand
{
    public static Command Create(CliConsole console)
    {
        var modelOption = new Option<string>("--model") { Description = "a model saved by losslab train --save", Required = true };
        var outOption = new Option<string>("--out") { Description = "the ONNX file to write", Required = true };
        var command = new Command("export", "Export a trained model to ONNX (standardizer, layers and output head).") { modelOption, outOption };
        command.SetAction(p => CommandErrors.Guard(console, "export", () =>
        {
            Model model = Model.Load(p.GetValue(modelOption)!);
            string path = p.GetValue(outOption)!;
            OutputPaths.RequireWritableFile(path, "--out");
            OnnxExport.Save(model, path);
            console.Out.WriteLine($"wrote {path}: ONNX opset {OnnxExport.Opset}, input 'features' (batch, {model.FeatureNames.Count}), output 'output' ({model.Task}{(model.HasVariance ? ": mean, variance" : "")}), {new FileInfo(path).Length} bytes");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
