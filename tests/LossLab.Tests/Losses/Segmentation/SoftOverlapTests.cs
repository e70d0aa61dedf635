using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Segmentation;

/// <summary>Hand-derived values and the mode/ignore rules of the smp-style Dice, Jaccard and Tversky losses.</summary>
public sealed class SoftOverlapTests
{
    private static double Eval(string loss, LossInputs inputs, params (string, object?)[] options)
        => LossRegistry.Default.Create(loss, options.ToDictionary(o => o.Item1, o => o.Item2)).Evaluate(inputs).Scalar;

    // Probabilities (1, 2, 4) for classes 0 and 1 over four pixels, labels (1, 4).
    private static LossInputs Probs(params long[] labels) => T.In(
        ("input", T.Shaped(new double[] { 0.9, 0.6, 0.2, 0.1, 0.1, 0.4, 0.8, 0.9 }, 1, 2, 4)), ("target", T.Shaped(labels, 1, 4)));

    [Fact]
    public void Dice_jaccard_and_tversky_match_hand_derivations()
    {
        // Class 0: o = (.9, .6, .2, .1), t = (1, 1, 0, 0): TP = 1.5, Σo = 1.8, Σt = 2 (FP = .3, FN = .5).
        // Class 1: o = (.1, .4, .8, .9), t = (0, 0, 1, 1): TP = 1.7, Σo = 2.2, Σt = 2 (FP = .5, FN = .3).
        var o = new (string, object?)[] { ("from_logits", false) };
        T.Close(((1 - 3 / 3.8) + (1 - 3.4 / 4.2)) / 2, Eval("dice_loss", Probs(0, 0, 1, 1), o), 1e-14);
        double jaccard = ((1 - 1.5 / 2.3) + (1 - 1.7 / 2.5)) / 2;
        T.Close(jaccard, Eval("jaccard_loss", Probs(0, 0, 1, 1), o), 1e-14);
        T.Close(((1 - 1.5 / (1.5 + 0.3 * 0.3 + 0.7 * 0.5)) + (1 - 1.7 / (1.7 + 0.3 * 0.5 + 0.7 * 0.3))) / 2,
            Eval("tversky_loss", Probs(0, 0, 1, 1), [.. o, ("alpha", 0.3), ("beta", 0.7)]), 1e-14);
        // smooth = 1: Dice is Tversky with α = β = ½ (smp's soft_dice_score), (TP + 1)/((Σo + Σt)/2 + 1).
        double smoothDice = ((1 - 2.5 / 2.9) + (1 - 2.7 / 3.1)) / 2;
        T.Close(smoothDice, Eval("dice_loss", Probs(0, 0, 1, 1), [.. o, ("smooth", 1.0)]), 1e-14);
        T.Close(smoothDice, Eval("tversky_loss", Probs(0, 0, 1, 1), [.. o, ("smooth", 1.0), ("alpha", 0.5), ("beta", 0.5)]), 1e-14);
        // α = β = 1 is Jaccard; focal Tversky raises the mean to γ.
        T.Close(jaccard * jaccard, Eval("tversky_loss", Probs(0, 0, 1, 1), [.. o, ("alpha", 1.0), ("beta", 1.0), ("gamma", 2.0)]), 1e-14);
    }

    [Fact]
    public void A_class_absent_from_the_target_gives_zero_but_counts_in_the_mean()
    {
        // All pixels are class 0: class 1 contributes 0, class 0 has TP = 1.8, Σo = 1.8, Σt = 4.
        double dice0 = 1 - 3.6 / 5.8;
        T.Close(dice0 / 2, Eval("dice_loss", Probs(0, 0, 0, 0), ("from_logits", false)), 1e-14);
    }

    [Fact]
    public void Ignored_pixels_are_removed_from_predictions_and_targets()
    {
        // Ignoring pixel 3 equals evaluating the first three pixels only.
        double ignored = Eval("dice_loss", Probs(0, 0, 1, 255), ("from_logits", false), ("ignore_index", 255L));
        double three = Eval("dice_loss", T.In(("input", T.Shaped(new double[] { 0.9, 0.6, 0.2, 0.1, 0.4, 0.8 }, 1, 2, 3)), ("target", T.Shaped(new long[] { 0, 0, 1 }, 1, 3))),
            ("from_logits", false));
        T.Close(three, ignored, 1e-14);
    }

