using LossLab.Data;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using LossLab.Training;

namespace LossLab.Tests.Losses.Classification;

/// <summary>
/// The logit-adjusted loss (Menon et al., 2021): golden values from mpmath at 40 digits, cross-entropy as its
/// uniform-prior and τ = 0 cases, the (N, C, d) layout, errors, and the training priors.
/// </summary>
public sealed class LogitAdjustedLossTests
{
    private static readonly TensorData Priors = T.D(0.5, 0.3, 0.2);

    [Fact]
    public void It_is_cross_entropy_of_the_shifted_logits()
    {
        // x = (1, 2, 0.5), π = (0.5, 0.3, 0.2): −log softmax(x + log π)_0 and the softmax there.
        LossResult r = LossRegistry.Default.Create("logit_adjusted_loss", T.Opt(("priors", Priors))).Evaluate(T.In(("input", T.D(1, 2, 0.5)), ("target", T.I(0).Reshape(Shape.Scalar))));
        T.Close(1.0555591128019792, r.Scalar, 1e-15);
        T.Close([0.34799780287611376 - 1, 0.56757366234108774, 0.084428534782798496], r.Gradient("input"), 1e-14);
        // τ = 2 doubles the shift: class 2, −log softmax(x + 2 log π)_2.
        LossResult strong = LossRegistry.Default.Create("logit_adjusted_loss", T.Opt(("priors", Priors), ("tau", 2.0))).Evaluate(T.In(("input", T.D(1, 2, 0.5)), ("target", T.I(2).Reshape(Shape.Scalar))));
        T.Close(3.0628444339517241, strong.Scalar, 1e-15);
    }

    [Fact]
    public void Uniform_priors_or_no_adjustment_give_cross_entropy_in_every_layout()
    {
        var rng = new Random(2);
        LossInputs flat = T.In(("input", T.Shaped(LossSamples.Normal(rng, 12, 2), 4, 3)), ("target", T.I(0, 2, 1, 2)));
        LossInputs spatial = T.In(("input", T.Shaped(LossSamples.Normal(rng, 24, 2), 2, 3, 4)), ("target", T.Shaped(new long[] { 0, 1, 2, 0, 2, 2, 1, 0 }, 2, 4)));
        foreach (LossInputs inputs in new[] { flat, spatial })
        {
            LossResult ce = LossRegistry.Default.Create("cross_entropy").Evaluate(inputs);
            foreach (var options in new[] { T.Opt(), T.Opt(("priors", T.D(2, 2, 2))), T.Opt(("priors", Priors), ("tau", 0.0)) })
            {
                LossResult la = LossRegistry.Default.Create("logit_adjusted_loss", options).Evaluate(inputs);
                T.Close(ce.Scalar, la.Scalar, 1e-14);
                T.Close(T.Values(ce.Gradient("input")), la.Gradient("input"), 1e-14, 1e-16);
            }
        }
        // With priors on (N, C, d): the prior of class c shifts channel c of every position.
        var shiftedInput = T.Values(spatial["input"]).Select((v, i) => v + Math.Log(new[] { 0.5, 0.3, 0.2 }[i / 4 % 3])).ToArray();
        LossResult byHand = LossRegistry.Default.Create("cross_entropy").Evaluate(T.In(("input", T.Shaped(shiftedInput, 2, 3, 4)), ("target", spatial["target"])));
        T.Close(byHand.Scalar, LossRegistry.Default.Create("logit_adjusted_loss", T.Opt(("priors", Priors))).Evaluate(spatial).Scalar, 1e-14);
    }

    [Fact]
    public void Bad_priors_and_probability_targets_are_errors_naming_the_loss()
    {
        Assert.Contains("prior 0 of class 1", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("la_loss", T.Opt(("priors", T.D(1, 0, 1))))).Message);
        var count = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("la_loss", T.Opt(("priors", T.D(1, 1)))).Evaluate(T.In(("input", T.Shaped(new double[6], 2, 3)), ("target", T.I(0, 1)))));
        Assert.Contains("priors has 2 values but 'input' (2, 3) has 3 classes", count.Message);
        var range = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("la_loss", T.Opt(("priors", Priors))).Evaluate(T.In(("input", T.Shaped(new double[6], 2, 3)), ("target", T.I(0, 3)))));
        Assert.StartsWith("LogitAdjustedLoss: ", range.Message);
        Assert.Contains("out of range", range.Message);
        var soft = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("la_loss").Evaluate(T.In(("input", T.Shaped(new double[6], 2, 3)), ("target", T.Shaped(new double[6], 2, 3)))));
        Assert.Contains("takes class indices", soft.Message);
    }

    [Fact]
    public void Training_takes_the_priors_from_the_training_split()
    {
        Dataset iris = Datasets.Load("iris");
        var descriptor = LossRegistry.Default.Get("logit_adjusted_loss");
        var options = TaskFit.WithDataOptions(descriptor, new Dictionary<string, object?>(), iris);
        Assert.Equal([50.0, 50, 50], T.Values((TensorData)options["priors"]!));
        // A user's priors win; other losses get nothing added.
        var own = new Dictionary<string, object?> { ["priors"] = Priors };
        Assert.Same(Priors, TaskFit.WithDataOptions(descriptor, own, iris)["priors"]);
        Assert.False(TaskFit.WithDataOptions(LossRegistry.Default.Get("cross_entropy"), new Dictionary<string, object?>(), iris).ContainsKey("priors"));
        // Iris's stratified training split is balanced: uniform priors, so training is cross-entropy's, epoch for epoch.
        TrainingResult la = Trainer.Train(iris, new TrainingOptions { Loss = "logit_adjusted_loss", Epochs = 10, Seed = 1 });
        TrainingResult ce = Trainer.Train(iris, new TrainingOptions { Loss = "cross_entropy", Epochs = 10, Seed = 1 });
        T.Close([.. ce.History.Select(h => h.TrainLoss)], T.D([.. la.History.Select(h => h.TrainLoss)]), 1e-6);
    }
}
