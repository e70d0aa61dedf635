using System.Text.Json.Nodes;
using LossLab.Autograd;
using LossLab.Data;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using LossLab.Training;

namespace LossLab.Tests.Training;

/// <summary>
/// Metric-learning losses train an embedding from class labels: the batch is mined into pairs or triplets where the
/// loss needs them, classes are read off by the nearest class centre, and the model saves, loads and reports that.
/// </summary>
public sealed class EmbeddingTrainingTests
{
    private static readonly Dictionary<string, object?> NoOptions = [];

    [Theory]
    [InlineData("circle_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("supcon_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("ntxent_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("multi_similarity_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("contrastive_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("keras.circle", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("lifted_structure_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("generalized_lifted_structure_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("tuplet_margin_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("intra_pair_variance_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("margin_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("signal_to_noise_ratio_contrastive_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("ranked_list_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("fast_ap_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("histogram_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("pnp_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("threshold_consistent_margin_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("instance_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("angular_loss", EmbeddingInputs.Labels, EmbeddingMetric.Cosine)]
    [InlineData("batch_all_triplet_loss", EmbeddingInputs.Labels, EmbeddingMetric.Euclidean)]
    [InlineData("batch_hard_triplet_loss", EmbeddingInputs.Labels, EmbeddingMetric.Euclidean)]
    [InlineData("batch_semi_hard_triplet_loss", EmbeddingInputs.Labels, EmbeddingMetric.Euclidean)]
    [InlineData("triplet_margin_loss", EmbeddingInputs.Triplets, EmbeddingMetric.Euclidean)]
    [InlineData("optax.triplet_margin_loss", EmbeddingInputs.Triplets, EmbeddingMetric.Euclidean)]
    [InlineData("triplet_margin_with_distance_loss", EmbeddingInputs.Triplets, EmbeddingMetric.Euclidean)]
    [InlineData("multiple_negatives_ranking_loss", EmbeddingInputs.Triplets, EmbeddingMetric.Cosine)]   // mined triplets: the negatives as one hard negative per anchor
    [InlineData("cosine_embedding_loss", EmbeddingInputs.Pairs, EmbeddingMetric.Cosine)]
    [InlineData("pair_contrastive_loss", EmbeddingInputs.Pairs, EmbeddingMetric.Cosine)]
    [InlineData("online_contrastive_loss", EmbeddingInputs.Pairs, EmbeddingMetric.Cosine)]
    [InlineData("arcface_loss", EmbeddingInputs.LabelsAndClassWeights, EmbeddingMetric.Cosine)]
    [InlineData("cosface_loss", EmbeddingInputs.LabelsAndClassWeights, EmbeddingMetric.Cosine)]
    [InlineData("subcenter_arcface_loss", EmbeddingInputs.LabelsAndClassWeights, EmbeddingMetric.Cosine)]
    [InlineData("normalized_softmax_loss", EmbeddingInputs.LabelsAndClassWeights, EmbeddingMetric.Cosine)]
    [InlineData("proxy_anchor_loss", EmbeddingInputs.LabelsAndClassWeights, EmbeddingMetric.Cosine)]
    [InlineData("p2s_grad_loss", EmbeddingInputs.LabelsAndClassWeights, EmbeddingMetric.Cosine)]
    public void Metric_learning_losses_bind_to_an_embedding(string loss, EmbeddingInputs inputs, EmbeddingMetric metric)
    {
        var binding = new LossBinding(LossRegistry.Default.Get(loss), NoOptions, TaskKind.Multiclass, 3, null, embeddingDimension: 7);
        Assert.Equal((inputs, metric, 7), (binding.Embedding, binding.Metric, binding.Outputs));
    }

    [Fact]
    public void The_metric_follows_the_options_and_other_losses_are_not_embeddings()
    {
        LossBinding Bind(string loss, string option, object value)
            => new(LossRegistry.Default.Get(loss), new Dictionary<string, object?> { [option] = value }, TaskKind.Multiclass, 3, null);
        Assert.Equal(EmbeddingMetric.Cosine, Bind("triplet_margin_with_distance_loss", "distance_function", "cosine_distance").Metric);
        Assert.Equal(EmbeddingMetric.Euclidean, Bind("contrastive_loss", "normalize_embeddings", false).Metric);
        Assert.Equal(EmbeddingMetric.Euclidean, Bind("lifted_structure_loss", "normalize_embeddings", false).Metric);
        Assert.Equal(EmbeddingMetric.Euclidean, Bind("generalized_lifted_structure_loss", "normalize_embeddings", false).Metric);
        Assert.Equal(EmbeddingMetric.Euclidean, Bind("margin_loss", "normalize_embeddings", false).Metric);
        Assert.Equal(EmbeddingMetric.Euclidean, Bind("ranked_list_loss", "normalize_embeddings", false).Metric);
        foreach (string other in new[] { "cross_entropy", "hinge_embedding_loss", "multi_margin_loss" })
        {
            Assert.Equal(EmbeddingInputs.None, TaskFit.EmbeddingInputsOf(LossRegistry.Default.Get(other)));
        }
    }

    [Fact]
    public void An_embedding_loss_needs_class_labels_and_takes_no_class_weights()
    {
        var e = Assert.Throws<LossArgumentException>(() => new LossBinding(LossRegistry.Default.Get("circle_loss"), NoOptions, TaskKind.Regression, 0, null));
        Assert.Contains("binary or multiclass target, not regression", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<LossArgumentException>(() => new LossBinding(LossRegistry.Default.Get("triplet_margin_loss"), NoOptions, TaskKind.Multiclass, 3, [1, 2, 3]));
        Assert.Contains("no class weights", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<LossArgumentException>(() => new LossBinding(LossRegistry.Default.Get("supcon_loss"), NoOptions, TaskKind.Multiclass, 3, null, embeddingDimension: 0));
        Assert.Contains("at least 1, got 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Batch_hard_mining_takes_the_farthest_positive_and_the_nearest_negative()
    {
        // 1-D embeddings; row 5 is alone in its class: no positive, so no anchor (it is too far to be anyone's negative).
        double[] x = [0, 1, 5, 6, 10, 20];
        double[] labels = [0, 0, 1, 1, 0, 2];
        var (a, p, n) = BatchMining.HardTriplets(x, 1, labels, EmbeddingMetric.Euclidean);
        Assert.Equal([0, 1, 2, 3, 4], a);
        Assert.Equal([4, 4, 3, 2, 0], p);
        Assert.Equal([2, 2, 1, 4, 3], n);
        // Ties go to the lowest index: rows 1 and 2 are both 1 away from row 0.
        (a, p, n) = BatchMining.HardTriplets([0, 1, -1, 1], 1, [0, 1, 1, 0], EmbeddingMetric.Euclidean);
        Assert.Equal((0, 3, 1), (a[0], p[0], n[0]));
        // One class in the batch: no triplet at all.
        Assert.Empty(BatchMining.HardTriplets([0, 1, 2], 1, [4, 4, 4], EmbeddingMetric.Euclidean).Anchors);
        Assert.Throws<LossArgumentException>(() => BatchMining.HardTriplets([0, 1, 2], 2, [0, 1, 0], EmbeddingMetric.Euclidean));
    }

    [Fact]
    public void Cosine_mining_ignores_each_rows_length()
    {
        double[] x = [1, 0, 0.9, 0.1, 0.1, 1, 0, 1, 0.7, 0.7];
        double[] labels = [0, 0, 1, 1, 0];
        var mined = BatchMining.HardTriplets(x, 2, labels, EmbeddingMetric.Cosine);
        double[] scaled = [.. x.Select((v, i) => v * (1 + 37 * (i / 2)))];
        var again = BatchMining.HardTriplets(scaled, 2, labels, EmbeddingMetric.Cosine);
        Assert.Equal(mined.Anchors, again.Anchors);
        Assert.Equal(mined.Positives, again.Positives);
        Assert.Equal(mined.Negatives, again.Negatives);
        Assert.NotEqual(mined.Negatives, BatchMining.HardTriplets(scaled, 2, labels, EmbeddingMetric.Euclidean).Negatives);
    }

    [Fact]
    public void Pairs_cover_every_unordered_pair_with_its_sign()
    {
        var (first, second, targets) = BatchMining.Pairs([0, 0, 1], PairRule.SameClass);
        Assert.Equal([0, 0, 1], first);
        Assert.Equal([1, 2, 2], second);
        Assert.Equal([1.0, -1, -1], targets);
        Assert.Empty(BatchMining.Pairs([3], PairRule.SameClass).First);
    }

    [Fact]
    public void Gathered_rows_scatter_their_gradient_back()
    {
        Tensor x = Tensor.FromArray([1, 2, 3, 4, 5, 6], [3, 2], DType.Float64, requiresGrad: true);
        Tensor rows = BatchMining.Rows(x, [2, 0, 2]);
        Assert.Equal([5.0, 6, 1, 2, 5, 6], rows.ToArray());
        Ops.Sum(rows).Backward();
        Assert.Equal([1.0, 1, 0, 0, 2, 2], x.Grad!.ToArray());
    }

    /// <summary>The loss of a batch, as the trainer computes it, checked against central differences in double.</summary>
    [Theory]
    [InlineData("triplet_margin_loss")]
    [InlineData("cosine_embedding_loss")]
    [InlineData("keras.circle")]
    [InlineData("supcon_loss")]
    public void The_mined_batch_loss_has_the_gradient_of_its_value(string loss)
    {
        var binding = new LossBinding(LossRegistry.Default.Get(loss), NoOptions, TaskKind.Multiclass, 3, null, embeddingDimension: 3);
        var r = new Random(5);
        double[] values = [.. Enumerable.Range(0, 8 * 3).Select(_ => r.NextDouble() * 2 - 1)];
        double[] labels = [0, 1, 2, 0, 1, 2, 0, 1];
        double Value(double[] v) => binding.Compute(Tensor.FromArray(v, [8, 3], DType.Float64), labels).Item();
        Tensor x = Tensor.FromArray(values, [8, 3], DType.Float64, requiresGrad: true);
        binding.Compute(x, labels).Backward();
        double[] analytic = x.Grad!.ToArray();
        Assert.Contains(analytic, g => g != 0);
        for (int i = 0; i < values.Length; i++)
        {
            double[] up = (double[])values.Clone(), down = (double[])values.Clone();
            up[i] += 1e-6;
            down[i] -= 1e-6;
            double numeric = (Value(up) - Value(down)) / 2e-6;
            Assert.True(Math.Abs(numeric - analytic[i]) <= 1e-5 * Math.Max(1, Math.Abs(numeric)), $"{loss} [{i}]: analytic {analytic[i]}, numeric {numeric}");
        }
    }

    [Fact]
    public void Arcface_trains_its_class_weights_with_the_model_and_resumes_exactly()
    {
        Dataset iris = Datasets.Load("iris");
        var options = new TrainingOptions { Loss = "arcface_loss", Hidden = [16], EmbeddingDimension = 8, Epochs = 8, LearningRate = 0.01, Seed = 4 };
        TrainingResult first = Trainer.Train(iris, options);
        Assert.True(first.Test["accuracy"] >= 0.8, $"accuracy {first.Test["accuracy"]}");
        Nn.Parameter w = Assert.Single(first.Binding.Parameters);
        Assert.Equal(new Shape(8, 3), w.Value.Shape);
        // W moved from its seeded start: the optimizer trained it.
        var fresh = new LossBinding(LossRegistry.Default.Get("arcface_loss"), NoOptions, TaskKind.Multiclass, 3, null, embeddingDimension: 8);
        fresh.InitializeParameters(new Random(unchecked(4 * 7919 + 17)));
        Assert.NotEqual(fresh.Parameters[0].Value.ToArray(), w.Value.ToArray());

        // Killed after epoch 3 and resumed: the same network and the same W, so W is in the checkpoint.
        double[][] Weights(TrainingResult t) => [.. t.Model.Network.Parameters.Concat(t.Binding.Parameters).Select(p => p.Value.ToArray())];
        string ck = Path.Combine(Directory.CreateTempSubdirectory("losslab-arcface").FullName, "ck.json");
        using var cts = new CancellationTokenSource();
        var stop = new EpochProgress(e => { if (e.Epoch == 3) cts.Cancel(); });
        Assert.Equal("cancelled", Trainer.Train(iris, options with { CheckpointPath = ck }, progress: stop, cancel: cts.Token).StopReason);
        Assert.Equal(Weights(first), Weights(Trainer.Train(iris, options with { CheckpointPath = ck, Resume = true })));

        // A binding with no W cannot score; the saved model carries the trained W and lends it to ArcFace or CosFace
        // (same input, same shape) but not to Proxy Anchor (proxies (C, D)) or to a model saved without one.
        var untrained = new LossBinding(LossRegistry.Default.Get("cosface_loss"), NoOptions, TaskKind.Multiclass, 3, null, embeddingDimension: 8);
        var e = Assert.Throws<LossArgumentException>(() => untrained.Compute(Tensor.FromArray(new double[16], [2, 8], DType.Float64), [0, 1]));
        Assert.Contains("a model creates them when it trains", e.Message);
        string saved = Path.Combine(Directory.CreateTempSubdirectory("losslab-arcface").FullName, "model.json");
        first.Model.Save(saved);
        Model loaded = Model.Load(saved);
        Assert.Equal(w.Value.ToArray(), Assert.IsType<ClassParameters>(loaded.ClassParameters).Values);
        Dataset scaled = loaded.Standardizer.Transform(iris);
        var again = new LossBinding(LossRegistry.Default.Get("arcface_loss"), NoOptions, TaskKind.Multiclass, 3, null, embeddingDimension: 8);
        Assert.Null(again.UseSavedParameters(loaded));
        Assert.Null(Trainer.Incompatibility(loaded, again));
        Assert.Equal(Trainer.LossOf(first.Model, first.Binding, scaled), Trainer.LossOf(loaded, again, scaled), 12);
        Assert.Null(untrained.UseSavedParameters(loaded));
        // A fresh binding given straight to LossOf borrows the saved W itself; one of another shape says why it cannot.
        var fresh2 = new LossBinding(LossRegistry.Default.Get("cosface_loss"), NoOptions, TaskKind.Multiclass, 3, null, embeddingDimension: 8);
        Assert.Equal(Trainer.LossOf(loaded, untrained, scaled), Trainer.LossOf(loaded, fresh2, scaled));
        var wrongShape = new LossBinding(LossRegistry.Default.Get("proxy_anchor_loss"), NoOptions, TaskKind.Multiclass, 3, null, embeddingDimension: 8);
        Assert.Contains("it needs proxies (3, 8); the model saved W (8, 3)", Assert.Throws<InvalidOperationException>(() => Trainer.LossOf(loaded, wrongShape, scaled)).Message);
        var proxies = new LossBinding(LossRegistry.Default.Get("proxy_anchor_loss"), NoOptions, TaskKind.Multiclass, 3, null, embeddingDimension: 8);
        Assert.Contains("it needs proxies (3, 8); the model saved W (8, 3) from arcface_loss", proxies.UseSavedParameters(loaded));
        Model supcon = Trainer.Train(iris, options with { Loss = "supcon_loss", Epochs = 2 }).Model;
        Assert.Contains("saved none", again.UseSavedParameters(supcon));
        Assert.Empty(again.Parameters);
        // A damaged file: four values for a (8, 3) W.
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(saved))!;
        json["class_parameters"]!["values"] = new System.Text.Json.Nodes.JsonArray(1.0, 2.0, 3.0, 4.0);
        File.WriteAllText(saved, json.ToJsonString());
        Assert.Contains("the class parameters hold 4 values for a shape (8, 3)", Assert.Throws<DataFormatException>(() => Model.Load(saved)).Message);
    }

    [Theory]
    [InlineData("subcenter_arcface_loss", 8, 9)]      // W (D, C·K), K = 3
    [InlineData("normalized_softmax_loss", 8, 3)]     // W (D, C)
    [InlineData("proxy_anchor_loss", 3, 8)]           // proxies (C, D)
    [InlineData("proxy_nca_loss", 3, 8)]              // proxies (C, D)
    [InlineData("soft_triple_loss", 8, 30)]           // fc (D, C·K), K = 10
    public void Losses_with_class_parameters_train_them_in_the_shape_they_ask_for(string loss, int rows, int columns)
    {
        Dataset iris = Datasets.Load("iris");
        var options = new TrainingOptions { Loss = loss, Hidden = [16], EmbeddingDimension = 8, Epochs = 10, LearningRate = 0.01, Seed = 4 };
        TrainingResult result = Trainer.Train(iris, options);
        Nn.Parameter w = Assert.Single(result.Binding.Parameters);
        Assert.Equal(new Shape(rows, columns), w.Value.Shape);
        var fresh = new LossBinding(LossRegistry.Default.Get(loss), NoOptions, TaskKind.Multiclass, 3, null, embeddingDimension: 8);
        fresh.InitializeParameters(new Random(unchecked(4 * 7919 + 17)));
        Assert.NotEqual(fresh.Parameters[0].Value.ToArray(), w.Value.ToArray());
        Assert.True(result.Test["accuracy"] >= 0.8, $"{loss}: accuracy {result.Test["accuracy"]}");
    }

    [Theory]
    [InlineData("sphereface_loss", EmbeddingCentres.ClassVectors)]               // logits ‖x‖·cos: the largest cosine is the prediction
    [InlineData("large_margin_softmax_loss", EmbeddingCentres.ClassMeans)]      // logits ‖x‖‖w_j‖·cos: W's lengths weigh in, so class means
    public void Multiplicative_margin_losses_train_their_w_with_the_papers_blend(string loss, EmbeddingCentres head)
    {
        Dataset iris = Datasets.Load("iris");
        var options = new TrainingOptions
        {
            Loss = loss, Hidden = [16], EmbeddingDimension = 8, Epochs = 10, LearningRate = 0.01, Seed = 4,
            LossOptions = new Dictionary<string, object?> { ["lambd"] = 5.0 },
        };
        TrainingResult result = Trainer.Train(iris, options);
        Assert.Equal(new Shape(8, 3), Assert.Single(result.Binding.Parameters).Value.Shape);
        Assert.Equal(head, result.Model.Embedding!.Source);
        Assert.True(result.Test["accuracy"] >= 0.8, $"{loss}: accuracy {result.Test["accuracy"]}");
    }

    [Fact]
    public void A_batch_of_one_class_gives_zero_loss_and_zero_gradient()
    {
        var binding = new LossBinding(LossRegistry.Default.Get("triplet_margin_loss"), NoOptions, TaskKind.Multiclass, 3, null, embeddingDimension: 2);
        Tensor x = Tensor.FromArray([1, 2, 3, 4], [2, 2], DType.Float64, requiresGrad: true);
        Tensor value = binding.Compute(x, [1, 1]);
        Assert.Equal(0, value.Item());
        value.Backward();
        Assert.All(x.Grad!.ToArray(), g => Assert.Equal(0, g));
        var e = Assert.Throws<LossArgumentException>(() => binding.Compute(x, [1, 1, 0]));
        Assert.Contains("do not match 3 labels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_head_classifies_by_the_nearest_class_centre()
    {
        // Class 1 has no row: no centre, never predicted, score 0.
        double[] e = [0, 0, 2, 0, 10, 10, 12, 10];
        EmbeddingHead head = EmbeddingHead.Fit(e, 2, [0, 0, 2, 2], 3, EmbeddingMetric.Euclidean);
        Assert.Equal([1.0, 0], head.Centroids[0]!);
        Assert.Null(head.Centroids[1]);
        Assert.Equal([11.0, 10], head.Centroids[2]!);
        double[] s = head.Scores([1, 1, 9, 9]);
        Assert.Equal(0, s[1]);
        Assert.Equal(1, s[0] + s[2], 12);
        Assert.Equal([0, 2], head.Classify([1, 1, 9, 9]));
        Assert.Equal(Math.Exp(-Math.Sqrt(1)) / (Math.Exp(-Math.Sqrt(1)) + Math.Exp(-Math.Sqrt(181))), s[0], 12);

        // Cosine: the centre is the normalized mean of normalized rows, so a row's length does not matter.
        EmbeddingHead cosine = EmbeddingHead.Fit([1, 0, 100, 0, 0, 3], 2, [0, 0, 1], 2, EmbeddingMetric.Cosine);
        Assert.Equal([1.0, 0], cosine.Centroids[0]!);
        Assert.Equal(cosine.Scores([0.2, 0.1]), cosine.Scores([200, 100]));

        EmbeddingHead back = EmbeddingHead.FromJson(JsonNode.Parse(head.ToJson().ToJsonString())!);
        Assert.Equal(head.Scores(e), back.Scores(e));
        Assert.Throws<FormatException>(() => EmbeddingHead.FromJson(JsonNode.Parse("""{"metric":"manhattan","dimension":2,"centroids":[[1,2]]}""")!));
        Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingHead.Fit(e, 2, [0, 0, 3, 0], 3, EmbeddingMetric.Euclidean));
        Assert.Throws<ArgumentException>(() => EmbeddingHead.Fit(e, 3, [0, 0], 3, EmbeddingMetric.Euclidean));
        Assert.All(head.Scores([double.NaN, 0]), v => Assert.True(double.IsNaN(v)));
    }

    [Fact]
    public void A_head_on_class_vectors_takes_the_nearest_of_each_classs_centres()
    {
        // Sub-centre ArcFace's W (D = 2, C·K = 2·2), column j·K + s: class 0's vectors (1, 0) and (0, 3), class 1's
        // (−1, 0) and (0, −1). ClassVectors gathers them per class; the head normalizes each.
        var loss = (IClassParameterLoss)LossRegistry.Default.Create("subcenter_arcface_loss", new Dictionary<string, object?> { ["sub_centers"] = 2L });
        double[] w = [1, 0, -1, 0,
                      0, 3, 0, -1];
        double[][] vectors = loss.ClassVectors(w, 2, 2);
        Assert.Equal([1.0, 0, 0, 3], vectors[0]);
        Assert.Equal([-1.0, 0, 0, -1], vectors[1]);
        EmbeddingHead head = EmbeddingHead.FromClassVectors(vectors, 2);
        Assert.Equal(2, head.CentresPerClass);
        Assert.Equal(EmbeddingCentres.ClassVectors, head.Source);
        Assert.Equal([1.0, 0, 0, 1], head.Centroids[0]!);
        // (0.1, 5) is nearest class 0's second vector, (−3, 0.5) class 1's first; (−1, 1) is as near (0, 1) as (−1, 0).
        Assert.Equal([0, 1], head.Classify([0.1, 5, -3, 0.5]));
        double[] tie = head.Scores([-1, 1]);
        Assert.Equal(tie[0], tie[1], 12);
        // A class's score is its nearest centre's: cos 0.6 to (0, 1) → distance √(2 − 1.2).
        double[] s = head.Scores([-0.8, 0.6]);
        double near0 = Math.Sqrt(2 - 2 * 0.6), near1 = Math.Sqrt(2 - 2 * 0.8);
        Assert.Equal(Math.Exp(-near0) / (Math.Exp(-near0) + Math.Exp(-near1)), s[0], 12);

        EmbeddingHead back = EmbeddingHead.FromJson(JsonNode.Parse(head.ToJson().ToJsonString())!);
        Assert.Equal((EmbeddingCentres.ClassVectors, 2), (back.Source, back.CentresPerClass));
        Assert.Equal(head.Scores([0.3, -2, 5, 1]), back.Scores([0.3, -2, 5, 1]));
        Assert.Contains("the others 4", Assert.Throws<ArgumentException>(() => new EmbeddingHead(EmbeddingMetric.Cosine, 2, [[1, 0, 0, 1], [1, 0]])).Message);
        // Proxy Anchor's proxies (C, D): class c's vector is row c.
        var proxies = (IClassParameterLoss)LossRegistry.Default.Create("proxy_anchor_loss");
        Assert.Equal([3.0, 4], proxies.ClassVectors([1, 2, 3, 4, 5, 6], 2, 3)[1]);
    }

    [Theory]
    [InlineData("arcface_loss", 1)]
    [InlineData("subcenter_arcface_loss", 3)]
    [InlineData("proxy_anchor_loss", 1)]
    public void A_model_trained_with_class_vectors_predicts_the_class_of_largest_cosine(string loss, int k)
    {
        Dataset wine = Datasets.Load("wine");
        TrainingResult r = Trainer.Train(wine, new TrainingOptions { Loss = loss, Hidden = [16], EmbeddingDimension = 8, Epochs = 10, LearningRate = 0.01, Seed = 5 });
        Assert.Equal((EmbeddingCentres.ClassVectors, k), (r.Model.Embedding!.Source, r.Model.Embedding.CentresPerClass));
        Assert.Contains("largest cosine to the loss's class vectors", r.Model.Describe(), StringComparison.Ordinal);
        // The prediction is argmax over classes of the largest cosine between the embedding and the class's vectors,
        // computed here straight from the trained parameters.
        double[] p = r.Binding.Parameters[0].Value.ToArray(), e = r.Model.Embed(wine);
        double[][] vectors = ((IClassParameterLoss)r.Binding.Loss).ClassVectors(p, 8, 3);
        int[] predicted = r.Model.Embedding.Classify(e);
        for (int i = 0; i < wine.Rows; i++)
        {
            double[] row = e[(i * 8)..((i + 1) * 8)];
            double Cosine(int c) => Enumerable.Range(0, k).Max(s => System.Numerics.Tensors.TensorPrimitives.CosineSimilarity<double>(row, vectors[c].AsSpan(s * 8, 8)));
            int best = Enumerable.Range(0, 3).MaxBy(Cosine);
            Assert.True(best == predicted[i] || Math.Abs(Cosine(best) - Cosine(predicted[i])) < 1e-12, $"row {i}: predicted {predicted[i]}, largest cosine {best}");
        }
        Assert.True(r.Test["accuracy"] >= 0.85, $"{loss}: accuracy {r.Test["accuracy"]}");
    }

    [Theory]
    [InlineData("supcon_loss")]
    [InlineData("triplet_margin_loss")]
    [InlineData("cosine_embedding_loss")]
    [InlineData("nca_loss")]
    [InlineData("n_pairs_loss")]
    public void Iris_trains_to_a_useful_embedding_that_saves_and_loads(string loss)
    {
        Dataset iris = Datasets.Load("iris");
        TrainingResult r = Trainer.Train(iris, new TrainingOptions { Loss = loss, Hidden = [16], EmbeddingDimension = 8, Epochs = 40, LearningRate = 0.01, Seed = 2 });
        Assert.NotNull(r.Model.Embedding);
        Assert.Equal(8, r.Model.Outputs);
        Assert.True(r.Test["accuracy"] >= 0.85, $"{loss}: test accuracy {r.Test["accuracy"]}");
        Assert.True(r.Test["roc_auc"] >= 0.9, $"{loss}: test ROC-AUC {r.Test["roc_auc"]}");
        // Scores rank but are not probabilities: the metrics that read them as probabilities are left out.
        Assert.False(r.Test.ContainsKey("log_loss"));
        Assert.False(r.History[^1].Validation.ContainsKey("ece"));
        Assert.Contains("nearest class centre", r.Model.Describe(), StringComparison.Ordinal);

        string path = Path.Combine(Directory.CreateTempSubdirectory("losslab-embedding").FullName, "model.json");
        r.Model.Save(path);
        Assert.Equal(2, JsonNode.Parse(File.ReadAllText(path))!["version"]!.GetValue<int>());
        Model loaded = Model.Load(path);
        Assert.Equal(r.Model.Predict(iris), loaded.Predict(iris));
        Assert.Equal(r.Model.Embed(iris), loaded.Embed(iris));
        Assert.Equal(iris.Rows * 8, loaded.Embed(iris).Length);
        var ce = new LossBinding(LossRegistry.Default.Get("cross_entropy"), new Dictionary<string, object?>(), TaskKind.Multiclass, 3, null);
        Assert.Throws<InvalidOperationException>(() => Trainer.Evaluate(loaded, ce, loaded.Standardizer.Transform(iris)));
    }

    [Fact]
    public void Plain_models_keep_format_version_1_and_have_no_embedding()
    {
        Dataset iris = Datasets.Load("iris");
        Model model = Trainer.Train(iris, new TrainingOptions { Hidden = [4], Epochs = 2 }).Model;
        Assert.Null(model.Embedding);
        Assert.Equal(1, model.ToJson()["version"]!.GetValue<int>());
        Assert.Throws<InvalidOperationException>(() => model.Embed(iris));
    }

    [Fact]
    public void A_head_that_does_not_fit_the_network_is_a_clear_load_error()
    {
        Dataset iris = Datasets.Load("iris");
        Model model = Trainer.Train(iris, new TrainingOptions { Loss = "circle_loss", Hidden = [4], EmbeddingDimension = 5, Epochs = 2 }).Model;
        JsonObject json = model.ToJson();
        json["embedding"]!["dimension"] = 4;
        json["embedding"]!["centroids"] = new JsonArray(new JsonArray(1, 2, 3, 4));
        string path = Path.Combine(Directory.CreateTempSubdirectory("losslab-embedding").FullName, "bad.json");
        File.WriteAllText(path, json.ToJsonString());
        var e = Assert.Throws<DataFormatException>(() => Model.Load(path));
        Assert.Contains("does not fit the model", e.Message, StringComparison.Ordinal);
        json["version"] = Model.Version + 1;
        File.WriteAllText(path, json.ToJsonString());
        Assert.Contains($"version {Model.Version + 1} is not supported", Assert.Throws<DataFormatException>(() => Model.Load(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_comparison_leaves_out_what_an_arm_does_not_measure()
    {
        Dataset iris = Datasets.Load("iris");
        ComparisonResult result = Comparison.Run(iris, ["cross_entropy", "circle_loss"], [Nn.Activation.ReLU], 1,
            new TrainingOptions { Hidden = [8], Epochs = 3 });
        Assert.True(result.Arms[0].Metrics.ContainsKey("log_loss"));
        Assert.False(result.Arms[1].Metrics.ContainsKey("log_loss"));
        Assert.True(result.Arms[1].VersusFirst.ContainsKey("accuracy"));
        Assert.False(result.Arms[1].VersusFirst.ContainsKey("log_loss"));
    }
}
