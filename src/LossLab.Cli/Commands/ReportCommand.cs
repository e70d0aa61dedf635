using System.CommandLine;
using LossLab.Cli.Lab;

namespace LossLab.Cli.Commands;

/// <summary><c>losslab report RUN_DIR... [--out DIR]</c>: rebuilds the HTML report from saved experiment records.</summary>
internal static class ReportCommand
{
    public static Command Create(CliConsole console)
    {
        var foldersArgument = new Argument<string[]>("run-dir") { Description = "folders with *.experiment.json records", Arity = ArgumentArity.OneOrMore };
        var outOption = new Option<string?>("--out") { Description = "where to write index.html and charts (default: the first folder)" };
        var command = new Command("report", "Rebuild the HTML report from saved experiment records.") { foldersArgument, outOption };
        command.SetAction(p => CommandErrors.Guard(console, "report", () =>
        {
            string[] folders = p.GetValue(foldersArgument)!;
            List<ExperimentRecord> records = ReportWriter.Read(folders);
            string index = ReportWriter.Write(p.GetValue(outOption) ?? folders[0], records, $"Rebuilt from {records.Count} saved experiment records.", "losslab report");
            console.Out.WriteLine($"report: {Path.GetFullPath(index)} ({records.Count} experiments)");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
