using System.Diagnostics;
using LossLab.Data;
using LossLab.Nn;
using LossLab.Tests.TestKit;
using LossLab.Training;

namespace LossLab.Tests.Training;

public sealed class TrainerTests
{
    private static readonly TrainingOptions Quick = new() { Hidden = [8], Epochs = 5, LearningRate = 0.01, Seed = 4 };

    [Fact]
    public void A_models_csv_schema_reads_new_data_in_its_columns_and_classes()
    {
        Dataset iris = Datasets.Load("iris");
        Model model = Trainer.Train(iris, Quick with { Epochs = 1 }).Model;
        // Columns reordered and only class "2": read with the model's schema, the label stays class 2.
        Dataset d = CsvLoader.Parse(new StringReader("target,petal_width,petal_length,sepal_width,sepal_length\n2,1.8,5.1,3.0,5.9\n"), model.CsvSchema, "new.csv", out _);
        Assert.Equal(model.FeatureNames, d.FeatureNames);
        Assert.Equal([5.9, 3.0, 5.1, 1.8], d.Features);
        Assert.Equal([2.0], d.Targets);
        Assert.Equal(3, model.Predict(d).Length);   // one row of three class probabilities
    }

    [Fact]
    public void A_regression_model_starts_at_the_training_targets_mean()
    {
        // Diabetes's targets: mean 152, std 77. A model predicting about 0 would score R² ≈ −(152/77)² ≈ −3.9; one
        // starting at the mean scores about 0 before it has learned anything (a learning rate of 1e-9 keeps it there).
        Dataset d = Datasets.Load("diabetes");
        TrainingResult r = Trainer.Train(d, Quick with { Epochs = 1, LearningRate = 1e-9 });
        Assert.InRange(r.Test["r2"], -0.2, 0.05);
        // And with the default rate, 40 epochs already beat the mean by far (the recommend --verify budget).
        Assert.True(Trainer.Train(d, new TrainingOptions { Epochs = 40, Seed = 1 }).Test["r2"] > 0.3);
    }

    [Fact]
    public void The_same_seed_gives_identical_history_and_weights()
    {
        Dataset d = Datasets.Load("wine");
        var a = Trainer.Train(d, Quick with { Dropout = 0.2 });
        var b = Trainer.Train(d, Quick with { Dropout = 0.2 });
        Assert.Equal(a.History.Select(h => h.TrainLoss), b.History.Select(h => h.TrainLoss));
        Assert.Equal(a.Model.ToJson().ToJsonString(), b.Model.ToJson().ToJsonString());
        var c = Trainer.Train(d, Quick with { Seed = 5 });
        Assert.NotEqual(a.Model.ToJson().ToJsonString(), c.Model.ToJson().ToJsonString());
    }

    [Fact]
    public void Every_optimizer_schedule_activation_and_regularizer_trains_without_diverging()
    {
        Dataset d = Datasets.Load("iris");
        foreach (string optimizer in new[] { "sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw" })
        {
            var r = Trainer.Train(d, Quick with { Optimizer = optimizer, LearningRate = 0.05, Epochs = 30 });
            Assert.True(r.History[^1].TrainLoss < r.History[0].TrainLoss, $"{optimizer}: loss did not decrease");
        }
        foreach (Activation a in Enum.GetValues<Activation>())
        {
            Assert.Equal("completed", Trainer.Train(d, Quick with { Activation = a }).StopReason);
        }
        foreach (string s in new[] { "step", "cosine", "warmup" })
        {
            Assert.Equal("completed", Trainer.Train(d, Quick with { Schedule = s }).StopReason);
        }
        var penalized = Trainer.Train(d, Quick with { L1 = 0.001, L2 = 0.01, ClipNorm = 1 });
        Assert.All(penalized.History, h => Assert.True(h.Penalty > 0));
    }

