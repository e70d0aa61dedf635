using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

public sealed class SoftMarginLossTests
{
    [Fact]
    public void Golden_values_and_no_overflow_where_PyTorch_overflows()
    {
        // x = 0: ln 2, grad −y/2. −y·x = 1e4: exactly 1e4 with grad −y (PyTorch float32 gives inf and NaN).
        var r = new SoftMarginLoss(new() { Reduction = Reduction.None }).Evaluate(T.In(("input", T.F(0, -1e4f, 1e4f)), ("target", T.F(1, 1, -1))));
        T.Close([Math.Log(2), 1e4, 1e4], r.Value, rel: 1e-7);
        T.Close([-0.5, -1, 1], r.Gradient("input"), rel: 1e-7);
        Assert.False(r.Gradients.ContainsKey("target"));
    }
}
