using LossLab.Autograd;
using LossLab.Data;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using LossLab.Training;

namespace LossLab.Tests.Training;

/// <summary>
/// Every catalog loss either trains on a kind of data, fed the model's outputs in the form it takes (scores,
/// probabilities or log-probabilities), or is refused with its reason; none trains into a model that predicts nonsense.
/// </summary>
public sealed class TaskFitTests
{
    private static readonly Dictionary<string, object?> NoOptions = [];

    private static LossBinding Bind(string loss, TaskKind task, int classes = 3, Dictionary<string, object?>? options = null)
        => new(LossRegistry.Default.Get(loss), options ?? NoOptions, task, task == TaskKind.Regression ? 0 : task == TaskKind.Binary ? 2 : classes, null);

    /// <summary>Targets for 8 rows: values, class indices, or 0/1 per label.</summary>
    private static double[] Targets(TaskKind task, Random r) => task switch
    {
        TaskKind.Regression => [.. Enumerable.Range(0, 8).Select(_ => r.NextDouble() * 10)],
        TaskKind.Binary => [0, 1, 1, 0, 1, 0, 0, 1],
        TaskKind.Multiclass or TaskKind.Ordinal => [0, 1, 2, 0, 1, 2, 2, 1],
        _ => [.. Enumerable.Range(0, 24).Select(i => (double)((i * 7 + i / 3) % 2))],
    };

    [Theory]
    [InlineData(TaskKind.Regression)]
    [InlineData(TaskKind.Binary)]
    [InlineData(TaskKind.Multiclass)]
    [InlineData(TaskKind.Multilabel)]
    [InlineData(TaskKind.Ordinal)]
    public void Every_loss_trains_with_a_finite_value_and_gradient_or_is_refused_by_name(TaskKind task)
    {
        var r = new Random((int)task + 1);
        int trained = 0;
        foreach (LossDescriptor d in LossRegistry.Default.Entries)
        {
            LossBinding binding;
            try
            {
                binding = Bind(d.Name, task);
            }
            catch (LossArgumentException e)
            {
                Assert.StartsWith(d.Name + " ", e.Message, StringComparison.Ordinal);
                continue;
            }
            binding.InitializeParameters(new Random(7));   // ArcFace's and CosFace's W, as the trainer creates it
            double[] targets = Targets(task, r);
            Tensor output = Tensor.FromArray([.. Enumerable.Range(0, 8 * binding.Outputs).Select(_ => r.NextDouble() * 4 - 2)], [8, binding.Outputs], DType.Float64, requiresGrad: true);
            Tensor value = binding.Compute(output, targets);
            Assert.True(double.IsFinite(value.Item()), $"{d.Name} on {task}: value {value.Item()}");
            value.Backward();
            Assert.All(output.Grad!.ToArray(), g => Assert.True(double.IsFinite(g), $"{d.Name} on {task}: gradient {g}"));
            trained++;
        }
        Assert.True(trained >= task switch { TaskKind.Regression => 15, TaskKind.Multilabel => 25, _ => 40 }, $"only {trained} losses train on {task}");
    }

    /// <summary>
    /// The whole trainer (binding, heads, metrics, prediction) for one epoch of every catalog loss on each kind of data:
    /// finite metrics, or a refusal that names the loss. This is the survey that found the losses training nonsense.
    /// </summary>
    [Theory]
    [InlineData("iris")]
    [InlineData("breast_cancer")]
    [InlineData("diabetes")]
    [InlineData("diabetes:4")]   // cut into 4 ordered classes (ordinal)
    public void Every_loss_trains_an_epoch_end_to_end_or_is_refused_by_name(string data)
    {
        Dataset d = data.Split(':') is [string name, string bins]
            ? CsvLoader.Load(Datasets.PathOf(name), new CsvOptions { Bins = int.Parse(bins, System.Globalization.CultureInfo.InvariantCulture) })
            : Datasets.Load(data);
        int trained = 0;
        foreach (LossDescriptor loss in LossRegistry.Default.Entries)
        {
            TrainingResult r;
            try
            {
                r = Trainer.Train(d, new TrainingOptions { Loss = loss.Name, Hidden = [4], EmbeddingDimension = 3, Epochs = 1, BatchSize = 64, Seed = 1 });
            }
            catch (LossArgumentException e)
            {
                Assert.StartsWith(loss.Name + " ", e.Message, StringComparison.Ordinal);
                continue;
            }
            string key = r.Test.ContainsKey("accuracy") ? "accuracy" : r.Test.ContainsKey("r2") ? "r2" : "spearman";
            Assert.True(double.IsFinite(r.Test[key]), $"{loss.Name} on {data}: {key} {r.Test[key]}");
            Assert.Equal(d.Rows * (d.Task == TaskKind.Regression ? 1 : d.Classes), r.Model.Predict(d).Length);
            trained++;
        }
        Assert.True(trained >= (d.Task == TaskKind.Regression ? 15 : 50), $"only {trained} losses train on {data}");
    }

