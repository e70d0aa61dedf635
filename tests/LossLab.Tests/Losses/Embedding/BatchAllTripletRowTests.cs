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
    public static TheoryData<SimdWidth> Widths => [SimdWidth.V128, SimdWidth.V256, SimdWidth.V512];

    [Theory]
    [MemberData(nameof(Widths))]
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
