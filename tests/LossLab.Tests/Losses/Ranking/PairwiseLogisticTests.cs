using LossLab.Losses.Core;
using LossLab.Losses.Ranking;
using LossLab.Numerics;
using LossLab.Numerics.Simd;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.Ranking;

/// <summary>
/// The pair rows of RankNet and LambdaLoss: the vector rows against the scalar term at every width and length, the
/// term against the stable log-sigmoid, and the whole loss against its definition written pair by pair.
/// </summary>
public sealed class PairwiseLogisticTests
{
    [Theory]
    [MemberData(nameof(LaneWidths.All), MemberType = typeof(LaneWidths))]
    public void Vector_rows_match_the_scalar_term_at_every_length(SimdWidth width)
    {
        var r = new Random(7);
        double logEps = Math.Log(1e-10);
        for (int m = 0; m <= 300; m++)
        {
            double[] partners = new double[m], weights = new double[m];
            for (int j = 0; j < m; j++)
            {
                // Mostly moderate differences, some past the log-sigmoid's clamp, past e^−700 and past the 10⁸ clamp.
                partners[j] = (r.Next(12)) switch { 0 => 800 * (r.NextDouble() - 0.5) * 2, 1 => 3e8 * (r.NextDouble() - 0.5), _ => 6 * Gaussian(r) };
                weights[j] = r.Next(10) == 0 ? 0 : 2 * r.NextDouble();
            }
            double score = Gaussian(r);
            foreach (bool weighted in new[] { false, true })
                foreach (double sigma in new[] { 1.0, 0.3 })
                {
                    ReadOnlySpan<double> w = weighted ? weights : default;
                    double[] expectedSlopes = new double[m], slopes = new double[m];
                    for (int j = 0; j < m; j++) slopes[j] = expectedSlopes[j] = j;   // the rows add to what is there
                    double expected = PairwiseLogistic.Row(score, partners, w, 0.7, sigma, logEps, true, expectedSlopes, out double expectedRow, SimdWidth.Scalar);
                    double actual = PairwiseLogistic.Row(score, partners, w, 0.7, sigma, logEps, true, slopes, out double row, width);
                    T.Close(expected, actual, rel: 1e-13, abs: 1e-300);
                    T.Close(expectedRow, row, rel: 1e-13, abs: 1e-300);
                    for (int j = 0; j < m; j++) T.Close(expectedSlopes[j], slopes[j], rel: 1e-13, abs: 1e-300);
                    T.Close(expected, PairwiseLogistic.Row(score, partners, w, 0.7, sigma, logEps, false, default, out _, width), rel: 1e-13, abs: 1e-300);
                }
        }
    }

    [Theory]
    [MemberData(nameof(LaneWidths.All), MemberType = typeof(LaneWidths))]
    public void Nan_scores_come_through_at_every_width(SimdWidth width)
    {
        double[] partners = [.. Enumerable.Range(0, 37).Select(j => j == 20 ? double.NaN : 0.1 * j)];
        double[] slopes = new double[partners.Length];
        double sum = PairwiseLogistic.Row(1, partners, default, 1, 1, Math.Log(1e-10), true, slopes, out double row, width);
        Assert.True(double.IsNaN(sum) && double.IsNaN(row) && double.IsNaN(slopes[20]));
        Assert.All(slopes.Where((_, j) => j != 20), s => Assert.True(double.IsFinite(s)));
    }

    [Fact]
    public void The_term_is_the_log_sigmoid_and_its_slope_the_sigmoid_of_the_negated_margin()
    {
        // With no clamp in reach (log ε = −10³⁰⁰), term = log σ(z) and slope = σ(−z), here against the library's
        // log1p-based forms (Stable.LogSigmoid and Stable.Sigmoid), within a few ulps, from −745 to 745 and at tiny |z|.
        for (double z = -745; z <= 745; z += 0.0137)
            foreach (double d in new[] { z, z * 1e-9, z * 1e-300 })
            {
                double term = PairwiseLogistic.Term(d, 1, 1, -1e300, out double slope);
                T.Close(Stable.LogSigmoid(d), term, rel: 4e-16, abs: 1e-300);
                T.Close(Stable.Sigmoid(-d), slope, rel: 4e-16, abs: 1e-300);
            }
        // Where e^−|z| is tiny the log-sigmoid is −e^−z, not 0 (1 + e rounds to 1; the correction keeps it).
        Assert.Equal(-Math.Exp(-40), PairwiseLogistic.Term(40, 1, 1, -1e300, out _), 1e-30);
        // Past 10⁸ the difference is clamped and has no gradient; w = 0 has none either.
        Assert.Equal(0.0, PairwiseLogistic.Term(2e8, 1, 1, -1e300, out double s1) + s1);
        PairwiseLogistic.Term(-2e8, 1, 1, -1e300, out double s2);
        Assert.Equal(0.0, s2);
        PairwiseLogistic.Term(0.5, 0, 1, -1e300, out double s3);
        Assert.Equal(0.0, s3);
    }

