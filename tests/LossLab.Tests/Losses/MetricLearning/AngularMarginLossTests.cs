using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.MetricLearning;

/// <summary>
/// ArcFace and CosFace: by hand on a row whose cosines are exact, the normalized softmax both become at margin 0,
/// pytorch-metric-learning's branch past θ = π − m, and errors. The torch reference is in torch_diff.
/// </summary>
public sealed class AngularMarginLossTests
{
    // One embedding (3, 4) → ê = (0.6, 0.8); W's columns (1, 0), (0, 2), (−1, 0) → cosines 0.6, 0.8, −0.6.
    private static LossInputs Row(long label) => T.In(("embeddings", T.Shaped([3.0, 4], 1, 2)), ("labels", T.I(label)), ("W", T.Shaped([1.0, 0, -1, 0, 2, 0], 2, 3)));

    private static double Ce(double[] logits, int y) => Math.Log(logits.Sum(Math.Exp)) - logits[y];

    [Fact]
    public void Both_margins_on_a_row_of_exact_cosines()
    {
        const double s = 2;
        LossResult cos = LossRegistry.Default.Create("cosface", T.Opt(("margin", 0.35), ("scale", s))).Evaluate(Row(0));
        T.Close(Ce([s * (0.6 - 0.35), s * 0.8, s * -0.6], 0), cos.Scalar, 1e-15);
        // ArcFace, m = 30°: cos(θ + m) = 0.6·cos m − 0.8·sin m.
        double m = Math.PI / 6;
        LossResult arc = LossRegistry.Default.Create("arcface", T.Opt(("margin", 30.0), ("scale", s))).Evaluate(Row(0));
        T.Close(Ce([s * (0.6 * Math.Cos(m) - 0.8 * Math.Sin(m)), s * 0.8, s * -0.6], 0), arc.Scalar, 1e-15);
        // Label 2 has cosine −0.6 and θ = 126.87° > 180° − 60°: past the branch, c − m·sin m.
        double big = Math.PI / 3;
        LossResult past = LossRegistry.Default.Create("arcface", T.Opt(("margin", 60.0), ("scale", s))).Evaluate(Row(2));
        T.Close(Ce([s * 0.6, s * 0.8, s * (-0.6 - big * Math.Sin(big))], 2), past.Scalar, 1e-15);
    }

    [Fact]
    public void At_margin_zero_both_are_the_normalized_softmax()
    {
        var rng = new Random(6);
        LossInputs inputs = T.In(("embeddings", T.Shaped(LossSamples.Normal(rng, 15), 5, 3)), ("labels", T.I(0, 1, 3, 2, 1)), ("W", T.Shaped(LossSamples.Normal(rng, 12), 3, 4)));
        LossResult arc = LossRegistry.Default.Create("arcface", T.Opt(("margin", 0.0), ("scale", 10.0))).Evaluate(inputs);
        LossResult cos = LossRegistry.Default.Create("cosface", T.Opt(("margin", 0.0), ("scale", 10.0))).Evaluate(inputs);
        T.Close(cos.Scalar, arc.Scalar, 1e-14);
        T.Close(T.Values(cos.Gradient("embeddings")), arc.Gradient("embeddings"), 1e-12, 1e-15);
        T.Close(T.Values(cos.Gradient("W")), arc.Gradient("W"), 1e-12, 1e-15);
    }

    [Fact]
    public void Shapes_and_labels_are_checked()
    {
        var shape = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("arcface").Evaluate(T.In(("embeddings", T.Shaped([3.0, 4], 1, 2)), ("labels", T.I(0)), ("W", T.Shaped([1.0, 0, 0], 3, 1)))));
        Assert.Contains("'W' has shape (3, 1); expected (D, C) = (2, C)", shape.Message);
        var label = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("cosface").Evaluate(Row(3)));
        Assert.Contains("label 3 at row 0 is not a class of W's 3 columns", label.Message);
        Assert.Contains("CosFaceLoss: scale must be", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("cosface", T.Opt(("scale", 0.0)))).Message);
    }
}
