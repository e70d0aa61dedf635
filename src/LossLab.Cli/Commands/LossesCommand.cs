using System.CommandLine;
using System.Text;
using System.Text.Json;
using LossLab.Losses.Core;
using LossLab.Training;
using LossLab.Data;

namespace LossLab.Cli.Commands;

/// <summary>
/// <c>losslab losses [NAME] [--format table|json|markdown] [--search TEXT]</c>: the catalog with names, aliases, family,
/// task, inputs, options and formula; with a NAME, that loss's card (<see cref="LossCard"/>).
/// </summary>
internal static class LossesCommand
{
    public static Command Create(CliConsole console)
    {
        var formatOption = new Option<string>("--format")
        {
            Description = "table (default), json, or markdown (the source of docs/losses.md)",
            DefaultValueFactory = _ => "table",
        };
        var searchOption = new Option<string?>("--search")
        {
            Description = "only the losses whose name, aliases, family, task, libraries or formula contain this text (e.g. optax, dice, focal)",
        };
        var nameArgument = new Argument<string?>("name")
        {
            Description = "one loss (any of its names): everything about it, and a request to try it",
            Arity = ArgumentArity.ZeroOrOne,
        };
        formatOption.AcceptOnlyFromAmong("table", "json", "markdown");
        var command = new Command("losses", "List the loss catalog, or describe one loss.") { nameArgument, formatOption, searchOption };
        command.SetAction(parse => CommandErrors.Guard(console, "losses", () =>
        {
            IReadOnlyList<LossDescriptor> entries = console.Registry.Entries;
            if (parse.GetValue(nameArgument) is string name)
            {
                if (parse.GetValue(searchOption) is not null) throw new ArgumentException("give a loss name or --search, not both");
                LossDescriptor d = console.Registry.Get(name);
                console.Out.Write(parse.GetValue(formatOption) switch { "json" => Json([d]), "markdown" => Markdown([d], catalog: false), _ => LossCard.Render(d, console.Registry) });
                return ExitCodes.Ok;
            }
            string? search = parse.GetValue(searchOption);
            if (!string.IsNullOrWhiteSpace(search))
            {
                entries = [.. entries.Where(d => Matches(d, search.Trim()))];
                if (entries.Count == 0)
                {
                    console.Error.WriteLine($"losslab losses: no loss matches '{search.Trim()}'; families: {string.Join(", ", Enum.GetNames<LossFamily>()).ToLowerInvariant()}");
                    return ExitCodes.InvalidInput;
                }
            }
            console.Out.Write(parse.GetValue(formatOption) switch { "json" => Json(entries), "markdown" => Markdown(entries), _ => Table(entries) });
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Case-insensitive containment in any of the entry's names, family, task, libraries or formula.</summary>
    internal static bool Matches(LossDescriptor d, string text)
        => new[] { d.Name, d.Family.ToString(), d.Task.ToString(), d.Libraries, d.Formula, d.Reference }.Concat(d.Aliases)
            .Any(s => s is not null && s.Contains(text, StringComparison.OrdinalIgnoreCase));

    internal static string Table(IReadOnlyList<LossDescriptor> entries)
    {
        var sb = new StringBuilder();
        foreach (var group in entries.GroupBy(e => e.Family))
        {
            sb.AppendLine($"{group.Key}");
            foreach (LossDescriptor d in group)
            {
                sb.AppendLine($"  {d.Name,-30} {d.Formula}");
                sb.AppendLine($"  {"",-30} aliases: {string.Join(", ", d.Aliases)}; task: {d.Task}; trains on: {TrainsOn(d)}");
                sb.AppendLine($"  {"",-30} inputs: {string.Join(", ", d.Inputs.Select(i => i.Name))}; options: " +
                              string.Join(", ", d.Options.Select(o => $"{o.Name}={o.DefaultText}")));
            }
            sb.AppendLine();
        }
        sb.AppendLine($"{entries.Count} losses. Everything about one, with a request to try: losslab losses NAME. Evaluate one: echo '{{\"inputs\": {{\"input\": [0.5], \"target\": [1.0]}}}}' | losslab loss mse_loss --json -");
        return sb.ToString();
    }

    /// <summary>The data `losslab train` takes this loss on ("none" for the losses it refuses everywhere: boxes, sequences...).</summary>
    private static string TrainsOn(LossDescriptor d) => TaskFit.TrainsOn(d) is { Count: > 0 } tasks
        ? string.Join(", ", tasks.Select(t => t.ToString().ToLowerInvariant()))
        : "none";

    /// <summary>docs/losses.md: generated from the registry (a test fails when the file and the registry differ).</summary>
    internal static string Markdown(IReadOnlyList<LossDescriptor> entries, bool catalog = true)
    {
        static string Cell(string s) => s.Replace("|", "\\|").Replace("\n", " ");
        var sb = new StringBuilder();
        if (catalog) Header(sb, entries.Count);
        foreach (var group in entries.GroupBy(e => e.Family))
        {
            if (catalog || sb.Length > 0) sb.AppendLine();
            sb.AppendLine($"## {group.Key}");
            sb.AppendLine();
            sb.AppendLine("| Loss | Aliases | Formula | Options (default) | Libraries |");
            sb.AppendLine("|---|---|---|---|---|");
            foreach (LossDescriptor d in group)
            {
                string options = string.Join(", ", d.Options.Select(o => $"`{o.Name}`={Cell(o.DefaultText)}"));
                sb.AppendLine($"| `{d.Name}` | {string.Join(", ", d.Aliases.Select(a => $"`{a}`"))} | {Cell(d.Formula)} | {options} | {Cell(d.Libraries)} |");
            }
            sb.AppendLine();
            foreach (LossDescriptor d in group)
            {
                sb.AppendLine($"- **{d.Name}**: inputs {string.Join(", ", d.Inputs.Select(i => $"`{i.Name}` ({Cell(i.Description)})"))}. " +
                              $"Gradient: {Cell(d.Gradient)}. Stability: {Cell(d.Stability)}. Lower bound: {Bound(d.LowerBound)}. Trains on: {TrainsOn(d)}. Reference: {Cell(d.Reference)}.");
            }
        }
        return sb.ToString();
    }

    /// <summary>docs/losses.md's title and the note that it is generated.</summary>
    private static void Header(StringBuilder sb, int count)
    {
        sb.AppendLine("# The loss catalog");
        sb.AppendLine();
        sb.AppendLine("<!-- Generated by `dotnet run --project src/LossLab.Cli -- losses --format markdown > docs/losses.md`;");
        sb.AppendLine("     do not edit by hand. A test compares this file with the registry. -->");
        sb.AppendLine();
        sb.AppendLine($"{count} losses. Each is evaluated by `losslab loss NAME` under its name or any alias; the");
        sb.AppendLine("gradient of every differentiable input is analytic and checked against finite differences.");
    }

    internal static string Json(IReadOnlyList<LossDescriptor> entries)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartArray("losses");
            foreach (LossDescriptor d in entries)
            {
                w.WriteStartObject();
                w.WriteString("name", d.Name);
                w.WriteStartArray("aliases");
                foreach (string a in d.Aliases) w.WriteStringValue(a);
                w.WriteEndArray();
                w.WriteString("family", d.Family.ToString());
                w.WriteString("task", d.Task.ToString());
                w.WriteStartArray("inputs");
                foreach (InputSpec i in d.Inputs)
                {
                    w.WriteStartObject();
                    w.WriteString("name", i.Name);
                    w.WriteString("kind", i.Kind.ToString());
                    w.WriteBoolean("differentiable", i.Differentiable);
                    w.WriteString("description", i.Description);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteStartArray("options");
                foreach (OptionSpec o in d.Options)
                {
                    w.WriteStartObject();
                    w.WriteString("name", o.Name);
                    w.WriteString("type", o.Kind.ToString());
                    w.WriteString("default", o.DefaultText);
                    if (o.Choices.Count > 0)
                    {
                        w.WriteStartArray("choices");
                        foreach (string c in o.Choices) w.WriteStringValue(c);
                        w.WriteEndArray();
                    }
                    w.WriteString("description", o.Description);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteString("formula", d.Formula);
                w.WriteString("gradient", d.Gradient);
                w.WriteString("stability", d.Stability);
                if (double.IsFinite(d.LowerBound)) w.WriteNumber("lower_bound", d.LowerBound);
                else w.WriteString("lower_bound", "-Infinity");
                w.WriteString("reference", d.Reference);
                w.WriteString("libraries", d.Libraries);
                w.WriteStartArray("trains_on");
                foreach (TaskKind t in TaskFit.TrainsOn(d)) w.WriteStringValue(t.ToString().ToLowerInvariant());
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("count", entries.Count);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + Environment.NewLine;
    }

    private static string Bound(double b) => double.IsNegativeInfinity(b) ? "none (−∞)" : b.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