    [Fact]
    public void Early_stopping_keeps_the_best_weights_and_cancellation_stops_cleanly()
    {
        Dataset d = Datasets.Load("diabetes");
        var r = Trainer.Train(d, new TrainingOptions { Hidden = [32], Epochs = 400, LearningRate = 0.03, EarlyStopping = 5, Seed = 2 });
        Assert.StartsWith("early stopping", r.StopReason);
        double best = r.History.Min(h => h.ValidationLoss);
        Assert.Equal(best, r.History[r.BestEpoch - 1].ValidationLoss);
        Assert.Equal(r.BestEpoch, r.KeptEpoch);
        // Without early stopping a completed run keeps its last weights, and still reports where the validation loss was lowest.
        var full = Trainer.Train(d, new TrainingOptions { Hidden = [32], Epochs = 60, LearningRate = 0.03, Seed = 2 });
        Assert.Equal(60, full.KeptEpoch);
        Assert.Equal(full.History.Min(h => h.ValidationLoss), full.History[full.BestEpoch - 1].ValidationLoss);
        Assert.True(full.BestEpoch < 60, $"the validation loss should have turned up before epoch 60 at this rate (best {full.BestEpoch})");
        using var cts = new CancellationTokenSource();
        var progress = new EpochProgress(rec => { if (rec.Epoch == 3) cts.Cancel(); });
        var cancelled = Trainer.Train(d, Quick with { Epochs = 50 }, progress: progress, cancel: cts.Token);
        Assert.Equal("cancelled", cancelled.StopReason);
        Assert.Equal(3, cancelled.History.Count);
    }


    [Fact]
    public void Imbalance_tools_and_other_losses_bind_to_the_task()
    {
        Dataset d = Datasets.Load("breast_cancer");
        foreach (ClassWeighting w in new[] { ClassWeighting.Balanced, ClassWeighting.Effective })
        {
            Assert.Equal("completed", Trainer.Train(d, Quick with { ClassWeights = w }).StopReason);
            Assert.Equal("completed", Trainer.Train(d, Quick with { ClassWeights = w, Loss = "binary_cross_entropy_with_logits" }).StopReason);
            Assert.Equal("completed", Trainer.Train(d, Quick with { ClassWeights = w, Loss = "sigmoid_focal_loss", LossOptions = new Dictionary<string, object?> { ["reduction"] = "mean" } }).StopReason);
        }
        Assert.Equal("completed", Trainer.Train(d, Quick with { Oversample = true, Loss = "soft_margin_loss" }).StopReason);
        // Optax's binary losses: hinge and perceptron get ±1 targets, sparsemax 0/1 labels, and each learns the task.
        foreach (string loss in new[] { "hinge_loss", "perceptron_loss", "sparsemax_loss" })
        {
            var optax = Trainer.Train(d, Quick with { Loss = loss, LossOptions = new Dictionary<string, object?> { ["reduction"] = "mean" } });
            Assert.True(optax.Test["accuracy"] > 0.85, $"{loss}: test accuracy {optax.Test["accuracy"]}");
        }
        Assert.Equal("completed", Trainer.Train(Datasets.Load("iris"), Quick with { Loss = "multiclass_sparsemax_loss" }).StopReason);
        Assert.Equal("completed", Trainer.Train(Datasets.Load("iris"), Quick with { Loss = "expr:mse_loss(softmax(input), one_hot(target))" }).StopReason);
        Assert.Equal("completed", Trainer.Train(Datasets.Load("iris"), Quick with { Loss = "multi_margin_loss" }).StopReason);
        Assert.Equal("completed", Trainer.Train(Datasets.Load("diabetes"), Quick with { Loss = "huber_loss", LossOptions = new Dictionary<string, object?> { ["delta"] = 30.0 } }).StopReason);
        var e = Assert.Throws<LossLab.Numerics.LossArgumentException>(() => Trainer.Train(d, Quick with { ClassWeights = ClassWeighting.Balanced, Loss = "soft_margin_loss" }));
        Assert.Contains("class-weight", e.Message);
        double[] w2 = LossBinding.ClassWeights(ClassWeighting.Balanced, [0, 0, 0, 1], 2)!;
        Assert.Equal([4 / 6.0, 2.0], w2);
    }

