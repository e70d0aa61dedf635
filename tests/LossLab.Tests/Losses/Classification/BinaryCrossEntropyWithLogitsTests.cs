using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

public sealed class BinaryCrossEntropyWithLogitsTests
{
    [Fact]
    public void Golden_values_with_and_without_pos_weight()
    {
        // x = 0, y = 1: ln 2, grad σ(0) − 1 = −½. With pos_weight 3: 3 ln 2, grad c·σ − p·y = 1.5 − 3 = −1.5.
        var inputs = T.In(("input", T.D(0)), ("target", T.D(1)));
        var plain = new BinaryCrossEntropyWithLogits().Evaluate(inputs);
        T.Close(Math.Log(2), plain.Scalar, rel: 1e-15);
        T.Close([-0.5], plain.Gradient("input"), rel: 1e-15);
        var weighted = new BinaryCrossEntropyWithLogits(new() { PosWeight = T.D(3) }).Evaluate(inputs);
        T.Close(3 * Math.Log(2), weighted.Scalar, rel: 1e-15);
        T.Close([-1.5], weighted.Gradient("input"), rel: 1e-15);
        // target grad: log σ(−x) − p·log σ(x) = (1 − p)·ln ½ = 2 ln 2 at x = 0, p = 3.
        T.Close([2 * Math.Log(2)], weighted.Gradient("target"), rel: 1e-15);
    }

    [Fact]
    public void Saturated_logits_are_exact_in_float32()
    {
        // x = ±1e4 against the wrong label: loss 1e4 exactly, gradient ±1; against the right label: 0.
        var r = new BinaryCrossEntropyWithLogits(new() { Reduction = Reduction.None, PosWeight = T.F(2) })
            .Evaluate(T.In(("input", T.F(1e4f, -1e4f, 1e4f, -1e4f)), ("target", T.F(0, 1, 1, 0))));
        T.Close([1e4, 2e4, 0, 0], r.Value, rel: 1e-7);
        T.Close([1, -2, 0, 0], r.Gradient("input"), rel: 1e-7);
    }

    [Fact]
    public void Pos_weight_that_cannot_broadcast_is_a_shape_error()
    {
        var loss = new BinaryCrossEntropyWithLogits(new() { PosWeight = T.D(1, 2, 3) });
        var e = Assert.Throws<LossArgumentException>(() => loss.Evaluate(T.In(("input", T.D(0, 1)), ("target", T.D(0, 1)))));
        Assert.Equal(LossErrorCode.InvalidShape, e.Code);
        Assert.Contains("pos_weight", e.Message);
    }
}
