using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

public sealed class CrossEntropyTests
{
    private static LossInputs Idx(TensorData x, params long[] t) => T.In(("input", x), ("target", T.I(t)));

    [Fact]
    public void Uniform_logits_give_log_C_and_softmax_minus_onehot()
    {
        var r = new CrossEntropy().Evaluate(Idx(T.D2(new double[,] { { 0, 0, 0 } }), 0));
        T.Close(Math.Log(3), r.Scalar, rel: 1e-15);
        T.Close([1.0 / 3 - 1, 1.0 / 3, 1.0 / 3], r.Gradient("input"), rel: 1e-15);
    }

    [Fact]
    public void Label_smoothing_on_uniform_logits_still_gives_log_C()
    {
        // With uniform p every log p_c = −ln C, so (1 − ε)ln C + ε ln C = ln C; grad p − (1 − ε)onehot − ε/C.
        var r = new CrossEntropy(new() { LabelSmoothing = 0.3 }).Evaluate(Idx(T.D2(new double[,] { { 0, 0, 0, 0 } }), 2));
        T.Close(Math.Log(4), r.Scalar, rel: 1e-15);
        T.Close([0.25 - 0.075, 0.25 - 0.075, 0.25 - 0.7 - 0.075, 0.25 - 0.075], r.Gradient("input"), rel: 1e-14);
    }

    [Fact]
    public void Weighted_mean_divides_by_the_weights_of_the_targets()
    {
        // Two rows of zeros, targets [0, 1], w = [1, 3]: (1·ln 2 + 3·ln 2)/(1 + 3) = ln 2 (pytorch#61309 semantics).
        var r = new CrossEntropy(new() { Weight = T.D(1, 3) }).Evaluate(Idx(T.D2(new double[,] { { 0, 0 }, { 0, 0 } }), 0, 1));
        T.Close(Math.Log(2), r.Scalar, rel: 1e-15);
    }

    [Fact]
    public void All_targets_ignored_gives_NaN_mean_zero_sum_and_zero_gradients()
    {
        var x = T.D2(new double[,] { { 1, 2 }, { 3, 4 } });
        var mean = new CrossEntropy(new() { LabelSmoothing = 0.1 }).Evaluate(Idx(x, -100, -100));
        Assert.True(double.IsNaN(mean.Scalar));
        Assert.All(T.Values(mean.Gradient("input")), g => Assert.Equal(0.0, g));
        Assert.Equal(0, new CrossEntropy(new() { Reduction = Reduction.Sum }).Evaluate(Idx(x, -100, -100)).Scalar);
    }

    [Fact]
    public void Ignored_rows_are_skipped_and_not_counted()
    {
        var x = T.D2(new double[,] { { 0, 0 }, { 5, -5 } });
        var r = new CrossEntropy(new() { IgnoreIndex = 1 }).Evaluate(Idx(x, 0, 1));
        T.Close(Math.Log(2), r.Scalar, rel: 1e-15);
        T.Close([-0.5, 0.5, 0, 0], r.Gradient("input"), rel: 1e-15);
    }

    [Fact]
    public void One_hot_probabilities_equal_indices_without_weights_but_not_with_them()
    {
        var x = T.D2(new double[,] { { 1, 2, 0.5 }, { -1, 0, 3 } });
        var onehot = T.D2(new double[,] { { 0, 1, 0 }, { 1, 0, 0 } });
        double byIndex = new CrossEntropy().Evaluate(Idx(x, 1, 0)).Scalar;
        double byProb = new CrossEntropy().Evaluate(T.In(("input", x), ("target", onehot))).Scalar;
        T.Close(byIndex, byProb, rel: 1e-14);
        // With weights the probability form divides by N, the index form by Σ w_y (pytorch#107680).
        var w = T.D(1, 3, 1);
        double wIndex = new CrossEntropy(new() { Weight = w }).Evaluate(Idx(x, 1, 0)).Scalar;
        double wProb = new CrossEntropy(new() { Weight = w }).Evaluate(T.In(("input", x), ("target", onehot))).Scalar;
        T.Close(wIndex * (3 + 1) / 2.0, wProb, rel: 1e-14);
    }

