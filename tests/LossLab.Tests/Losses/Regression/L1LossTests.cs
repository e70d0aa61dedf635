using LossLab.Losses.Core;
using LossLab.Losses.Regression;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Regression;

public sealed class L1LossTests
{
    [Fact]
    public void Golden_values_and_the_zero_subgradient_at_a_tie()
    {
        // |1−0|, |−1−0|, |2−2| = 1, 1, 0; sgn(d) = 1, −1, 0 (PyTorch's sgn at ties).
        var r = new L1Loss(new() { Reduction = Reduction.None }).Evaluate(T.In(("input", T.D(1, -1, 2)), ("target", T.D(0, 0, 2))));
        T.Close([1, 1, 0], r.Value);
        T.Close([1, -1, 0], r.Gradient("input"));
        T.Close([-1, 1, 0], r.Gradient("target"));
    }

    [Fact]
    public void Weighted_mean_divides_by_the_sum_of_weights()
    {
        // w = [2, 6], |d| = [1, 3]: (2 + 18)/8 = 2.5.
        var r = new L1Loss(new() { Weight = T.D(2, 6) }).Evaluate(T.In(("input", T.D(1, 3)), ("target", T.D(0, 0))));
        T.Close(2.5, r.Scalar, rel: 1e-15);
        T.Close([0.25, 0.75], r.Gradient("input"), rel: 1e-15);
    }
}