    public static TheoryData<string, long?> Schemes => new()
    {
        { "none", null }, { "ndcg_loss2pp", null }, { "ndcg_loss2", 5 }, { "ndcg_loss1", null }, { "lambda_rank", 3 }, { "ndcg_loss1", 4 },
    };

    [Theory]
    [MemberData(nameof(Schemes))]
    public void LambdaLoss_is_its_definition_pair_by_pair(string scheme, long? k)
    {
        var r = new Random(scheme.Length * 31 + (int)(k ?? 0));
        // Small batches with padding, tied labels and tied scores; and one large enough to be split between the cores.
        foreach (var (n, l) in new[] { (1, 1), (3, 7), (4, 23), (8, 100) })
        {
            double[,] s = new double[n, l], y = new double[n, l], mask = new double[n, l];
            for (int q = 0; q < n; q++)
                for (int i = 0; i < l; i++)
                {
                    s[q, i] = r.Next(5) == 0 ? 0.5 : 2 * Gaussian(r);
                    y[q, i] = r.Next(4);
                    mask[q, i] = i == 0 || r.Next(6) != 0 ? 1 : 0;
                }
            var inputs = T.In(("logits", T.D2(s)), ("labels", T.D2(y)), ("mask", T.D2(mask)));
            var options = k is null ? T.Opt(("weighting_scheme", scheme)) : T.Opt(("weighting_scheme", scheme), ("k", k.Value));
            LossResult result = LossRegistry.Default.Create("lambda_loss", options).Evaluate(inputs);
            var (value, gradient) = Definition(s, y, mask, scheme, k is null ? int.MaxValue : (int)k.Value);
            T.Close(value, result.Scalar, rel: 1e-12, abs: 1e-300);
            T.Close(gradient, result.Gradient("logits"), rel: 1e-11, abs: 1e-17);
        }
    }

    private static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    /// <summary>LambdaLoss as its remarks define it: every pair of the first k documents by score, one at a time.</summary>
    private static (double Value, double[] Gradient) Definition(double[,] s, double[,] y, double[,] mask, string scheme, int k)
    {
        int n = s.GetLength(0), l = s.GetLength(1);
        double logEps = Math.Log(1e-10), total = 0;
        long pairs = 0;
        var g = new double[n * l];
        var terms = new List<(int I, int J, double Slope)>();
        for (int q = 0; q < n; q++)
        {
            int[] order = [.. Enumerable.Range(0, l).Where(i => mask[q, i] == 1).OrderByDescending(i => s[q, i])];
            int top = Math.Min(k, order.Length);
            double[] ideal = [.. order.Select(i => Math.Max(y[q, i], 0)).OrderDescending()];
            double maxDcg = Math.Max(Enumerable.Range(0, top).Sum(p => (Math.Pow(2, ideal[p]) - 1) / Math.Log2(2 + p)), 1e-10);
            double[] gain = [.. order.Select(i => (Math.Pow(2, y[q, i]) - 1) / maxDcg)];
            for (int i = 0; i < top; i++)
                for (int j = 0; j < top; j++)
                {
                    if (scheme != "ndcg_loss1" && !(y[q, order[i]] > y[q, order[j]])) continue;
                    int d = Math.Abs(i - j);
                    double ndcg2 = d == 0 ? 0 : Math.Abs(1 / Math.Log2(1 + d) - 1 / Math.Log2(2 + d)) * Math.Abs(gain[i] - gain[j]);
                    double lambdaRank = Math.Abs(1 / Math.Log2(2 + i) - 1 / Math.Log2(2 + j)) * Math.Abs(gain[i] - gain[j]);
                    double w = scheme switch
                    {
                        "none" => 1,
                        "ndcg_loss1" => gain[i] / Math.Log2(2 + i),
                        "ndcg_loss2" => ndcg2,
                        "lambda_rank" => lambdaRank,
                        _ => 10 * ndcg2 + lambdaRank,
                    };
                    double diff = s[q, order[i]] - s[q, order[j]];
                    double logU = Stable.LogSigmoid(diff), logV = w * Math.Max(logU, logEps);
                    total += Math.Max(logV, logEps) / Math.Log(2);
                    pairs++;
                    if (logU >= logEps && logV >= logEps && w != 0)
                        terms.Add((q * l + order[i], q * l + order[j], w * Stable.Sigmoid(-diff) / Math.Log(2)));
                }
        }
        foreach (var (i, j, slope) in terms)
        {
            g[i] -= slope / pairs;
            g[j] += slope / pairs;
        }
        return (pairs == 0 ? 0 : -total / pairs, g);
    }
}
