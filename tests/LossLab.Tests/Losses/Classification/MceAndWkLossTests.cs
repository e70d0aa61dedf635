using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>dlordinal's MCEAndWKLoss as its two parts: C = 0 the per-class MSE, C = 1 the kappa loss on the outputs as given, and their blend.</summary>
public sealed class MceAndWkLossTests
{
    // Non-negative outputs, so that the weighted kappa loss (which takes probabilities) accepts them as they are.
    private static readonly TensorData Outputs = T.Shaped([0.2, 1.5, 0.3, 0.9, 0.1, 2.0, 1.2, 0.4, 0.7, 0.8, 0.6, 0.05], 3, 4);
    private static readonly TensorData Labels = T.I(1, 3, 0);

    [Fact]
    public void It_blends_the_kappa_loss_on_the_outputs_and_the_per_class_mse_on_their_softmax()
    {
        var weight = T.D(1.5, 0.5, 1, 2);
        foreach (string penalty in new[] { "quadratic", "linear" })
        {
            double kappa = LossRegistry.Default.Create("WKLoss", T.Opt(("penalization_type", penalty), ("weight", weight))).Evaluate(T.In(("input", Outputs), ("target", Labels))).Scalar;
            double mce = LossRegistry.Default.Create("MCELoss", T.Opt(("weight", weight))).Evaluate(T.In(("input", Outputs), ("target", Labels))).Scalar;
            foreach (double c in new[] { 0.0, 0.3, 1.0 })
            {
                LossResult both = LossRegistry.Default.Create("MCEAndWKLoss", T.Opt(("C", c), ("wk_penalization_type", penalty), ("weight", weight))).Evaluate(T.In(("input", Outputs), ("target", Labels)));
                T.Close(c * kappa + (1 - c) * mce, both.Scalar, 1e-15);
            }
        }
    }

    [Fact]
    public void Logits_go_to_the_kappa_term_as_they_are_as_in_dlordinal()
    {
        // The quadratic kappa of logits is that of their squares taken as probabilities (row-normalized either way).
        TensorData logits = T.Shaped([-1.0, 2, 0.5, -0.3, 1, -2], 2, 3);
        TensorData squares = T.Shaped([1.0, 4, 0.25, 0.09, 1, 4], 2, 3);
        double both = LossRegistry.Default.Create("mce_and_wk_loss", T.Opt(("C", 1.0))).Evaluate(T.In(("input", logits), ("target", T.I(0, 2)))).Scalar;
        double kappa = LossRegistry.Default.Create("WKLoss", T.Opt(("penalization_type", "linear"))).Evaluate(T.In(("input", squares), ("target", T.I(0, 2)))).Scalar;
        T.Close(kappa, both, 1e-15);
    }

    [Fact]
    public void Bad_options_and_labels_are_typed_errors()
    {
        Assert.Contains("C must be in [0, 1], got 1.5", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("mce_and_wk_loss", T.Opt(("C", 1.5)))).Message);
        Assert.Contains("target 4 at position 2", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("mce_and_wk_loss").Evaluate(T.In(("input", Outputs), ("target", T.I(0, 1, 4))))).Message);
    }
}
