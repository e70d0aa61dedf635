using LossLab.Metrics;

namespace LossLab.Tests.Metrics;

/// <summary>Spearman, Kendall's τ-b and Harrell's C in O(n log n), against scipy and a brute-force count of every pair.</summary>
public sealed class RankCorrelationTests
{
    [Fact]
    public void A_small_case_with_ties_matches_scipy()
    {
        // scipy 1.10.1: spearmanr(p, t).correlation, kendalltau(p, t).correlation; C counted pair by pair.
        double[] p = [0.1, 0.4, 0.4, 0.9, 0.2, 0.7, 0.7, 0.3];
        double[] t = [1, 3, 2, 5, 1, 4, 4, 2];
        RankResult r = RankCorrelation.Of(p, t);
        Assert.Equal(0.975478480327811, r.Spearman, 14);
        Assert.Equal(0.9413574486632834, r.KendallTau, 14);
        Assert.Equal(0.98, r.Concordance, 14);
    }

    [Theory]
    [InlineData(1, 50, 5)]
    [InlineData(2, 300, 1000)]
    [InlineData(3, 200, 3)]
    public void Random_data_with_ties_match_a_count_of_every_pair(int seed, int n, int levels)
    {
        var random = new Random(seed);
        double[] p = [.. Enumerable.Range(0, n).Select(_ => (double)random.Next(levels))];
        double[] t = [.. Enumerable.Range(0, n).Select((_, i) => p[i] + random.Next(levels / 2 + 2))];
        long concordant = 0, discordant = 0, tiedP = 0, tiedT = 0, predictionOnly = 0, pairs = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                pairs++;
                double s = Math.Sign(p[i] - p[j]) * Math.Sign(t[i] - t[j]);
                if (s > 0) concordant++;
                if (s < 0) discordant++;
                if (p[i] == p[j]) tiedP++;
                if (t[i] == t[j]) tiedT++;
                if (p[i] == p[j] && t[i] != t[j]) predictionOnly++;
            }
        }
        RankResult r = RankCorrelation.Of(p, t);
        Assert.Equal((concordant - discordant) / Math.Sqrt((double)(pairs - tiedP) * (pairs - tiedT)), r.KendallTau, 12);
        Assert.Equal((concordant + 0.5 * predictionOnly) / (pairs - tiedT), r.Concordance, 12);
        Assert.InRange(r.Spearman, r.KendallTau - 0.5, 1);
    }

    [Fact]
    public void A_perfect_order_reversed_order_and_undefined_cases()
    {
        double[] x = [1, 2, 3, 4];
        Assert.Equal(new RankResult(1, 1, 1), RankCorrelation.Of(x, [10, 20, 30, 40]));
        Assert.Equal(new RankResult(-1, -1, 0), RankCorrelation.Of(x, [4, 3, 2, 1]));
        Assert.True(double.IsNaN(RankCorrelation.Of(x, [5, 5, 5, 5]).Spearman));   // a constant target
        Assert.True(double.IsNaN(RankCorrelation.Of([1.0], [2.0]).KendallTau));
        Assert.True(double.IsNaN(RankCorrelation.Of([1, double.NaN], [2.0, 3]).Concordance));
        Assert.Throws<ArgumentException>(() => RankCorrelation.Of([1.0, 2], [1.0]));
    }
}
