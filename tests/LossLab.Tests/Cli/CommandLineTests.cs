using System.Text.Json;
using LossLab.Cli;
using LossLab.Losses.Core;

namespace LossLab.Tests.Cli;

/// <summary>Real command lines against the console seam: stdin, stdout, stderr and exit codes.</summary>
public sealed class CommandLineTests
{
    private static (int Code, string Out, string Err) Run(string stdin, params string[] args) => RunWith(LossRegistry.Default, stdin, args);

    private static (int Code, string Out, string Err) RunWith(LossRegistry registry, string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(args, new CliConsole(new StringReader(stdin), output, error, false) { Registry = registry });
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void Loss_json_from_stdin_prints_value_and_gradients()
    {
        var (code, output, _) = Run("""{"inputs": {"input": [0.5, 2.0], "target": [1.0, 1.0]}, "options": {"reduction": "sum"}}""", "loss", "mse_loss", "--json", "-");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(1.25, doc.RootElement.GetProperty("loss").GetDouble());
        Assert.Equal([-1.0, 2.0], doc.RootElement.GetProperty("grads").GetProperty("input").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal([1.0, -2.0], doc.RootElement.GetProperty("grads").GetProperty("target").EnumerateArray().Select(e => e.GetDouble()));
    }

    [Fact]
    public void A_loss_name_without_a_request_is_checked_first_and_pointed_to_its_card()
    {
        var (unknown, output, error) = Run("", "loss", "cros_entropy");
        Assert.Equal(ExitCodes.InvalidInput, unknown);
        Assert.Equal("", output);
        Assert.Contains("unknown_loss: unknown loss 'cros_entropy'; did you mean CrossEntropy?", error);
        var (known, _, hint) = Run("", "loss", "mse");
        Assert.Equal(ExitCodes.InvalidInput, known);
        Assert.Contains("losslab loss mse: give the inputs with --json FILE|-", hint);
        Assert.Contains("`losslab losses MseLoss` shows its inputs and an example", hint);
        var (neither, _, usage) = Run("", "loss");
        Assert.Equal(ExitCodes.InvalidInput, neither);
        Assert.Contains("give exactly one of --json FILE|- or --batch FILE|-", usage);
    }

    [Fact]
    public void The_loss_name_may_come_from_the_request_and_float64_keeps_double_precision()
    {
        var (code, output, _) = Run("""{"loss": "l1_loss", "dtype": "float64", "inputs": {"input": [0.1], "target": [0.3]}}""", "loss", "--json", "-");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(Math.Abs(0.1 - 0.3), doc.RootElement.GetProperty("loss").GetDouble());
    }

    [Fact]
    public void Non_finite_numbers_travel_as_strings_both_ways()
    {
        var (code, output, _) = Run("""{"inputs": {"input": ["NaN", 1.0], "target": [0.0, "Infinity"]}, "options": {"reduction": "none"}, "allow_nonfinite": true}""", "loss", "l1_loss", "--json", "-");
        Assert.Equal(0, code);
        Assert.Contains("\"loss\":[\"NaN\",\"Infinity\"]", output);
    }

    [Fact]
    public void Non_finite_inputs_are_an_error_naming_the_first_one_unless_allowed()
    {
        var (code, output, _) = Run("""{"inputs": {"input": [[1.0, 2.0], [3.0, "NaN"]], "target": [[0.0, 0.0], [0.0, "Infinity"]]}}""", "loss", "mse_loss", "--json", "-");
        Assert.Equal(2, code);
        using var doc = JsonDocument.Parse(output);
        JsonElement error = doc.RootElement.GetProperty("error");
        Assert.Equal("invalid_value", error.GetProperty("code").GetString());
        Assert.Contains("'input' holds NaN at index 3 (position [1, 1])", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        // Log-probabilities may be −∞ (probability 0), never NaN.
        var (ok, _, _) = Run("""{"inputs": {"input": [["-Infinity", 0.0]], "target": [1]}}""", "loss", "nll_loss", "--json", "-");
        Assert.Equal(0, ok);
        var (bad, _, _) = Run("""{"inputs": {"input": [["NaN", 0.0]], "target": [1]}}""", "loss", "nll_loss", "--json", "-");
        Assert.Equal(2, bad);
    }

    [Fact]
    public void Class_index_targets_are_integers_and_a_same_shape_target_holds_probabilities()
    {
        var (c1, o1, _) = Run("""{"inputs": {"input": [[0.0, 0.0]], "target": [1]}}""", "loss", "cross_entropy", "--json", "-");
        var (c2, o2, _) = Run("""{"inputs": {"input": [[0.0, 0.0]], "target": [[0.0, 1.0]]}}""", "loss", "cross_entropy", "--json", "-");
        Assert.Equal(0, c1);
        Assert.Equal(0, c2);
        using var d1 = JsonDocument.Parse(o1);
        using var d2 = JsonDocument.Parse(o2);
        Assert.Equal(d1.RootElement.GetProperty("loss").GetDouble(), d2.RootElement.GetProperty("loss").GetDouble(), 6);
        Assert.False(d1.RootElement.GetProperty("grads").TryGetProperty("target", out _));
        Assert.True(d2.RootElement.GetProperty("grads").TryGetProperty("target", out _));
    }

    [Theory]
    [InlineData("""{"inputs": {"input": [1.0], "target": [1.0]}}""", "cross_entropi", "unknown_loss", "cross_entropy")]
    [InlineData("""{"inputs": {"input": [1.0], "target": [1.0]}, "options": {"margin": 1}}""", "mse_loss", "unsupported_option", "margin")]
    [InlineData("""{"inputs": {"input": [1.0, 2.0], "target": [1.0]}}""", "mse_loss", "invalid_shape", "(1,)")]
    [InlineData("""{"inputs": {"input": [[1.0, 2.0], [3.0]], "target": [1.0]}}""", "mse_loss", "invalid_shape", "ragged")]
    [InlineData("""{"inputs": {"input": [1.5], "target": [1.0]}}""", "binary_cross_entropy", "invalid_value", "[0, 1]")]
    [InlineData("""{"inputs": {"input": [[0.0, 0.0]], "target": [2]}}""", "cross_entropy", "invalid_value", "out of range")]
    [InlineData("""{"inputs": {"input": [1.0], "target": [1.0]}, "options": {"reduction": 3}}""", "mse_loss", "invalid_value", "reduction")]
    [InlineData("""{"inputs": {"input": [1.0], "target": [1.0]}, "options": {"reduction": "avg"}}""", "mse_loss", "unsupported_option", "avg")]
    [InlineData("""{"inputs": {"input": [1.0], "target": [true]}}""", "mse_loss", "invalid_value", "boolean")]
    [InlineData("""{"inputs": {"input": [1.0], "target": [1.0]""", "mse_loss", "invalid_json", "JSON")]
    [InlineData("""{"inputz": {}}""", "mse_loss", "invalid_json", "inputz")]
    [InlineData("""[1, 2]""", "mse_loss", "invalid_json", "object")]
    public void Bad_requests_are_error_json_with_exit_code_2(string request, string loss, string code, string mention)
    {
        var (exit, output, error) = Run(request, "loss", loss, "--json", "-");
        Assert.Equal(2, exit);
        Assert.Equal("", error);
        using var doc = JsonDocument.Parse(output);
        JsonElement e = doc.RootElement.GetProperty("error");
        Assert.Equal(code, e.GetProperty("code").GetString());
        Assert.Contains(mention, e.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Batch_answers_every_line_in_order_with_its_id_and_survives_a_bad_line()
    {
        string batch = string.Join('\n',
            """{"id": "a", "loss": "mse_loss", "inputs": {"input": [1.0], "target": [0.0]}}""",
            """{"id": "b", "loss": "no_such_loss", "inputs": {"input": [1.0], "target": [0.0]}}""",
            "this is not json",
            "",
            """{"id": "d", "loss": "huber_loss", "inputs": {"input": [3.0], "target": [0.0]}, "options": {"delta": 1.0}}""");
        var (exit, output, _) = Run(batch, "loss", "--batch", "-");
        Assert.Equal(2, exit);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.Contains("\"id\":\"a\",\"loss\":1", lines[0]);
        Assert.Contains("\"id\":\"b\",\"error\"", lines[1]);
        Assert.Contains("unknown_loss", lines[1]);
        Assert.Contains("invalid_json", lines[2]);
        Assert.Contains("line 3", lines[2]);
        Assert.Contains("\"id\":\"d\",\"loss\":2.5", lines[3]);
    }

    [Fact]
    public void Batch_of_good_lines_exits_0_and_a_missing_file_is_a_one_line_error()
    {
        var (exit, _, _) = Run("""{"id": 1, "loss": "mse_loss", "inputs": {"input": [1.0], "target": [0.0]}}""", "loss", "--batch", "-");
        Assert.Equal(0, exit);
        var (missing, output, error) = Run("", "loss", "--batch", "/no/such/file.jsonl");
        Assert.Equal(2, missing);
        Assert.Equal("", output);
        Assert.Contains("cannot read '/no/such/file.jsonl'", error);
    }

    [Fact]
    public void Usage_errors_exit_2_without_a_stack_trace()
    {
        foreach (string[] args in new[] { new[] { "loss", "--bogus" }, new[] { "loss", "mse_loss" }, new[] { "nonsense" }, new[] { "losses", "--format", "xml" } })
        {
            var (exit, _, error) = Run("", args);
            Assert.Equal(2, exit);
            Assert.Contains("losslab", error);
            Assert.DoesNotContain("   at ", error);
        }
    }

    [Fact]
    public void Expressions_work_through_the_protocol_and_their_errors_are_invalid_expression()
    {
        var (code, output, _) = Run("""{"inputs": {"input": [1.0, 3.0], "target": [0.0, 0.0]}}""", "loss", "expr:mean((input - target)^2)", "--json", "-");
        Assert.Equal(0, code);
        Assert.Contains("\"loss\":5,", output);
        Assert.Contains("\"input\":[1,3]", output);
        var (bad, error, _) = Run("""{"inputs": {"input": [1.0]}}""", "loss", "expr:mean((input)^2", "--json", "-");
        Assert.Equal(2, bad);
        using var doc = JsonDocument.Parse(error);
        Assert.Equal("invalid_expression", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("^", doc.RootElement.GetProperty("error").GetProperty("message").GetString());
        var (batch, lines, _) = Run("""{"id": "e", "loss": "expr:sum(abs(input))", "inputs": {"input": [-1.0, 2.0]}}""", "loss", "--batch", "-");
        Assert.Equal(0, batch);
        Assert.Contains("\"id\":\"e\",\"loss\":3", lines);
    }

    [Fact]
    public void Gradcheck_exits_0_when_the_gradient_is_right_1_when_wrong_and_2_for_bad_arguments()
    {
        var (ok, output, _) = Run("", "gradcheck", "cross_entropy", "--option", "label_smoothing=0.1", "--shape", "3,4", "--seed", "2");
        Assert.Equal(0, ok);
        Assert.Contains("gradcheck passed: all 12 elements within tolerance", output);
        var (expr, exprOut, _) = Run("", "gradcheck", "expr:cross_entropy(input, target) + mean(input^2)", "--indices", "target=3", "--shape", "5,3");
        Assert.Equal(0, expr);
        Assert.Contains("all 15 elements", exprOut);
        var wrong = new LossLab.Tests.Losses.GradCheckTests.WrongGradient();
        var registry = LossRegistry.CreateBuiltIn();
        registry.Register(wrong.Descriptor);
        var (fail, failOut, _) = RunWith(registry, "", "gradcheck", wrong.Descriptor.Name, "--format", "json");
        Assert.Equal(1, fail);
        using var doc = JsonDocument.Parse(failOut);
        Assert.False(doc.RootElement.GetProperty("passed").GetBoolean());
        Assert.Equal(2, doc.RootElement.GetProperty("worst")[0].GetProperty("index").GetInt32());
        var (unknown, _, err) = Run("", "gradcheck", "no_such_loss");
        Assert.Equal(2, unknown);
        Assert.Contains("unknown_loss", err);
        var (badShape, _, err2) = Run("", "gradcheck", "mse_loss", "--shape", "a,b");
        Assert.Equal(2, badShape);
        Assert.Contains("--shape", err2);
        // Empty inputs check nothing: an error, never a vacuous "passed".
        var (empty, emptyOut, err3) = Run("", "gradcheck", "mse_loss", "--shape", "3,0");
        Assert.Equal(2, empty);
        Assert.DoesNotContain("passed", emptyOut);
        Assert.Contains("no gradient elements to check", err3);
    }

    [Fact]
    public void Losses_lists_the_catalog_as_table_and_json()
    {
        var (code, table, _) = Run("", "losses");
        Assert.Equal(0, code);
        Assert.Contains("CrossEntropy", table);
        Assert.Contains("label_smoothing=0", table);
        var (code2, json, _) = Run("", "losses", "--format", "json");
        Assert.Equal(0, code2);
        using var doc = JsonDocument.Parse(json);
        var losses = doc.RootElement.GetProperty("losses").EnumerateArray().ToList();
        Assert.Equal(LossRegistry.Default.Entries.Count, losses.Count);
        JsonElement ce = losses.Single(l => l.GetProperty("name").GetString() == "CrossEntropy");
        Assert.Contains("cross_entropy", ce.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));
        Assert.Contains(ce.GetProperty("options").EnumerateArray(), o => o.GetProperty("name").GetString() == "ignore_index" && o.GetProperty("default").GetString() == "-100");
        Assert.Equal("MulticlassClassification", ce.GetProperty("task").GetString());
    }

    [Fact]
    public void Losses_search_filters_by_name_alias_family_and_library()
    {
        var (code, table, _) = Run("", "losses", "--search", "optax");
        Assert.Equal(0, code);
        Assert.Contains("SparsemaxLoss", table);
        Assert.Contains("MseLoss", table);          // Optax ships it as squared_error
        Assert.DoesNotContain("L1Loss ", table);   // Optax has no absolute error
        var (code2, json, _) = Run("", "losses", "--search", "DICE", "--format", "json");
        Assert.Equal(0, code2);
        using var doc = JsonDocument.Parse(json);
        var names = doc.RootElement.GetProperty("losses").EnumerateArray().Select(l => l.GetProperty("name").GetString()).ToList();
        Assert.Contains("KerasDice", names);
        Assert.Contains("OptaxGeneralizedDiceLoss", names);
        Assert.DoesNotContain("CrossEntropy", names);
        var (code3, _, err) = Run("", "losses", "--search", "no-such-loss");
        Assert.Equal(2, code3);
        Assert.Contains("no loss matches 'no-such-loss'", err);
    }

    [Fact]
    public void Empty_axes_give_answers_or_clear_errors_never_internal_ones()
    {
        // Keras's mean over an empty last axis is 0/0 (NaN, as Keras and PyTorch give); it used to be an internal error.
        var (code, json, _) = Run("{\"inputs\": {\"y_true\": [], \"y_pred\": []}}", "loss", "keras.mse", "--json", "-");
        Assert.Equal(0, code);
        Assert.Contains("\"loss\":\"NaN\"", json);
        // A sampler that cannot fill an unusual shape is a shape error (exit 2), not an internal one (exit 3).
        var (code2, _, err) = Run("", "gradcheck", "fixmatch_loss", "--shape", "1");
        Assert.Equal(2, code2);
        Assert.Contains("cannot make sample inputs of shape (1,)", err);
    }
}
