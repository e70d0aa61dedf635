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
        // The primitive sort of the errors with their indices (its fast path for double keys), ascending, then reversed:
        // descending with NaN last; runs of equal errors (−0 and +0 are equal there, NaNs are one run) then get their
        // indices back in ascending order. That is the order of a stable descending sort by double.CompareTo, without a
        // comparison call per step (2M pixels: the sort is most of the loss's time).
        int n = errors.Length;
        var keys = (double[])errors.Clone();
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Array.Sort(keys, order);
        Array.Reverse(keys);
        Array.Reverse(order);
        for (int start = 0; start < n;)
        {
            int end = start + 1;
            while (end < n && (keys[end] == keys[start] || double.IsNaN(keys[end]) && double.IsNaN(keys[start]))) end++;
            if (end - start > 1) order.AsSpan(start, end - start).Sort();
            start = end;
        }
        return order;
    }
}
