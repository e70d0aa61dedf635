using CsCheck;
using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Reliability;

/// <summary>
/// Properties of every registered loss on random inputs (CsCheck: random seeds and sizes, shrinking on failure):
/// lower bound, reductions, float32 ≈ float64, gradients, batch permutation, minima at perfect predictions, and random shapes.
/// </summary>
public sealed class PropertyTests
{
    private static readonly LossSampleSet[] Sets = [.. LossSamples.All.Values];

    /// <summary>(loss sample set, sample index, value seed).</summary>
    private static readonly Gen<(int Set, int Sample, int Seed)> Cases =
        Gen.Int[0, Sets.Length - 1].SelectMany(set => Gen.Int[0, Sets[set].Samples.Count - 1].SelectMany(sample => Gen.Int[0, 1_000_000].Select(seed => (set, sample, seed))));

    private static (LossSample S, ILoss Loss, LossInputs Inputs) Make((int Set, int Sample, int Seed) c, string? reduction = null)
    {
        LossSample s = Sets[c.Set].Samples[c.Sample];
        var options = new Dictionary<string, object?>(s.Options);
        if (reduction is not null) options["reduction"] = reduction;
        return (s, LossRegistry.Default.Create(Sets[c.Set].Name, options), s.Make(new Random(c.Seed)));
    }

    private static bool Supports(LossDescriptor d, string reduction) => d.Options.Any(o => o.Name == "reduction" && o.Choices.Contains(reduction));

    [Fact]
    public void Every_element_is_at_least_the_documented_lower_bound()
    {
        Cases.Sample(c =>
        {
            var (s, loss, inputs) = Make(c, Supports(LossRegistry.Default.Get(Sets[c.Set].Name), "none") ? "none" : null);
            if (s.Options.ContainsKey("sample_weight")) return;   // bounds are per unweighted element (Keras weights may exceed 1)
            double bound = loss.Descriptor.LowerBound;
            foreach (double v in T.Values(loss.Evaluate(inputs, computeGradients: false).Value))
            {
                Assert.True(v >= bound - 1e-12 * Math.Max(1, Math.Abs(v)) || double.IsNaN(bound), $"{s.Label} seed {c.Seed}: value {v:R} < lower bound {bound}");
            }
        }, iter: 6000, threads: 1);
    }

    [Fact]
    public void Sum_is_the_total_of_none_and_mean_divides_it_by_the_count()
    {
        Gen.Int[0, Sets.Length - 1].SelectMany(set => Gen.Int[0, 1_000_000].Select(seed => (set, seed))).Sample(c =>
        {
            LossSampleSet set = Sets[c.set];
            LossDescriptor d = LossRegistry.Default.Get(set.Name);
            if (!Supports(d, "none") || !Supports(d, "sum")) return;
            var (s, none, inputs) = Make((c.set, 0, c.seed), "none");
            double[] each = T.Values(none.Evaluate(inputs, false).Value);
            double sum = T.Values(Make((c.set, 0, c.seed), "sum").Loss.Evaluate(inputs, false).Value)[0];
            double total = each.Sum();
            Assert.True(Math.Abs(sum - total) <= 1e-9 * Math.Max(1, Math.Abs(total)), $"{s.Label}: sum {sum:R} vs Σ none {total:R}");
            if (set.PlainMean && Supports(d, "mean"))
            {
                double mean = T.Values(Make((c.set, 0, c.seed), "mean").Loss.Evaluate(inputs, false).Value)[0];
                Assert.True(Math.Abs(mean - total / each.Length) <= 1e-9 * Math.Max(1, Math.Abs(mean)), $"{s.Label}: mean {mean:R} vs Σ/n {total / each.Length:R}");
            }
        }, iter: 3000, threads: 1);
    }

