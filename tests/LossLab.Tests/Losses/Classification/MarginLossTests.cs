using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>Golden values of the multi-class and multi-label margin losses.</summary>
public sealed class MarginLossTests
{
    [Fact]
    public void Multi_margin_by_hand_with_p_1_and_2_and_no_gradient_at_the_tie()
    {
        // x = [1, 0.5, 1], y = 0: z₁ = 1 − 1 + 0.5 = 0.5, z₂ = 1 − 1 + 1 = 1 → (0.5 + 1)/3 = 0.5; p = 2: (0.25 + 1)/3.
        var inputs = T.In(("input", T.D2(new double[,] { { 1, 0.5, 1 } })), ("target", T.I(0)));
        var p1 = new MultiMarginLoss().Evaluate(inputs);
        T.Close(0.5, p1.Scalar, rel: 1e-15);
        T.Close([-2.0 / 3, 1.0 / 3, 1.0 / 3], p1.Gradient("input"), rel: 1e-15);
        var p2 = new MultiMarginLoss(new() { P = 2 }).Evaluate(inputs);
        T.Close(1.25 / 3, p2.Scalar, rel: 1e-15);
        T.Close([-3.0 / 3, 1.0 / 3, 2.0 / 3], p2.Gradient("input"), rel: 1e-15);
        // margin 0.5 puts class 1 exactly at z = 0: strict z > 0, so no gradient there.
        var tie = new MultiMarginLoss(new() { Margin = 0.5 }).Evaluate(inputs);
        T.Close([-1.0 / 3, 0, 1.0 / 3], tie.Gradient("input"), rel: 1e-15);
        Assert.Throws<LossArgumentException>(() => new MultiMarginLoss(new() { P = 3 }));
    }

    [Fact]
    public void Multilabel_margin_stops_at_the_first_minus_one_and_counts_duplicates_twice()
    {
        var x = T.D2(new double[,] { { 0.1, 0.2, 0.4, 0.8 } });
        // Y = {3, 0}: pairs (3,1) (3,2) (0,1) (0,2): 0.4 + 0.6 + 1.1 + 1.3 = 3.4 → 3.4/4.
        var r = new MultilabelMarginLoss().Evaluate(T.In(("input", x), ("target", T.Shaped(new long[] { 3, 0, -1, 1 }, 1, 4))));
        T.Close(3.4 / 4, r.Scalar, rel: 1e-14);
        var dup = new MultilabelMarginLoss().Evaluate(T.In(("input", x), ("target", T.Shaped(new long[] { 3, 3, -1, 0 }, 1, 4))));
        T.Close((2 * (0.4 + 0.6 + 0.3)) / 4, dup.Scalar, rel: 1e-14);
        var bad = Assert.Throws<LossArgumentException>(() => new MultilabelMarginLoss().Evaluate(T.In(("input", x), ("target", T.Shaped(new long[] { 4, -1, 0, 0 }, 1, 4)))));
        Assert.Contains("out of range", bad.Message);
        // PyTorch checks the whole target, also past the first −1 (cross-checked with torch 1.13).
        var late = Assert.Throws<LossArgumentException>(() => new MultilabelMarginLoss().Evaluate(T.In(("input", x), ("target", T.Shaped(new long[] { 0, -1, 9, 0 }, 1, 4)))));
        Assert.Contains("target 9 at row 0, position 2", late.Message);
        Assert.Throws<LossArgumentException>(() => new MultilabelMarginLoss().Evaluate(T.In(("input", x), ("target", T.Shaped(new long[] { 0, -1, -5, 0 }, 1, 4)))));
    }

    [Fact]
    public void Multilabel_soft_margin_averages_over_classes_before_the_batch()
    {
        // Row [0, 0] with targets [1, 0]: each term ln 2 → mean over classes ln 2; weight [1, 3] → (ln2 + 3 ln2)/2.
        var inputs = T.In(("input", T.D2(new double[,] { { 0, 0 }, { 0, 0 } })), ("target", T.D2(new double[,] { { 1, 0 }, { 0, 1 } })));
        T.Close(Math.Log(2), new MultilabelSoftMarginLoss().Evaluate(inputs).Scalar, rel: 1e-15);
        var none = new MultilabelSoftMarginLoss(new() { Weight = T.D(1, 3), Reduction = Reduction.None }).Evaluate(inputs);
        T.Close([2 * Math.Log(2), 2 * Math.Log(2)], none.Value, rel: 1e-15);
    }
}
