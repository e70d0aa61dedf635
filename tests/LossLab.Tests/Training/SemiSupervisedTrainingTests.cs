using LossLab.Autograd;
using LossLab.Data;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using LossLab.Training;

namespace LossLab.Tests.Training;

/// <summary>
/// --labeled-fraction keeps a stratified share of the labels; FixMatch learns from the other rows through a weak and a
/// strong view of each, MixMatch through guessed targets and MixUp, and the runs are as reproducible and resumable as
/// any other.
/// </summary>
public sealed class SemiSupervisedTrainingTests
{
    private static readonly Dictionary<string, object?> NoOptions = [];

    [Fact]
    public void The_labeled_share_is_stratified_seeded_and_keeps_every_class()
    {
        Dataset iris = Datasets.Load("iris");   // 50 rows per class
        var (labeled, unlabeled) = SemiSupervisedBatches.Split(iris, 0.1, 7);
        Assert.Equal([5, 5, 5], labeled.GroupBy(i => iris.Targets[i]).OrderBy(g => g.Key).Select(g => g.Count()));
        Assert.Equal(150, labeled.Concat(unlabeled).Distinct().Count());
        Assert.Equal(labeled, SemiSupervisedBatches.Split(iris, 0.1, 7).Labeled);
        Assert.NotEqual(labeled, SemiSupervisedBatches.Split(iris, 0.1, 8).Labeled);
        Assert.Equal(3, SemiSupervisedBatches.Split(iris, 0.001, 7).Labeled.Length);   // at least one per class
        Assert.Throws<ArgumentOutOfRangeException>(() => SemiSupervisedBatches.Split(iris, 0, 7));
        Assert.Throws<ArgumentOutOfRangeException>(() => SemiSupervisedBatches.Split(iris, 1.5, 7));
        var e = Assert.Throws<ArgumentException>(() => SemiSupervisedBatches.Split(Datasets.Load("diabetes"), 0.5, 7));
        Assert.Contains("needs class labels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_epoch_deals_every_unlabeled_row_once_and_the_views_are_reproducible()
    {
        int[][] parts = SemiSupervisedBatches.UnlabeledBatches(103, 4, 1, 2);
        Assert.Equal(4, parts.Length);
        Assert.Equal(Enumerable.Range(0, 103), parts.SelectMany(p => p).Order());
        Assert.All(parts, p => Assert.InRange(p.Length, 25, 26));
        Assert.Equal(parts, SemiSupervisedBatches.UnlabeledBatches(103, 4, 1, 2));
        Assert.NotEqual(parts[0], SemiSupervisedBatches.UnlabeledBatches(103, 4, 1, 3)[0]);

        double[] x = [.. Enumerable.Range(0, 20000).Select(i => (double)(i % 7) - 3)];
        double[] weak = SemiSupervisedBatches.Weak(x, 1, 2, 3), strong = SemiSupervisedBatches.Strong(x, 1, 2, 3);
        Assert.Equal(weak, SemiSupervisedBatches.Weak(x, 1, 2, 3));
        Assert.Equal(strong, SemiSupervisedBatches.Strong(x, 1, 2, 3));
        double[] noise = [.. weak.Select((v, i) => v - x[i])];
        Assert.InRange(Math.Sqrt(noise.Average(d => d * d)), 0.095, 0.105);
        Assert.InRange(strong.Count(v => v == 0) / (double)x.Length, 0.28, 0.32);   // hidden values; noise never lands on 0
    }

    [Fact]
    public void Alone_fixmatch_is_cross_entropy_and_with_views_it_is_the_catalog_loss()
    {
        var binding = new LossBinding(LossRegistry.Default.Get("fixmatch_loss"), new Dictionary<string, object?> { ["confidence_threshold"] = 0.5 }, TaskKind.Multiclass, 3, null);
        var ce = new LossBinding(LossRegistry.Default.Get("cross_entropy"), NoOptions, TaskKind.Multiclass, 3, null);
        var r = new Random(4);
        Tensor Logits(int rows) => Tensor.FromArray([.. Enumerable.Range(0, rows * 3).Select(_ => r.NextDouble() * 6 - 3)], [rows, 3], DType.Float64);
        Tensor labeled = Logits(6), weak = Logits(5), strong = Logits(5);
        double[] labels = [0, 1, 2, 2, 1, 0];
        Assert.Equal(ce.Compute(labeled, labels).Item(), binding.Compute(labeled, labels).Item(), 12);
        double direct = LossRegistry.Default.Get("fixmatch_loss").Create(new Dictionary<string, object?> { ["confidence_threshold"] = 0.5 }).Apply(new Dictionary<string, Tensor>
        {
            ["labeled_logits"] = labeled,
            ["labeled_labels"] = Tensor.FromData(TensorData.FromArray(new long[] { 0, 1, 2, 2, 1, 0 }, 6)),
            ["unlabeled_weak_logits"] = weak,
            ["unlabeled_strong_logits"] = strong,
        }).Item();
        Assert.Equal(direct, binding.ComputeSemiSupervised(labeled, labels, weak, strong).Item(), 12);
        Assert.True(direct > ce.Compute(labeled, labels).Item());   // some weak rows pass τ = 0.5
    }

    [Fact]
    public void Fixmatch_trains_on_a_tenth_of_the_labels_reproducibly_and_resumes_exactly()
    {
        Dataset digits = Datasets.Load("digits");
        var options = new TrainingOptions { Loss = "fixmatch_loss", LabeledFraction = 0.1, Hidden = [32], Epochs = 6, LearningRate = 0.003, Seed = 3 };
        TrainingResult first = Trainer.Train(digits, options);
        Assert.True(first.Test["accuracy"] >= 0.5, $"accuracy {first.Test["accuracy"]}");   // 10 classes, about 130 labels, 6 epochs
        double[][] Weights(TrainingResult t) => [.. t.Model.Network.Parameters.Select(p => p.Value.ToArray())];
        Assert.Equal(Weights(first), Weights(Trainer.Train(digits, options)));

        string ck = Path.Combine(Directory.CreateTempSubdirectory("losslab-fixmatch").FullName, "ck.json");
        using var cts = new CancellationTokenSource();
        var stop = new EpochProgress(e => { if (e.Epoch == 3) cts.Cancel(); });
        Assert.Equal("cancelled", Trainer.Train(digits, options with { CheckpointPath = ck }, progress: stop, cancel: cts.Token).StopReason);
        TrainingResult resumed = Trainer.Train(digits, options with { CheckpointPath = ck, Resume = true });
        Assert.Equal(Weights(first), Weights(resumed));

        // The supervised baseline trains on the same tenth alone.
        Assert.NotEqual(Weights(first), Weights(Trainer.Train(digits, options with { Loss = "cross_entropy" })));
    }

    [Fact]
    public void Sharpening_and_mixup_keep_distributions_and_mix_each_row_mostly_with_itself()
    {
        double[] q = SemiSupervisedBatches.Sharpen([0.6, 0.4, 0.25, 0.75], 2);
        Assert.Equal(0.36 / 0.52, q[0], 12);
        Assert.Equal(0.0625 / 0.625, q[2], 12);
        // 3 labeled rows, 2 unlabeled rows in two views; 2 features, 3 classes.
        double[] lx = [1, 1, 2, 2, 3, 3], lp = [1, 0, 0, 0, 1, 0, 0, 0, 1];
        double[] v1 = [4, 4, 5, 5], v2 = [6, 6, 7, 7], guessed = [0.2, 0.3, 0.5, 0.6, 0.2, 0.2];
        var (mx, mp, ux, uq) = SemiSupervisedBatches.MixUp(lx, lp, v1, v2, guessed, 2, 3, 1, 2, 3);
        Assert.Equal((6, 9, 8, 12), (mx.Length, mp.Length, ux.Length, uq.Length));
        for (int r = 0; r < 3; r++) Assert.Equal(1, mp[(r * 3)..(r * 3 + 3)].Sum(), 12);
        for (int r = 0; r < 4; r++) Assert.Equal(1, uq[(r * 3)..(r * 3 + 3)].Sum(), 12);
        // λ' ≥ ½: a labeled row keeps at least half of its own one-hot class, and both features move together.
        for (int r = 0; r < 3; r++) Assert.True(mp[r * 3 + r] >= 0.5 - 1e-12, $"row {r}: {mp[r * 3 + r]}");
        Assert.All(Enumerable.Range(0, 3), r => Assert.Equal(mx[2 * r], mx[2 * r + 1], 12));
        Assert.Equal(mx, SemiSupervisedBatches.MixUp(lx, lp, v1, v2, guessed, 2, 3, 1, 2, 3).LabeledX);
    }

    [Fact]
    public void Mixmatch_trains_on_a_tenth_of_the_labels_reproducibly_and_resumes_exactly()
    {
        Dataset digits = Datasets.Load("digits");
        var options = new TrainingOptions
        {
            Loss = "mixmatch_loss", LossOptions = new Dictionary<string, object?> { ["lambda_u"] = 3.0 }, LabeledFraction = 0.1, Hidden = [32], Epochs = 6, LearningRate = 0.003, Seed = 3,
        };
        TrainingResult first = Trainer.Train(digits, options);
        Assert.True(first.Test["accuracy"] >= 0.4, $"accuracy {first.Test["accuracy"]}");   // 10 classes, 6 epochs, λ_u ramping up
        double[][] Weights(TrainingResult t) => [.. t.Model.Network.Parameters.Select(p => p.Value.ToArray())];
        Assert.Equal(Weights(first), Weights(Trainer.Train(digits, options)));
        string ck = Path.Combine(Directory.CreateTempSubdirectory("losslab-mixmatch").FullName, "ck.json");
        using var cts = new CancellationTokenSource();
        var stop = new EpochProgress(e => { if (e.Epoch == 2) cts.Cancel(); });
        Assert.Equal("cancelled", Trainer.Train(digits, options with { CheckpointPath = ck }, progress: stop, cancel: cts.Token).StopReason);
        Assert.Equal(Weights(first), Weights(Trainer.Train(digits, options with { CheckpointPath = ck, Resume = true })));
    }

    [Fact]
    public void Semi_supervised_losses_need_unlabeled_rows()
    {
        Dataset iris = Datasets.Load("iris");
        var e = Assert.Throws<LossArgumentException>(() => Trainer.Train(iris, new TrainingOptions { Loss = "fixmatch_loss", Epochs = 1 }));
        Assert.Contains("--labeled-fraction", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<LossArgumentException>(() => Trainer.Train(iris, new TrainingOptions { Loss = "mixmatch_loss", Epochs = 1 }));
        Assert.Contains("--labeled-fraction", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<LossArgumentException>(() => Comparison.Run(iris, ["cross_entropy", "fixmatch_loss"], [Nn.Activation.ReLU], 1, new TrainingOptions { Epochs = 1 }));
        Assert.Contains("--labeled-fraction", e.Message, StringComparison.Ordinal);
    }
}
