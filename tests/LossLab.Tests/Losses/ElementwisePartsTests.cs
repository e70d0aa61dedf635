using LossLab.Losses.Core;
using LossLab.Losses.Keras;
using LossLab.Losses.Regression;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses;

/// <summary>
/// Large elementwise losses run their elements in parts on the cores (<see cref="ElementwiseParts"/>): the same bits as
/// the one-thread span drivers over the whole arrays, for PyTorch's elementwise losses and Keras's means over the last axis.
/// </summary>
public sealed class ElementwisePartsTests
{
    [Fact]
    public void A_split_elementwise_loss_equals_the_one_thread_loop_bit_for_bit()
    {
        // 3 × 40001 elements (past the threshold, a length no split divides evenly), reduction none to see every element.
        var r = new Random(4);
        int rows = 3, cols = 40001, n = rows * cols;
        double[] x = LossSamples.Normal(r, n), y = LossSamples.Normal(r, n);
        var inputs = T.In(("input", T.Shaped(x, rows, cols)), ("target", T.Shaped(y, rows, cols)));
        LossResult result = LossRegistry.Default.Create("huber_loss", T.Opt(("reduction", "none"), ("delta", 0.7))).Evaluate(inputs);
        var kernel = new HuberLoss.Kernel(0.7);
        double[] loss = new double[n], gx = new double[n], gy = new double[n];
        Elementwise.Forward<double, HuberLoss.Kernel>(kernel, x, y, default, default, loss);
        Elementwise.Backward<double, HuberLoss.Kernel>(kernel, x, y, default, default, 1.0, gx, gy);
        Assert.Equal(loss, T.Values(result.Value));
        Assert.Equal(gx, T.Values(result.Gradient("input")));
        Assert.Equal(gy, T.Values(result.Gradient("target")));
    }

    [Fact]
    public void A_split_keras_row_mean_equals_the_one_thread_loop_bit_for_bit()
    {
        // 5001 rows of 13: rows split between the cores, each row's sum in order.
        var r = new Random(5);
        int rows = 5001, last = 13, n = rows * last;
        double[] t = LossSamples.Normal(r, n), p = LossSamples.Normal(r, n);
        var inputs = T.In(("y_true", T.Shaped(t, rows, last)), ("y_pred", T.Shaped(p, rows, last)));
        LossResult result = LossRegistry.Default.Create("keras.log_cosh", T.Opt(("reduction", "none"))).Evaluate(inputs);
        var kernel = default(KerasLogCosh.Kernel);
        double[] means = new double[rows], gt = new double[n], gp = new double[n];
        Elementwise.RowMeans<double, KerasLogCosh.Kernel>(kernel, t, p, last, means);
        Elementwise.RowMeansBackward<double, KerasLogCosh.Kernel>(kernel, t, p, last, [.. Enumerable.Repeat(1.0, rows)], gt, gp);
        Assert.Equal(means, T.Values(result.Value));
        Assert.Equal(gp, T.Values(result.Gradient("y_pred")));
    }
}
