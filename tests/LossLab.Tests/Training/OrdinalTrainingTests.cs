using LossLab.Data;
using LossLab.Losses.Core;
using LossLab.Nn;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using LossLab.Training;

namespace LossLab.Tests.Training;

/// <summary>
/// Ordinal data (ordered classes, <see cref="TaskKind.Ordinal"/>) and the heads of the ordinal losses: CORAL's shared
/// thresholds and CORN's conditional outputs, their rank probabilities and labels (as coral_pytorch reads them), the
/// rank_mae metric, binning a numeric target, and persistence.
/// </summary>
public sealed class OrdinalTrainingTests
{
    /// <summary>Five ranks cut from a noisy latent score 2x₁ − x₂ at fixed thresholds.</summary>
    private static Dataset Ranks(int rows, int seed)
    {
        var r = new Random(seed);
        var x = new double[rows * 2];
        var y = new double[rows];
        double[] cuts = [-2, -0.7, 0.7, 2];
        for (int i = 0; i < rows; i++)
        {
            x[2 * i] = r.NextDouble() * 4 - 2;
            x[2 * i + 1] = r.NextDouble() * 4 - 2;
            double latent = 2 * x[2 * i] - x[2 * i + 1] + 0.3 * (r.NextDouble() - 0.5);
            y[i] = cuts.Count(c => latent > c);
        }
        return new Dataset(x, 2, y, ["x1", "x2"], "rank", TaskKind.Ordinal, ["1", "2", "3", "4", "5"]);
    }

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-15, $"[{i}]: {actual[i]} vs {expected[i]}");
    }

    [Fact]
    public void Coral_probabilities_are_differences_of_the_sorted_sigmoids_and_its_label_is_coral_pytorchs()
    {
        // Thresholds in order: s = σ(x); out of order, each row's logits are sorted first.
        double[] p = OrdinalRanks.Probabilities([2.0, 0.5, -1.0], 3, OrdinalHead.Cumulative);
        double s0 = Sigmoid(2), s1 = Sigmoid(0.5), s2 = Sigmoid(-1);
        AssertClose([1 - s0, s0 - s1, s1 - s2, s2], p);
        Assert.Equal(p, OrdinalRanks.Probabilities([-1.0, 2.0, 0.5], 3, OrdinalHead.Cumulative));
        // coral_pytorch's proba_to_label: the number of σ(x_k) > ½, whatever their order.
        var random = new Random(5);
        for (int trial = 0; trial < 500; trial++)
        {
            double[] x = [.. Enumerable.Range(0, 6).Select(_ => random.NextDouble() * 8 - 4)];
            int expected = x.Count(v => Sigmoid(v) > 0.5);
            Assert.Equal(expected, OrdinalRanks.MedianRanks(OrdinalRanks.Probabilities(x, 6, OrdinalHead.Cumulative), 7)[0]);
        }
    }

    [Fact]
    public void Corn_probabilities_come_from_the_running_product_and_its_label_is_coral_pytorchs()
    {
        double[] x = [1.5, -0.2, 0.8];
        double s0 = Sigmoid(1.5), s1 = s0 * Sigmoid(-0.2), s2 = s1 * Sigmoid(0.8);
        AssertClose([1 - s0, s0 - s1, s1 - s2, s2], OrdinalRanks.Probabilities(x, 3, OrdinalHead.Conditional));
        // corn_label_from_logits: the number of cumulative products of σ above ½.
        var random = new Random(6);
        for (int trial = 0; trial < 500; trial++)
        {
            double[] z = [.. Enumerable.Range(0, 5).Select(_ => random.NextDouble() * 8 - 2)];
            double product = 1;
            int expected = z.Count(v => (product *= Sigmoid(v)) > 0.5);
            Assert.Equal(expected, OrdinalRanks.MedianRanks(OrdinalRanks.Probabilities(z, 5, OrdinalHead.Conditional), 6)[0]);
        }
        // Far thresholds: the products stay exact where a product of rounded σ's would underflow in steps.
        double[] far = OrdinalRanks.Probabilities([-800.0, -800.0], 2, OrdinalHead.Conditional);
        Assert.Equal(1.0, far[0]);
        Assert.All(far.Skip(1), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void A_nan_output_makes_its_row_nan_and_rows_stay_apart()
    {
        double[] p = OrdinalRanks.Probabilities([double.NaN, 1.0, 0.0, 1.0], 2, OrdinalHead.Cumulative);
        Assert.All(p.Take(3), v => Assert.True(double.IsNaN(v)));
        Assert.All(p.Skip(3), v => Assert.False(double.IsNaN(v)));
        Assert.Throws<ArgumentException>(() => OrdinalRanks.Probabilities([1.0, 2.0, 3.0], 2, OrdinalHead.Conditional));
    }

    [Fact]
    public void The_ordinal_losses_are_refused_on_unordered_classes_with_the_way_to_declare_an_order()
    {
        foreach (string loss in new[] { "coral_loss", "corn_loss" })
        {
            var e = Assert.Throws<LossArgumentException>(() => new LossBinding(LossRegistry.Default.Get(loss), new Dictionary<string, object?>(), TaskKind.Multiclass, 3, null));
            Assert.Contains("--task ordinal", e.Message, StringComparison.Ordinal);
            Assert.Contains("--bins", e.Message, StringComparison.Ordinal);
            Assert.Equal([TaskKind.Ordinal], TaskFit.TrainsOn(LossRegistry.Default.Get(loss)));
        }
        // Every multi-class loss trains on ordered classes too (it ignores the order).
        Assert.Contains(TaskKind.Ordinal, TaskFit.TrainsOn(LossRegistry.Default.Get("cross_entropy")));
        var coral = new LossBinding(LossRegistry.Default.Get("coral_loss"), new Dictionary<string, object?>(), TaskKind.Ordinal, 5, null);
        Assert.Equal((4, OrdinalHead.Cumulative), (coral.Outputs, coral.Ordinal));
        var corn = new LossBinding(LossRegistry.Default.Get("corn_loss"), new Dictionary<string, object?>(), TaskKind.Ordinal, 5, null);
        Assert.Equal((4, OrdinalHead.Conditional, true), (corn.Outputs, corn.Ordinal, corn.IndexTargets));
        // Their options are per threshold, not per class: class weights are refused with the alternative.
        var w = Assert.Throws<LossArgumentException>(() => new LossBinding(LossRegistry.Default.Get("coral_loss"), new Dictionary<string, object?>(), TaskKind.Ordinal, 3, [1.0, 2.0, 1.0]));
        Assert.Contains("oversampling", w.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Coral_and_corn_learn_ranks_and_beat_a_constant_prediction_on_rank_mae()
    {
        Dataset data = Ranks(600, 1);
        Split split = Splitter.Stratified(data, 0.2, 0.1, 2);
        Dataset train = data.Subset(split.Train), val = data.Subset(split.Validation), test = data.Subset(split.Test);
        foreach (string loss in new[] { "coral_loss", "corn_loss", "cross_entropy" })
        {
            TrainingResult r = Trainer.Train(train, val, test, new TrainingOptions { Loss = loss, Hidden = [16], Epochs = 80, LearningRate = 0.01, Seed = 3 });
            // Predicting the middle rank everywhere gives a rank_mae of about 1.2 here.
            Assert.True(r.Test["rank_mae"] < 0.35, $"{loss}: rank_mae {r.Test["rank_mae"]}");
            Assert.True(r.Test["accuracy"] > 0.7, $"{loss}: accuracy {r.Test["accuracy"]}");
            double[] p = r.Model.Predict(test);
            for (int i = 0; i < test.Rows; i++) Assert.Equal(1.0, p.AsSpan(i * 5, 5).ToArray().Sum(), 6);   // a float32 softmax for cross_entropy
        }
        Model coral = Trainer.Train(train, val, test, new TrainingOptions { Loss = "coral_loss", Hidden = [8], Epochs = 2, Seed = 3 }).Model;
        var head = Assert.IsType<SharedThresholds>(coral.Network.Layers[^1]);
        Assert.Equal((8, 4), (head.Inputs, head.Thresholds));
        Assert.Equal(OrdinalHead.Cumulative, coral.OrdinalHead);
        Assert.Contains("SharedThresholds(8 → 4)", coral.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_shared_thresholds_start_as_coral_pytorch_starts_them_and_keep_the_weight()
    {
        Sequential one = Mlp.Build(3, [4], 1, Activation.ReLU, seed: 7);
        Sequential coral = Mlp.WithSharedThresholds(one, 4);
        var head = (SharedThresholds)coral.Layers[^1];
        Assert.Equal([1.0, 0.75, 0.5, 0.25], head.Bias.ToArray());
        Assert.Equal(((Linear)one.Layers[^1]).Weight.ToArray(), head.Weight.ToArray());
        Assert.Equal(2 + 2, coral.Parameters.Count);   // layer0 weight and bias, the shared weight, the thresholds
        Assert.Throws<ArgumentException>(() => Mlp.WithSharedThresholds(Mlp.Build(3, [4], 2, Activation.ReLU, seed: 7), 4));
        Assert.Throws<ArgumentException>(() => new SharedThresholds(4, 3, LossLab.Autograd.Tensor.FromArray(new double[8], [4, 2], DType.Float64), LossLab.Autograd.Tensor.FromArray(new double[3], [3], DType.Float64), "x"));
    }

    [Fact]
    public void Rank_mae_is_the_distance_of_the_median_rank_and_only_ordinal_data_reports_it()
    {
        // Rows of probabilities over 3 ranks: medians 0, 2 and 1 against true ranks 0, 0 and 2 → (0 + 2 + 1)/3.
        double[] p = [0.6, 0.3, 0.1, 0.1, 0.3, 0.6, 0.2, 0.5, 0.3];
        var ordinal = new Dataset(new double[3], 1, [0, 0, 2], ["x"], "y", TaskKind.Ordinal, ["1", "2", "3"]);
        Assert.Equal(1.0, Trainer.Metrics(p, ordinal)["rank_mae"], 15);
        var multiclass = new Dataset(new double[3], 1, [0, 0, 2], ["x"], "y", TaskKind.Multiclass, ["1", "2", "3"]);
        Assert.False(Trainer.Metrics(p, multiclass).ContainsKey("rank_mae"));
        p[4] = double.NaN;
        Assert.True(double.IsNaN(Trainer.Metrics(p, ordinal)["rank_mae"]));
        Assert.True(Comparison.LowerIsBetter("rank_mae"));
    }

    [Fact]
    public void Qwk_is_quadratic_weighted_kappa_of_the_median_ranks()
    {
        // Medians 0, 2, 1 against 0, 0, 2: Σ(t − p)² = 5; chance, the true counts (2, 0, 1) against the predicted (1, 1, 1),
        // Σ_ab (a − b)²·t_a·p_b / 3 = 15/3 = 5: κ = 1 − 5/5 = 0.
        double[] p = [0.6, 0.3, 0.1, 0.1, 0.3, 0.6, 0.2, 0.5, 0.3];
        var ordinal = new Dataset(new double[3], 1, [0, 0, 2], ["x"], "y", TaskKind.Ordinal, ["1", "2", "3"]);
        Assert.Equal(0.0, Trainer.Metrics(p, ordinal)["qwk"], 15);
        // Medians equal to the truth: κ = 1.
        var four = new Dataset(new double[4], 1, [0, 1, 2, 2], ["x"], "y", TaskKind.Ordinal, ["1", "2", "3"]);
        double[] exact = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1];
        Assert.Equal(1.0, Trainer.Metrics(exact, four)["qwk"], 15);
        // Predicted 0, 1, 1, 2: observed Σ(t − p)² = 1; true counts (1, 1, 2), predicted (1, 2, 1):
        // chance = Σ_ab (a − b)²·t_a·p_b / 4 = (0·1 + 1·2 + 4·1 + 1·1 + 0 + 1·1 + 4·2 + 1·4 + 0)/4 = 20/4 = 5; κ = 1 − 1/5.
        double[] offByOne = [1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1];
        Assert.Equal(0.8, Trainer.Metrics(offByOne, four)["qwk"], 14);
        // Every row and prediction in one rank: chance cannot disagree, κ is undefined.
        var single = new Dataset(new double[2], 1, [1, 1], ["x"], "y", TaskKind.Ordinal, ["1", "2", "3"]);
        Assert.True(double.IsNaN(Trainer.Metrics([0, 1, 0, 0, 1, 0], single)["qwk"]));
        Assert.False(Comparison.LowerIsBetter("qwk"));
    }

    [Fact]
    public void An_ordinal_model_saves_its_head_and_bin_edges_and_predicts_the_same_after_loading()
    {
        string path = Path.Combine(Path.GetTempPath(), $"losslab-ordinal-{Guid.NewGuid():N}.json");
        try
        {
            Dataset data = CsvLoader.Load(Datasets.PathOf("diabetes"), new CsvOptions { Bins = 4 });
            foreach (string loss in new[] { "coral_loss", "corn_loss" })
            {
                Model model = Trainer.Train(data, new TrainingOptions { Loss = loss, Hidden = [8], Epochs = 3, Seed = 1 }).Model;
                model.Save(path);
                Assert.Contains("\"version\":3", File.ReadAllText(path), StringComparison.Ordinal);
                Model loaded = Model.Load(path);
                Assert.Equal((model.OrdinalHead, TaskKind.Ordinal), (loaded.OrdinalHead, loaded.Task));
                Assert.Equal(data.BinEdges, loaded.BinEdges);
                // New data is cut at the model's edges, whatever its own quantiles: the classes mean the same.
                Dataset again = CsvLoader.Load(Datasets.PathOf("diabetes"), loaded.CsvSchema);
                Assert.Equal(data.Targets, again.Targets);
                Assert.Equal(model.Predict(data), loaded.Predict(again));
            }
            // A model of unordered classes is still written as version 1.
            Model plain = Trainer.Train(CsvLoader.Load(Datasets.PathOf("iris")), new TrainingOptions { Hidden = [4], Epochs = 1 }).Model;
            plain.Save(path);
            Assert.Contains("\"version\":1", File.ReadAllText(path), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_loss_that_reads_other_outputs_cannot_score_an_ordinal_model_and_says_why()
    {
        Dataset data = Ranks(120, 2);
        Model coral = Trainer.Train(data, new TrainingOptions { Loss = "coral_loss", Hidden = [4], Epochs = 1 }).Model;
        var corn = new LossBinding(LossRegistry.Default.Get("corn_loss"), new Dictionary<string, object?>(), TaskKind.Ordinal, 5, null);
        Assert.Contains("CORN's conditional", Trainer.Incompatibility(coral, corn), StringComparison.Ordinal);
        var ce = new LossBinding(LossRegistry.Default.Get("cross_entropy"), new Dictionary<string, object?>(), TaskKind.Ordinal, 5, null);
        Assert.Contains("needs 5 outputs; the model has 4", Trainer.Incompatibility(coral, ce), StringComparison.Ordinal);
    }
}
