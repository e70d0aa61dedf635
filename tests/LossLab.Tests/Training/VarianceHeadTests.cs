using LossLab.Data;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using LossLab.Training;

namespace LossLab.Tests.Training;

/// <summary>
/// GaussianNLL trains a regression model with a second output, its variance (softplus of the raw output): the model must
/// learn where its targets are noisy, keep the means usable, and persist and report the variance.
/// </summary>
public sealed class VarianceHeadTests
{
    /// <summary>y = 2x + noise whose standard deviation is 0.1 for x &lt; 0 and 1 for x ≥ 0: a variance ratio of 100.</summary>
    private static Dataset Heteroscedastic(int rows, int seed)
    {
        var r = new Random(seed);
        var x = new double[rows];
        var y = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            x[i] = r.NextDouble() * 4 - 2;
            double gauss = Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
            y[i] = 2 * x[i] + (x[i] < 0 ? 0.1 : 1.0) * gauss;
        }
        return new Dataset(x, 1, y, ["x"], "y", TaskKind.Regression);
    }

    [Fact]
    public void The_binding_gives_gaussian_nll_a_variance_output_and_refuses_other_tasks()
    {
        var binding = new LossBinding(LossRegistry.Default.Get("gaussian_nll_loss"), new Dictionary<string, object?>(), TaskKind.Regression, 0, null);
        Assert.Equal(2, binding.Outputs);
        Assert.Equal(("input", "target", "var"), (binding.InputName, binding.TargetName, binding.VarianceName));
        Assert.Null(new LossBinding(LossRegistry.Default.Get("mse_loss"), new Dictionary<string, object?>(), TaskKind.Regression, 0, null).VarianceName);
        var e = Assert.Throws<LossArgumentException>(() => new LossBinding(LossRegistry.Default.Get("gaussian_nll_loss"), new Dictionary<string, object?>(), TaskKind.Multiclass, 3, null));
        Assert.Contains("regression target", e.Message, StringComparison.Ordinal);
        // Other losses of three or more inputs that a tabular model cannot feed are refused, with the reason.
        e = Assert.Throws<LossArgumentException>(() => new LossBinding(LossRegistry.Default.Get("ctc_loss"), new Dictionary<string, object?>(), TaskKind.Multiclass, 3, null));
        Assert.Contains("needs sequences", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_model_learns_where_the_targets_are_noisy()
    {
        Dataset data = Heteroscedastic(1200, 1);
        var result = Trainer.Train(data, new TrainingOptions { Loss = "gaussian_nll_loss", Hidden = [16], Epochs = 60, LearningRate = 0.01, Seed = 3 });
        Model model = result.Model;
        Assert.True(model.HasVariance);
        double[] mean = model.Predict(data), variance = model.PredictVariance(data);
        Assert.Equal(data.Rows, mean.Length);
        Assert.All(variance, v => Assert.True(v > 0 && double.IsFinite(v)));
        double quiet = 0, noisy = 0;
        int nq = 0, nn = 0;
        for (int i = 0; i < data.Rows; i++)
        {
            double x = data.Features[i];
            if (x < -0.5) { quiet += variance[i]; nq++; }
            else if (x > 0.5) { noisy += variance[i]; nn++; }
        }
        quiet /= nq;
        noisy /= nn;
        // True variances 0.01 and 1: the learned ones must be ordered and far apart, and the noisy side near 1.
        Assert.True(noisy > 10 * quiet, $"variance where noisy {noisy}, where quiet {quiet}");
        Assert.InRange(noisy, 0.5, 2);
        Assert.True(result.Test["r2"] > 0.8, $"r2 {result.Test["r2"]}");
        Assert.InRange(result.Test["coverage_95"], 0.85, 1.0);
        Assert.False(new Model(model.Network, TaskKind.Regression, [], model.Standardizer, model.FeatureNames, "y", "mse_loss", 1).HasVariance);
    }

    [Fact]
    public void A_saved_variance_model_predicts_the_same_after_loading()
    {
        Dataset data = Heteroscedastic(200, 2);
        Model model = Trainer.Train(data, new TrainingOptions { Loss = "gaussian_nll_loss", Hidden = [8], Epochs = 3, Seed = 1 }).Model;
        string path = Path.Combine(Directory.CreateTempSubdirectory("losslab-variance").FullName, "m.json");
        model.Save(path);
        Model loaded = Model.Load(path);
        Assert.True(loaded.HasVariance);
        Assert.Equal(model.Predict(data), loaded.Predict(data));
        Assert.Equal(model.PredictVariance(data), loaded.PredictVariance(data));
        Model plain = Trainer.Train(data, new TrainingOptions { Hidden = [8], Epochs = 1, Seed = 1 }).Model;
        Assert.Contains("gaussian_nll_loss", Assert.Throws<InvalidOperationException>(() => plain.PredictVariance(data)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_variance_model_can_be_scored_by_a_loss_of_the_mean_alone()
    {
        Dataset data = Heteroscedastic(300, 4);
        Model model = Trainer.Train(data, new TrainingOptions { Loss = "gaussian_nll_loss", Hidden = [8], Epochs = 5, Seed = 2 }).Model;
        var mse = new LossBinding(LossRegistry.Default.Get("mse_loss"), new Dictionary<string, object?>(), TaskKind.Regression, 0, null);
        var (loss, metrics) = Trainer.Evaluate(model, mse, model.Standardizer.Transform(data));
        double[] mean = model.Predict(data);
        double expected = mean.Select((m, i) => (m - data.Targets[i]) * (m - data.Targets[i])).Average();
        Assert.Equal(expected, loss, expected * 1e-5);
        Assert.Equal(Math.Sqrt(expected), metrics["rmse"], 1e-5);
        Assert.False(metrics.ContainsKey("coverage_95"));
    }
}
