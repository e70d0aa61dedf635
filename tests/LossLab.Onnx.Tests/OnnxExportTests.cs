using LossLab.Data;
using LossLab.Nn;
using LossLab.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LossLab.Onnx.Tests;

/// <summary>Models exported to ONNX and run by ONNX Runtime predict what LossLab predicts, on every row of a data set.</summary>
public sealed class OnnxExportTests
{
    private static string DataPath(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "data", name + ".csv");
            if (File.Exists(Path.Combine(dir.FullName, "LossLab.sln")) && File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException(name);
    }

    /// <summary>Runs the ONNX model on all rows and returns the largest |ONNX − LossLab| (relative for regression values).</summary>
    private static double MaxDifference(Model model, Dataset data)
    {
        byte[] onnx = OnnxExport.ToBytes(model);
        using var session = new InferenceSession(onnx);
        Assert.Equal("features", session.InputMetadata.Keys.Single());
        Assert.Equal("output", session.OutputMetadata.Keys.Single());
        var features = new DenseTensor<float>(data.Features.Select(v => (float)v).ToArray(), [data.Rows, data.Columns]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("features", features)]);
        float[] onnxOut = [.. results.Single().AsEnumerable<float>()];
        double[] expected = model.Predict(data);
        if (model.HasVariance)
        {
            // [mean, variance] per row.
            double[] variances = model.PredictVariance(data);
            expected = [.. expected.SelectMany((m, i) => new[] { m, variances[i] })];
        }
        Assert.Equal(expected.Length, onnxOut.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs(onnxOut[i] - expected[i]);
            if (model.Task == TaskKind.Regression) diff /= Math.Max(1, Math.Abs(expected[i]));   // float32 spacing at 150 is 1.5e-5
            worst = Math.Max(worst, diff);
        }
        return worst;
    }

    [Theory]
    [InlineData("iris", null, "ReLU")]
    [InlineData("wine", null, "Tanh")]
    [InlineData("digits", null, "GELU")]
    [InlineData("breast_cancer", "cross_entropy", "LeakyReLU")]
    [InlineData("breast_cancer", "binary_cross_entropy_with_logits", "ELU")]
    [InlineData("breast_cancer", "sigmoid_focal_loss", "Softplus")]
    [InlineData("iris", "multi_margin_loss", "Sigmoid")]
    [InlineData("diabetes", null, "ReLU")]
    [InlineData("diabetes", "gaussian_nll_loss", "Tanh")]
    [InlineData("diabetes", "poisson_nll_loss", "ReLU")]
    [InlineData("diabetes", "margin_ranking_loss", "ReLU")]
    [InlineData("iris", "keras.categorical_crossentropy", "ReLU")]
    public void Onnx_runtime_predictions_match_losslab_on_every_row(string name, string? loss, string activation)
    {
        Dataset data = CsvLoader.Load(DataPath(name));
        var options = new TrainingOptions
        {
            Loss = loss, Hidden = [16, 8], Activation = Enum.Parse<Activation>(activation), Epochs = 5, Seed = 1, Dropout = 0.1,
            LossOptions = loss == "sigmoid_focal_loss" ? new Dictionary<string, object?> { ["reduction"] = "mean" } : new Dictionary<string, object?>(),
        };
        Model model = Trainer.Train(data, options).Model;
        Assert.True(MaxDifference(model, data) <= 1e-5, $"{name}/{loss}/{activation}: max difference {MaxDifference(model, data)}");
    }

    [Theory]
    [InlineData("iris", "circle_loss")]
    [InlineData("wine", "triplet_margin_loss")]
    [InlineData("breast_cancer", "supcon_loss")]
    [InlineData("wine", "arcface_loss")]              // the largest cosine to W's columns
    [InlineData("iris", "subcenter_arcface_loss")]    // the nearest of each class's 3 sub-centres: Reshape + ReduceMin
    [InlineData("wine", "proxy_anchor_loss")]
    public void Metric_learning_models_export_their_nearest_centroid_scores(string name, string loss)
    {
        Dataset data = CsvLoader.Load(DataPath(name));
        Model model = Trainer.Train(data, new TrainingOptions { Loss = loss, Hidden = [16], EmbeddingDimension = 8, Epochs = 5, Seed = 3 }).Model;
        Assert.NotNull(model.Embedding);
        Assert.True(MaxDifference(model, data) <= 1e-5, $"{name}/{loss}: max difference {MaxDifference(model, data)}");
    }

    [Theory]
    [InlineData("coral_loss", false)]
    [InlineData("coral_loss", true)]   // thresholds out of order: the export sorts the biases, Predict sorts each row
    [InlineData("corn_loss", false)]
    [InlineData("cross_entropy", false)]
    public void Ordinal_models_export_their_rank_probabilities(string loss, bool crossedThresholds)
    {
        Dataset data = CsvLoader.Load(DataPath("diabetes"), new CsvOptions { Bins = 5 });
        Model model = Trainer.Train(data, new TrainingOptions { Loss = loss, Hidden = [16], Epochs = 5, Seed = 4 }).Model;
        if (crossedThresholds)
        {
            var head = (SharedThresholds)model.Network.Layers[^1];
            head.Bias.Assign([0.3, 1.2, -0.4, 0.9]);
        }
        double[] p = model.Predict(data);
        Assert.Equal(data.Rows * 5, p.Length);
        Assert.All(p, v => Assert.InRange(v, 0, 1));
        Assert.True(MaxDifference(model, data) <= 1e-5, $"{loss}: max difference {MaxDifference(model, data)}");
    }

    [Fact]
    public void Multilabel_models_export_sigmoid_probabilities_per_label()
    {
        Dataset digits = CsvLoader.Load(DataPath("digits"));
        double[] labels = [.. digits.Targets.SelectMany(t => new double[] { t % 2 == 0 ? 1 : 0, t >= 5 ? 1 : 0 })];
        var data = new Dataset(digits.Features, digits.Columns, labels, digits.FeatureNames, "even,big", TaskKind.Multilabel, ["even", "big"]);
        Model model = Trainer.Train(data, new TrainingOptions { Hidden = [16], Epochs = 3, Seed = 2 }).Model;
        Assert.True(MaxDifference(model, data) <= 1e-5);
    }

    [Fact]
    public void The_file_written_by_save_loads_in_onnx_runtime()
    {
        Dataset data = CsvLoader.Load(DataPath("iris"));
        Model model = Trainer.Train(data, new TrainingOptions { Hidden = [4], Epochs = 2 }).Model;
        string path = Path.Combine(Directory.CreateTempSubdirectory("losslab-onnx").FullName, "iris.onnx");
        OnnxExport.Save(model, path);
        using var session = new InferenceSession(path);
        Assert.Equal([-1, 4], session.InputMetadata["features"].Dimensions);
        Assert.Equal([-1, 3], session.OutputMetadata["output"].Dimensions);
    }
}
