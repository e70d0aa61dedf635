using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Tests;

/// <summary>The README's C# example, verbatim, with its printed value checked.</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public void The_readme_example_runs_and_prints_what_it_says()
    {
        var logits = TensorData.FromArray(new float[] { 2.0f, 1.0f, 0.1f, 0.5f, 2.5f, 0.3f }, 2, 3);   // (N, C)
        var labels = TensorData.FromArray(new long[] { 0, 2 }, 2);                                       // (N)
        var loss = new CrossEntropy(new CrossEntropy.Options { LabelSmoothing = 0.1 });
        LossResult result = loss.Evaluate(new LossInputs().Add("input", logits).Add("target", labels));
        float[] dLogits = result.Gradient("input").AsSpan<float>().ToArray(); // d loss / d logits, (N, C)
        ILoss huber = LossRegistry.Default.Create("huber_loss", new Dictionary<string, object?> { ["delta"] = 0.5 });
        var predictions = TensorData.FromArray(new float[] { 1.5f, -0.5f, 2.0f, 2.5f }, 4);
        var targets = TensorData.FromArray(new float[] { 1.0f, 0.0f, 1.0f, 0.0f }, 4);
        double huberValue = huber.Evaluate(predictions, targets).Scalar;

        Assert.StartsWith("1.4268730878829956", result.Scalar.ToString("R", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Equal(6, dLogits.Length);
        Assert.Equal("HuberLoss", huber.Descriptor.Name);
        Assert.Equal(0.4375, huberValue);   // ½·0.5², ½·0.5², 0.5·(1 − 0.25), 0.5·(2.5 − 0.25): 1.75 / 4
        string readme = File.ReadAllText(Path.Combine(TestKit.SharedData.RepoRoot, "README.md"));
        Assert.Contains("var loss = new CrossEntropy(new CrossEntropy.Options { LabelSmoothing = 0.1 });", readme);
        Assert.Contains("// 1.4268730878829956", readme);
        Assert.Contains("var predictions = TensorData.FromArray(new float[] { 1.5f, -0.5f, 2.0f, 2.5f }, 4);", readme);
        Assert.Contains("Console.WriteLine(huber.Evaluate(predictions, targets).Scalar);     // 0.4375", readme);
    }
}
