using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

public sealed class NllLossTests
{
    [Fact]
    public void Golden_values_weighted_mean()
    {
        // rows [−1, −2] target 1 and [−3, −4] target 0, w = [2, 1]: (1·2 + 2·3)/(1 + 2) = 8/3; grads −w_y/3.
        var x = T.D2(new double[,] { { -1, -2 }, { -3, -4 } });
        var r = new NllLoss(new() { Weight = T.D(2, 1) }).Evaluate(T.In(("input", x), ("target", T.I(1, 0))));
        T.Close(8.0 / 3, r.Scalar, rel: 1e-15);
        T.Close([0, -1.0 / 3, -2.0 / 3, 0], r.Gradient("input"), rel: 1e-15);
    }

    [Fact]
    public void Zero_total_weight_gives_NaN_like_PyTorch_but_ignored_rows_stay_zero()
    {
        var x = T.D2(new double[,] { { -1, -2 }, { -3, -4 } });
        var r = new NllLoss(new() { Weight = T.D(0, 1) }).Evaluate(T.In(("input", x), ("target", T.I(0, -100))));
        Assert.True(double.IsNaN(r.Scalar));
        var g = T.Values(r.Gradient("input"));
        Assert.True(double.IsNaN(g[0]));
        Assert.Equal([0.0, 0.0, 0.0], g[1..]);
    }

    [Fact]
    public void Unbatched_input_takes_a_scalar_target()
    {
        var r = new NllLoss().Evaluate(T.In(("input", T.D(-1, -2, -3)), ("target", T.Shaped(new long[] { 2 }))));
        Assert.Equal(3, r.Scalar);
    }
}
