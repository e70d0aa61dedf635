using LossLab.Cli.Protocol;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Tests.Cli;

public sealed class ProtocolRunnerTests
{
    /// <summary>A loss that fails with the given exception: a bug (a division by zero) or a request too large for memory.</summary>
    private sealed class Failing(LossDescriptor entry, Func<Exception> failure) : Loss
    {
        public static LossDescriptor Entry(string name, Func<Exception> failure)
        {
            LossDescriptor? entry = null;
            entry = new()
            {
                Name = name,
                Family = LossFamily.Custom,
                Task = LossTask.Regression,
                Inputs = [new("input", InputKind.Floating, true, "anything")],
                Formula = "ℓ = a failure",
                Reference = "a test",
                Factory = _ => new Failing(entry!, failure),
            };
            return entry;
        }

        public override LossDescriptor Descriptor => entry;

        protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients) => throw failure();
    }

    /// <summary>A loss with a bug: it divides by zero.</summary>
    private static readonly LossDescriptor Buggy = Failing.Entry("Buggy", () => new DivideByZeroException());

    /// <summary>A loss whose request needs more memory than the process may use (the CLI's GC heap stops at 80 % of the machine's).</summary>
    private static readonly LossDescriptor Hungry = Failing.Entry("Hungry", () => new OutOfMemoryException());

    [Fact]
    public void A_request_out_of_memory_is_an_error_line_saying_so_and_the_batch_goes_on()
    {
        var registry = LossRegistry.CreateBuiltIn();
        registry.Register(Hungry);
        var runner = new ProtocolRunner(registry);
        var output = new StringWriter();
        int failed = runner.RunBatch(new StringReader("""
            {"id": "a", "loss": "Hungry", "inputs": {"input": [1]}}
            {"id": "b", "loss": "mse_loss", "inputs": {"input": [1], "target": [0]}}
            """), output);
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("{\"id\":\"a\",\"error\":{\"code\":\"invalid_value\",\"message\":\"line 1: the request needs more memory than this process may use (", lines[0]);
        Assert.StartsWith("{\"id\":\"b\",\"loss\":1", lines[1]);
        Assert.Equal(1, failed);
        Assert.Equal(0, runner.InternalErrors);
    }

    [Fact]
    public void Real_inputs_written_as_integers_follow_the_requested_dtype()
    {
        // [[1]] parses as int64; with "dtype": "float64" it used to be read as float32 (0.31326172), the only float
        // input being written with integer tokens. Class indices stay integers.
        var runner = new ProtocolRunner(LossRegistry.Default);
        var (line, ok) = runner.RunOne("""{"inputs": {"input": [[1]], "target": [[1]]}, "options": {"reduction": "none"}, "dtype": "float64"}""", "multilabel_soft_margin_loss");
        Assert.True(ok);
        Assert.Equal("""{"loss":[0.31326168751822286],"grads":{"input":[[-0.2689414213699951]],"target":[[-1]]}}""", line);
        (line, ok) = runner.RunOne("""{"inputs": {"input": [[1, 2], [0, 1]], "target": [1, 0]}, "dtype": "float64"}""", "cross_entropy");
        Assert.True(ok);
        Assert.StartsWith("""{"loss":0.8132616875182228,""", line);
        (line, _) = runner.RunOne("""{"inputs": {"input": [[1, 2], [0, 1]], "target": [1, 0]}}""", "cross_entropy");
        Assert.StartsWith("""{"loss":0.8132616,""", line);
    }

    [Fact]
    public void A_bug_in_one_line_is_an_internal_error_line_and_the_batch_goes_on()
    {
        var registry = LossRegistry.CreateBuiltIn();
        registry.Register(Buggy);
        var runner = new ProtocolRunner(registry);
        var output = new StringWriter();
        int failed = runner.RunBatch(new StringReader("""
            {"id": "a", "loss": "Buggy", "inputs": {"input": [1]}}
            {"id": "b", "loss": "mse_loss", "inputs": {"input": [1], "target": [0]}}
            """), output);
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains("\"internal_error\"", lines[0]);
        Assert.Contains("DivideByZeroException", lines[0]);
        Assert.StartsWith("{\"id\":\"b\",\"loss\":1", lines[1]);
        Assert.Equal(1, failed);
        Assert.Equal(1, runner.InternalErrors);
    }
}
