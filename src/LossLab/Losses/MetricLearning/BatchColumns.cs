using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>Per-feature statistics over a batch (N, D) row-major, shared by the two-view losses (Barlow Twins, VICReg).</summary>
internal static class BatchColumns
{
    /// <summary>Subtracts each column's mean over the N rows, in place (centring, and centring's backward pass).</summary>
    public static void SubtractMeans(double[] z, int n, int d)
    {
        for (int j = 0; j < d; j++)
        {
            double mean = 0;
            for (int k = 0; k < n; k++) mean += z[k * d + j];
            mean /= n;
            for (int k = 0; k < n; k++) z[k * d + j] -= mean;
        }
    }

    /// <summary>A copy of <paramref name="z"/> with each column's mean removed.</summary>
    public static double[] Centred(double[] z, int n, int d)
    {
        var centred = (double[])z.Clone();
        SubtractMeans(centred, n, d);
        return centred;
    }

    /// <summary>
    /// aᵀb / <paramref name="divisor"/> (D, D) of two batches (N, D): a cross-correlation or a covariance, by one blocked
    /// double product (GemmF64, each entry summed over the rows in order) on aᵀ transposed once.
    /// </summary>
    public static double[] Cross(double[] a, double[] b, int n, int d, double divisor)
    {
        var c = new double[d * d];
        double[] aT = GemmF64.Transposed(a, n, d);
        GemmF64.MultiplyAdd(aT, n, b, d, c, d, d, n, d);
        for (int q = 0; q < c.Length; q++) c[q] /= divisor;
        return c;
    }
}
