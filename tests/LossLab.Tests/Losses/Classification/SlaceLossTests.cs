using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>SLACE: a value by hand, monotonicity (mass moved toward the true class never raises it), and errors.</summary>
public sealed class SlaceLossTests
{
    [Fact]
    public void A_row_by_hand()
    {
        // K = 3, y = 1, α = 1: q ∝ (e^−1, 1, e^−1); A_1 = p_1, A_0 = A_2 = 1 (every class is at least as close as 0 or 2).
        TensorData p = T.Shaped([0.2, 0.5, 0.3], 1, 3);
        LossResult r = LossRegistry.Default.Create("SLACELoss", T.Opt(("use_logits", false))).Evaluate(T.In(("input", p), ("target", T.I(1))));
        double z = 1 + 2 / Math.E;
        double expected = -(2 / Math.E / z * Math.Log(1 + 1e-9) + 1 / z * Math.Log(0.5 + 1e-9));
        T.Close(expected, r.Scalar, 1e-15);
    }

    [Fact]
    public void Moving_mass_toward_the_true_class_never_raises_the_loss()
    {
        // y = 0 among 5 classes: shift mass from class 4 to 3, then to 1; each step is closer and must not cost more.
        ILoss loss = LossRegistry.Default.Create("slace_loss", T.Opt(("use_logits", false), ("alpha", 2.0)));
        double[][] steps = [[0.2, 0.2, 0.2, 0.1, 0.3], [0.2, 0.2, 0.2, 0.3, 0.1], [0.2, 0.4, 0.2, 0.1, 0.1], [0.6, 0.2, 0.1, 0.05, 0.05]];
        double previous = double.PositiveInfinity;
        foreach (double[] step in steps)
        {
            double v = loss.Evaluate(T.In(("input", T.Shaped(step, 1, 5)), ("target", T.I(0)))).Scalar;
            Assert.True(v <= previous, $"{string.Join(", ", step)}: {v} > {previous}");
            previous = v;
        }
    }

    [Fact]
    public void Bad_labels_and_negative_probabilities_are_typed_errors()
    {
        Assert.Contains("target 3 at position 0", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("slace_loss").Evaluate(T.In(("input", T.Shaped([0.0, 1, 2], 1, 3)), ("target", T.I(3))))).Message);
        Assert.Contains("with use_logits false it takes probabilities", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("slace_loss", T.Opt(("use_logits", false))).Evaluate(T.In(("input", T.Shaped([-0.1, 0.6, 0.5], 1, 3)), ("target", T.I(1))))).Message);
    }
}
