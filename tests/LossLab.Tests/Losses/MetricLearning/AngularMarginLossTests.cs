using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.MetricLearning;

/// <summary>
/// ArcFace, sub-center ArcFace, CosFace and the normalized softmax: by hand on a row whose cosines are exact, the
/// normalized softmax the margin losses become at margin 0, sub-centres that reduce to one centre, pytorch-metric-learning's
/// branch past θ = π − m, and errors. The torch references are in torch_diff.
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
    public void The_normalized_softmax_is_cosface_without_margin_at_scale_one_over_t()
    {
        LossResult row = LossRegistry.Default.Create("normalized_softmax_loss", T.Opt(("temperature", 0.25))).Evaluate(Row(1));
        T.Close(Ce([4 * 0.6, 4 * 0.8, 4 * -0.6], 1), row.Scalar, 1e-15);
        var rng = new Random(8);
        LossInputs inputs = T.In(("embeddings", T.Shaped(LossSamples.Normal(rng, 15), 5, 3)), ("labels", T.I(0, 1, 3, 2, 1)), ("W", T.Shaped(LossSamples.Normal(rng, 12), 3, 4)));
        LossResult norm = LossRegistry.Default.Create("normalized_softmax_loss", T.Opt(("temperature", 0.05))).Evaluate(inputs);
        LossResult cos = LossRegistry.Default.Create("cosface", T.Opt(("margin", 0.0), ("scale", 20.0))).Evaluate(inputs);
        T.Close(cos.Scalar, norm.Scalar, 1e-14);
        T.Close(T.Values(cos.Gradient("W")), norm.Gradient("W"), 1e-12, 1e-15);
    }

    [Fact]
    public void Sub_centres_take_each_class_nearest_one_and_train_only_it()
    {
        // K = 2: class j's sub-centres are columns 2j and 2j + 1. Classes 0 and 2 have a far decoy second (cosine −1 to
        // the embedding); class 1's second is the nearer one: its cosine 0.8 beats the first's −0.8.
        // Columns: (1, 0), (−3, −4) | (0, −1), (0, 2) | (−1, 0), (−0.6, −0.8) → cosines 0.6, −1 | −0.8, 0.8 | −0.6, −1.
        LossInputs inputs = T.In(("embeddings", T.Shaped([3.0, 4], 1, 2)), ("labels", T.I(0)),
            ("W", T.Shaped([1.0, -3, 0, 0, -1, -0.6, 0, -4, -1, 2, 0, -0.8], 2, 6)));
        double m = Math.PI / 6, s = 2;
        LossResult sub = LossRegistry.Default.Create("subcenter_arcface_loss", T.Opt(("margin", 30.0), ("scale", s), ("sub_centers", 2L))).Evaluate(inputs);
        T.Close(Ce([s * (0.6 * Math.Cos(m) - 0.8 * Math.Sin(m)), s * 0.8, s * -0.6], 0), sub.Scalar, 1e-15);
        // Only the winning sub-centres (columns 0, 3, 4) get a gradient.
        double[] gw = T.Values(sub.Gradient("W"));
        for (int col = 0; col < 6; col++)
        {
            bool winner = col is 0 or 3 or 4;
            Assert.True(winner == (gw[col] != 0 || gw[6 + col] != 0), $"column {col}: gradient ({gw[col]}, {gw[6 + col]})");
        }
        // K copies of one centre per class: exactly ArcFace on the single centres, and W's gradient is shared by the first copy.
        var rng = new Random(3);
        double[] w = LossSamples.Normal(rng, 12), e = LossSamples.Normal(rng, 15);
        double[] tripled = new double[36];
        for (int d = 0; d < 3; d++) for (int j = 0; j < 4; j++) for (int k = 0; k < 3; k++) tripled[d * 12 + j * 3 + k] = w[d * 4 + j];
        LossInputs single = T.In(("embeddings", T.Shaped(e, 5, 3)), ("labels", T.I(0, 1, 3, 2, 1)), ("W", T.Shaped(w, 3, 4)));
        LossInputs copies = T.In(("embeddings", T.Shaped(e, 5, 3)), ("labels", T.I(0, 1, 3, 2, 1)), ("W", T.Shaped(tripled, 3, 12)));
        LossResult arc = LossRegistry.Default.Create("arcface").Evaluate(single);
        LossResult three = LossRegistry.Default.Create("subcenter_arcface_loss").Evaluate(copies);
        T.Close(arc.Scalar, three.Scalar, 1e-14);
        T.Close(T.Values(arc.Gradient("embeddings")), three.Gradient("embeddings"), 1e-12, 1e-15);
    }

    [Fact]
    public void Shapes_and_labels_are_checked()
    {
        var shape = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("arcface").Evaluate(T.In(("embeddings", T.Shaped([3.0, 4], 1, 2)), ("labels", T.I(0)), ("W", T.Shaped([1.0, 0, 0], 3, 1)))));
        Assert.Contains("'W' has shape (3, 1); expected (D, C) = (2, C)", shape.Message);
        var label = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("cosface").Evaluate(Row(3)));
        Assert.Contains("label 3 at row 0 is not a class of W's 3 columns", label.Message);
        var columns = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("subcenter_arcface_loss", T.Opt(("sub_centers", 2L))).Evaluate(Row(0)));
        Assert.Contains("its 3 columns are not C classes × 2 sub-centres", columns.Message);
        var subLabel = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("subcenter_arcface_loss", T.Opt(("sub_centers", 1L))).Evaluate(Row(3)));
        Assert.Contains("label 3 at row 0 is not a class of W's 3 columns", subLabel.Message);
        Assert.Contains("sub_centers must be at least 1, got 0", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("subcenter_arcface_loss", T.Opt(("sub_centers", 0L)))).Message);
        Assert.Contains("temperature must be a finite number > 0", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("normalized_softmax_loss", T.Opt(("temperature", 0.0)))).Message);
        Assert.Contains("CosFaceLoss: scale must be", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("cosface", T.Opt(("scale", 0.0)))).Message);
    }
}
