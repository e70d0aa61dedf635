using System.CommandLine;
using LossLab.Cli.Commands;

namespace LossLab.Cli;

/// <summary>The composition root of <c>losslab</c>.</summary>
public static class Program
{
    public static int Main(string[] args) => Run(args, CliConsole.System());

    internal static int Run(string[] args, CliConsole console)
    {
        try
        {
            ParseResult parsed = BuildRoot(console).Parse(args);
            if (parsed.Errors.Count > 0)
            {
                foreach (var error in parsed.Errors) console.Error.WriteLine($"losslab: {error.Message}");
                console.Error.WriteLine("Run 'losslab --help' for usage.");
                return ExitCodes.InvalidInput;
            }
            var config = new InvocationConfiguration { Output = console.Out, Error = console.Error, EnableDefaultExceptionHandler = false };
            return parsed.Invoke(config);
        }
        catch (OutOfMemoryException)
        {
            // The GC heap stops at 80 % of the machine's memory (runtimeconfig), so a run too large for it ends here
            // rather than in the kernel's OOM kill: bad input (a size), not a bug.
            double limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (double)(1 << 30);
            console.Error.WriteLine($"losslab: out of memory: this needs more than the {limit:F1} GiB this process may use; try smaller sizes (--hidden, --batch-size, the data, a loss's options)");
            return ExitCodes.InvalidInput;
        }
        catch (Exception e)
        {
            // A bug of ours, in parsing or in a command: one line and exit code 3, never a stack trace.
            console.Error.WriteLine($"losslab: internal error: {e.GetType().Name}: {e.Message}");
            return ExitCodes.InternalError;
        }
    }

    internal static RootCommand BuildRoot(CliConsole console)
    {
        var root = new RootCommand("LossLab: evaluate, compare and understand the loss functions of deep learning.")
        {
            LossCommand.Create(console),
            LossesCommand.Create(console),
            DemoCommand.Create(console),
            GradCheckCommand.Create(console),
            TrainCommand.Create(console),
            EvaluateCommand.Create(console),
            CompareCommand.Create(console),
            RecommendCommand.Create(console),
            ReportCommand.Create(console),
            ExportCommand.Create(console),
            BenchCommand.Create(console),
        };
        return root;
    }
}