    /// <summary>
    /// Random shapes: each loss's own sample generator at random sizes of its default rank (1..7 per dimension). Sizes a
    /// loss cannot take are a typed shape error (skipped); the rest must give finite values, sum = Σ none, mean = Σ/count
    /// where that is the documented denominator, and float32 ≈ float64.
    /// </summary>
    [Fact]
    public void Random_shapes_give_finite_consistent_values()
    {
        LossDescriptor[] all = [.. LossRegistry.Default.Entries.Where(d => d.Sample is not null)];
        int evaluated = 0;
        Gen.Select(Gen.Int[0, all.Length - 1], Gen.Int[0, 1_000_000], Gen.Int[1, 7].Array[4]).Sample((index, seed, dims) =>
        {
            LossDescriptor d = all[index];
            Shape main = d.Sample!(new Random(seed), Shape.Scalar)[d.Inputs[0].Name].Shape;
            if (main.Rank == 0) return;
            var shape = new Shape(Enumerable.Range(0, main.Rank).Select(a => dims[a % dims.Length]).ToArray());
            LossInputs inputs;
            double[] none, sum;
            try
            {
                inputs = d.Sample(new Random(seed), shape);
                if (!Supports(d, "none") || !Supports(d, "sum")) return;
                none = T.Values(d.Create(new Dictionary<string, object?> { ["reduction"] = "none" }).Evaluate(inputs, false).Value);
                sum = T.Values(d.Create(new Dictionary<string, object?> { ["reduction"] = "sum" }).Evaluate(inputs, false).Value);
            }
            catch (LossArgumentException)
            {
                return;   // a size this loss cannot take (e.g. fewer classes than a target index): a typed error is right
            }
            Interlocked.Increment(ref evaluated);
            Assert.All(none, v => Assert.False(double.IsNaN(v), $"{d.Name} at {shape} seed {seed}: NaN"));
            // Σ of the sum's values: one value, except where `reduction` is Optax's over the class axis (one per sample).
            double total = none.Sum(), summed = sum.Sum();
            Assert.True(Math.Abs(summed - total) <= 1e-9 * Math.Max(1, Math.Abs(total)), $"{d.Name} at {shape}: sum {summed:R} vs Σ none {total:R}");
            LossInputs f = T.As(inputs, DType.Float32), dd = T.As(f, DType.Float64);
            ILoss loss = d.Create(new Dictionary<string, object?> { ["reduction"] = "sum" });
            double v32 = T.Values(loss.Evaluate(f, false).Value).Sum(), v64 = T.Values(loss.Evaluate(dd, false).Value).Sum();
            Assert.True(Math.Abs(v32 - v64) <= 1e-4 * Math.Max(1, Math.Abs(v64)), $"{d.Name} at {shape}: float32 {v32:R} vs float64 {v64:R}");
        }, iter: 4000, threads: 1);
        Assert.True(evaluated > 100, $"only {evaluated} random-shape cases were valid for their loss");
    }

    [Fact]
    public void Gradients_equal_central_differences_in_double_on_random_inputs()
    {
        Cases.Sample(c =>
        {
            var (s, loss, inputs) = Make(c);
            var differentiable = loss.Descriptor.Inputs.Where(i => i.Differentiable && inputs.Contains(i.Name) && inputs[i.Name].DType != DType.Int64).Select(i => i.Name);
            var bad = FiniteDifferences.Check(loss, inputs, differentiable);
            Assert.True(bad.Count == 0, $"{s.Label} seed {c.Seed}: " + string.Join("; ", bad.Take(3).Select(m => $"{m.Input}[{m.Index}] analytic {m.Analytic:R} numeric {m.Numeric:R}")));
        }, iter: 2000, threads: 1);
    }

    [Fact]
    public void Float32_is_within_tolerance_of_float64()
    {
        Cases.Sample(c =>
        {
            var (s, loss, d) = Make(c);
            LossInputs f = T.As(d, DType.Float32), dd = T.As(f, DType.Float64);
            double[] v32 = T.Values(loss.Evaluate(f, false).Value), v64 = T.Values(loss.Evaluate(dd, false).Value);
            for (int i = 0; i < v32.Length; i++)
            {
                Assert.True(Math.Abs(v32[i] - v64[i]) <= 1e-4 * Math.Max(1, Math.Abs(v64[i])) || (double.IsNaN(v32[i]) && double.IsNaN(v64[i])), $"{s.Label} seed {c.Seed}: float32 {v32[i]:R} vs float64 {v64[i]:R}");
            }
        }, iter: 4000, threads: 1);
    }

    /// <summary>Where every input and the per-sample output share the batch dimension, permuting the batch permutes the output.</summary>
    [Fact]
    public void Permuting_the_batch_permutes_the_none_output()
    {
        int checkedLosses = 0;
        Cases.Sample(c =>
        {
            if (!Supports(LossRegistry.Default.Get(Sets[c.Set].Name), "none")) return;
            var (s, loss, inputs) = Make(c, "none");
            double[] baseOut = T.Values(loss.Evaluate(inputs, false).Value);
            Shape outShape = loss.Evaluate(inputs, false).Value.Shape;
            int n = outShape.Rank >= 1 ? outShape[0] : -1;
            if (n < 2 || inputs.Tensors.Values.Any(t => t.Shape.Rank == 0 || t.Shape[0] != n)) return;
            if (s.Options.Values.Any(o => o is TensorData w && w.Shape.Rank >= 1 && w.Shape[0] == n)) return;   // per-sample weights would need permuting too
            if (Sets[c.Set].Name.Contains("Ctc", StringComparison.Ordinal) || loss.Descriptor.Task == LossTask.MetricLearning) return;   // batch is not dim 0 / rows interact
            if (s.Options.GetValueOrDefault("loss_type") is "aot" or "aot_pair") return;   // AOT sorts the batch: its outputs are ranks, not rows
            int[] perm = [.. Enumerable.Range(0, n).OrderBy(_ => new Random(c.Seed).Next())];
            new Random(c.Seed).Shuffle(perm);
            var permuted = new LossInputs(inputs.Tensors.Select(kv => KeyValuePair.Create(kv.Key, PermuteRows(kv.Value, perm))));
            double[] p = T.Values(loss.Evaluate(permuted, false).Value);
            int per = baseOut.Length / n;
            for (int r = 0; r < n; r++)
                for (int j = 0; j < per; j++)
                {
                    double expected = baseOut[perm[r] * per + j], actual = p[r * per + j];
                    Assert.True(Math.Abs(expected - actual) <= 1e-12 * Math.Max(1, Math.Abs(expected)) || (double.IsNaN(expected) && double.IsNaN(actual)), $"{s.Label}: row {r} ← {perm[r]}: {actual:R} vs {expected:R}");
                }
            Interlocked.Increment(ref checkedLosses);
        }, iter: 3000, threads: 1);
        Assert.True(checkedLosses > 50, $"only {checkedLosses} cases had a permutable batch");
    }

