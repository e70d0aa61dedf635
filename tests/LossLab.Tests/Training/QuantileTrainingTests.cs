using LossLab.Data;
using LossLab.Tests.TestKit;
using LossLab.Training;

namespace LossLab.Tests.Training;

/// <summary>
/// Quantile regression through the trainer: a model trained with quantile_loss at τ puts about a share τ of unseen
/// targets at or below its predictions (below_prediction), which a mean-squared-error model does not.
/// </summary>
public sealed class QuantileTrainingTests
{
    [Theory]
    [InlineData(0.1, 0.0, 0.25)]
    [InlineData(0.9, 0.75, 1.0)]
    public void A_quantile_model_predicts_its_quantile(double tau, double low, double high)
    {
        Dataset diabetes = Datasets.Load("diabetes");
        var options = new TrainingOptions
        {
            Loss = "quantile_loss", LossOptions = new Dictionary<string, object?> { ["quantile"] = tau },
            Hidden = [32], Epochs = 60, LearningRate = 0.01, Seed = 3,
        };
        TrainingResult r = Trainer.Train(diabetes, options);
        double below = r.Test["below_prediction"];
        Assert.InRange(below, low, high);
        // The validation split as well.
        Assert.InRange(r.History[^1].Validation["below_prediction"], low, high);
    }

    [Fact]
    public void Below_prediction_is_the_share_of_targets_at_or_below()
    {
        Assert.Equal(0.5, Trainer.BelowPrediction([1, 2, 3, 4], [0, 2, 5, 6]));
        Assert.True(double.IsNaN(Trainer.BelowPrediction([], [])));
    }
}
