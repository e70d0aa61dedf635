using LossLab.Data;
using LossLab.Tests.TestKit;
using LossLab.Training;
using Xunit.Abstractions;

namespace LossLab.Tests.Training;

/// <summary>The training engine's quality bars on the real data sets, with fixed seeds.</summary>
public sealed class QualityBarTests(ITestOutputHelper output)
{
    private TrainingResult Run(string name, TrainingOptions options)
    {
        var r = Trainer.Train(Datasets.Load(name), options);
        output.WriteLine($"{name}: {string.Join(", ", r.Test.Select(kv => $"{kv.Key}={kv.Value:G4}"))}; epochs {r.History.Count}, best {r.BestEpoch}, {r.StopReason}");
        return r;
    }

    [Fact]
    public void Iris_reaches_accuracy_093_with_cross_entropy()
        => Assert.True(Run("iris", new TrainingOptions { Hidden = [16], Epochs = 150, LearningRate = 0.01, Seed = 0 }).Test["accuracy"] >= 0.93);

    [Fact]
    public void Breast_cancer_reaches_accuracy_095_with_cross_entropy()
        => Assert.True(Run("breast_cancer", new TrainingOptions { Hidden = [32], Epochs = 60, LearningRate = 0.003, Seed = 1 }).Test["accuracy"] >= 0.95);

    [Fact]
    public void Digits_reaches_accuracy_095_with_cross_entropy()
        => Assert.True(Run("digits", new TrainingOptions { Hidden = [64], Epochs = 40, LearningRate = 0.003, Seed = 1 }).Test["accuracy"] >= 0.95);

    [Fact]
    public void Diabetes_reaches_r2_040_with_mse()
        => Assert.True(Run("diabetes", new TrainingOptions { Hidden = [16], Epochs = 200, LearningRate = 0.003, Seed = 1, EarlyStopping = 30 }).Test["r2"] >= 0.40);
}