    [Fact]
    public void Binary_mode_takes_a_squeezed_target_and_needs_one_channel()
    {
        var logits = T.Shaped(new double[] { 2, -1, 0.5, -3 }, 2, 1, 2);
        double full = Eval("dice_loss", T.In(("input", logits), ("target", T.Shaped(new double[] { 1, 0, 1, 0 }, 2, 1, 2))), ("mode", "binary"));
        double squeezed = Eval("dice_loss", T.In(("input", logits), ("target", T.Shaped(new double[] { 1, 0, 1, 0 }, 2, 2))), ("mode", "binary"));
        T.Close(full, squeezed, 1e-15);
        var e = Assert.Throws<LossArgumentException>(() => Eval("dice_loss", T.In(("input", T.Shaped(new double[8], 2, 2, 2)), ("target", T.Shaped(new double[8], 2, 2, 2))), ("mode", "binary")));
        Assert.Equal(LossErrorCode.InvalidShape, e.Code);
        Assert.Contains("(N, 1, *)", e.Message);
    }

    [Fact]
    public void Lovasz_hinge_matches_hand_derivations()
    {
        // x = (0, 0), t = (1, 0): errors (1, 1); order (0, 1); G = 1: J_0 = 1 − 0/1 = 1, J_1 = 1 − 0/2 = 1 → g = (1, 0); ℓ = 1.
        T.Close(1, Eval("lovasz_hinge", T.In(("input", T.Shaped(new double[] { 0, 0 }, 1, 2)), ("target", T.Shaped(new double[] { 1, 0 }, 1, 2)))), 1e-15);
        // Margins met everywhere (x·s ≥ 1): no error, ℓ = 0.
        Assert.Equal(0, Eval("lovasz_hinge", T.In(("input", T.Shaped(new double[] { 2, -1 }, 1, 2)), ("target", T.Shaped(new double[] { 1, 0 }, 1, 2)))));
        // x = (0.5, −0.5, 0), t = (1, 1, 0): errors (0.5, 1.5, 1); order (1, 2, 0) with gt (1, 0, 1), G = 2:
        // J = 1 − 1/2, 1 − 1/3, 1 − 0/3 → g = (0.5, 1/6, 1/3); ℓ = 1.5·0.5 + 1·(1/6) + 0.5·(1/3).
        T.Close(0.75 + 1.0 / 6 + 0.5 / 3, Eval("lovasz_hinge", T.In(("input", T.Shaped(new double[] { 0.5, -0.5, 0 }, 1, 3)), ("target", T.Shaped(new double[] { 1, 1, 0 }, 1, 3)))), 1e-15);
        var e = Assert.Throws<LossArgumentException>(() => Eval("lovasz_hinge", T.In(("input", T.Shaped(new double[2], 1, 2)), ("target", T.Shaped(new double[] { 0.5, 1 }, 1, 2)))));
        Assert.Contains("0.5 at position 0 must be 0 or 1", e.Message);
    }

    [Fact]
    public void Lovasz_softmax_matches_a_hand_derivation()
    {
        // p = [[.8, .3], [.2, .7]] (class × pixel), t = (0, 1). Class 0: errors (.2, .3), order (1, 0), fg (0, 1):
        // J = (1 − 1/2, 1 − 0/2) → g = (.5, .5), ℓ_0 = .3·.5 + .2·.5 = .25. Class 1: errors (.2, .3), order (1, 0),
        // fg (1, 0): J = (1, 1) → g = (1, 0), ℓ_1 = .3. Mean over the present classes: .275.
        var inputs = T.In(("input", T.Shaped(new double[] { 0.8, 0.3, 0.2, 0.7 }, 1, 2, 2)), ("target", T.Shaped(new long[] { 0, 1 }, 1, 2)));
        T.Close(0.275, Eval("lovasz_softmax", inputs, ("from_logits", false)), 1e-15);
    }

    [Fact]
    public void Bad_targets_are_typed_errors()
    {
        var range = Assert.Throws<LossArgumentException>(() => Eval("jaccard_loss", Probs(0, 2, 1, 0)));
        Assert.Equal("JaccardLoss: target 2 at position 1 is out of range: class indices must be in [0, 1]", range.Message);
        var soft = Assert.Throws<LossArgumentException>(() => Eval("dice_loss",
            T.In(("input", T.Shaped(new double[4], 1, 2, 2)), ("target", T.Shaped(new double[] { 0, 1.5, 0, 1 }, 1, 2, 2))), ("mode", "multilabel")));
        Assert.Contains("1.5 at position 1 must be in [0, 1]", soft.Message);
    }
}
