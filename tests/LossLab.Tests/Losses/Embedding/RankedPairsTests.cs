using LossLab.Losses.Embedding;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Embedding;

/// <summary>CoSENT and AnglE's ranked-pair log-sum-exp by running sums against the definition over every pair.</summary>
public sealed class RankedPairsTests
{
    [Theory]
    [InlineData(1, 1, 0.0)]
    [InlineData(2, 7, 0.0)]
    [InlineData(3, 60, 0.0)]
    [InlineData(4, 60, 0.5)]
    [InlineData(5, 300, 0.3)]
    public void Running_sums_give_the_pairs_value_and_gradient(int seed, int n, double tieShare)
    {
        // Scores up to ±600: e^{s} alone overflows, the pair differences do not; labels on a coarse grid (ties make no pair).
        var r = new Random(seed);
        double[] s = [.. Enumerable.Range(0, n).Select(_ => (r.NextDouble() - 0.5) * (seed == 5 ? 1200 : 40))];
        double[] y = [.. Enumerable.Range(0, n).Select(_ => r.NextDouble() < tieShare ? 2.0 : Math.Round(5 * r.NextDouble(), 1))];
        double max = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) if (y[i] < y[j]) max = Math.Max(max, s[i] - s[j]);
        double total = Math.Exp(-max);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) if (y[i] < y[j]) total += Math.Exp(s[i] - s[j] - max);
        double value = max + Math.Log(total);
        var gs = new double[n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (!(y[i] < y[j])) continue;
                double w = Math.Exp(s[i] - s[j] - value);
                gs[i] += w;
                gs[j] -= w;
            }
        var (v, g) = PairRanking.RankedPairs(s, y, true);
        T.Close(value, v, rel: 1e-13, abs: 1e-13);
        T.Close(gs, T.D(g), rel: 1e-11, abs: 1e-13);
        Assert.Equal(v, PairRanking.RankedPairs(s, y, false).Value);
    }

    [Fact]
    public void No_ranked_pair_gives_zero_and_a_nan_score_gives_nan()
    {
        var (v, g) = PairRanking.RankedPairs([1, 2, 3], [4, 4, 4], true);
        Assert.Equal(0, v);
        Assert.All(g, x => Assert.Equal(0, x));
        Assert.True(double.IsNaN(PairRanking.RankedPairs([1, double.NaN, 3], [1, 2, 3], false).Value));
        // A NaN label is in no pair: the value of the others alone.
        T.Close(PairRanking.RankedPairs([1, 3], [1, 3], false).Value, PairRanking.RankedPairs([1, 2, 3], [1, double.NaN, 3], false).Value, rel: 1e-15);
    }
}
