using LossLab.Losses.Core;
using LossLab.Losses.Sequence;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Sequence;

public sealed class CtcLossTests
{
    /// <summary>Collapses an alignment: merge repeats, then drop blanks.</summary>
    private static List<int> Collapse(int[] path, int blank)
    {
        var result = new List<int>();
        int prev = -1;
        foreach (int k in path)
        {
            if (k != prev && k != blank) result.Add(k);
            prev = k;
        }
        return result;
    }

    /// <summary>
    /// Brute force over all C^T alignments: P = Σ_{π: B(π) = l} Π_t y_t(π_t), and the true gradient
    /// ∂(−log P)/∂lp_t(c) = −Σ_{π: B(π) = l, π_t = c} p(π) / P.
    /// </summary>
    private static (double Loss, double[] Grad) BruteForce(double[,] lp, int[] label, int blank)
    {
        int frames = lp.GetLength(0), c = lp.GetLength(1);
        var path = new int[frames];
        double total = 0;
        var occupancy = new double[frames * c];
        for (long code = 0; code < (long)Math.Pow(c, frames); code++)
        {
            long rest = code;
            double logp = 0;
            for (int t = 0; t < frames; t++)
            {
                path[t] = (int)(rest % c);
                rest /= c;
                logp += lp[t, path[t]];
            }
            if (!Collapse(path, blank).SequenceEqual(label)) continue;
            double p = Math.Exp(logp);
            total += p;
            for (int t = 0; t < frames; t++) occupancy[t * c + path[t]] += p;
        }
        return (-Math.Log(total), occupancy.Select(o => -o / total).ToArray());
    }

    private static double[,] RandomLogProbs(Random r, int frames, int c)
    {
        var lp = new double[frames, c];
        for (int t = 0; t < frames; t++)
        {
            double[] z = LossSamples.Normal(r, c);
            double lse = Math.Log(z.Sum(Math.Exp));
            for (int k = 0; k < c; k++) lp[t, k] = z[k] - lse;
        }
        return lp;
    }

    [Theory]
    [InlineData(4, 3, new[] { 1 }, 0)]
    [InlineData(5, 3, new[] { 1, 2 }, 0)]
    [InlineData(5, 3, new[] { 1, 1 }, 0)]          // a repeat needs a blank between
    [InlineData(6, 4, new[] { 2, 1, 2 }, 0)]
    [InlineData(5, 4, new[] { 0, 0 }, 3)]           // blank other than 0
    [InlineData(4, 3, new int[0], 0)]               // empty target: all blanks
    [InlineData(3, 3, new[] { 1, 1 }, 0)]           // exactly feasible: 1, blank, 1
    public void Loss_and_true_gradient_match_brute_force_enumeration_of_all_alignments(int frames, int c, int[] label, int blank)
    {
        double[,] lp = RandomLogProbs(new Random(frames * 31 + c), frames, c);
        var (expected, expectedGrad) = BruteForce(lp, label, blank);
        var inputs = T.In(("log_probs", T.Shaped(lp.Cast<double>().ToArray(), frames, c)), ("targets", T.Shaped(label.Select(v => (long)v).ToArray(), label.Length)),
            ("input_lengths", T.Shaped(new long[] { frames })), ("target_lengths", T.Shaped(new long[] { label.Length })));
        var r = new CtcLoss(new() { Blank = blank, Reduction = Reduction.Sum, TrueGradient = true }).Evaluate(inputs);
        T.Close(expected, r.Scalar, rel: 1e-12);
        T.Close(expectedGrad, r.Gradient("log_probs"), rel: 1e-10, abs: 1e-13);
        // PyTorch's convention adds exp(lp) to the true derivative.
        var torch = new CtcLoss(new() { Blank = blank, Reduction = Reduction.Sum }).Evaluate(inputs);
        T.Close(expectedGrad.Select((g, i) => g + Math.Exp(lp[i / c, i % c])).ToArray(), torch.Gradient("log_probs"), rel: 1e-10, abs: 1e-13);
    }

