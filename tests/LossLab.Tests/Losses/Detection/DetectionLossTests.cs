using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.Detection;

/// <summary>mmdetection's dense-detection losses at zero logits (σ = ½, every BCE ln 2), worked out by hand from the papers.</summary>
public sealed class DetectionLossTests
{
    private static readonly double Ln2 = Math.Log(2);

    [Fact]
    public void Varifocal_weights_positives_by_their_IoU_and_negatives_by_a_focal_term()
    {
        // q = 0.6 (positive): w = 0.6; q = 0 (negative): w = 0.75·(½)² = 0.1875; both BCEs are ln 2; mean of two.
        LossResult r = LossRegistry.Default.Create("varifocal_loss").Evaluate(T.In(("pred", T.D(0, 0)), ("target", T.D(0.6, 0))));
        T.Close((0.6 + 0.1875) * Ln2 / 2, r.Scalar, rel: 1e-15);
        // Positive: w·(p − q) = 0.6·(−0.1); negative: w·p + BCE·αγ·p^γ(1 − p) = 0.09375 + ln 2·0.1875 (the weight is not detached).
        T.Close([-0.06 / 2, (0.09375 + 0.1875 * Ln2) / 2], r.Gradient("pred"), rel: 1e-14);
        Assert.False(r.Gradients.ContainsKey("target"));
    }

    [Fact]
    public void Quality_focal_supervises_the_label_by_the_box_quality_and_the_rest_by_zero()
    {
        // Box 0, class 0, quality ½ = σ(0): its own term vanishes (|s − σ|² = 0); class 1 is background: ln 2·(½)².
        // Box 1 has label C = 2, background for both classes.
        ILoss loss = LossRegistry.Default.Create("quality_focal_loss", T.Opt(("reduction", "none")));
        LossResult r = loss.Evaluate(T.In(("pred", T.D2(new double[,] { { 0, 0 }, { 0, 0 } })), ("label", T.I(0, 2)), ("score", T.D(0.5, 0.9))));
        T.Close([0.25 * Ln2, 0.5 * Ln2], r.Value, rel: 1e-15);
        // Background slope σ^{β+1} + β·softplus·σ^β(1 − σ) = ⅛ + ¼ ln 2; the labelled class's is 0 at σ = s.
        double back = 0.125 + 0.25 * Ln2;
        T.Close([0, back, back, back], r.Gradient("pred"), rel: 1e-14, abs: 1e-16);
    }

    [Fact]
    public void Distribution_focal_splits_a_distance_between_its_two_bins()
    {
        // y = 0.25 over 3 bins: 0.75·CE(x, 0) + 0.25·CE(x, 1); uniform logits make both ln 3.
        LossResult r = LossRegistry.Default.Create("distribution_focal_loss").Evaluate(T.In(("pred", T.D2(new double[,] { { 0, 0, 0 } })), ("label", T.D(0.25))));
        T.Close(Math.Log(3), r.Scalar, rel: 1e-15);
        T.Close([1.0 / 3 - 0.75, 1.0 / 3 - 0.25, 1.0 / 3], r.Gradient("pred"), rel: 1e-14);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("dfl").Evaluate(T.In(("pred", T.D2(new double[,] { { 0, 0, 0 } })), ("label", T.D(2)))));
        Assert.Equal("DistributionFocalLoss: label 2 at position 0 must be in [0, 2) for 3 bins", e.Message);
    }

    [Fact]
    public void Targets_outside_0_1_are_named()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("varifocal_loss").Evaluate(T.In(("pred", T.D(0, 0)), ("target", T.D(0.5, 1.5)))));
        Assert.Equal("VarifocalLoss: target 1.5 at index 1 is not an IoU-aware score in [0, 1]", e.Message);
        e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("qfl").Evaluate(T.In(("pred", T.D2(new double[,] { { 0, 0 } })), ("label", T.I(0)), ("score", T.D(-0.2)))));
        Assert.Equal("QualityFocalLoss: score -0.2 at position 0 is not a quality in [0, 1] (an IoU)", e.Message);
    }
}
