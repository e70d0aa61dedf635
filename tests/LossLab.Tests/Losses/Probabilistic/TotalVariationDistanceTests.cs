using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Probabilistic;

/// <summary>
/// Liger's TVD by hand: the four reductions and their denominators, ignored rows, the bound of 1 for disjoint
/// supports (where KL is infinite), and ties. The torch reference is in torch_diff.
/// </summary>
public sealed class TotalVariationDistanceTests
{
    // Row 0: p = (0.5, 0.5, 0), q = (0.25, 0.25, 0.5): TVD 0.5. Row 1: disjoint supports (1, 0, 0) vs (0, 0, 1): TVD 1.
    private static LossInputs Rows() => T.In(("p", T.Shaped([0.5, 0.5, 0, 1, 0, 0], 2, 3)), ("q", T.Shaped([0.25, 0.25, 0.5, 0, 0, 1], 2, 3)));

    [Fact]
    public void The_four_reductions_by_hand()
    {
        double Value(string reduction) => LossRegistry.Default.Create("tvd_loss", T.Opt(("reduction", reduction))).Evaluate(Rows()).Scalar;
        Assert.Equal(1.5, Value("sum"));
        Assert.Equal(0.75, Value("batchmean"));
        Assert.Equal(0.25, Value("mean"));          // ÷ rows·V = 6
        Assert.Equal(0.75, LossRegistry.Default.Create("tvd_loss").Evaluate(Rows()).Scalar);   // batchmean is the default
        LossResult none = LossRegistry.Default.Create("tvd_loss", T.Opt(("reduction", "none"))).Evaluate(Rows());
        Assert.Equal(new Shape(2, 3), none.Value.Shape);
        Assert.Equal([0.125, 0.125, 0.25, 0.5, 0, 0.5], T.Values(none.Value));
        // ½·sign(p − q)/rows; the tie at row 1, column 1 gets 0; q gets no gradient.
        LossResult r = LossRegistry.Default.Create("tvd_loss").Evaluate(Rows());
        Assert.Equal([0.25, 0.25, -0.25, 0.25, 0, -0.25], T.Values(r.Gradient("p")));
        Assert.False(r.Gradients.ContainsKey("q"));
    }

    [Fact]
    public void Ignored_rows_count_for_nothing_and_all_ignored_is_nan_with_a_zero_gradient()
    {
        LossInputs labelled = Rows().Add("shift_labels", T.I(-100, 4));
        LossResult r = LossRegistry.Default.Create("tvd_loss").Evaluate(labelled);
        Assert.Equal(1.0, r.Scalar);                 // row 1 alone, ÷ 1 counted row
        Assert.Equal([0, 0, 0, 0.5, 0, -0.5], T.Values(r.Gradient("p")));
        LossResult none = LossRegistry.Default.Create("tvd_loss", T.Opt(("ignore_index", 4L))).Evaluate(Rows().Add("shift_labels", T.I(4, 4)));
        Assert.True(double.IsNaN(none.Scalar));
        Assert.All(T.Values(none.Gradient("p")), g => Assert.Equal(0, g));
        var shape = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("tvd_loss").Evaluate(Rows().Add("shift_labels", T.I(1, 2, 3))));
        Assert.Contains("'shift_labels' has shape (3,); expected (2,)", shape.Message);
    }
}
