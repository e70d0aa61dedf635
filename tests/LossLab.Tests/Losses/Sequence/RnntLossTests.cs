using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Sequence;

/// <summary>
/// The RNN transducer loss against brute-force enumeration of every alignment, by hand on the smallest lattices,
/// torchaudio's clamp and reductions, and its typed errors. Random cases against torchaudio itself are in torch_diff.
/// </summary>
public sealed class RnntLossTests
{
    private static LossInputs Batch(double[] logits, int b, int t, int w, int v, long[] targets, long[] logitLengths, long[] targetLengths)
        => T.In(("logits", T.Shaped(logits, b, t, w, v)), ("targets", T.Shaped(targets, b, w - 1)), ("logit_lengths", T.I(logitLengths)), ("target_lengths", T.I(targetLengths)));

    /// <summary>−log Σ over every path of Π p: each path is an order of T − 1 blanks and U labels, then the final blank.</summary>
    private static double BruteForce(double[] logits, int offset, int w, int v, int tb, long[] labels, int blank)
    {
        double LogP(int t, int u, int k)
        {
            int at = offset + (t * w + u) * v;
            double max = Enumerable.Range(0, v).Max(j => logits[at + j]);
            return logits[at + k] - max - Math.Log(Enumerable.Range(0, v).Sum(j => Math.Exp(logits[at + j] - max)));
        }
        int ub = labels.Length, moves = tb - 1 + ub;
        double total = 0;
        for (int mask = 0; mask < 1 << moves; mask++)
        {
            if (System.Numerics.BitOperations.PopCount((uint)mask) != ub) continue;   // bit set: a label
            int t = 0, u = 0;
            double logp = 0;
            for (int m = 0; m < moves; m++)
            {
                if ((mask >> m & 1) == 1) { logp += LogP(t, u, (int)labels[u]); u++; }
                else { logp += LogP(t, u, blank); t++; }
            }
            total += Math.Exp(logp + LogP(t, u, blank));
        }
        return -Math.Log(total);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(1, 2)]
    [InlineData(3, 0)]
    [InlineData(4, 3)]
    [InlineData(5, 2)]
    public void Equals_brute_force_enumeration_of_the_alignments(int frames, int labels)
    {
        var r = new Random(frames * 10 + labels);
        int w = labels + 1, v = 4;
        double[] x = LossSamples.Normal(r, frames * w * v, 2);
        long[] y = [.. Enumerable.Range(0, labels).Select(_ => (long)r.Next(0, 3))];   // blank = 3, the last class
        LossResult result = LossRegistry.Default.Create("rnnt_loss", T.Opt(("reduction", "none")))
            .Evaluate(Batch(x, 1, frames, w, v, y, [frames], [labels]));
        T.Close(BruteForce(x, 0, w, v, frames, y, 3), T.Values(result.Value)[0], 1e-13, 0);
    }

    [Fact]
    public void The_smallest_lattices_by_hand()
    {
        // T = 1, U = 1, V = 2 (blank 1): the only path emits y₁ = 0 at (0, 0), then the blank at (0, 1).
        double[] x = [0.3, -0.2, 1.1, 0.4];   // cells (0, 0) and (0, 1)
        LossResult r = LossRegistry.Default.Create("rnnt_loss").Evaluate(Batch(x, 1, 1, 2, 2, [0], [1], [1]));
        double LogSoftmax(double a, double b) => a - Math.Log(Math.Exp(a) + Math.Exp(b));
        T.Close(-(LogSoftmax(0.3, -0.2) + LogSoftmax(0.4, 1.1)), r.Scalar, 1e-15, 0);
        // On a single path every transition carries all the flow: ∂ℓ/∂logits = p − onehot(the emitted class), per cell.
        double p00 = Math.Exp(LogSoftmax(0.3, -0.2)), p01 = Math.Exp(LogSoftmax(0.4, 1.1));   // p(y₁) at (0, 0), p(blank) at (0, 1)
        T.Close([p00 - 1, 1 - p00, 1 - p01, p01 - 1], r.Gradient("logits"), 1e-15, 0);
    }

    [Fact]
    public void Cells_past_a_sequence_s_lengths_have_no_gradient_and_mean_is_over_the_batch()
    {
        var r = new Random(3);
        double[] x = LossSamples.Normal(r, 2 * 3 * 3 * 4);
        LossInputs inputs = Batch(x, 2, 3, 3, 4, [1, 2, 0, 0], [3, 2], [2, 1]);
        LossResult none = LossRegistry.Default.Create("rnnt_loss", T.Opt(("reduction", "none"))).Evaluate(inputs);
        LossResult mean = LossRegistry.Default.Create("rnnt_loss").Evaluate(inputs);
        double[] per = T.Values(none.Value);
        T.Close(BruteForce(x, 0, 3, 4, 3, [1, 2], 3), per[0], 1e-13, 0);
        T.Close(BruteForce(x, 36, 3, 4, 2, [0], 3), per[1], 1e-13, 0);
        T.Close(per.Average(), mean.Scalar, 1e-15, 0);   // torchaudio's mean: no division by the target lengths
        double[] g = T.Values(none.Gradient("logits"));
        // Sequence 1 uses frames 0..1 and positions 0..1: frame 2 and position 2 are padding.
        for (int t = 0; t < 3; t++)
            for (int u = 0; u < 3; u++)
                for (int k = 0; k < 4; k++)
                {
                    double gi = g[36 + (t * 3 + u) * 4 + k];
                    if (t >= 2 || u >= 2) Assert.Equal(0.0, gi);
                }
        // Each cell's gradient sums to 0 (a softmax's).
        for (int cell = 0; cell < 18; cell++) Assert.True(Math.Abs(Enumerable.Range(0, 4).Sum(k => g[cell * 4 + k])) < 1e-15);
    }

