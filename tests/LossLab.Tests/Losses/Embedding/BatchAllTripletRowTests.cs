using LossLab.Losses.Core;
using LossLab.Losses.Embedding;
using LossLab.Numerics;
using LossLab.Numerics.Simd;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.Embedding;

/// <summary>BatchAllTripletLoss's anchor–positive rows: the vector form against the scalar loop, and the loss against its triplets one by one.</summary>
public sealed class BatchAllTripletRowTests
{
    [Theory]
    [MemberData(nameof(LaneWidths.All), MemberType = typeof(LaneWidths))]
    public void Vector_rows_match_the_scalar_row_at_every_length(SimdWidth width)
    {
        var r = new Random(5);
        for (int m = 0; m <= 300; m++)
        {
            // Distances around d_ij + margin, some exactly there (t = 0) and some within 10⁻¹⁶ above.
            double dij = 2 * r.NextDouble(), margin = 0.5;
            double[] negatives = new double[m], a0 = new double[m], a1 = new double[m];
            for (int k = 0; k < m; k++)
            {
                negatives[k] = r.Next(10) switch { 0 => dij + margin, 1 => dij + margin - 5e-17, _ => 4 * r.NextDouble() };
                a0[k] = a1[k] = r.Next(3);   // the counts add to what is there
            }
            var expected = BatchAllTripletLoss.Row(dij, margin, negatives, a0, SimdWidth.Scalar);
            var actual = BatchAllTripletLoss.Row(dij, margin, negatives, a1, width);
            T.Close(expected.Sum, actual.Sum, rel: 1e-14);
            Assert.Equal(expected.Positive, actual.Positive);
            Assert.Equal(expected.Active, actual.Active);
            Assert.Equal(a0, a1);
            Assert.Equal(expected.Active, BatchAllTripletLoss.Row(dij, margin, negatives, default, width).Active);
        }
    }

    [Fact]
    public void The_loss_is_its_triplets_one_by_one()
    {
        // 40 rows of 3 labels in 5 dimensions, Euclidean, margin 1: the mean of the positive triplets and ∂/∂d by counting.
        var r = new Random(9);
        int n = 40, dim = 5;
        double[,] x = new double[n, dim];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = r.Next(3);
            for (int c = 0; c < dim; c++) x[i, c] = r.NextDouble() - 0.5;
        }
        double D(int i, int j) => Math.Sqrt(Enumerable.Range(0, dim).Sum(c => (x[i, c] - x[j, c]) * (x[i, c] - x[j, c])));
        double sum = 0;
        long count = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int k = 0; k < n; k++)
                {
                    if (j == i || labels[j] != labels[i] || labels[k] == labels[i]) continue;
                    double t = D(i, j) - D(i, k) + 1;
                    if (t > 0) sum += t;
                    if (t > 1e-16) count++;
                }
        var inputs = T.In(("embeddings", T.D2(x)), ("labels", TensorData.FromArray(labels, n)));
        LossResult result = LossRegistry.Default.Create("batch_all_triplet_loss", T.Opt(("margin", 1.0))).Evaluate(inputs);
        T.Close(sum / (count + 1e-16), result.Scalar, rel: 1e-12);
        // The gradient against central differences of the loss (the count held: no triplet sits at t = 0 here).
        double h = 1e-6;
        for (int q = 0; q < 12; q++)
        {
            int i = r.Next(n), c = r.Next(dim);
            double keep = x[i, c];
            x[i, c] = keep + h;
            double up = LossRegistry.Default.Create("batch_all_triplet_loss", T.Opt(("margin", 1.0))).Evaluate(T.In(("embeddings", T.D2(x)), ("labels", TensorData.FromArray(labels, n))), false).Scalar;
            x[i, c] = keep - h;
            double down = LossRegistry.Default.Create("batch_all_triplet_loss", T.Opt(("margin", 1.0))).Evaluate(T.In(("embeddings", T.D2(x)), ("labels", TensorData.FromArray(labels, n))), false).Scalar;
            x[i, c] = keep;
            T.Close((up - down) / (2 * h), result.Gradient("embeddings").GetDouble(i * dim + c), rel: 1e-5, abs: 1e-9);
        }
    }
}

