using LossLab.Losses.Core;
using LossLab.Losses.MetricLearning;
using LossLab.Numerics;
using LossLab.Numerics.Simd;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.MetricLearning;

/// <summary>
/// Smooth-AP on rows whose cosines are known by hand (the paper's formula evaluated here, not the implementation), and a
/// golden value from pytorch-metric-learning's SmoothAPLoss code run with torch 1.13 in float64.
/// </summary>
public sealed class SmoothApLossTests
{
    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    /// <summary>(1, 0), (0, 1) of class 0 and (−1, 0), (0, −1) of class 1: from each query its positive is at cosine 0,
    /// the negatives at −1 and 0 (and the query itself at 1).</summary>
    private static LossInputs Square() => T.In(("embeddings", T.D2(new double[,] { { 1, 0 }, { 0, 1 }, { -1, 0 }, { 0, -1 } })), ("labels", T.I(0, 0, 1, 1)));

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.1)]
    public void The_authors_ap_counts_the_query_among_its_positives(double tau)
    {
        double k = 1 / tau;
        // p = the query (s = 1): the positive at 0, negatives at −1 and 0. p = the other positive (s = 0): the query at 1,
        // negatives at −1 and 0 (σ(0) = ½). Every query sees the same, by symmetry.
        double self = (1 + Sigmoid(-k)) / (1 + Sigmoid(-k) + Sigmoid(-2 * k) + Sigmoid(-k));
        double other = (1 + Sigmoid(k)) / (1 + Sigmoid(k) + Sigmoid(-k) + 0.5);
        LossResult r = LossRegistry.Default.Create("smooth_ap_loss", T.Opt(("temperature", tau))).Evaluate(Square());
        T.Close(1 - (self + other) / 2, r.Scalar, rel: 1e-14);
    }

    [Fact]
    public void Exclude_query_is_the_papers_ap()
    {
        // The query out: its one positive at 0 ranked against the negatives at −1 and 0.
        double k = 1 / 0.5;
        double expected = 1 - 1 / (1 + Sigmoid(-k) + 0.5);
        T.Close(expected, LossRegistry.Default.Create("smooth_ap_loss", T.Opt(("temperature", 0.5), ("exclude_query", true))).Evaluate(Square()).Scalar, rel: 1e-14);
        // No query with another positive: nothing to average, 0 with a zero gradient.
        var singletons = T.In(("embeddings", T.D2(new double[,] { { 1, 0 }, { 0, 1 } })), ("labels", T.I(0, 1)));
        LossResult none = LossRegistry.Default.Create("smooth_ap_loss", T.Opt(("exclude_query", true))).Evaluate(singletons);
        Assert.Equal(0.0, none.Scalar);
        Assert.All(T.Values(none.Gradient("embeddings")), g => Assert.Equal(0.0, g));
    }

    /// <summary>pytorch-metric-learning's SmoothAPLoss (its compute_loss, torch 1.13, float64) on 3 classes × 3 rows in blocks,
    /// the layout where its grouping and the authors' agree.</summary>
    [Theory]
    [InlineData(0.01, 0.29594407002909007)]
    [InlineData(0.2, 0.3592996893749618)]
    public void Pml_golden_value(double tau, double expected)
    {
        double[,] e =
        {
            { 0.3, 0.24, 0.28, -0.23 }, { 0.67, 0.78, -1.79, -1.75 }, { 0.17, 0.27, 0.43, 0.23 }, { -1.02, -0.83, 1.73, -1.49 }, { 0.42, 1.5, 1.27, 0.62 },
            { 1.93, 0.15, -0.64, 0.86 }, { -1.22, -0.44, -0.27, -0.81 }, { -0.23, -0.21, 0.57, 0.62 }, { -1.99, -0.25, -1.02, 0.14 },
        };
        var inputs = T.In(("embeddings", T.D2(e)), ("labels", T.I(0, 0, 0, 1, 1, 1, 2, 2, 2)));
        T.Close(expected, LossRegistry.Default.Create("pml.SmoothAPLoss", T.Opt(("temperature", tau))).Evaluate(inputs).Scalar, rel: 1e-13);
        // The labels, not the order, decide: the same rows shuffled give the same value.
        int[] perm = [4, 0, 8, 2, 6, 1, 3, 7, 5];
        double[,] shuffled = new double[9, 4];
        long[] labels = new long[9];
        for (int i = 0; i < 9; i++) { for (int k = 0; k < 4; k++) shuffled[i, k] = e[perm[i], k]; labels[i] = perm[i] / 3; }
        var again = T.In(("embeddings", T.D2(shuffled)), ("labels", T.I(labels)));
        T.Close(expected, LossRegistry.Default.Create("smooth_ap_loss", T.Opt(("temperature", tau))).Evaluate(again).Scalar, rel: 1e-13);
    }

    [Theory]
    [MemberData(nameof(LaneWidths.All), MemberType = typeof(LaneWidths))]
    public void Vector_rows_match_the_scalar_rows_at_every_length(SimdWidth width)
    {
        // Similarities in [−1, 1] at τ = 0.01 and 0.001 (gaps up to 2000/τ-scaled, past the 700 cut), some rows not ranked.
        var r = new Random(3);
        for (int n = 0; n <= 300; n++)
        {
            double[] s = new double[n], ranked = new double[n], positive = new double[n], g0 = new double[n], g1 = new double[n];
            for (int j = 0; j < n; j++)
            {
                s[j] = 2 * r.NextDouble() - 1;
                ranked[j] = r.Next(9) == 0 ? 0 : 1;
                positive[j] = r.Next(3) == 0 ? 1 : 0;
                g0[j] = g1[j] = r.NextDouble();   // the slopes add to what is there
            }
            foreach (double tau in new[] { 0.01, 0.001 })
            {
                double sp = n == 0 ? 0.3 : s[r.Next(n)];
                double[] sigma0 = new double[n], sigma1 = new double[n];
                var (all0, pos0) = SmoothApLoss.Sigmoids(s, sp, tau, ranked, positive, sigma0, SimdWidth.Scalar);
                var (all1, pos1) = SmoothApLoss.Sigmoids(s, sp, tau, ranked, positive, sigma1, width);
                T.Close(all0, all1, rel: 1e-13, abs: 1e-300);
                T.Close(pos0, pos1, rel: 1e-13, abs: 1e-300);
                for (int j = 0; j < n; j++) T.Close(sigma0[j], sigma1[j], rel: 4e-16 * 8, abs: 1e-300);
                double w0 = SmoothApLoss.Slopes(sigma0, positive, -0.01, 0.2, -0.3, tau, g0, SimdWidth.Scalar);
                double w1 = SmoothApLoss.Slopes(sigma0, positive, -0.01, 0.2, -0.3, tau, g1, width);
                T.Close(w0, w1, rel: 1e-12, abs: 1e-300);
                for (int j = 0; j < n; j++) T.Close(g0[j], g1[j], rel: 1e-13, abs: 1e-300);
            }
        }
    }

    [Fact]
    public void The_row_sigmoid_is_the_stable_sigmoid()
    {
        // Against Stable.Sigmoid across the cut at |z| = 700, where both are 1 or below 10⁻³⁰⁴.
        double[] s = [.. Enumerable.Range(0, 4001).Select(i => -1 + i / 2000.0)];
        double[] ones = [.. s.Select(_ => 1.0)], sigma = new double[s.Length];
        foreach (double tau in new[] { 1.0, 0.01, 0.0013 })
        {
            SmoothApLoss.Sigmoids(s, 0.0, tau, ones, ones, sigma, SimdWidth.Scalar);
            for (int j = 0; j < s.Length; j++) T.Close(Stable.Sigmoid(s[j] / tau), sigma[j], rel: 4e-16, abs: 1e-300);
        }
    }

    [Fact]
    public void A_temperature_that_is_not_positive_is_refused()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("smooth_ap_loss", T.Opt(("temperature", 0.0))));
        Assert.Equal("SmoothApLoss: temperature must be a positive value, got 0", e.Message);
    }
}
