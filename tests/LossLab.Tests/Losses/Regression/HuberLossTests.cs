using LossLab.Losses.Core;
using LossLab.Losses.Regression;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Regression;

public sealed class HuberLossTests
{
    [Fact]
    public void Golden_values_on_both_sides_of_delta()
    {
        // δ = 2: d = 1 → 0.5, grad 1; d = 3 → 2(3 − 1) = 4, grad 2; d = −2 (boundary) → 2, grad −2.
        var r = new HuberLoss(new() { Delta = 2, Reduction = Reduction.None }).Evaluate(T.In(("input", T.D(1, 3, -2)), ("target", T.D(0, 0, 0))));
        T.Close([0.5, 4, 2], r.Value);
        T.Close([1, 2, -2], r.Gradient("input"));
    }

    [Fact]
    public void Huber_is_delta_times_smooth_l1_with_beta_delta()
    {
        var inputs = T.In(("input", T.D(0.3, -2.5, 4, 0.7)), ("target", T.D(0, 0.5, 1, -0.1)));
        double h = new HuberLoss(new() { Delta = 1.5 }).Evaluate(inputs).Scalar;
        double s = new SmoothL1Loss(new() { Beta = 1.5 }).Evaluate(inputs).Scalar;
        T.Close(1.5 * s, h, rel: 1e-14);
    }

    [Fact]
    public void Weighted_mean_divides_by_numel_unlike_mse()
    {
        // w = [1, 3], d = [1, 1]: mean(w·0.5) = (0.5 + 1.5)/2 = 1 (PyTorch huber_loss weight= divides by numel).
        var r = new HuberLoss(new() { Weight = T.D(1, 3) }).Evaluate(T.In(("input", T.D(1, 1)), ("target", T.D(0, 0))));
        T.Close(1.0, r.Scalar, rel: 1e-15);
    }

    [Fact]
    public void Non_positive_delta_is_rejected()
        => Assert.Equal(LossErrorCode.InvalidValue, Assert.Throws<LossArgumentException>(() => new HuberLoss(new() { Delta = 0 })).Code);
}