    [Theory]
    [InlineData("binary_cross_entropy", TaskKind.Binary, PredictionForm.Probabilities)]
    [InlineData("keras.categorical_crossentropy", TaskKind.Multiclass, PredictionForm.Probabilities)]
    [InlineData("keras.dice", TaskKind.Binary, PredictionForm.Probabilities)]
    [InlineData("mse_loss", TaskKind.Multiclass, PredictionForm.Probabilities)]
    [InlineData("mse_loss", TaskKind.Regression, PredictionForm.Scores)]
    [InlineData("nll_loss", TaskKind.Multiclass, PredictionForm.LogProbabilities)]
    [InlineData("kl_div", TaskKind.Binary, PredictionForm.LogProbabilities)]
    [InlineData("cross_entropy", TaskKind.Multiclass, PredictionForm.Scores)]
    [InlineData("binary_cross_entropy_with_logits", TaskKind.Multilabel, PredictionForm.Scores)]
    public void Each_loss_gets_the_form_it_takes(string loss, TaskKind task, PredictionForm form)
        => Assert.Equal(form, Bind(loss, task).Form);

    [Fact]
    public void From_logits_options_decide_the_form()
    {
        Assert.Equal(PredictionForm.Scores, Bind("keras.categorical_crossentropy", TaskKind.Multiclass, options: new() { ["from_logits"] = true }).Form);
        Assert.Equal(PredictionForm.Probabilities, Bind("optax.dice_loss", TaskKind.Multiclass, options: new() { ["apply_softmax"] = false }).Form);
        Assert.Equal(PredictionForm.Scores, Bind("optax.dice_loss", TaskKind.Multiclass).Form);
    }

    /// <summary>Values of different losses that must agree on the same outputs once each gets its form.</summary>
    [Fact]
    public void Losses_of_probabilities_and_log_probabilities_agree_with_their_logit_forms()
    {
        var r = new Random(3);
        double[] targets = Targets(TaskKind.Multiclass, r);
        Tensor scores = Tensor.FromArray([.. Enumerable.Range(0, 24).Select(_ => r.NextDouble() * 4 - 2)], [8, 3], DType.Float64);
        double Value(string loss, TaskKind task = TaskKind.Multiclass) => Bind(loss, task).Compute(scores, targets).Item();
        double ce = Value("cross_entropy");
        Assert.Equal(ce, Value("nll_loss"), 12);
        Assert.Equal(ce, Value("keras.categorical_crossentropy"), 6);   // Keras clips probabilities at 1e-7
        Assert.Equal(ce, Value("keras.sparse_categorical_crossentropy"), 6);
        Assert.Equal(ce, Value("kl_div") * 3, 12);   // kl_div's mean runs over the N·C elements, and t·log t = 0 for one-hot t
        // multilabel_margin_loss with one label per row is multi_margin_loss.
        Assert.Equal(Value("multi_margin_loss"), Value("multilabel_margin_loss"), 12);

        double[] binary = Targets(TaskKind.Binary, r);
        Tensor logits = Tensor.FromArray([.. Enumerable.Range(0, 8).Select(_ => r.NextDouble() * 6 - 3)], [8, 1], DType.Float64);
        double bce = Bind("binary_cross_entropy_with_logits", TaskKind.Binary).Compute(logits, binary).Item();
        Assert.Equal(bce, Bind("binary_cross_entropy", TaskKind.Binary).Compute(logits, binary).Item(), 12);
        Assert.Equal(bce, Bind("keras.binary_crossentropy", TaskKind.Binary).Compute(logits, binary).Item(), 6);
        // Sign losses see ±1: soft margin of 0/1 labels is log(1 + e^(−(2t − 1)x)).
        double[] x = logits.ToArray();
        double soft = Enumerable.Range(0, 8).Average(i => Math.Log(1 + Math.Exp(-(2 * binary[i] - 1) * x[i])));
        Assert.Equal(soft, Bind("soft_margin_loss", TaskKind.Binary).Compute(logits, binary).Item(), 12);
        // ... and one-vs-rest ±1 rows on multiclass data.
        double[] s = scores.ToArray();
        double ovr = Enumerable.Range(0, 24).Average(k => Math.Log(1 + Math.Exp(-((int)targets[k / 3] == k % 3 ? 1 : -1) * s[k])));
        Assert.Equal(ovr, Value("soft_margin_loss"), 12);
    }

