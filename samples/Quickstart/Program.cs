// LossLab in 40 lines: a catalog loss with its gradient, a custom loss as an expression, and a trained model.
using LossLab.Data;
using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Training;

var logits = TensorData.FromArray(new float[] { 2.0f, 1.0f, 0.1f, 0.5f, 2.5f, 0.3f }, 2, 3);   // (N, C)
var labels = TensorData.FromArray(new long[] { 0, 2 }, 2);                                       // (N)
var inputs = new LossInputs().Add("input", logits).Add("target", labels);

LossResult ce = new CrossEntropy(new CrossEntropy.Options { LabelSmoothing = 0.1 }).Evaluate(inputs);
Console.WriteLine($"cross_entropy (label_smoothing 0.1) = {ce.Scalar:F6}");
Console.WriteLine($"d loss / d logits = [{string.Join(", ", ce.Gradient("input").AsSpan<float>().ToArray().Select(g => g.ToString("F4")))}]");

// The same loss written by hand in the expression language: autograd gives the gradient.
ILoss custom = LossRegistry.Default.Create("expr:mean(-sum(one_hot(target) * log_softmax(input), axis=1))");
Console.WriteLine($"expression cross-entropy = {custom.Evaluate(inputs).Scalar:F6} (catalog without smoothing: {new CrossEntropy().Evaluate(inputs).Scalar:F6})");
Console.WriteLine($"gradient check of the expression: {(GradCheck.Run(custom, inputs).Passed ? "passed" : "FAILED")}");

// Train a small MLP on iris with the cross-entropy, and report the test accuracy.
string iris = Path.Combine(FindData(), "iris.csv");
TrainingResult result = Trainer.Train(CsvLoader.Load(iris), new TrainingOptions { Hidden = [16], Epochs = 150, LearningRate = 0.01 });
Console.WriteLine($"iris: test accuracy {result.Test["accuracy"]:F3} after {result.History.Count} epochs");

static string FindData()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "data", "iris.csv"))) return Path.Combine(dir.FullName, "data");
    }
    throw new DirectoryNotFoundException("run the sample from inside the LossLab repository (it reads data/)");
}
