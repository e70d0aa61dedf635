using LossLab.Losses.Core;
using LossLab.Losses.Keras;
using LossLab.Losses.Sequence;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Sequence;

/// <summary>Keras's ctc is PyTorch's ctc_loss on log_softmax(logits) with all frames, blank 0 and Keras's reduction.</summary>
public sealed class KerasCtcTests
{
    private static readonly long[] Labels = [1, 2, 2, 3, 1, 0, 2, 0, 0];   // (3, 3): lengths 3, 2, 1; a repeat in row 0

    [Fact]
    public void Equals_pytorch_ctc_on_log_softmax_and_its_logit_gradient()
    {
        const int batch = 3, frames = 8, classes = 4;
        var r = new Random(5);
        double[] logits = LossSamples.Normal(r, batch * frames * classes, 2);
        var keras = new KerasCtc(reduction: "none").Evaluate(T.In(("y_true", T.Shaped(Labels, batch, 3)), ("y_pred", T.Shaped(logits, batch, frames, classes))));

        // The same batch for PyTorch's layout: log_probs (T, N, C) = log_softmax over C, padded targets.
        var lp = new double[frames * batch * classes];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < frames; t++)
                Stable.LogSoftmax<double>(logits.AsSpan((b * frames + t) * classes, classes), lp.AsSpan((t * batch + b) * classes, classes));
        var torch = new CtcLoss(new() { Reduction = Reduction.None }).Evaluate(T.In(("log_probs", T.Shaped(lp, frames, batch, classes)),
            ("targets", T.Shaped(Labels, batch, 3)), ("input_lengths", T.Shaped(new long[] { frames, frames, frames }, batch)),
            ("target_lengths", T.Shaped(new long[] { 3, 2, 1 }, batch))));

        double[] kv = T.Values(keras.Value), tv = T.Values(torch.Value);
        for (int b = 0; b < batch; b++) T.Close(tv[b], kv[b], 1e-12);
        // PyTorch's log_probs gradient (exp(lp) − occupancy) is the logit gradient of the same loss.
        double[] kg = T.Values(keras.Gradient("y_pred")), tg = T.Values(torch.Gradient("log_probs"));
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < frames; t++)
                for (int k = 0; k < classes; k++)
                    T.Close(tg[(t * batch + b) * classes + k], kg[(b * frames + t) * classes + k], 1e-9, 1e-12);
    }

    [Fact]
    public void Default_reduction_averages_over_the_batch_without_length_normalization()
    {
        double[] logits = LossSamples.Normal(new Random(2), 3 * 6 * 4);
        LossInputs In() => T.In(("y_true", T.Shaped(Labels, 3, 3)), ("y_pred", T.Shaped(logits, 3, 6, 4)));
        double[] none = T.Values(new KerasCtc(reduction: "none").Evaluate(In()).Value);
        T.Close(none.Average(), new KerasCtc().Evaluate(In()).Value.GetDouble(0), 1e-12);
    }

    [Fact]
    public void Infeasible_target_gives_infinity()
    {
        // Label (1, 1) needs 3 frames (a blank between the repeats); 2 frames cannot hold it.
        var result = new KerasCtc(reduction: "none").Evaluate(T.In(("y_true", T.Shaped(new long[] { 1, 1 }, 1, 2)), ("y_pred", T.Shaped(new double[6], 1, 2, 3))));
        Assert.True(double.IsPositiveInfinity(result.Value.GetDouble(0)));
    }

    [Theory]
    [InlineData(new long[] { 1, 5 }, "out of range")]
    [InlineData(new long[] { 0, 2 }, "right-padded")]
    [InlineData(new long[] { -1, 0 }, "out of range")]
    public void Bad_labels_are_typed_errors_naming_the_position(long[] labels, string message)
    {
        var e = Assert.Throws<LossArgumentException>(() =>
            new KerasCtc().Evaluate(T.In(("y_true", T.Shaped(labels, 1, 2)), ("y_pred", T.Shaped(new double[12], 1, 4, 3)))));
        Assert.Equal(LossErrorCode.InvalidValue, e.Code);
        Assert.Contains(message, e.Message);
        Assert.Contains("[0, ", e.Message);
    }

    [Fact]
    public void Shapes_are_checked()
    {
        var e = Assert.Throws<LossArgumentException>(() =>
            new KerasCtc().Evaluate(T.In(("y_true", T.Shaped(new long[] { 1, 2 }, 2, 1)), ("y_pred", T.Shaped(new double[12], 1, 4, 3)))));
        Assert.Equal(LossErrorCode.InvalidShape, e.Code);
        Assert.Contains("y_true", e.Message);
        Assert.Contains(new Shape(2, 1).ToString(), e.Message);
    }
}