    [Theory]
    [InlineData("generalized_box_iou_loss", TaskKind.Regression, "compares boxes (N, 4)")]
    [InlineData("cosine_similarity", TaskKind.Multiclass, "a similarity to maximize")]
    [InlineData("hinge_embedding_loss", TaskKind.Binary, "not a classifier's outputs")]
    [InlineData("optax.kl_divergence_with_log_targets", TaskKind.Multiclass, "log 0 = −∞")]
    [InlineData("cross_entropy", TaskKind.Regression, "needs class labels, and this target is numeric")]
    [InlineData("keras.dice", TaskKind.Regression, "is a segmentation loss")]
    [InlineData("cosine_distance", TaskKind.Regression, "a one-column regression target")]
    [InlineData("poisson_nll_loss", TaskKind.Binary, "is a count-regression loss")]
    [InlineData("keras.mape", TaskKind.Multiclass, "a 0 label counts its error")]
    [InlineData("ctc_loss", TaskKind.Multiclass, "needs sequences")]
    [InlineData("keras.ctc", TaskKind.Multiclass, "needs sequences")]
    [InlineData("kl_div", TaskKind.Multilabel, "multilabel rows are independent labels")]
    [InlineData("keras.categorical_crossentropy", TaskKind.Multilabel, "multilabel rows are independent labels")]
    [InlineData("optax.dice_loss", TaskKind.Multilabel, "multilabel rows are independent labels")]
    [InlineData("ranking_softmax_loss", TaskKind.Regression, "to order rows by a numeric target use margin_ranking_loss")]
    [InlineData("margin_ranking_loss", TaskKind.Multiclass, "use it with a regression target")]
    [InlineData("cosent_loss", TaskKind.Regression, "not scored pairs")]
    [InlineData("cosine_similarity_loss", TaskKind.Multiclass, "not scored pairs")]
    [InlineData("margin_mse_loss", TaskKind.Multiclass, "holds no teacher margins")]
    [InlineData("gist_embed_loss", TaskKind.Multiclass, "holds no guide model")]
    [InlineData("softmax_loss", TaskKind.Multiclass, "a classifier of its own")]
    [InlineData("adaptive_log_softmax_with_loss", TaskKind.Multiclass, "train with cross_entropy")]
    [InlineData("emd_loss", TaskKind.Multiclass, "not declared ordered, so their distances mean nothing")]
    [InlineData("cdw_ce_loss", TaskKind.Binary, "use --task ordinal")]
    public void Losses_that_cannot_mean_anything_on_the_data_are_refused_with_the_reason(string loss, TaskKind task, string reason)
    {
        var e = Assert.Throws<LossArgumentException>(() => Bind(loss, task));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Equal(LossErrorCode.UnsupportedOption, e.Code);
    }

