using LossLab.Losses.Core;
using LossLab.Losses.Sequence;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Sequence;

/// <summary>
/// Optax's <c>ctc_loss_with_forward_probs</c>: the α tables against sums over every path prefix (brute force), the
/// loss against the forward–backward loss, padding, and errors.
/// </summary>
public sealed class OptaxCtcForwardProbabilitiesTests
{
    private static LossInputs In(double[] z, int b, int frames, int k, double[] pads, long[] labels, double[] labelPads)
        => T.In(("logits", T.Shaped(z, b, frames, k)), ("logit_paddings", T.Shaped(pads, b, frames)),
            ("labels", T.Shaped(labels, b, labels.Length / b)), ("label_paddings", T.Shaped(labelPads, b, labels.Length / b)));

    /// <summary>The collapsed labelling of a path: repeats merged, then blanks (0) removed.</summary>
    private static List<int> Collapse(int[] path)
    {
        var c = new List<int>();
        for (int i = 0; i < path.Length; i++)
            if (path[i] != 0 && (i == 0 || path[i] != path[i - 1])) c.Add(path[i]);
        return c;
    }

    [Theory]
    [InlineData(new long[] { 1, 1, 2 }, 5)]
    [InlineData(new long[] { 2, 1 }, 4)]
    [InlineData(new long[] { 1 }, 1)]
    public void Tables_are_the_sums_over_path_prefixes(long[] labels, int frames)
    {
        const int k = 3;
        int n = labels.Length;
        var r = new Random(11);
        double[] z = LossSamples.Normal(r, frames * k, 1.5);
        var p = new double[z.Length];
        for (int t = 0; t < frames; t++) Stable.Softmax<double>(z.AsSpan(t * k, k), p.AsSpan(t * k, k));
        CtcForwardProbabilities f = new OptaxCtcLoss().ForwardProbabilities(In(z, 1, frames, k, new double[frames], labels, new double[n]));
        Assert.Equal(new Shape(frames, 1, n + 1), f.LogAlphaBlank.Shape);
        Assert.Equal(new Shape(frames, 1, n), f.LogAlphaLabel.Shape);
        for (int t = 0; t < frames; t++)
        {
            // Every prefix π_0..π_t, by its probability, collapsed labelling and last symbol.
            var blank = new double[n + 1];
            var label = new double[n];
            int count = (int)Math.Pow(k, t + 1);
            for (int code = 0; code < count; code++)
            {
                var path = new int[t + 1];
                double prob = 1;
                for (int i = 0, c = code; i <= t; i++, c /= k) { path[i] = c % k; prob *= p[i * k + path[i]]; }
                List<int> collapsed = Collapse(path);
                if (collapsed.Count > n || !collapsed.SequenceEqual(labels.Take(collapsed.Count).Select(v => (int)v))) continue;
                // At the last frame the blank row holds every path that emitted the labels, however it ends.
                if (path[t] == 0 || t == frames - 1) blank[collapsed.Count] += prob;
                if (path[t] != 0) label[collapsed.Count - 1] += prob;
            }
            void Check(double expected, double actual, string what)
            {
                if (expected > 0) T.Close(Math.Log(expected), actual, 1e-12, 1e-13);
                else Assert.True(actual < -5e4, $"{what} is unreachable: near log_epsilon, got {actual}");
            }
            for (int j = 0; j <= n; j++) Check(blank[j], f.LogAlphaBlank.GetDouble(t * (n + 1) + j), $"α_B({t}, {j})");
            for (int j = 0; j < n; j++) Check(label[j], f.LogAlphaLabel.GetDouble(t * n + j), $"α_L({t}, {j})");
        }
    }

    [Fact]
    public void The_loss_is_the_forward_backward_loss_and_keeps_the_logits_precision()
    {
        var r = new Random(5);
        int b = 3, frames = 7, k = 5;
        double[] z = LossSamples.Normal(r, b * frames * k, 2);
        // Sequence 1 pads a middle frame and the last; sequence 2 has a repeat and one label of padding.
        double[] pads = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
        long[] labels = [1, 2, 3, 4, 4, 0, 2, 2, 1];
        double[] labelPads = [0, 0, 0, 0, 0, 1, 0, 0, 1];
        LossInputs inputs = In(z, b, frames, k, pads, labels, labelPads);
        var ctc = new OptaxCtcLoss();
        CtcForwardProbabilities f = ctc.ForwardProbabilities(inputs);
        T.Close(T.Values(ctc.Evaluate(inputs).Value), f.Loss, 1e-12);
        for (int s = 0; s < b; s++)
        {
            int length = s == 0 ? 3 : s == 1 ? 2 : 2;
            T.Close(-f.LogAlphaBlank.GetDouble(((frames - 1) * b + s) * 4 + length), f.Loss.GetDouble(s), 1e-15);
        }
        CtcForwardProbabilities single = ctc.ForwardProbabilities(T.As(inputs, DType.Float32));
        Assert.Equal(DType.Float32, single.LogAlphaBlank.DType);
        T.Close(T.Values(f.Loss), single.Loss, 1e-5);
    }

