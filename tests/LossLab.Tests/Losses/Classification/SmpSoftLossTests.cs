using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>
/// segmentation_models_pytorch's SoftBCEWithLogitsLoss and SoftCrossEntropyLoss by hand: smp's smoothing, its
/// ignore_index, and its mean over every element (ignored ones counting 0), which is not PyTorch's. The torch
/// references (smp's code written out) are in torch_diff.
/// </summary>
public sealed class SmpSoftLossTests
{
    private static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    [Fact]
    public void Soft_bce_smooths_targets_to_s_and_one_minus_s_and_ignored_elements_count_zero_in_the_mean()
    {
        // x = (1, −2, 3), y = (1, 0, −100), s = 0.1: y' = (0.9, 0.1), the third element ignored; mean over 3.
        LossResult r = LossRegistry.Default.Create("smp.SoftBCEWithLogitsLoss", T.Opt(("smooth_factor", 0.1)))
            .Evaluate(T.In(("y_pred", T.D(1, -2, 3)), ("y_true", T.D(1, 0, -100))));
        double l0 = 0.1 * Softplus(1) + 0.9 * Softplus(-1), l1 = 0.9 * Softplus(-2) + 0.1 * Softplus(2);
        T.Close((l0 + l1) / 3, r.Scalar, 1e-15, 0);
        // ∂ℓ/∂x = (1 − y')σ(x) − y'σ(−x); ∂ℓ/∂y = (1 − 2s)(softplus(−x) − softplus(x)); 0 at the ignored element.
        T.Close([(0.1 * Sigmoid(1) - 0.9 * Sigmoid(-1)) / 3, (0.9 * Sigmoid(-2) - 0.1 * Sigmoid(2)) / 3, 0], r.Gradient("y_pred"), 1e-14, 0);
        T.Close([0.8 * (Softplus(-1) - Softplus(1)) / 3, 0.8 * (Softplus(2) - Softplus(-2)) / 3, 0], r.Gradient("y_true"), 1e-14, 0);
    }

    [Fact]
    public void Soft_bce_is_bce_with_logits_at_twice_the_smoothing_and_all_ignored_is_zero_not_nan()
    {
        var x = T.D(-30, -1, 0, 0.5, 4, 40);
        var y = T.D(0, 1, 0.3, 1, 0, 1);
        var pw = T.D(2.5);
        LossResult soft = LossRegistry.Default.Create("soft_bce", T.Opt(("smooth_factor", 0.15), ("pos_weight", pw))).Evaluate(T.In(("y_pred", x), ("y_true", y)));
        LossResult keras = LossRegistry.Default.Create("binary_cross_entropy_with_logits", T.Opt(("label_smoothing", 0.3), ("pos_weight", pw))).Evaluate(T.In(("input", x), ("target", y)));
        T.Close(keras.Scalar, soft.Scalar, 1e-15, 0);
        T.Close(T.Values(keras.Gradient("input")), soft.Gradient("y_pred"), 1e-15, 0);

        LossResult none = LossRegistry.Default.Create("soft_bce", T.Opt(("ignore_index", -1L))).Evaluate(T.In(("y_pred", T.D(3, -3)), ("y_true", T.D(-1, -1))));
        Assert.Equal(0, none.Scalar);
        Assert.All(T.Values(none.Gradient("y_pred")), g => Assert.Equal(0, g));
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("soft_bce", T.Opt(("smooth_factor", 1.5))));
        Assert.Contains("smooth_factor must be in [0, 1], got 1.5", e.Message);
    }

    [Fact]
    public void Soft_cross_entropy_is_cross_entropys_sum_over_every_position_including_the_ignored()
    {
        // Three rows, the middle one ignored: PyTorch's mean divides by the 2 counted rows, smp's by all 3.
        var x = T.D2(new double[,] { { 2, 0, -1 }, { 0.5, 0.5, 0 }, { -3, 1, 4 } });
        var y = T.I(0, -100, 2);
        var opts = T.Opt(("smooth_factor", 0.2));
        double smp = LossRegistry.Default.Create("soft_cross_entropy_loss", opts).Evaluate(T.In(("y_pred", x), ("y_true", y))).Scalar;
        LossResult sum = LossRegistry.Default.Create("cross_entropy", T.Opt(("label_smoothing", 0.2), ("reduction", "sum"))).Evaluate(T.In(("input", x), ("target", y)));
        T.Close(sum.Scalar / 3, smp, 1e-15, 0);
        double pytorch = LossRegistry.Default.Create("cross_entropy", T.Opt(("label_smoothing", 0.2))).Evaluate(T.In(("input", x), ("target", y))).Scalar;
        T.Close(sum.Scalar / 2, pytorch, 1e-15, 0);

        // By hand, row 0: (1 − ε)(−log p₀) + (ε/3)·Σ −log p_c.
        double lse = Math.Log(Math.Exp(2) + Math.Exp(0) + Math.Exp(-1));
        double row0 = 0.8 * (lse - 2) + 0.2 / 3 * (3 * lse - 1);
        LossResult none = LossRegistry.Default.Create("smp.SoftCrossEntropyLoss", T.Opt(("smooth_factor", 0.2), ("reduction", "none"))).Evaluate(T.In(("y_pred", x), ("y_true", y)));
        Assert.Equal(0, none.Value.GetDouble(1));
        T.Close(row0, none.Value.GetDouble(0), 1e-15, 0);

        // Every row ignored: 0 and no gradient (PyTorch's cross_entropy gives NaN).
        LossResult all = LossRegistry.Default.Create("soft_cross_entropy_loss").Evaluate(T.In(("y_pred", x), ("y_true", T.I(-100, -100, -100))));
        Assert.Equal(0, all.Scalar);
        Assert.All(T.Values(all.Gradient("y_pred")), g => Assert.Equal(0, g));
    }

    [Fact]
    public void Soft_cross_entropy_names_its_own_inputs_in_errors()
    {
        var x = T.D2(new double[,] { { 2, 0 }, { 0.5, 0.5 } });
        var probabilities = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("soft_cross_entropy_loss").Evaluate(T.In(("y_pred", x), ("y_true", x))));
        Assert.Contains("'y_true' has the input's shape (2, 2); it takes class indices", probabilities.Message);
        var range = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("soft_cross_entropy_loss").Evaluate(T.In(("y_pred", x), ("y_true", T.I(0, 5)))));
        Assert.StartsWith("SoftCrossEntropyLoss: ", range.Message);
        Assert.Contains("5", range.Message);
    }
}