    [Theory]
    [InlineData("mse_loss", "Regression,Binary,Multiclass,Multilabel,Ordinal")]
    [InlineData("cross_entropy", "Binary,Multiclass,Ordinal")]
    [InlineData("binary_cross_entropy_with_logits", "Binary,Multiclass,Multilabel,Ordinal")]
    [InlineData("poisson_nll_loss", "Regression")]
    [InlineData("margin_ranking_loss", "Regression")]
    [InlineData("supcon_loss", "Binary,Multiclass,Ordinal")]
    [InlineData("coral_loss", "Ordinal")]
    [InlineData("emd_loss", "Ordinal")]
    [InlineData("cdw_ce_loss", "Ordinal")]
    [InlineData("wk_loss", "Ordinal")]
    [InlineData("sord_loss", "Ordinal")]
    [InlineData("triangular_ce_loss", "Ordinal")]
    [InlineData("geometric_loss", "Ordinal")]
    [InlineData("generalized_box_iou_loss", "")]
    public void The_catalog_says_which_data_each_loss_trains_on(string loss, string tasks)
        => Assert.Equal(tasks, string.Join(',', TaskFit.TrainsOn(LossRegistry.Default.Get(loss))));

    [Fact]
    public void Class_axis_losses_get_two_outputs_on_binary_data()
    {
        Assert.Equal(2, Bind("optax.softmax_cross_entropy", TaskKind.Binary).Outputs);
        Assert.Equal(2, Bind("kl_div", TaskKind.Binary).Outputs);
        Assert.Equal(2, Bind("optax.dice_loss", TaskKind.Binary).Outputs);
        Assert.Equal(2, Bind("multilabel_margin_loss", TaskKind.Binary).Outputs);
        Assert.Equal(1, Bind("keras.dice", TaskKind.Binary).Outputs);
        Assert.Equal(1, Bind("mse_loss", TaskKind.Binary).Outputs);
    }