    [Fact]
    public void Infeasible_alignment_gives_infinity_and_NaN_gradients_or_zero_with_zero_infinity()
    {
        // "aa" needs T ≥ 3; T = 2 is infeasible.
        var inputs = T.In(("log_probs", T.Shaped(RandomLogProbs(new Random(1), 2, 3).Cast<double>().ToArray(), 2, 1, 3)),
            ("targets", T.Shaped(new long[] { 1, 1 }, 1, 2)), ("input_lengths", T.I(2)), ("target_lengths", T.I(2)));
        var plain = new CtcLoss(new() { Reduction = Reduction.Sum }).Evaluate(inputs);
        Assert.Equal(double.PositiveInfinity, plain.Scalar);
        Assert.All(T.Values(plain.Gradient("log_probs")), g => Assert.True(double.IsNaN(g)));
        var zeroed = new CtcLoss(new() { Reduction = Reduction.Mean, ZeroInfinity = true }).Evaluate(inputs);
        Assert.Equal(0, zeroed.Scalar);
        Assert.All(T.Values(zeroed.Gradient("log_probs")), g => Assert.Equal(0.0, g));
    }

    [Fact]
    public void Zero_input_length_gives_zero_for_an_empty_target_and_infinity_otherwise()
    {
        LossInputs Make(long targetLength) => T.In(("log_probs", T.Shaped(new double[] { -1, -1, -1, -1 }, 2, 1, 2)),
            ("targets", T.Shaped(new long[] { 1 }, 1, 1)), ("input_lengths", T.I(0)), ("target_lengths", T.I(targetLength)));
        var loss = new CtcLoss(new() { Reduction = Reduction.Sum });
        Assert.Equal(0, loss.Evaluate(Make(0)).Scalar);
        Assert.Equal(double.PositiveInfinity, loss.Evaluate(Make(1)).Scalar);
        Assert.All(T.Values(loss.Evaluate(Make(0)).Gradient("log_probs")), g => Assert.Equal(0.0, g));
    }

    [Fact]
    public void Concatenated_targets_equal_padded_targets_and_mean_divides_by_target_length()
    {
        LossInputs padded = CatalogTwo.Ctc(new Random(4));
        var concatenated = new LossInputs(padded.Tensors).Add("targets", T.I(1, 1, 2, 2, 1));
        var none = new CtcLoss(new() { Reduction = Reduction.None });
        double[] a = T.Values(none.Evaluate(padded).Value), b = T.Values(none.Evaluate(concatenated).Value);
        Assert.Equal(a, b);
        double mean = new CtcLoss().Evaluate(padded).Scalar;
        T.Close((a[0] / 3 + a[1] / 2) / 2, mean, rel: 1e-14);
    }

    [Fact]
    public void Frames_beyond_the_input_length_get_zero_gradient()
    {
        LossInputs inputs = CatalogTwo.Ctc(new Random(5));   // sample 1 uses 5 of 6 frames
        double[] g = T.Values(new CtcLoss().Evaluate(inputs).Gradient("log_probs"));
        // Layout (T, N, C) = (6, 2, 4): frame 5 of sample 1 is g[5·8 + 4 .. 5·8 + 8).
        Assert.All(g[44..48], v => Assert.Equal(0.0, v));
        Assert.Contains(g[36..40], v => v != 0);
    }

