using System.CommandLine;
using LossLab.Cli.Lab;

namespace LossLab.Cli.Commands;

/// <summary><c>losslab report RUN_DIR... [--out DIR]</c>: rebuilds the HTML report from saved experiment records.</summary>
internal static class ReportCommand
{
    private static readonly Argument<string[]> FoldersArgument = new("run-dir") { Description = "folders with *.experiment.json records", Arity = ArgumentArity.OneOrMore };
    private static readonly Option<string?> OutOption = new("--out") { Description = "where to write index.html and charts (default: the first folder)" };

    public static Command Create(CliConsole console)
    {
        var command = new Command("report", "Rebuild the HTML report from saved experiment records.") { FoldersArgument, OutOption };
        command.SetAction(p => CommandErrors.Guard(console, "report", () =>
        {
            string[] folders = p.GetValue(FoldersArgument)!;
            List<ExperimentRecord> records = ReportWriter.Read(folders);
            string index = ReportWriter.Write(p.GetValue(OutOption) ?? folders[0], records, $"Rebuilt from {records.Count} saved experiment records.", "losslab report");
            console.Out.WriteLine($"report: {Path.GetFullPath(index)} ({records.Count} experiments)");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
