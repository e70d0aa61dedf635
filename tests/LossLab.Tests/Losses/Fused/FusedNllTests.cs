using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Losses.Fused;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Fused;

/// <summary>The fused NLL against the catalog's <see cref="NllLoss"/> (the specification) at every row length 1..300.</summary>
public sealed class FusedNllTests
{
    [Fact]
    public void Matches_the_catalog_loss_at_every_row_length_with_weights_ignore_and_every_reduction()
    {
        for (int c = 1; c <= 300; c++)
        {
            var r = new Random(c);
            int rows = 1 + c % 5;
            float[] x = [.. Enumerable.Range(0, rows * c).Select(_ => (float)(-r.NextDouble() * 5))];
            int[] t = [.. Enumerable.Range(0, rows).Select(i => c % 3 == 0 && i == 0 ? -100 : r.Next(c))];
            float[] w = c % 2 == 0 ? [.. Enumerable.Range(0, c).Select(_ => (float)(0.5 + r.NextDouble()))] : [];
            var reduction = (Reduction)(c % 3);
            var g = new float[x.Length];
            var rowLoss = new float[rows];
            double v = FusedNll.Compute(x, t, c, g, reduction, w, rowLosses: rowLoss);
            var loss = new NllLoss(new NllLoss.Options { Reduction = reduction, Weight = w.Length == 0 ? null : TensorData.FromArray(w, c) });
            LossResult expected = loss.Evaluate(new LossInputs().Add("input", TensorData.FromArray(x, rows, c)).Add("target", TensorData.FromArray(t.Select(i => (long)i).ToArray(), rows)));
            double[] ev = T.Values(expected.Value);
            if (reduction == Reduction.None) for (int i = 0; i < rows; i++) Assert.Equal(ev[i], rowLoss[i], 1e-5);
            else Assert.Equal(ev[0], v, 1e-5 * Math.Max(1, Math.Abs(ev[0])));
            double[] eg = T.Values(expected.Gradient("input"));
            for (int i = 0; i < eg.Length; i++) Assert.Equal(eg[i], g[i], 1e-6);
        }
    }

    [Fact]
    public void Minus_infinity_is_a_valid_log_probability_and_bad_targets_are_named()
    {
        var g = new float[4];
        Assert.Equal(float.PositiveInfinity, FusedNll.Compute([float.NegativeInfinity, 0, -1, -2], [0, 1], 2, g, Reduction.Sum));
        var e = Assert.Throws<LossArgumentException>(() => FusedNll.Compute(new float[4], [0, 2], 2, g));
        Assert.Contains("targets[1] = 2", e.Message, StringComparison.Ordinal);
        Assert.True(double.IsNaN(FusedNll.Compute(new float[4], [-100, -100], 2, g)));
        Assert.All(g, v => Assert.Equal(0f, v));
    }
}