    [Fact]
    public void Clamp_bounds_each_sequence_s_gradient_before_the_reduction_scales_it()
    {
        var r = new Random(5);
        LossInputs inputs = Batch(LossSamples.Normal(r, 2 * 4 * 3 * 5, 3), 2, 4, 3, 5, [1, 2, 3, 0], [4, 4], [2, 2]);
        double[] free = T.Values(LossRegistry.Default.Create("rnnt_loss", T.Opt(("reduction", "sum"))).Evaluate(inputs).Gradient("logits"));
        double[] sum = T.Values(LossRegistry.Default.Create("rnnt_loss", T.Opt(("reduction", "sum"), ("clamp", 0.05))).Evaluate(inputs).Gradient("logits"));
        double[] mean = T.Values(LossRegistry.Default.Create("rnnt_loss", T.Opt(("clamp", 0.05))).Evaluate(inputs).Gradient("logits"));
        Assert.True(free.Max(Math.Abs) > 0.05);
        for (int i = 0; i < free.Length; i++)
        {
            Assert.Equal(Math.Clamp(free[i], -0.05, 0.05), sum[i], 15);
            Assert.Equal(sum[i] / 2, mean[i], 15);   // torchaudio: 0.025 the largest with mean over 2 sequences
        }
    }

    [Fact]
    public void Names_what_it_cannot_compute()
    {
        var loss = LossRegistry.Default.Create("rnnt_loss");
        double[] x = new double[2 * 3 * 3 * 4];
        string Error(long[] targets, long[] tl, long[] ul) => Assert.Throws<LossArgumentException>(() => loss.Evaluate(Batch(x, 2, 3, 3, 4, targets, tl, ul))).Message;
        Assert.Contains("target 3 of sequence 0 at position 1 must be a class in [0, 3] other than the blank 3", Error([1, 3, 0, 0], [3, 3], [2, 1]));
        Assert.Contains("target 7 of sequence 1 at position 0", Error([1, 2, 7, 0], [3, 3], [2, 1]));
        Assert.Contains("logit_lengths[1] = 0 is outside [1, 3]", Error([1, 2, 0, 0], [3, 0], [2, 1]));
        Assert.Contains("target_lengths[0] = 3 is outside [0, 2]", Error([1, 2, 0, 0], [3, 3], [3, 1]));
        Assert.Contains("'targets' has shape (2, 3); expected (B, U) = (2, 2)", Assert.Throws<LossArgumentException>(() => loss.Evaluate(
            T.In(("logits", T.Shaped(x, 2, 3, 3, 4)), ("targets", T.Shaped(new long[6], 2, 3)), ("logit_lengths", T.I(3, 3)), ("target_lengths", T.I(2, 1))))).Message);
        Assert.Contains("blank 4 is not a class", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("rnnt_loss", T.Opt(("blank", 4L)))
            .Evaluate(Batch(x, 2, 3, 3, 4, [1, 2, 0, 0], [3, 3], [2, 1]))).Message);
    }

    /// <summary>
    /// A batch large enough to split its sequences between the cores (Σ T_b·(U_b + 1)·V ≥ 2²⁰), lengths varying, the
    /// clamp on: each sequence's loss and gradient cells equal the sequence alone (reduction none), the value without
    /// gradients equals the value with them, and the cells past a sequence's lengths get no gradient.
    /// </summary>
    [Fact]
    public void A_split_batch_equals_its_sequences_alone()
    {
        const int b = 4, frames = 60, w = 21, v = 300;
        var r = new Random(9);
        double[] x = [.. Enumerable.Range(0, b * frames * w * v).Select(_ => 4 * r.NextDouble() - 2)];
        long[] targets = [.. Enumerable.Range(0, b * (w - 1)).Select(_ => (long)r.Next(v - 1))];   // blank = the last class
        long[] logitLengths = [.. Enumerable.Range(0, b).Select(i => (long)(frames - 5 * i))];
        long[] targetLengths = [.. Enumerable.Range(0, b).Select(i => (long)(w - 1 - 3 * i))];
        ILoss loss = LossRegistry.Default.Create("rnnt_loss", T.Opt(("reduction", "none"), ("clamp", 0.01)));
        LossResult batch = loss.Evaluate(Batch(x, b, frames, w, v, targets, logitLengths, targetLengths));
        LossResult valueOnly = loss.Evaluate(Batch(x, b, frames, w, v, targets, logitLengths, targetLengths), computeGradients: false);
        Assert.Equal(T.Values(batch.Value), T.Values(valueOnly.Value));
        double[] g = T.Values(batch.Gradient("logits"));
        int block = frames * w * v;
        for (int i = 0; i < b; i++)
        {
            LossResult alone = loss.Evaluate(Batch(x[(i * block)..((i + 1) * block)], 1, frames, w, v, targets[(i * (w - 1))..((i + 1) * (w - 1))], [logitLengths[i]], [targetLengths[i]]));
            Assert.Equal(T.Values(alone.Value)[0], T.Values(batch.Value)[i]);
            double[] ga = T.Values(alone.Gradient("logits"));
            for (int k = 0; k < block; k++)
            {
                int t = k / (w * v), u = k / v % w;
                Assert.Equal(t < logitLengths[i] && u <= targetLengths[i] ? ga[k] : 0, g[i * block + k]);
            }
        }
    }
}
