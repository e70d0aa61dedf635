using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LossLab.Losses.Core;

namespace LossLab.Cli.Commands;

/// <summary>
/// <c>losslab gradcheck NAME|expr:... [--shape 4,5] [--seed 0] [--option k=v]... [--indices NAME=C]</c>: checks the
/// loss's analytic (or autograd) gradient against central differences in double on random inputs; exit 0 when every
/// element is within tolerance, 1 otherwise, 2 for bad arguments.
/// </summary>
internal static class GradCheckCommand
{
    public static Command Create(CliConsole console)
    {
        var nameArgument = new Argument<string>("name") { Description = "a catalog loss (any alias) or expr:FORMULA" };
        var shapeOption = new Option<string?>("--shape") { Description = "shape of the main input, e.g. 4,5 (default: the loss's own)" };
        var seedOption = new Option<int>("--seed") { Description = "random seed of the inputs", DefaultValueFactory = _ => 0 };
        var optionOption = new Option<string[]>("--option") { Description = "a loss option as name=value (value in JSON: 0.5, true, \"sum\")", AllowMultipleArgumentsPerToken = false };
        var indicesOption = new Option<string[]>("--indices") { Description = "for expressions: NAME=C makes input NAME class indices in [0, C)" };
        var rtolOption = new Option<double>("--rtol") { Description = "relative tolerance", DefaultValueFactory = _ => 1e-5 };
        var atolOption = new Option<double>("--atol") { Description = "absolute tolerance", DefaultValueFactory = _ => 1e-7 };
        var format = new Option<string>("--format") { Description = "table (default) or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("gradcheck", "Check a loss's gradient against finite differences on random inputs.")
        {
            nameArgument, shapeOption, seedOption, optionOption, indicesOption, rtolOption, atolOption, format,
        };
        command.SetAction(p =>
        {
            try
            {
                return Run(console, p.GetValue(nameArgument)!, p.GetValue(shapeOption), p.GetValue(seedOption), p.GetValue(optionOption) ?? [],
                    p.GetValue(indicesOption) ?? [], p.GetValue(rtolOption), p.GetValue(atolOption), p.GetValue(format) == "json");
            }
            catch (LossArgumentException e)
            {
                console.Error.WriteLine($"losslab gradcheck: {e.CodeName}: {e.Message}");
                return ExitCodes.InvalidInput;
            }
        });
        return command;
    }

    private static int Run(CliConsole console, string name, string? shapeText, int seed, string[] optionTexts, string[] indexTexts, double rtol, double atol, bool json)
    {
        LossDescriptor d = console.Registry.Get(name);
        var options = new Dictionary<string, object?>(d.TrueGradientOptions);
        foreach (var (key, value) in ParseOptions(optionTexts)) options[key] = value;
        Shape shape = shapeText is null ? Shape.Scalar : new Shape(shapeText.Split(',').Select(s => ParseInt(s, "--shape")).ToArray());
        var random = new Random(seed);
        LossInputs inputs;
        if (d.Sample is not null)
        {
            try
            {
                inputs = d.Sample(random, shape);
            }
            catch (Exception e) when (e is not LossArgumentException)
            {
                // A sampler knows its loss's usual shapes; an unusual one (an empty or missing class axis) it cannot fill.
                throw new LossArgumentException(LossErrorCode.InvalidShape, $"{d.Name}: cannot make sample inputs of shape {shape} ({e.GetType().Name}: {e.Message}); pass a shape of the loss's usual rank with no zero-length axis");
            }
        }
        else
        {
            Shape main = Samples.Or(shape, 4, 3);
            var indices = indexTexts.Select(t => Split(t, "--indices")).ToDictionary(kv => kv.Key, kv => ParseInt(kv.Value, "--indices"));
            inputs = new LossInputs();
            foreach (InputSpec spec in d.Inputs)
            {
                inputs.Add(spec.Name, indices.TryGetValue(spec.Name, out int c)
                    ? Samples.Classes(random, main.Rank >= 2 ? main.WithoutAxis(1) : Shape.Scalar, c)
                    : Samples.Normal(random, main));
            }
        }
        ILoss loss = d.Create(options);
        GradCheckReport report = GradCheck.Run(loss, inputs, new GradCheckOptions { RelativeTolerance = rtol, AbsoluteTolerance = atol });
        if (report.Checked == 0)
        {
            // A check of nothing must not read as a pass.
            throw new LossArgumentException(LossErrorCode.InvalidShape, $"{d.Name}: no gradient elements to check: the inputs are empty{(shapeText is null ? "" : $" (--shape {shapeText})")}; use a shape without 0");
        }
        if (json) WriteJson(console, d.Name, report);
        else WriteTable(console, d.Name, report, rtol, atol);
        return report.Passed ? ExitCodes.Ok : ExitCodes.CheckFailed;
    }

    private static void WriteTable(CliConsole console, string name, GradCheckReport report, double rtol, double atol)
    {
        TextWriter o = console.Out;
        o.WriteLine($"{name}: {report.Checked} gradient elements checked against central differences (tolerance {atol:G3} + {rtol:G3}·|numeric|)");
        o.WriteLine($"  {"input",-12} {"index",6} {"analytic",16} {"numeric",16} {"abs err",10} {"rel err",10}");
        foreach (GradCheckEntry e in report.Worst)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {e.Input,-12} {e.Index,6} {e.Analytic,16:G9} {e.Numeric,16:G9} {e.AbsoluteError,10:G3} {e.RelativeError,10:G3}"));
        }
        o.WriteLine(report.Passed
            ? $"gradcheck passed: all {report.Checked} elements within tolerance"
            : $"gradcheck FAILED: {report.Failed} of {report.Checked} elements out of tolerance");
    }