/// <summary>BatchSemiHardTripletLoss's binary search against the definition's scan over every negative, ties included.</summary>
public sealed class BatchSemiHardSearchTests
{
    [Theory]
    [InlineData("euclidean", 3)]
    [InlineData("cosine_distance", 4)]
    public void The_search_picks_what_the_scan_picks(string metric, int seed)
    {
        // Points on a small integer grid: many equal distances, so ties decide the choice (the first index among equals).
        var r = new Random(seed);
        int n = 36, dim = 2;
        double[,] x = new double[n, dim];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = r.Next(3);
            for (int c = 0; c < dim; c++) x[i, c] = r.Next(-2, 3) + (metric == "cosine_distance" ? 0.5 : 0);
        }
        var inputs = T.In(("embeddings", T.D2(x)), ("labels", TensorData.FromArray(labels, n)));
        var loss = LossRegistry.Default.Create("batch_semi_hard_triplet_loss", T.Opt(("distance_metric", metric), ("margin", 1.0)));
        LossResult result = loss.Evaluate(inputs);
        // The scan, on the loss's own distances: for each positive pair, the nearest negative farther than the positive
        // (the first index among equals); else the farthest negative.
        var b = new BatchTriplets(inputs, "test", BatchTriplets.ParseMetric(metric));
        double Dist(int i, int j) => b[i, j];
        double sum = 0;
        long pairs = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (j != i && labels[j] == labels[i]) pairs++;
        var slopes = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (j == i || labels[j] != labels[i]) continue;
                int chosen = -1, farthest = -1;
                for (int k = 0; k < n; k++)
                {
                    if (labels[k] == labels[i]) continue;
                    if (farthest < 0 || Dist(i, k) > Dist(i, farthest)) farthest = k;
                    if (Dist(i, k) > Dist(i, j) && (chosen < 0 || Dist(i, k) < Dist(i, chosen))) chosen = k;
                }
                if (chosen < 0) chosen = farthest;
                double t = Dist(i, j) - Dist(i, chosen) + 1;
                if (t <= 0) continue;
                sum += t;
                slopes[i * n + j] += 1.0 / pairs;
                slopes[i * n + chosen] -= 1.0 / pairs;
            }
        T.Close(sum / pairs, result.Scalar, rel: 1e-14);
        // The gradient goes to the chosen negatives: among equally distant ones, the first index.
        T.Close(b.Backward(slopes), result.Gradient("embeddings"), rel: 1e-12, abs: 1e-15);
    }

    [Fact]
    public void A_nan_embedding_makes_the_loss_and_its_gradient_nan()
    {
        var inputs = T.In(("embeddings", T.D2(new double[,] { { 0, 1 }, { double.NaN, 0 }, { 1, 1 }, { 2, 0 } })), ("labels", T.I(0, 0, 1, 1)));
        inputs.AllowNonFinite = true;
        LossResult result = LossRegistry.Default.Create("batch_semi_hard_triplet_loss").Evaluate(inputs);
        Assert.True(double.IsNaN(result.Scalar));
        Assert.All(T.Values(result.Gradient("embeddings")), g => Assert.True(double.IsNaN(g)));
        Assert.Equal(0, BatchSemiHardTripletLoss.FirstAbove([1, 2, 2, 3], 0.5));
        Assert.Equal(1, BatchSemiHardTripletLoss.FirstAbove([1, 2, 2, 3], 1));
        Assert.Equal(3, BatchSemiHardTripletLoss.FirstAbove([1, 2, 2, 3], 2));
        Assert.Equal(4, BatchSemiHardTripletLoss.FirstAbove([1, 2, 2, 3], 3));
    }
}

/// <summary>BatchHardTripletLoss streams its distance rows: the same choices and gradient as from the whole matrix.</summary>
public sealed class BatchHardStreamTests
{
    [Theory]
    [InlineData("euclidean", false, 600)]
    [InlineData("squared_euclidean", false, 40)]
    [InlineData("cosine_distance", false, 600)]
    [InlineData("euclidean", true, 40)]
    public void Streamed_rows_give_the_matrix_result(string metric, bool soft, int n)
    {
        // 600 rows of 12 dimensions run as two parts on the thread pool. Class 0 has one row (no positive); class 1
        // holds half the batch, so its rows' hardest negatives are shared; the rest in five classes.
        var r = new Random(n + (soft ? 1 : 0));
        int dim = 12;
        double[,] x = new double[n, dim];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = i == 0 ? 0 : i < n / 2 ? 1 : 2 + r.Next(5);
            for (int c = 0; c < dim; c++) x[i, c] = r.NextDouble() - 0.5;
        }
        var inputs = T.In(("embeddings", T.D2(x)), ("labels", TensorData.FromArray(labels, n)));
        var options = T.Opt(("distance_metric", metric), ("margin", 0.3), ("soft_margin", soft));
        LossResult result = LossRegistry.Default.Create("batch_hard_triplet_loss", options).Evaluate(inputs);
        // The definition on the held matrix: each anchor's hardest pair, ±1 (soft: ±σ) over N on its two distances.
        var b = new BatchTriplets(inputs, "test", BatchTriplets.ParseMetric(metric));
        double sum = 0;
        var slopes = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            var (hp, hpAt, hn, hnAt) = b.Hardest(i);
            double t = hp - hn + (soft ? 0 : 0.3);
            double g = soft ? 1 / (1 + Math.Exp(-t)) : t >= 0 ? 1 : 0;
            sum += soft ? Math.Log(1 + Math.Exp(t)) : Math.Max(0, t);
            if (hpAt >= 0) slopes[i * n + hpAt] += g / n;
            slopes[i * n + hnAt] -= g / n;
        }
        T.Close(sum / n, result.Scalar, rel: 1e-13);
        T.Close(b.Backward(slopes), result.Gradient("embeddings"), rel: 1e-10, abs: 1e-15);
    }

    [Fact]
    public void One_class_takes_the_farthest_row_as_its_negative_and_a_nan_row_makes_nan()
    {
        // No negatives: d_in is the row's largest distance, the hardest positive itself, so the gradient cancels to 0.
        var one = T.In(("embeddings", T.D2(new double[,] { { 0, 1 }, { 1, 1 }, { 3, 0 } })), ("labels", T.I(4, 4, 4)));
        LossResult r = LossRegistry.Default.Create("batch_hard_triplet_loss", T.Opt(("margin", 1.0))).Evaluate(one);
        T.Close(1.0, r.Scalar, rel: 1e-15);
        Assert.All(T.Values(r.Gradient("embeddings")), g => Assert.Equal(0, g));
        var bad = T.In(("embeddings", T.D2(new double[,] { { 0, 1 }, { double.NaN, 1 }, { 3, 0 }, { 1, 1 } })), ("labels", T.I(0, 0, 1, 1)));
        bad.AllowNonFinite = true;
        Assert.True(double.IsNaN(LossRegistry.Default.Create("batch_hard_triplet_loss").Evaluate(bad).Scalar));
    }
}
