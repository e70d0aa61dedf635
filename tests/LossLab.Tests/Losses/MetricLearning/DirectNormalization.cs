namespace LossLab.Tests.Losses.MetricLearning;

/// <summary>
/// The L2 normalization written out for the direct per-pair references of the blocked losses' tests, independent of
/// the library's <c>Embeddings</c>: unit rows, and a unit-row gradient taken back to the raw embeddings.
/// </summary>
internal static class DirectNormalization
{
    /// <summary>The unit rows of e (n × d) and the rows' norms.</summary>
    public static (double[] Unit, double[] Norms) Unit(double[] e, int n, int d)
    {
        var u = new double[n * d];
        var norm = new double[n];
        for (int i = 0; i < n; i++)
        {
            norm[i] = Math.Sqrt(Enumerable.Range(0, d).Sum(k => e[i * d + k] * e[i * d + k]));
            for (int k = 0; k < d; k++) u[i * d + k] = e[i * d + k] / norm[i];
        }
        return (u, norm);
    }

    /// <summary>∂/∂e from ∂/∂û: (g − (g·û)û)/‖e‖ per row.</summary>
    public static double[] Back(double[] gu, double[] u, double[] norm, int n, int d)
    {
        var ge = new double[n * d];
        for (int i = 0; i < n; i++)
        {
            double dot = Enumerable.Range(0, d).Sum(k => gu[i * d + k] * u[i * d + k]);
            for (int k = 0; k < d; k++) ge[i * d + k] = (gu[i * d + k] - dot * u[i * d + k]) / norm[i];
        }
        return ge;
    }
}
