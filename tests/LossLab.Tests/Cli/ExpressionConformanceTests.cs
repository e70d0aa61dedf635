using System.Globalization;
using System.Text.Json.Nodes;
using LossLab.Cli.Protocol;
using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Cli;

/// <summary>
/// The public cases of mse_loss, huber_loss and cross_entropy, each rewritten as an equivalent expression of
/// autograd primitives (options included) and run through the batch protocol: the expression language and the
/// autograd must reproduce PyTorch's values and gradients.
/// </summary>
public sealed class ExpressionConformanceTests
{
    private static string N(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Reduce(string perElement, string reduction, string? meanDenominator = null) => reduction switch
    {
        "none" => perElement,
        "sum" => $"sum({perElement})",
        _ => meanDenominator is null ? $"mean({perElement})" : $"sum({perElement}) / {meanDenominator}",
    };

    /// <summary>Returns the expression and the extra inputs (tensor options become inputs of the expression).</summary>
    private static (string Expr, JsonObject Inputs) Translate(JsonNode c)
    {
        var inputs = (JsonObject)c["inputs"]!.DeepClone();
        JsonObject options = c["options"]?.AsObject() ?? [];
        string reduction = options["reduction"]?.GetValue<string>() ?? "mean";
        bool weighted = options["weight"] is not null;
        if (weighted) inputs["weight"] = options["weight"]!.DeepClone();
        switch (c["loss"]!.GetValue<string>())
        {
            case "mse_loss":
                string se = weighted ? "weight * (input - target)^2" : "(input - target)^2";
                return (Reduce(se, reduction, weighted ? "sum(weight)" : null), inputs);
            case "huber_loss":
                double d = options["delta"]?.GetValue<double>() ?? 1.0;
                return (Reduce($"where(abs(input - target) < {N(d)}, 0.5 * (input - target)^2, {N(d)} * (abs(input - target) - {N(0.5 * d)}))", reduction), inputs);
            default:
                return (CrossEntropy(inputs, options, reduction, weighted), inputs);
        }
    }

    private static string CrossEntropy(JsonObject inputs, JsonObject options, string reduction, bool weighted)
    {
        var (inputShape, _) = ShapeOf(inputs["input"]);
        var (targetShape, _) = ShapeOf(inputs["target"]);
        int rank = inputShape.Count, axis = rank == 1 ? 0 : 1, c = inputShape[axis];
        double eps = options["label_smoothing"]?.GetValue<double>() ?? 0;
        long ii = options["ignore_index"]?.GetValue<long>() ?? -100;
        string classShape = string.Join(", ", Enumerable.Range(0, rank).Select(k => k == axis ? c : 1));
        string wc = weighted ? $"reshape(weight, {classShape})" : "1";
        string logp = $"log_softmax(input, {axis})";
        if (targetShape.SequenceEqual(inputShape))
        {
            string rows = $"-sum({wc} * ({N(1 - eps)} * target + {N(eps / c)}) * {logp}, axis={axis})";
            return Reduce(rows, reduction);
        }
        string safe = $"where(target != {ii}, target, 0)";
        string mask = $"(target != {ii})";
        string indexShape = string.Join(", ", Enumerable.Range(0, rank).Select(k => k == axis ? 1 : inputShape[k]));
        string back = targetShape.Count == 0 ? "" : ", " + string.Join(", ", targetShape);
        string picked = $"reshape(gather({logp}, {axis}, reshape({safe}, {indexShape})){back})";
        string wt = weighted ? $"reshape(gather(weight, 0, reshape({safe}, -1)){back}) * {mask}" : mask;
        string loss = $"{N(1 - eps)} * (-{picked} * {wt})";
        if (eps > 0) loss += $" + {N(eps / c)} * (-sum({wc} * {logp}, axis={axis}))";
        loss = $"where({mask}, {loss}, 0)";   // ignored rows: exactly 0, and no gradient leaks from the masked branch
        return reduction == "mean" ? $"sum({loss}) / sum({wt})" : Reduce(loss, reduction);
    }

    private static (List<int> Shape, int Count) ShapeOf(JsonNode? node)
    {
        var shape = new List<int>();
        for (JsonNode? n = node; n is JsonArray a; n = a.Count > 0 ? a[0] : null) shape.Add(a.Count);
        return (shape, 0);
    }

    [SharedFact]
    public void Mse_huber_and_cross_entropy_cases_pass_as_expressions()
    {
        JsonArray all = JsonNode.Parse(File.ReadAllText(Path.Combine(SharedData.Root!, "conformance", "cases.json")))!.AsArray();
        var cases = all.Where(c => c!["loss"]!.GetValue<string>() is "mse_loss" or "huber_loss" or "cross_entropy").ToList();
        var lines = new List<string>();
        foreach (JsonNode? c in cases)
        {
            var (expr, inputs) = Translate(c!);
            lines.Add(new JsonObject { ["id"] = c!["id"]!.GetValue<string>(), ["loss"] = "expr:" + expr, ["inputs"] = inputs }.ToJsonString());
        }
        var output = new StringWriter();
        new ProtocolRunner(LossRegistry.Default).RunBatch(new StringReader(string.Join('\n', lines)), output);
        string[] answers = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(cases.Count, answers.Length);
        var failures = new List<string>();
        for (int i = 0; i < cases.Count; i++)
        {
            JsonNode answer = JsonNode.Parse(answers[i])!;
            // Only the gradients the case expects are compared (the weight became an input and has one too).
            string? problem = ConformanceTests.Check(cases[i]!, answer);
            if (problem is not null) failures.Add($"{cases[i]!["id"]}: {problem}\n    {lines[i][..Math.Min(lines[i].Length, 300)]}");
        }
        Assert.True(cases.Count >= 30, $"only {cases.Count} cases");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
