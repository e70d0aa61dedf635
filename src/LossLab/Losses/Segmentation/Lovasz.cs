namespace LossLab.Losses.Segmentation;

/// <summary>
/// The Lovász extension of the Jaccard loss (Berman et al., 2018): sort the errors in decreasing order; the loss is
/// Σ_k e_(k)·g_k where g is the discrete gradient of 1 − IoU along that order. g depends only on the order, so within
/// one ordering the loss is linear in the errors and ∂loss/∂e_(k) = g_k.
/// </summary>
internal static class Lovasz
{
    /// <summary>
    /// The Lovász weights for ground truth <paramref name="gtSorted"/> (1 = foreground) sorted by decreasing error:
    /// J_k = 1 − (G − Σ_{i≤k} gt_i)/(G + Σ_{i≤k}(1 − gt_i)), g_0 = J_0, g_k = J_k − J_{k−1}.
    /// </summary>
    public static double[] Weights(ReadOnlySpan<double> gtSorted)
    {
        int p = gtSorted.Length;
        var g = new double[p];
        double total = 0;
        foreach (double v in gtSorted) total += v;
        double cumGt = 0, cumBg = 0, previous = 0;
        for (int k = 0; k < p; k++)
        {
            cumGt += gtSorted[k];
            cumBg += 1 - gtSorted[k];
            double union = total + cumBg;
            double jaccard = union == 0 ? 0 : 1 - (total - cumGt) / union;
            g[k] = k == 0 ? jaccard : jaccard - previous;
            previous = jaccard;
        }
        return g;
    }

    /// <summary>Indices of <paramref name="errors"/> sorted by decreasing value (stable, so ties keep input order).</summary>
    public static int[] Order(double[] errors)
    {
        // (error, index) pairs under a struct comparer, which the sort inlines: the order of a stable descending sort by
        // double.CompareTo (NaN last, −0 equal to +0, ties by index), without a key delegate per comparison
        // (2M pixels: LINQ's OrderByDescending took most of the loss's time).
        var pairs = new (double Error, int Index)[errors.Length];
        for (int i = 0; i < pairs.Length; i++) pairs[i] = (errors[i], i);
        pairs.AsSpan().Sort(new Descending());
        var order = new int[pairs.Length];
        for (int i = 0; i < order.Length; i++) order[i] = pairs[i].Index;
        return order;
    }

    private readonly struct Descending : IComparer<(double Error, int Index)>
    {
        public int Compare((double Error, int Index) x, (double Error, int Index) y)
        {
            int c = y.Error.CompareTo(x.Error);
            return c != 0 ? c : x.Index.CompareTo(y.Index);
        }
    }
}