    private static TensorData PermuteRows(TensorData t, int[] perm)
    {
        int n = t.Shape[0], per = t.Length / n;
        Array data = Array.CreateInstance(t.Data.GetType().GetElementType()!, t.Length);
        for (int r = 0; r < n; r++) Array.Copy(t.Data, perm[r] * per, data, r * per, per);
        return TensorData.Create(t.Shape, t.DType, data);
    }

    /// <summary>Regression losses are minimal (zero) where the prediction equals the target.</summary>
    [Fact]
    public void Regression_losses_are_minimal_at_a_perfect_prediction()
    {
        // Count losses take log μ, whose optimum for a zero count is −∞: TweedieLossTests checks their zero at μ = y > 0.
        var regression = LossRegistry.Default.Entries.Where(d => d.Family == LossFamily.Regression && d.Task != LossTask.CountRegression && d.Inputs.Count == 2
            && d.Inputs[0].Kind == InputKind.Floating && d.Inputs[1].Kind == InputKind.Floating && d.LowerBound == 0 && d.Sample is not null).ToArray();
        Assert.NotEmpty(regression);
        Gen.Int[0, regression.Length - 1].SelectMany(i => Gen.Int[0, 1_000_000].Select(seed => (i, seed))).Sample(c =>
        {
            LossDescriptor d = regression[c.i];
            LossInputs sample = d.Sample!(new Random(c.seed), Shape.Scalar);
            TensorData y = sample[d.Inputs[1].Name];
            // The box IoU losses add ε to their denominators: 1 − A/(A + ε) ≈ ε/A at a perfect prediction, 0 at ε = 0.
            ILoss loss = d.Create(d.Options.Any(o => o.Name == "eps") ? new Dictionary<string, object?> { ["eps"] = 0.0 } : new Dictionary<string, object?>());
            double atTarget = T.Values(loss.Evaluate(new LossInputs().Add(d.Inputs[0].Name, y).Add(d.Inputs[1].Name, y), false).Value)[0];
            double elsewhere = T.Values(loss.Evaluate(sample, false).Value)[0];
            Assert.True(atTarget <= elsewhere + 1e-12, $"{d.Name}: {atTarget:R} at the target > {elsewhere:R} elsewhere");
            Assert.True(Math.Abs(atTarget) <= 1e-12, $"{d.Name}: {atTarget:R} at the target");
        }, iter: 2000, threads: 1);
    }

    [Fact]
    public void Cross_entropy_ignores_a_constant_added_to_a_row_and_its_gradient_rows_sum_to_zero()
    {
        Gen.Select(Gen.Int[1, 12], Gen.Int[1, 40], Gen.Double[-50, 50], Gen.Int[0, 1_000_000]).Sample((n, c, shift, seed) =>
        {
            var r = new Random(seed);
            float[] x = [.. Enumerable.Range(0, n * c).Select(_ => (float)(r.NextDouble() * 10 - 5))];
            long[] t = [.. Enumerable.Range(0, n).Select(_ => (long)r.Next(c))];
            float[] shifted = [.. x.Select((v, i) => v + (float)(shift * ((i / c) % 3 + 1)))];   // a different constant per row
            var loss = new CrossEntropy();
            LossResult a = loss.Evaluate(new LossInputs().Add("input", TensorData.FromArray(x, n, c)).Add("target", TensorData.FromArray(t, n)));
            LossResult b = loss.Evaluate(new LossInputs().Add("input", TensorData.FromArray(shifted, n, c)).Add("target", TensorData.FromArray(t, n)));
            Assert.Equal(a.Scalar, b.Scalar, 2e-4 * Math.Max(1, Math.Abs(a.Scalar)));   // float32 inputs: the shift itself rounds
            float[] g = a.Gradient("input").AsSpan<float>().ToArray();
            for (int row = 0; row < n; row++)
            {
                double s = 0;
                for (int j = 0; j < c; j++) s += g[row * c + j];
                Assert.True(Math.Abs(s) <= 1e-6, $"row {row} gradient sums to {s:R}");
            }
        }, iter: 3000, threads: 1);
    }
}
