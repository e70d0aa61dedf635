using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>MultilabelMarginLoss by sorted suffixes against its definition pair by pair.</summary>
public sealed class MultilabelMarginLossTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    public void Sorted_suffixes_give_the_pairs_value_and_gradient(int seed, bool float32)
    {
        // Scores on a grid of quarters, so that many pairs sit exactly at z = 1 − x_j + x_i = 0 (inactive: strict);
        // label lists of every length, with duplicates, ended by −1 (later entries ignored).
        var r = new Random(seed);
        int n = 12, c = 40;
        double[] x = [.. Enumerable.Range(0, n * c).Select(_ => r.Next(-8, 9) / 4.0)];
        long[] target = new long[n * c];
        for (int row = 0; row < n; row++)
        {
            int k = row == 0 ? 0 : row == 1 ? c : r.Next(1, c);
            for (int q = 0; q < c; q++) target[row * c + q] = q < k ? (q > 0 && r.Next(6) == 0 ? target[row * c + q - 1] : r.Next(c)) : q == k ? -1 : r.Next(-1, c);
        }
        var value = new double[n];
        var grad = new double[n * c];
        for (int row = 0; row < n; row++)
        {
            var labels = new List<int>();
            for (int q = 0; q < c && target[row * c + q] != -1; q++) labels.Add((int)target[row * c + q]);
            foreach (int j in labels)
                for (int i = 0; i < c; i++)
                {
                    if (labels.Contains(i)) continue;
                    double z = 1 - x[row * c + j] + x[row * c + i];
                    if (z <= 0) continue;
                    value[row] += z / c;
                    grad[row * c + i] += 1.0 / (n * c);
                    grad[row * c + j] -= 1.0 / (n * c);
                }
        }
        TensorData input = float32 ? T.Shaped(x.Select(v => (float)v).ToArray(), n, c) : T.Shaped(x, n, c);
        var inputs = T.In(("input", input), ("target", T.Shaped(target, n, c)));
        LossResult mean = LossRegistry.Default.Create("multilabel_margin_loss").Evaluate(inputs);
        T.Close(value.Average(), mean.Scalar, rel: float32 ? 1e-6 : 1e-14);
        T.Close(grad, mean.Gradient("input"), rel: float32 ? 1e-6 : 1e-14);
        LossResult none = LossRegistry.Default.Create("multilabel_margin_loss", T.Opt(("reduction", "none"))).Evaluate(inputs);
        T.Close(value, none.Value, rel: float32 ? 1e-6 : 1e-14);
    }
}
