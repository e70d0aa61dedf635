using System.CommandLine;
using LossLab.Cli.Protocol;
using LossLab.Losses.Core;

namespace LossLab.Cli.Commands;

/// <summary>
/// <c>losslab loss NAME --json FILE|-</c> evaluates one request; <c>losslab loss --batch FILE.jsonl|-</c> answers a
/// JSON-lines file, one result line per case with its id. Errors are JSON on stdout with exit code 2.
/// </summary>
internal static class LossCommand
{
    public static Command Create(CliConsole console)
    {
        var nameArgument = new Argument<string?>("name")
        {
            Description = "loss name or alias (e.g. cross_entropy, MseLoss); may instead be given as \"loss\" in the request",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var jsonOption = new Option<string?>("--json")
        {
            Description = "request file, or - for standard input: {\"inputs\": {...}, \"options\": {...}, \"dtype\": \"float32|float64\"}",
        };
        var batchOption = new Option<string?>("--batch")
        {
            Description = "JSON-lines file (or -): one {\"id\", \"loss\", \"inputs\", \"options\"} per line",
        };
        var command = new Command("loss", "Evaluate a loss and its gradients on your numbers (the JSON protocol).")
        {
            nameArgument,
            jsonOption,
            batchOption,
        };
        command.SetAction(parse => Execute(console, parse.GetValue(nameArgument), parse.GetValue(jsonOption), parse.GetValue(batchOption)));
        return command;
    }

    private static int Execute(CliConsole console, string? name, string? json, string? batch)
    {
        var runner = new ProtocolRunner(console.Registry);
        if ((json is null) == (batch is null))
        {
            if (name is not null && json is null)
            {
                // A name alone: say first whether it is one, then what the request looks like.
                try
                {
                    string canonical = console.Registry.Get(name).Name;
                    console.Error.WriteLine($"losslab loss {name}: give the inputs with --json FILE|- (a request {{\"inputs\": {{...}}, \"options\": {{...}}}}); `losslab losses {canonical}` shows its inputs and an example");
                }
                catch (LossArgumentException e)
                {
                    console.Error.WriteLine($"losslab loss: {e.CodeName}: {e.Message}");
                }
                return ExitCodes.InvalidInput;
            }
            console.Error.WriteLine("losslab loss: give exactly one of --json FILE|- or --batch FILE|-");
            return ExitCodes.InvalidInput;
        }
        if (batch is not null)
        {
            if (name is not null)
            {
                console.Error.WriteLine("losslab loss: with --batch the loss name comes from each line's \"loss\"; drop the NAME argument");
                return ExitCodes.InvalidInput;
            }
            using TextReader? reader = Open(console, batch);
            if (reader is null) return ExitCodes.InvalidInput;
            int failed = runner.RunBatch(reader, console.Out);
            return runner.InternalErrors > 0 ? ExitCodes.InternalError : failed == 0 ? ExitCodes.Ok : ExitCodes.InvalidInput;
        }
        string? text = ReadAll(console, json!);
        if (text is null) return ExitCodes.InvalidInput;
        var (line, ok) = runner.RunOne(text, name);
        console.Out.WriteLine(line);
        return ok ? ExitCodes.Ok : runner.InternalErrors > 0 ? ExitCodes.InternalError : ExitCodes.InvalidInput;
    }

    private static string? ReadAll(CliConsole console, string path)
    {
        using TextReader? reader = Open(console, path);
        return reader?.ReadToEnd();
    }

    private static TextReader? Open(CliConsole console, string path)
    {
        if (path == "-") return new StringReader(console.In.ReadToEnd());
        try
        {
            return new StreamReader(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            console.Error.WriteLine($"losslab loss: cannot read '{path}': {e.Message}");
            return null;
        }
    }
}