    [Fact]
    public void Bad_targets_and_lengths_are_typed_errors()
    {
        LossInputs good = CatalogTwo.Ctc(new Random(6));
        var blankInTarget = new LossInputs(good.Tensors).Add("targets", T.Shaped(new long[] { 1, 0, 2, 2, 1, 0 }, 2, 3));
        Assert.Contains("blank", Assert.Throws<LossArgumentException>(() => new CtcLoss().Evaluate(blankInTarget)).Message);
        var tooLong = new LossInputs(good.Tensors).Add("input_lengths", T.I(7, 5));
        Assert.Contains("input_lengths[0] = 7", Assert.Throws<LossArgumentException>(() => new CtcLoss().Evaluate(tooLong)).Message);
        var shortConcat = new LossInputs(good.Tensors).Add("targets", T.I(1, 1));
        Assert.Equal(LossErrorCode.InvalidShape, Assert.Throws<LossArgumentException>(() => new CtcLoss().Evaluate(shortConcat)).Code);
        var wrongRows = new LossInputs(good.Tensors).Add("targets", T.Shaped(new long[9], 3, 3));
        Assert.Equal(LossErrorCode.InvalidShape, Assert.Throws<LossArgumentException>(() => new CtcLoss().Evaluate(wrongRows)).Code);
        Assert.Throws<LossArgumentException>(() => new CtcLoss(new() { Blank = 4 }).Evaluate(good));
    }

    /// <summary>
    /// A batch large enough to split its samples between the cores (Σ T_b·(2S_b + 1 + C) ≥ 2²⁰), lengths varying, blank
    /// not 0: each sample's loss and gradient rows equal the sample alone, the value without gradients (which reads only
    /// the label's classes) equals the value with them, and the frames past a sample's length get no gradient.
    /// </summary>
    [Fact]
    public void A_split_batch_equals_its_samples_alone()
    {
        const int frames = 400, n = 8, c = 300, width = 20, blank = 7;
        var r = new Random(5);
        double[] lp = new double[frames * n * c];
        for (int row = 0; row < frames * n; row++)
        {
            double[] z = [.. Enumerable.Range(0, c).Select(_ => 3 * r.NextDouble())];
            double lse = Math.Log(z.Sum(Math.Exp));
            for (int k = 0; k < c; k++) lp[row * c + k] = z[k] - lse;
        }
        long[] targets = [.. Enumerable.Range(0, n * width).Select(_ => (long)r.Next(c))];
        for (int i = 0; i < targets.Length; i++) if (targets[i] == blank) targets[i] = blank + 1;
        long[] inputLengths = [.. Enumerable.Range(0, n).Select(b => (long)(frames - 13 * b))];
        long[] targetLengths = [.. Enumerable.Range(0, n).Select(b => (long)(width - b))];
        var loss = new CtcLoss(new() { Blank = blank, Reduction = Reduction.None });
        LossResult batch = loss.Evaluate(T.In(("log_probs", T.Shaped(lp, frames, n, c)), ("targets", T.Shaped(targets, n, width)),
            ("input_lengths", T.Shaped(inputLengths, n)), ("target_lengths", T.Shaped(targetLengths, n))));
        LossResult valueOnly = loss.Evaluate(T.In(("log_probs", T.Shaped(lp, frames, n, c)), ("targets", T.Shaped(targets, n, width)),
            ("input_lengths", T.Shaped(inputLengths, n)), ("target_lengths", T.Shaped(targetLengths, n))), computeGradients: false);
        Assert.Equal(T.Values(batch.Value), T.Values(valueOnly.Value));
        double[] g = T.Values(batch.Gradient("log_probs"));
        for (int b = 0; b < n; b++)
        {
            double[] own = [.. Enumerable.Range(0, frames * c).Select(i => lp[(i / c * n + b) * c + i % c])];
            LossResult alone = loss.Evaluate(T.In(("log_probs", T.Shaped(own, frames, 1, c)), ("targets", T.Shaped(targets[(b * width)..((b + 1) * width)], 1, width)),
                ("input_lengths", T.Shaped(new[] { inputLengths[b] }, 1)), ("target_lengths", T.Shaped(new[] { targetLengths[b] }, 1))));
            Assert.Equal(T.Values(alone.Value)[0], T.Values(batch.Value)[b]);
            double[] ga = T.Values(alone.Gradient("log_probs"));
            for (int t = 0; t < frames; t++)
                for (int k = 0; k < c; k++)
                {
                    double expected = t < inputLengths[b] ? ga[t * c + k] : 0;
                    Assert.Equal(expected, g[(t * n + b) * c + k]);
                }
        }
    }
}
