using System.CommandLine;
using LossLab.Cli;

namespace LossLab.Tests.Cli;

/// <summary>
/// The test host runs command lines from many tests at once, so each <see cref="Program.Run"/> must build its own
/// command tree: a System.CommandLine symbol records its parents and validators when a command takes it, and one
/// static option shared by every tree gained a validator per tree and once failed a parse (a NullReferenceException
/// inside ArgumentResult.ValidateAndConvert) while another thread was adding one.
/// </summary>
public sealed class ConcurrentParseTests
{
    private static List<Symbol> Symbols(Command command)
    {
        var all = new List<Symbol>();
        void Walk(Command c)
        {
            all.AddRange(c.Options);
            all.AddRange(c.Arguments);
            foreach (Command sub in c.Subcommands)
            {
                all.Add(sub);
                Walk(sub);
            }
        }
        Walk(command);
        return all;
    }

    [Fact]
    public void Two_command_trees_share_no_option_argument_or_command()
    {
        var console = new CliConsole(new StringReader(""), new StringWriter(), new StringWriter(), false);
        List<Symbol> first = Symbols(Program.BuildRoot(console));
        List<Symbol> second = Symbols(Program.BuildRoot(console));
        Assert.True(first.Count > 100, $"only {first.Count} symbols found");
        var shared = first.Intersect(second, ReferenceEqualityComparer.Instance).Cast<Symbol>().Select(s => s.Name).ToList();
        Assert.True(shared.Count == 0, "shared between trees: " + string.Join(", ", shared));
        // Within one tree, train's options appear under train, compare, recommend and evaluate as separate objects.
        Assert.All(first.OfType<Option>(), o => Assert.Single(o.Parents));
    }

    [Fact]
    public void Command_lines_parsed_on_many_threads_at_once_all_parse()
    {
        string[][] lines =
        [
            ["recommend", "--data", "missing.csv", "--task", "regression"],
            ["train", "--data", "missing.csv", "--epochs", "3", "--activation", "tanh"],
            ["compare", "--data", "missing.csv", "--losses", "mse_loss,l1_loss", "--format", "json"],
            ["evaluate", "--model", "missing.json", "--data", "missing.csv"],
        ];
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            string[] args = lines[i % lines.Length];
            var error = new StringWriter();
            try
            {
                // Each fails on the missing file, after a full parse with validators: exit code 2 and a one-line message.
                int code = Program.Run(args, new CliConsole(new StringReader(""), new StringWriter(), error, false));
                if (code != ExitCodes.InvalidInput || !error.ToString().Contains("missing.", StringComparison.Ordinal)) failures.Add($"{string.Join(' ', args)}: {code} {error}");
            }
            catch (Exception e)
            {
                failures.Add($"{string.Join(' ', args)}: {e.GetType().Name}: {e.Message}");
            }
        });
        Assert.Empty(failures);
    }
}