    /// <summary>
    /// Keras losses list y_true first: the model's output must go to y_pred. With the roles swapped, iris trained on
    /// keras.categorical_crossentropy had reached 0.67 where cross_entropy reaches 0.93; now the two train alike, and
    /// integer-label Keras losses get class indices.
    /// </summary>
    [Fact]
    public void Keras_losses_take_the_model_output_as_y_pred()
    {
        var binding = new LossBinding(LossLab.Losses.Core.LossRegistry.Default.Get("keras.categorical_crossentropy"), new Dictionary<string, object?>(), TaskKind.Multiclass, 3, null);
        Assert.Equal(("y_pred", "y_true"), (binding.InputName, binding.TargetName));
        var torch = new LossBinding(LossLab.Losses.Core.LossRegistry.Default.Get("cross_entropy"), new Dictionary<string, object?>(), TaskKind.Multiclass, 3, null);
        Assert.Equal(("input", "target"), (torch.InputName, torch.TargetName));
        Dataset iris = Datasets.Load("iris");
        var options = Quick with { Epochs = 30, Hidden = [16] };
        double reference = Trainer.Train(iris, options with { Loss = "cross_entropy" }).Test["accuracy"];
        double keras = Trainer.Train(iris, options with { Loss = "keras.categorical_crossentropy", LossOptions = new Dictionary<string, object?> { ["from_logits"] = true } }).Test["accuracy"];
        double sparse = Trainer.Train(iris, options with { Loss = "keras.sparse_categorical_crossentropy", LossOptions = new Dictionary<string, object?> { ["from_logits"] = true } }).Test["accuracy"];
        Assert.True(reference >= 0.8, $"cross_entropy: {reference}");
        Assert.Equal(reference, keras, 0.05);
        Assert.Equal(reference, sparse, 0.05);
    }

    [Fact]
    public void A_saved_model_loads_and_predicts_the_same_and_damaged_files_are_clear_errors()
    {
        string dir = Directory.CreateTempSubdirectory("losslab-model").FullName;
        string path = Path.Combine(dir, "m.json");
        Dataset d = Datasets.Load("iris");
        var r = Trainer.Train(d, Quick);
        r.Model.Save(path);
        Model loaded = Model.Load(path);
        Assert.Equal(r.Model.Predict(d), loaded.Predict(d));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        File.WriteAllText(path, File.ReadAllText(path)[..200]);
        Assert.Contains("not a LossLab model", Assert.Throws<DataFormatException>(() => Model.Load(path)).Message);
        File.WriteAllText(path, "{\"format\": \"losslab-model\", \"version\": 9}");
        Assert.Contains("version 9", Assert.Throws<DataFormatException>(() => Model.Load(path)).Message);
    }

    [Fact]
    public void A_process_killed_while_saving_leaves_the_old_or_the_new_model_never_a_broken_file()
    {
        string dir = Directory.CreateTempSubdirectory("losslab-kill").FullName;
        string path = Path.Combine(dir, "model.json");
        string cli = Path.Combine(AppContext.BaseDirectory, "LossLab.Cli.dll");
        ProcessStartInfo Start(int seed) => new("dotnet", [cli, "train", "--data", Datasets.PathOf("iris"), "--hidden", "512,512", "--epochs", "1",
            "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", path]) { RedirectStandardOutput = true, RedirectStandardError = true };
        // First a complete save (the "old" model); then runs killed at random moments, some of them inside the
        // write of a model file of about 10 MB. After every kill the file must load: old or new, never half.
        using (Process first = Process.Start(Start(99))!)
        {
            first.WaitForExit();
            Assert.Equal(0, first.ExitCode);
        }
        var random = new Random(7);
        for (int attempt = 0; attempt < 6; attempt++)
        {
            using Process p = Process.Start(Start(attempt))!;
            Thread.Sleep(random.Next(200, 2500));
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            p.WaitForExit();
            Assert.Equal(4, Model.Load(path).FeatureNames.Count);
        }
    }
}
