using System.Globalization;
using System.Text;
using System.Text.Json;
using LossLab.Cli.Protocol;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Training;

namespace LossLab.Cli.Commands;

/// <summary>
/// <c>losslab losses NAME</c>: everything the registry knows about one loss on one screen (names, libraries, formula,
/// inputs, options with their meaning, gradient, stability, bound, the data it trains on, the reference) and a request
/// that runs as printed, with the value it gives.
/// </summary>
internal static class LossCard
{
    private const int Width = 110, Label = 13;

    // Larger samples would make the example longer than the card; gradcheck shows those.
    private const int MaxExampleElements = 48;

    public static string Render(LossDescriptor d, LossRegistry registry)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{d.Name}: {d.Family}, task {d.Task}");
        Field(sb, "names", $"{string.Join(", ", [d.Name, .. d.Aliases])} (losslab loss NAME takes any of them)");
        if (d.Libraries.Length > 0) Field(sb, "libraries", d.Libraries);
        Field(sb, "formula", d.Formula);
        int inputWidth = d.Inputs.Select(i => i.Name.Length).DefaultIfEmpty(0).Max();
        Field(sb, "inputs", d.Inputs.Select(i =>
            $"{i.Name.PadRight(inputWidth)}  {i.Description}{(i.Differentiable ? "; has a gradient" : "")}{(i.Optional ? "; optional" : "")}"));
        int optionWidth = d.Options.Select(o => o.Name.Length + 3 + o.DefaultText.Length).DefaultIfEmpty(0).Max();
        if (d.Options.Count > 0)
        {
            Field(sb, "options", d.Options.Select(o =>
                $"{$"{o.Name} = {o.DefaultText}".PadRight(optionWidth)}  {o.Description}{(o.Choices.Count > 0 && !o.Choices.All(c => o.Description.Contains(c, StringComparison.Ordinal)) ? $" ({string.Join(", ", o.Choices)})" : "")}"));
        }
        Field(sb, "gradient", d.Gradient);
        Field(sb, "stability", d.Stability);
        Field(sb, "lower bound", d.Family == LossFamily.Custom ? "not known: a custom formula's"
            : double.IsNegativeInfinity(d.LowerBound) ? "none (−∞)" : d.LowerBound.ToString(CultureInfo.InvariantCulture));
        Field(sb, "trains on", TaskFit.TrainsOn(d) is { Count: > 0 } tasks
            ? $"{string.Join(", ", tasks.Select(t => t.ToString().ToLowerInvariant()))} (losslab train --loss {Cli(d)})"
            : "none: losslab train does not build models for its inputs");
        Field(sb, "reference", d.Reference);
        if (Example(d, registry) is var (request, value))
        {
            // Not wrapped: the command is copied as one line.
            Field(sb, "example", [$"echo '{request}' | losslab loss {Cli(d)} --json -", $"gives the loss {value} (default options; float32)"], wrap: false);
        }
        else
        {
            Field(sb, "example", d.Sample is null
                ? "none: a custom loss has no sampler of its inputs, and (0.5, −1, 2) rotated through them is not an input it takes"
                : "its smallest sample inputs are too long to print here; gradcheck below runs it on random inputs");
        }
        Field(sb, "check", $"losslab gradcheck {Cli(d)} (random inputs against finite differences)");
        return sb.ToString();
    }

    /// <summary>
    /// The name to type: the first snake_case alias (PyTorch's or Optax's functional name) when there is one, in single
    /// quotes when the shell would read it otherwise (an expr: formula's parentheses).
    /// </summary>
    private static string Cli(LossDescriptor d)
    {
        string name = d.Aliases.FirstOrDefault(a => a.All(c => char.IsLower(c) || char.IsDigit(c) || c is '_')) ?? d.Name;
        return name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-') ? name : $"'{name.Replace("'", "'\\''", StringComparison.Ordinal)}'";
    }

    /// <summary>
    /// A request built from the loss's own sampler (its default shape; a custom loss, which has none, gets 0.5, −1 and 2
    /// rotated through its inputs), its numbers shortened to four digits where the loss still accepts them (else nine, else all), and
    /// the value the protocol answers for exactly that text; null when no sample is short enough to print or accepted.
    /// </summary>
    internal static (string Request, string Value)? Example(LossDescriptor d, LossRegistry registry)
    {
        var runner = new ProtocolRunner(registry);
        foreach (LossInputs inputs in Candidates(d))
        {
            // In the order the loss lists its inputs (the order positional calls use).
            string[] names = [.. d.Inputs.Select(i => i.Name).Where(inputs.Contains), .. inputs.Tensors.Keys.Where(k => d.Inputs.All(i => i.Name != k))];
            if (names.Sum(n => inputs[n].Shape.Numel) > MaxExampleElements) continue;
            foreach (string format in (string[])["G4", "G9", "R"])
            {
                string request = Request(inputs, names, format);
                var (line, ok) = runner.RunOne(request, d.Name);
                if (!ok) continue;
                using JsonDocument answer = JsonDocument.Parse(line);
                string value = answer.RootElement.GetProperty("loss").GetRawText();
                if (value.Contains("NaN", StringComparison.Ordinal) || value.Contains("Infinity", StringComparison.Ordinal)) break;   // an example, not a domain error
                return (request, value);
            }
        }
        return null;
    }

    /// <summary>The sampler's inputs at its default shape, then at smaller main inputs (embeddings, sequences).</summary>
    private static IEnumerable<LossInputs> Candidates(LossDescriptor d)
    {
        if (d.Sample is null)
        {
            // 0.5, −1 and 2, rotated from one input to the next so that the inputs differ; then values in (0, 1), for
            // formulas of probabilities (logs, divisions).
            foreach (double[] values in (double[][])[[0.5, -1.0, 2.0], [0.5, 0.25, 0.75]])
            {
                var generic = new LossInputs();
                for (int q = 0; q < d.Inputs.Count; q++)
                    generic.Add(d.Inputs[q].Name, TensorData.Create(new Shape(3), DType.Float64, new double[] { values[q % 3], values[(q + 1) % 3], values[(q + 2) % 3] }));
                yield return generic;
            }
            yield break;
        }
        foreach (Shape shape in (Shape[])[Shape.Scalar, new Shape(4, 3), new Shape(3, 2), new Shape(2, 3), new Shape(4), new Shape(2, 2)])
        {
            LossInputs? inputs = null;
            try
            {
                inputs = d.Sample(new Random(1), shape);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IndexOutOfRangeException)
            {
                // a sampler need not fill shapes unusual for its loss
            }
            if (inputs is not null) yield return inputs;
        }
    }

    private static string Request(LossInputs inputs, string[] names, string format)
    {
        var sb = new StringBuilder("{\"inputs\": {");
        bool first = true;
        foreach (string name in names)
        {
            if (!first) sb.Append(", ");
            first = false;
            sb.Append('"').Append(name).Append("\": ");
            TensorData t = inputs[name];
            int index = 0;
            Level(sb, t, 0, ref index, format);
        }
        return sb.Append("}}").ToString();
    }

    private static void Level(StringBuilder sb, TensorData t, int axis, ref int index, string format)
    {
        if (axis == t.Shape.Rank)
        {
            sb.Append(Number(t, index++, format));
            return;
        }
        sb.Append('[');
        for (int i = 0; i < t.Shape[axis]; i++)
        {
            if (i > 0) sb.Append(", ");
            Level(sb, t, axis + 1, ref index, format);
        }
        sb.Append(']');
    }

    /// <summary>A float keeps a '.' or an exponent (a bare integer token would make the protocol read an int64 tensor).</summary>
    private static string Number(TensorData t, int i, string format)
    {
        double v;
        switch (t.Data)
        {
            case long[] l: return l[i].ToString(CultureInfo.InvariantCulture);
            case int[] n: return n[i].ToString(CultureInfo.InvariantCulture);
            case float[] f: v = f[i]; break;
            case double[] dd: v = dd[i]; break;
            default: throw new NotSupportedException(t.Data.GetType().Name);
        }
        if (!double.IsFinite(v)) return double.IsNaN(v) ? "\"NaN\"" : v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
        string s = v.ToString(format, CultureInfo.InvariantCulture);
        return s.IndexOfAny(['.', 'E', 'e']) < 0 ? s + ".0" : s;
    }

    private static void Field(StringBuilder sb, string label, string text) => Field(sb, label, [text], wrap: true);

    private static void Field(StringBuilder sb, string label, IEnumerable<string> lines) => Field(sb, label, lines, wrap: true);

    /// <summary>A labelled field, each line wrapped at <see cref="Width"/> with a hanging indent.</summary>
    private static void Field(StringBuilder sb, string label, IEnumerable<string> lines, bool wrap)
    {
        string pad = new(' ', Label + 2);
        bool firstLine = true;
        foreach (string line in lines)
        {
            bool firstPiece = true;
            foreach (string piece in wrap ? Wrap(line, Width - pad.Length) : [line])
            {
                sb.Append(firstLine ? $"  {label.PadRight(Label)}" : pad);
                if (!firstPiece) sb.Append("  ");
                sb.AppendLine(piece);
                firstLine = firstPiece = false;
            }
        }
    }

    private static IEnumerable<string> Wrap(string text, int width)
    {
        var line = new StringBuilder();
        foreach (string word in text.Split(' '))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                yield return line.ToString();
                line.Clear();
            }
            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }
        if (line.Length > 0) yield return line.ToString();
    }
}
