using System.CommandLine;
using System.Text;
using System.Text.Json;
using LossLab.Losses.Core;

namespace LossLab.Cli.Commands;

/// <summary><c>losslab losses [--format table|json]</c>: the catalog with names, aliases, family, task, inputs, options and formula.</summary>
internal static class LossesCommand
{
    internal static readonly Option<string> FormatOption = new("--format")
    {
        Description = "table (default) or json",
        DefaultValueFactory = _ => "table",
    };

    public static Command Create(CliConsole console)
    {
        FormatOption.AcceptOnlyFromAmong("table", "json");
        var command = new Command("losses", "List the loss catalog.") { FormatOption };
        command.SetAction(parse =>
        {
            var entries = console.Registry.Entries;
            console.Out.Write(parse.GetValue(FormatOption) == "json" ? Json(entries) : Table(entries));
            return ExitCodes.Ok;
        });
        return command;
    }

    internal static string Table(IReadOnlyList<LossDescriptor> entries)
    {
        var sb = new StringBuilder();
        foreach (var group in entries.GroupBy(e => e.Family))
        {
            sb.AppendLine($"{group.Key}");
            foreach (LossDescriptor d in group)
            {
                sb.AppendLine($"  {d.Name,-30} {d.Formula}");
                sb.AppendLine($"  {"",-30} aliases: {string.Join(", ", d.Aliases)}; task: {d.Task}");
                sb.AppendLine($"  {"",-30} inputs: {string.Join(", ", d.Inputs.Select(i => i.Name))}; options: " +
                              string.Join(", ", d.Options.Select(o => $"{o.Name}={o.DefaultText}")));
            }
            sb.AppendLine();
        }
        sb.AppendLine($"{entries.Count} losses. Evaluate one: echo '{{\"inputs\": {{\"input\": [0.5], \"target\": [1.0]}}}}' | losslab loss mse_loss --json -");
        return sb.ToString();
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
                w.WriteString("reference", d.Reference);
                w.WriteString("libraries", d.Libraries);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("count", entries.Count);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + Environment.NewLine;
    }
}