    private static void WriteJson(CliConsole console, string name, GradCheckReport report)
    {
        var doc = new
        {
            loss = name,
            passed = report.Passed,
            @checked = report.Checked,
            failed = report.Failed,
            worst = report.Worst.Select(e => new { input = e.Input, index = e.Index, analytic = e.Analytic, numeric = e.Numeric, abs_error = e.AbsoluteError, rel_error = e.RelativeError }),
        };
        console.Out.WriteLine(JsonSerializer.Serialize(doc, new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
    }

    /// <summary>name=value pairs (values in JSON, or bare words) into a loss option dictionary.</summary>
    internal static Dictionary<string, object?> ParseOptions(IEnumerable<string> texts)
    {
        var options = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (string text in texts)
        {
            var (key, value) = Split(text, "option");
            options[key] = ParseValue(value);
        }
        return options;
    }

    private static (string Key, string Value) Split(string text, string option)
    {
        int eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0) throw new LossArgumentException(LossErrorCode.InvalidValue, $"{option} expects NAME=VALUE, got '{text}'");
        return (text[..eq], text[(eq + 1)..]);
    }

    private static object? ParseValue(string value)
    {
        try
        {
            using var doc = JsonDocument.Parse(value);
            JsonElement e = doc.RootElement;
            return e.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Null => null,
                JsonValueKind.String => e.GetString(),
                JsonValueKind.Number when e.TryGetInt64(out long l) && !e.GetRawText().Contains('.', StringComparison.Ordinal) => l,
                JsonValueKind.Number => e.GetDouble(),
                JsonValueKind.Array => Protocol.TensorJson.Parse(e, DType.Float64, "option value"),   // a tensor option: weight=[1,2,3]
                _ => throw new LossArgumentException(LossErrorCode.InvalidValue, $"option value '{value}' must be a number, boolean, string or array"),
            };
        }
        catch (JsonException)
        {
            return value;   // a bare word such as sum
        }
    }

    private static int ParseInt(string s, string option)
        => int.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 0
            ? v
            : throw new LossArgumentException(LossErrorCode.InvalidValue, $"{option}: '{s}' is not a non-negative integer");
}