    [Fact]
    public void A_padded_frame_carries_the_states_and_label_padding_only_picks_the_loss()
    {
        var r = new Random(8);
        const int k = 4;
        double[] five = LossSamples.Normal(r, 5 * k);
        // The same four frames with a padded frame (any logits) inserted after the second.
        double[] withPad = [.. five.Take(2 * k), .. LossSamples.Normal(r, k, 9), .. five.Skip(2 * k).Take(2 * k)];
        var ctc = new OptaxCtcLoss();
        CtcForwardProbabilities plain = ctc.ForwardProbabilities(In(five[..(4 * k)], 1, 4, k, new double[4], [1, 3], [0, 0]));
        CtcForwardProbabilities padded = ctc.ForwardProbabilities(In(withPad, 1, 5, k, [0, 0, 1, 0, 0], [1, 3], [0, 0]));
        int[] kept = [0, 1, 3, 4];
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 3; j++) T.Close(plain.LogAlphaBlank.GetDouble(i * 3 + j), padded.LogAlphaBlank.GetDouble(kept[i] * 3 + j), 1e-14);
            for (int j = 0; j < 2; j++) T.Close(plain.LogAlphaLabel.GetDouble(i * 2 + j), padded.LogAlphaLabel.GetDouble(kept[i] * 2 + j), 1e-14);
        }
        for (int j = 0; j < 3; j++) Assert.Equal(padded.LogAlphaBlank.GetDouble(1 * 3 + j), padded.LogAlphaBlank.GetDouble(2 * 3 + j));
        T.Close(T.Values(plain.Loss), padded.Loss, 1e-14);
        // Padding the second label leaves the tables as they are (Optax's recursion never reads the label paddings) and
        // takes the loss from the state of one label instead of two.
        CtcForwardProbabilities one = ctc.ForwardProbabilities(In(five[..(4 * k)], 1, 4, k, new double[4], [1, 3], [0, 1]));
        Assert.Equal(T.Values(plain.LogAlphaBlank), T.Values(one.LogAlphaBlank));
        Assert.Equal(T.Values(plain.LogAlphaLabel), T.Values(one.LogAlphaLabel));
        T.Close(-one.LogAlphaBlank.GetDouble(3 * 3 + 1), one.Loss.GetDouble(0), 0);
    }

    [Fact]
    public void Bad_inputs_are_the_losss_errors()
    {
        var ctc = new OptaxCtcLoss();
        var e = Assert.Throws<LossArgumentException>(() => ctc.ForwardProbabilities(In(new double[9], 1, 3, 3, [0, 0, 0], [1, 1, 1], [0, 0, 0])));
        Assert.Contains("OptaxCtcLoss: sequence 0 has 3 labels but only 3 unpadded frames", e.Message);
        var shape = Assert.Throws<LossArgumentException>(() => ctc.ForwardProbabilities(T.In(("logits", T.Shaped(new double[6], 2, 3)),
            ("logit_paddings", T.Shaped(new double[2], 1, 2)), ("labels", T.Shaped(new long[] { 1 }, 1, 1)), ("label_paddings", T.Shaped(new double[1], 1, 1)))));
        Assert.Equal(LossErrorCode.InvalidShape, shape.Code);
        var nan = Assert.Throws<LossArgumentException>(() => ctc.ForwardProbabilities(In([0, double.NaN, 0], 1, 1, 3, [0], [1], [0])));
        Assert.Contains("'logits' holds NaN at index 1", nan.Message);
        Assert.Contains("missing input 'logit_paddings'", Assert.Throws<LossArgumentException>(() => ctc.ForwardProbabilities(T.In(("logits", T.Shaped(new double[3], 1, 1, 3))))).Message);
    }
}
