using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Sequence;

/// <summary>Optax's CTC inputs (logits, paddings) against PyTorch's CTC (log-probabilities, lengths), which is tested
/// against brute-force enumeration in <see cref="CtcLossTests"/>.</summary>
public sealed class OptaxCtcTests
{
    [Fact]
    public void Optax_ctc_is_pytorch_ctc_on_the_unpadded_frames()
    {
        var r = new Random(3);
        double[] z = LossSamples.Normal(r, 2 * 5 * 4);   // (B = 2, T = 5, K = 4)
        // Sequence 0 uses all 5 frames; sequence 1 pads frame 1 (in the middle: Optax skips it) and frame 4.
        var pads = T.Shaped(new double[] { 0, 0, 0, 0, 0, 0, 1, 0, 0, 1 }, 2, 5);
        var labels = T.Shaped(new long[] { 1, 2, 3, 3, 0, 0 }, 2, 3);
        var labelPads = T.Shaped(new double[] { 0, 0, 0, 0, 1, 1 }, 2, 3);
        LossResult optax = LossRegistry.Default.Create("optax.ctc_loss").Evaluate(T.In(("logits", T.Shaped(z, 2, 5, 4)), ("logit_paddings", pads), ("labels", labels), ("label_paddings", labelPads)));
        for (int s = 0; s < 2; s++)
        {
            int[] frames = s == 0 ? [0, 1, 2, 3, 4] : [0, 2, 3];
            long[] target = s == 0 ? [1, 2, 3] : [3];
            // PyTorch's CTC on the same frames, log-softmaxed, as (T, 1, K) with lengths.
            var lp = new double[frames.Length * 4];
            for (int i = 0; i < frames.Length; i++) Stable.LogSoftmax<double>(z.AsSpan((s * 5 + frames[i]) * 4, 4), lp.AsSpan(i * 4, 4));
            LossResult torch = LossRegistry.Default.Create("ctc_loss", T.Opt(("reduction", "none"))).Evaluate(T.In(
                ("log_probs", T.Shaped(lp, frames.Length, 1, 4)), ("targets", T.Shaped(target, 1, target.Length)),
                ("input_lengths", T.I(frames.Length)), ("target_lengths", T.I(target.Length))));
            T.Close(torch.Value.GetDouble(0), optax.Value.GetDouble(s), 1e-14);
            // PyTorch's log_probs gradient is the logits' gradient; padded frames get none.
            for (int i = 0; i < frames.Length; i++)
                for (int k = 0; k < 4; k++)
                    T.Close(torch.Gradient("log_probs").GetDouble(i * 4 + k), optax.Gradient("logits").GetDouble((s * 5 + frames[i]) * 4 + k), 1e-13, 1e-15);
        }
        Assert.Equal(0, optax.Gradient("logits").GetDouble((1 * 5 + 1) * 4));
    }

    [Fact]
    public void Impossible_targets_and_bad_paddings_are_errors_naming_the_sequence()
    {
        LossInputs In(double[] pads, long[] labels, double[] labelPads) => T.In(("logits", T.Shaped(new double[1 * 3 * 3], 1, 3, 3)),
            ("logit_paddings", T.Shaped(pads, 1, 3)), ("labels", T.Shaped(labels, 1, 3)), ("label_paddings", T.Shaped(labelPads, 1, 3)));
        ILoss ctc = LossRegistry.Default.Create("optax.ctc_loss");
        // "1 1 1" needs 5 frames (blanks between repeats); there are 3.
        var e = Assert.Throws<LossArgumentException>(() => ctc.Evaluate(In([0, 0, 0], [1, 1, 1], [0, 0, 0])));
        Assert.Contains("sequence 0 has 3 labels but only 3 unpadded frames", e.Message);
        Assert.Contains("must be right-padded", Assert.Throws<LossArgumentException>(() => ctc.Evaluate(In([0, 0, 0], [1, 2, 1], [0, 1, 0]))).Message);
        Assert.Contains("other than the blank 0", Assert.Throws<LossArgumentException>(() => ctc.Evaluate(In([0, 0, 0], [1, 0, 1], [0, 0, 1]))).Message);
        Assert.Contains("paddings are 0", Assert.Throws<LossArgumentException>(() => ctc.Evaluate(In([0, 0.5, 0], [1, 2, 1], [0, 0, 1]))).Message);
    }
}
