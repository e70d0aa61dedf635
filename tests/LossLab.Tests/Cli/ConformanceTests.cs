using System.Text.Json;
using System.Text.Json.Nodes;
using LossLab.Cli.Protocol;
using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Cli;

/// <summary>
/// The public conformance cases (../shared/conformance/cases.json, 50-digit references) fed through the same code
/// path as <c>losslab loss --batch</c>, compared with run.py's rule |got − expected| ≤ abs + rel·|expected|.
/// </summary>
public sealed class ConformanceTests
{
    [SharedFact]
    public void Every_case_of_a_registered_loss_passes_and_no_case_crashes_the_batch()
    {
        JsonArray cases = JsonNode.Parse(File.ReadAllText(Path.Combine(SharedData.Root!, "conformance", "cases.json")))!.AsArray();
        var lines = cases.Select(c => new JsonObject
        {
            ["id"] = c!["id"]!.GetValue<string>(),
            ["loss"] = c["loss"]!.GetValue<string>(),
            ["inputs"] = c["inputs"]!.DeepClone(),
            ["options"] = c["options"]?.DeepClone() ?? new JsonObject(),
        }.ToJsonString());
        var output = new StringWriter();
        new ProtocolRunner(LossRegistry.Default).RunBatch(new StringReader(string.Join('\n', lines)), output);
        string[] answers = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(cases.Count, answers.Length);

        var failures = new List<string>();
        int checkedCases = 0;
        for (int i = 0; i < cases.Count; i++)
        {
            JsonNode c = cases[i]!;
            JsonNode answer = JsonNode.Parse(answers[i])!;
            Assert.Equal(c["id"]!.GetValue<string>(), answer["id"]!.GetValue<string>());
            string loss = c["loss"]!.GetValue<string>();
            if (!LossRegistry.Default.TryGet(loss, out _))
            {
                // Not yet in the catalog: must be a clean "unknown_loss", never a crash or another error.
                string? code = answer["error"]?["code"]?.GetValue<string>();
                Assert.True(code is null or "unknown_loss" or "unsupported_option", $"{c["id"]}: {answers[i]}");
                continue;
            }
            checkedCases++;
            string? problem = Compare(c, answer);
            if (problem is not null) failures.Add($"{c["id"]}: {problem}");
        }
        Assert.True(checkedCases >= 118, $"only {checkedCases} covered cases found");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    internal static string? Check(JsonNode c, JsonNode answer) => Compare(c, answer);

    private static string? Compare(JsonNode c, JsonNode answer)
    {
        if (answer["error"] is JsonNode err) return "error " + err.ToJsonString();
        JsonNode tol = c["tolerance"] ?? new JsonObject();
        double rel = tol["rel"]?.GetValue<double>() ?? 1e-5, abs = tol["abs"]?.GetValue<double>() ?? 1e-6;
        double grel = tol["grad_rel"]?.GetValue<double>() ?? rel, gabs = tol["grad_abs"]?.GetValue<double>() ?? abs;
        JsonNode expected = c["expected"]!;
        string? m = CompareTensor("loss", answer["loss"], expected["loss"], rel, abs);
        if (m is not null) return m;
        if (expected["grads"] is JsonObject grads)
        {
            foreach (var (name, g) in grads)
            {
                m = CompareTensor($"grad[{name}]", answer["grads"]?[name], g, grel, gabs);
                if (m is not null) return m;
            }
        }
        return null;
    }

    private static string? CompareTensor(string what, JsonNode? actual, JsonNode? expected, double rel, double abs)
    {
        if (actual is null) return $"{what} missing";
        var (es, ef) = Flatten(expected);
        var (@as, af) = Flatten(actual);
        if (!es.SequenceEqual(@as)) return $"{what}: shape [{string.Join(",", @as)}], expected [{string.Join(",", es)}]";
        for (int i = 0; i < ef.Count; i++)
        {
            double e = ef[i], a = af[i];
            bool ok = double.IsNaN(e) ? double.IsNaN(a) : double.IsInfinity(e) ? a == e : double.IsFinite(a) && Math.Abs(a - e) <= abs + rel * Math.Abs(e);
            if (!ok) return $"{what}[{i}]: got {a:R}, expected {e:R}";
        }
        return null;
    }

    private static (List<int> Shape, List<double> Flat) Flatten(JsonNode? node)
    {
        var shape = new List<int>();
        var flat = new List<double>();
        for (JsonNode? n = node; n is JsonArray a; n = a.Count > 0 ? a[0] : null) shape.Add(a.Count);
        Walk(node);
        return (shape, flat);

        void Walk(JsonNode? n)
        {
            if (n is JsonArray arr)
            {
                foreach (JsonNode? child in arr) Walk(child);
                return;
            }
            JsonValue v = n!.AsValue();
            flat.Add(v.GetValueKind() == JsonValueKind.String
                ? v.GetValue<string>() switch { "NaN" => double.NaN, "Infinity" => double.PositiveInfinity, "-Infinity" => double.NegativeInfinity, var s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture) }
                : v.GetValue<double>());
        }
    }
}
