using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>
/// ML.NET's smoothed hinge and exponential losses by hand: the three pieces and their joins, both label conventions,
/// and the labels ML.NET would misread. ML.NET itself is the reference in tests/LossLab.MLNet.Tests.
/// </summary>
public sealed class MLNetBinaryLossTests
{
    private static LossInputs In(double[] x, double[] y) => T.In(("output", T.D(x)), ("label", T.D(y)));

    [Fact]
    public void Smoothed_hinge_pieces_by_hand_with_either_label_convention()
    {
        // s = 2, label positive: u = 1 − x = −1 (0), 0.5 (0.25/4), 2 (the join: 4/4 = 2 − 1), 3 (3 − 1).
        double[] x = [2, 0.5, -1, -2];
        LossResult r = LossRegistry.Default.Create("smoothed_hinge_loss", T.Opt(("smoothing", 2.0))).Evaluate(In(x, [1, 1, 1, 1]));
        Assert.Equal([0, 0.0625, 1, 2], T.Values(r.Value));
        Assert.Equal([0, -0.25, -1, -1], T.Values(r.Gradient("output")));
        // A negative label, written 0 or −1, mirrors the score.
        foreach (double negative in new[] { 0.0, -1.0 })
        {
            LossResult m = LossRegistry.Default.Create("smoothed_hinge_loss", T.Opt(("smoothing", 2.0))).Evaluate(In([-2, -0.5, 1, 2], [negative, negative, negative, negative]));
            Assert.Equal([0, 0.0625, 1, 2], T.Values(m.Value));
            Assert.Equal([0, 0.25, 1, 1], T.Values(m.Gradient("output")));
        }
        // s = 0 is the hinge.
        LossResult hinge = LossRegistry.Default.Create("smoothed_hinge_loss", T.Opt(("smoothing", 0.0), ("reduction", "sum"))).Evaluate(In([0.5, 3, -1], [1, 1, 0]));
        Assert.Equal(0.5 + 0 + 0, hinge.Scalar);
    }

    [Fact]
    public void Exponential_loss_by_hand()
    {
        LossResult r = LossRegistry.Default.Create("exp_loss", T.Opt(("beta", 0.5))).Evaluate(In([2, -2, 0, 3], [1, 1, 0, -1]));
        double[] expected = [Math.Exp(-1), Math.Exp(1), 1, Math.Exp(1.5)];
        T.Close(expected, r.Value, 1e-15, 0);
        T.Close([-0.5 * expected[0], -0.5 * expected[1], 0.5, 0.5 * expected[3]], r.Gradient("output"), 1e-15, 0);
    }

    [Fact]
    public void A_label_that_is_not_0_1_or_minus_1_is_named()
    {
        foreach (string loss in new[] { "smoothed_hinge_loss", "exp_loss" })
        {
            var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create(loss).Evaluate(In([1, 2, 3], [1, 0.5, 0])));
            Assert.Contains("'label' holds labels 0 or 1 (or −1 or +1; above 0 is positive); label[1] = 0.5", e.Message);
        }
        Assert.Contains("smoothing must be a finite number ≥ 0", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("smoothed_hinge_loss", T.Opt(("smoothing", -1.0)))).Message);
    }
}
