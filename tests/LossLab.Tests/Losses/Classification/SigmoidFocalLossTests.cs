using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

public sealed class SigmoidFocalLossTests
{
    private static LossInputs In(double[] x, double[] y) => T.In(("inputs", T.D(x)), ("targets", T.D(y)));

    [Fact]
    public void Golden_value_by_hand_and_the_default_reduction_is_none()
    {
        // x = 0, y = 1: p = ½, BCE = ln 2, (1 − p_t)² = ¼, α_t = 0.25 → ln 2 / 16.
        var r = new SigmoidFocalLoss().Evaluate(In([0, 0], [1, 0]));
        Assert.Equal(new LossLab.Numerics.Shape(2), r.Value.Shape);
        T.Close([Math.Log(2) / 16, 0.75 * Math.Log(2) / 4], r.Value, rel: 1e-15);
    }

    [Fact]
    public void Gamma_zero_is_alpha_weighted_bce_and_negative_alpha_disables_weighting()
    {
        double[] x = [-1.5, 0.3, 2.2], y = [1, 0, 0.4];
        var inputs = In(x, y);
        var bce = new BinaryCrossEntropyWithLogits(new() { Reduction = Reduction.None }).Evaluate(T.In(("input", T.D(x)), ("target", T.D(y))));
        var plain = new SigmoidFocalLoss(new() { Gamma = 0, Alpha = -1 }).Evaluate(inputs);
        T.Close(T.Values(bce.Value), plain.Value, rel: 1e-14);
        T.Close(T.Values(bce.Gradient("input")), plain.Gradient("inputs"), rel: 1e-14);
        var weighted = new SigmoidFocalLoss(new() { Gamma = 0, Alpha = 0.25 }).Evaluate(inputs);
        T.Close(T.Values(bce.Value).Select((v, i) => v * (0.25 * y[i] + 0.75 * (1 - y[i]))).ToArray(), weighted.Value, rel: 1e-14);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.99)]
    [InlineData(2.0)]
    public void Gradients_stay_finite_for_every_gamma_at_saturated_logits_in_float32(double gamma)
    {
        // Optax and kornia give NaN here for γ < 1 (optax#1267, kornia#918).
        var r = new SigmoidFocalLoss(new() { Gamma = gamma, Reduction = Reduction.Sum })
            .Evaluate(T.In(("inputs", T.F(1e4f, -1e4f, 100, -100, 17, -17)), ("targets", T.F(1, 0, 1, 0, 1, 0))));
        Assert.True(double.IsFinite(r.Scalar));
        Assert.All(T.Values(r.Gradient("inputs")), g => Assert.True(double.IsFinite(g), $"γ={gamma}: {g}"));
        Assert.All(T.Values(r.Gradient("targets")), g => Assert.True(double.IsFinite(g), $"γ={gamma}: {g}"));
    }

    [Fact]
    public void Negative_gamma_is_rejected()
        => Assert.Throws<LossArgumentException>(() => new SigmoidFocalLoss(new() { Gamma = -1 }));
}
