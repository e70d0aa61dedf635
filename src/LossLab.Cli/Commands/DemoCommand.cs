using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LossLab.Cli.Lab;
using Spectre.Console;

namespace LossLab.Cli.Commands;

/// <summary>
/// <c>losslab demo [--out DIR] [--full]</c>: runs the thirteen experiments that put common claims about losses to the
/// test on the shipped data, and writes the HTML report with its charts and run records (default losslab-report/).
/// </summary>
internal static class DemoCommand
{
    public static Command Create(CliConsole console)
    {
        var outOption = new Option<string>("--out") { Description = "report folder", DefaultValueFactory = _ => "losslab-report" };
        var fullOption = new Option<bool>("--full") { Description = "more seeds and epochs (about ten minutes on 2 cores)" };
        var seedsOption = new Option<int?>("--seeds") { Description = "seeds per arm (default 3, or 8 with --full)" };
        var onlyOption = new Option<string?>("--only") { Description = "comma-separated experiment ids to run (default: all thirteen)" };
        var command = new Command("demo", "Measure thirteen common claims about losses on real data and write an HTML report.")
        {
            outOption, fullOption, seedsOption, onlyOption,
        };
        command.SetAction((p, cancel) => Task.FromResult(CommandErrors.Guard(console, "demo", () => Run(console, p.GetValue(outOption)!, p.GetValue(fullOption), p.GetValue(seedsOption), p.GetValue(onlyOption), cancel))));
        return command;
    }

    internal static string DataFolder()
    {
        foreach (string candidate in new[] { Path.Combine(AppContext.BaseDirectory, "data"), Path.Combine(Environment.CurrentDirectory, "data") })
        {
            if (File.Exists(Path.Combine(candidate, "digits.csv"))) return candidate;
        }
        throw new IOException($"the shipped data sets are missing (looked in {Path.Combine(AppContext.BaseDirectory, "data")})");
    }

    private static int Run(CliConsole console, string folder, bool full, int? seeds, string? only, CancellationToken cancel)
    {
        var settings = new LabSettings(seeds ?? (full ? 8 : 3), full ? 2.0 : 1.0, DataFolder());
        var selected = Experiments.All.Where(e => only is null || only.Split(',', StringSplitOptions.TrimEntries).Contains(e.Id)).ToList();
        if (selected.Count == 0)
        {
            throw new ArgumentException($"no experiment matches --only {only}; ids: {string.Join(", ", Experiments.All.Select(e => e.Id))}");
        }
        OutputPaths.RequireWritableFolder(folder, "--out");
        var records = new List<ExperimentRecord>();
        var clock = Stopwatch.StartNew();
        IAnsiConsole ansi = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(console.Out),
            Ansi = console.OutputIsTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            Interactive = console.OutputIsTerminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (console.OutputIsTerminal)
        {
            ansi.Progress().AutoClear(false).Start(ctx =>
            {
                var task = ctx.AddTask("experiments", maxValue: selected.Count);
                foreach (var (id, title, run) in selected)
                {
                    cancel.ThrowIfCancellationRequested();
                    task.Description = title.Split(':')[0];
                    records.Add(run(settings));
                    task.Increment(1);
                }
            });
        }
        else
        {
            for (int i = 0; i < selected.Count; i++)
            {
                cancel.ThrowIfCancellationRequested();
                var (id, title, run) = selected[i];
                ExperimentRecord r = run(settings);
                records.Add(r);
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{i + 1}/{selected.Count}] {title}: {r.Verdict.Status} ({r.Seconds:F1} s)"));
            }
        }
        string index = ReportWriter.Write(folder, records, string.Create(CultureInfo.InvariantCulture,
            $"{records.Count} experiments, {settings.Seeds} seeds per arm{(full ? ", full budget" : "")}, measured on {DateTime.UtcNow:yyyy-MM-dd} in {clock.Elapsed.TotalSeconds:F0} s on {Environment.ProcessorCount} cores."));
        var table = new Table().AddColumn("#").AddColumn("claim").AddColumn("verdict").AddColumn("effect");
        foreach (ExperimentRecord r in records)
        {
            table.AddRow(r.Number.ToString(CultureInfo.InvariantCulture), Markup.Escape(r.Claim), r.Verdict.Status, Markup.Escape(r.Verdict.Effect.ToString("G3", CultureInfo.InvariantCulture)));
        }
        ansi.Write(table);
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"report: {Path.GetFullPath(index)} ({records.Count} experiment{(records.Count == 1 ? "" : "s")} in {clock.Elapsed.TotalSeconds:F0} s)"));
        return ExitCodes.Ok;
    }
}