    [Fact]
    public void K_dimensional_inputs_match_the_flattened_rows()
    {
        // input (1, 2, 3): class dim 1, three positions; target (1, 3).
        var x = T.Shaped(new double[] { 1, 2, 3, 4, 5, 6 }, 1, 2, 3);
        var r = new CrossEntropy(new() { Reduction = Reduction.None }).Evaluate(T.In(("input", x), ("target", T.Shaped(new long[] { 0, 1, 0 }, 1, 3))));
        Assert.Equal(new Shape(1, 3), r.Value.Shape);
        double Row(double a, double b, int t) => Math.Log(Math.Exp(a) + Math.Exp(b)) - (t == 0 ? a : b);
        T.Close([Row(1, 4, 0), Row(2, 5, 1), Row(3, 6, 0)], r.Value, rel: 1e-14);
    }

    [Fact]
    public void Bad_targets_are_typed_errors_naming_the_position_and_range()
    {
        var x = T.D2(new double[,] { { 0, 0, 0 }, { 0, 0, 0 } });
        var range = Assert.Throws<LossArgumentException>(() => new CrossEntropy().Evaluate(Idx(x, 0, 3)));
        Assert.Equal(LossErrorCode.InvalidValue, range.Code);
        Assert.Contains("target 3 at position 1", range.Message);
        Assert.Contains("[0, 2]", range.Message);
        var shape = Assert.Throws<LossArgumentException>(() => new CrossEntropy().Evaluate(Idx(x, 0, 1, 2)));
        Assert.Equal(LossErrorCode.InvalidShape, shape.Code);
        var weight = Assert.Throws<LossArgumentException>(() => new CrossEntropy(new() { Weight = T.D(1, 2) }).Evaluate(Idx(x, 0, 1)));
        Assert.Contains("(3,)", weight.Message);
        Assert.Throws<LossArgumentException>(() => new CrossEntropy(new() { LabelSmoothing = 1.5 }));
        var ignore = Assert.Throws<LossArgumentException>(() => new CrossEntropy(new() { IgnoreIndex = 0 }).Evaluate(T.In(("input", x), ("target", x))));
        Assert.Contains("ignore_index", ignore.Message);
        var fractional = Assert.Throws<LossArgumentException>(() => new CrossEntropy().Evaluate(T.In(("input", x), ("target", T.D(0, 1.5)))));
        Assert.Contains("integer class indices", fractional.Message);
    }

    [Fact]
    public void Gradient_rows_sum_to_zero_and_logit_shift_leaves_the_loss_unchanged()
    {
        var x = T.D2(new double[,] { { 1, 2, 3 }, { -1, 0.5, 2 } });
        var shifted = T.D2(new double[,] { { 101, 102, 103 }, { -1, 0.5, 2 } });
        var loss = new CrossEntropy(new() { LabelSmoothing = 0.2, Weight = T.D(1, 2, 0.5) });
        var r = loss.Evaluate(Idx(x, 2, 0));
        T.Close(r.Scalar, loss.Evaluate(Idx(shifted, 2, 0)).Scalar, rel: 1e-13);
        var g = T.Values(r.Gradient("input"));
        // Σ_j ∂ℓ/∂x_j = (1−ε)w_y(1 − 1) + (ε/C)(W − W) = 0 for each row.
        T.Close(0, g[0] + g[1] + g[2], abs: 1e-14);
        T.Close(0, g[3] + g[4] + g[5], abs: 1e-14);
    }

    [Theory]
    [InlineData("cross_entropy", "input", "target", "CrossEntropy: 'target' must hold integer class indices; element 1 is 0.5")]
    [InlineData("multi_margin_loss", "input", "target", "MultiMarginLoss: 'target' must hold integer class indices; element 1 is 0.5")]
    [InlineData("multiclass_hinge_loss", "scores", "labels", "CrammerSingerHinge: 'labels' must hold integer class indices; element 1 is 0.5")]
    public void Errors_from_shared_helpers_name_the_loss(string loss, string x, string y, string message)
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create(loss).Evaluate(T.In((x, T.D2(new double[,] { { 1, 2 }, { 3, 4 } })), (y, T.D(0, 0.5)))));
        Assert.Equal(LossErrorCode.InvalidValue, e.Code);
        Assert.Equal(message, e.Message);
    }
}