    [Fact]
    public void A_count_model_trains_a_log_rate_and_predicts_its_exponential()
    {
        Dataset diabetes = Datasets.Load("diabetes");
        TrainingResult r = Trainer.Train(diabetes, new TrainingOptions { Loss = "poisson_nll_loss", Hidden = [16], Epochs = 30, LearningRate = 0.01, Seed = 1 });
        Assert.Equal("completed", r.StopReason);   // it used to start at exp(152) and diverge in its first epoch
        Assert.Equal(RegressionHead.LogRate, r.Model.RegressionHead);
        Assert.True(r.Test["r2"] > 0, $"r2 {r.Test["r2"]}");
        double[] raw = r.Model.Network.Forward(Tensor.FromArray(r.Model.Standardizer.Transform(diabetes).Features, [diabetes.Rows, diabetes.Columns], DType.Float32), training: false).ToArray();
        double[] predicted = r.Model.Predict(diabetes);
        for (int i = 0; i < 20; i++) Assert.Equal(Math.Exp(raw[i]), predicted[i], 9);

        string path = Path.Combine(Directory.CreateTempSubdirectory("losslab-count").FullName, "model.json");
        r.Model.Save(path);
        Model loaded = Model.Load(path);
        Assert.Equal(RegressionHead.LogRate, loaded.RegressionHead);
        Assert.Equal(predicted, loaded.Predict(diabetes));
        // Scored by a loss of values, a count model is scored on its rates.
        var mse = new LossBinding(LossRegistry.Default.Get("mse_loss"), NoOptions, TaskKind.Regression, 0, null);
        Dataset scaled = loaded.Standardizer.Transform(diabetes);
        double expected = Enumerable.Range(0, diabetes.Rows).Average(i => (predicted[i] - diabetes.Targets[i]) * (predicted[i] - diabetes.Targets[i]));
        Assert.Equal(expected, Trainer.Evaluate(loaded, mse, scaled).Loss, expected * 1e-5);
        // keras.poisson takes the rate itself.
        Assert.True(new LossBinding(LossRegistry.Default.Get("keras.poisson"), NoOptions, TaskKind.Regression, 0, null).LogLink);
        // Counts are never negative: such a target is refused before training, by value.
        var signed = new Dataset([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 1, [1, 3, 4, -2, 2, 3, 1, 0, 2, 5], ["x"], "y", TaskKind.Regression);
        var e = Assert.Throws<LossArgumentException>(() => Trainer.Train(signed, new TrainingOptions { Loss = "poisson_nll_loss", Epochs = 1 }));
        Assert.Contains("targets must be ≥ 0; the target column holds -2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pairwise_ranking_model_learns_to_order_rows_by_a_numeric_target()
    {
        Dataset diabetes = Datasets.Load("diabetes");
        var options = new TrainingOptions { Loss = "margin_ranking_loss", LossOptions = new Dictionary<string, object?> { ["margin"] = 1.0 }, Hidden = [16], Epochs = 30, LearningRate = 0.003, Seed = 1 };
        TrainingResult r = Trainer.Train(diabetes, options);
        Assert.Equal(RegressionHead.Score, r.Model.RegressionHead);
        Assert.True(r.Test["spearman"] > 0.4, $"spearman {r.Test["spearman"]}");
        Assert.True(r.Test["concordance"] > 0.65, $"concordance {r.Test["concordance"]}");
        Assert.False(r.Test.ContainsKey("r2"));   // the scores' scale means nothing
        string path = Path.Combine(Directory.CreateTempSubdirectory("losslab-rank").FullName, "model.json");
        r.Model.Save(path);
        Model loaded = Model.Load(path);
        Assert.Equal(RegressionHead.Score, loaded.RegressionHead);
        Assert.Equal(r.Model.Predict(diabetes), loaded.Predict(diabetes));
        var mse = new LossBinding(LossRegistry.Default.Get("mse_loss"), NoOptions, TaskKind.Regression, 0, null);
        Assert.Throws<InvalidOperationException>(() => Trainer.Evaluate(loaded, mse, loaded.Standardizer.Transform(diabetes)));
        // A value model still reports the rank metrics beside R².
        Assert.True(Trainer.Train(diabetes, options with { Loss = null, LossOptions = NoOptions }).Test.ContainsKey("spearman"));
    }

    [Fact]
    public void Ranking_pairs_are_ordered_and_ties_left_out()
    {
        var (first, second, order) = BatchMining.Pairs([3, 1, 3, 5], PairRule.Order);
        Assert.Equal([0, 0, 1, 1, 2], first);
        Assert.Equal([1, 3, 2, 3, 3], second);
        Assert.Equal([1.0, -1, -1, -1, -1], order);
        // Past maxPairs each row meets the k rows after it: 10 rows, at most 20 pairs → k = 2, 20 pairs, none repeated.
        double[] ten = [.. Enumerable.Range(0, 10).Select(i => (double)i)];
        var (a, b, _) = BatchMining.Pairs(ten, PairRule.SameClass, maxPairs: 20);
        Assert.Equal(20, a.Length);
        Assert.Equal(20, a.Zip(b, (x, y) => (Math.Min(x, y), Math.Max(x, y))).Distinct().Count());
        var binding = new LossBinding(LossRegistry.Default.Get("margin_ranking_loss"), NoOptions, TaskKind.Regression, 0, null);
        Tensor scores = Tensor.FromArray([0.5, 0.1, 0.2, 0.9], [4, 1], DType.Float64, requiresGrad: true);
        // margin 0: max(0, −y(s₁ − s₂)) over the 6 pairs (no tie): only (0, 2) is out of order, by 0.3.
        Tensor value = binding.Compute(scores, [3, 1, 3.5, 5]);
        Assert.Equal(0.3 / 6, value.Item(), 12);
    }

    [Theory]
    [InlineData("keras.categorical_crossentropy")]
    [InlineData("nll_loss")]
    [InlineData("optax.softmax_cross_entropy")]
    public void Losses_of_probabilities_train_iris_as_well_as_cross_entropy(string loss)
    {
        Dataset iris = Datasets.Load("iris");
        var options = new TrainingOptions { Hidden = [16], Epochs = 60, LearningRate = 0.01, Seed = 0 };
        double reference = Trainer.Train(iris, options).Test["accuracy"];
        double accuracy = Trainer.Train(iris, options with { Loss = loss }).Test["accuracy"];
        Assert.True(accuracy >= reference - 0.04, $"{loss}: {accuracy} against cross-entropy's {reference}");
        Assert.True(accuracy >= 0.9, $"{loss}: {accuracy}");
    }
}
