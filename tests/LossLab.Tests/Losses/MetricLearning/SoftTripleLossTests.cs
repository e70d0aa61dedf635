using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.MetricLearning;

/// <summary>
/// SoftTriple by hand: one centre per class is CosFace (margin δ, scale λ), the regularizer over a class's centre pairs,
/// and how the reductions add it. The torch reference (pytorch-metric-learning's code written out) is in torch_diff.
/// </summary>
public sealed class SoftTripleLossTests
{
    private static readonly double[] E = [1, 2, -0.5, 0.3, 2, -1, 0.1, 0.7];   // (4, 2)
    private static readonly long[] Y = [1, 0, 2, 1];

    [Fact]
    public void With_one_centre_per_class_it_is_cosface_with_margin_delta_and_scale_lambda()
    {
        double[] w = [0.5, -1, 2, 1.5, 0.2, -0.4];   // (D = 2, C = 3)
        LossResult soft = LossRegistry.Default.Create("soft_triple_loss", T.Opt(("centers_per_class", 1L), ("la", 7.0), ("margin", 0.2)))
            .Evaluate(T.In(("embeddings", T.Shaped(E, 4, 2)), ("labels", T.I(Y)), ("fc", T.Shaped(w, 2, 3))));
        LossResult cos = LossRegistry.Default.Create("cosface_loss", T.Opt(("scale", 7.0), ("margin", 0.2)))
            .Evaluate(T.In(("embeddings", T.Shaped(E, 4, 2)), ("labels", T.I(Y)), ("W", T.Shaped(w, 2, 3))));
        T.Close(cos.Scalar, soft.Scalar, 1e-14, 0);
        T.Close(T.Values(cos.Gradient("embeddings")), soft.Gradient("embeddings"), 1e-13, 1e-15);
        T.Close(T.Values(cos.Gradient("W")), soft.Gradient("fc"), 1e-13, 1e-15);
    }

    [Fact]
    public void The_regularizer_is_the_mean_distance_of_a_classs_centre_pairs_added_once()
    {
        // One class, K = 2 orthogonal centres: distance √2 over 2·1 pair, times reg_weight 0.5. All rows of class 0:
        // S = the softmax-weighted cosine, and with one class the cross-entropy is 0.
        double[] fc = [1, 0, 0, 3];   // (D = 2, K = 2): centres (1, 0) and (0, 3)
        var inputs = T.In(("embeddings", T.Shaped(E, 4, 2)), ("labels", T.I(0, 0, 0, 0)), ("fc", T.Shaped(fc, 2, 2)));
        double reg = 0.5 * Math.Sqrt(2) / 2;
        double Value(string reduction) => LossRegistry.Default.Create("soft_triple_loss", T.Opt(("centers_per_class", 2L), ("reg_weight", 0.5), ("reduction", reduction))).Evaluate(inputs).Scalar;
        T.Close(reg, Value("mean"), 1e-15, 0);
        T.Close(reg, Value("sum"), 1e-15, 0);
        LossResult none = LossRegistry.Default.Create("soft_triple_loss", T.Opt(("centers_per_class", 2L), ("reg_weight", 0.5), ("reduction", "none"))).Evaluate(inputs);
        T.Close([reg / 4, reg / 4, reg / 4, reg / 4], none.Value, 1e-15, 0);

        // Two identical centres: the regularizer's slope is 1/√tiny, huge but finite (pytorch-metric-learning's small_val).
        LossResult same = LossRegistry.Default.Create("soft_triple_loss", T.Opt(("centers_per_class", 2L)))
            .Evaluate(T.In(("embeddings", T.Shaped(E, 4, 2)), ("labels", T.I(0, 0, 0, 0)), ("fc", T.Shaped(new double[] { 1, 1, 0, 0 }, 2, 2))));
        Assert.All(T.Values(same.Gradient("fc")), g => Assert.True(double.IsFinite(g)));
        Assert.Contains("'fc' has shape (2, 3); expected (D, C·K) = (2, C·2)", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("soft_triple_loss", T.Opt(("centers_per_class", 2L)))
            .Evaluate(T.In(("embeddings", T.Shaped(E, 4, 2)), ("labels", T.I(0, 0, 0, 0)), ("fc", T.Shaped(new double[6], 2, 3))))).Message);
    }
}
