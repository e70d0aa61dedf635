namespace LossLab.Metrics;

/// <summary>How well predictions order the targets, whatever their scale: Spearman's ρ, Kendall's τ-b and concordance.</summary>
/// <param name="Spearman">Pearson correlation of the ranks (ties share their mean rank), as scipy.stats.spearmanr.</param>
/// <param name="KendallTau">Kendall's τ-b (ties in either variable corrected), as scipy.stats.kendalltau.</param>
/// <param name="Concordance">
/// Harrell's C: among pairs with different targets, the share ordered the same way by the predictions (a tie in the
/// predictions counts ½). 0.5 is chance, 1 a perfect order; for 0/1 targets it is the ROC-AUC.
/// </param>
public sealed record RankResult(double Spearman, double KendallTau, double Concordance);

/// <summary>
/// Rank agreement between predictions and targets in O(n log n): ranks by sorting, and Kendall's pair counts by
/// Knight's method (sort by prediction, then count the target inversions with a merge sort). NaN when undefined (fewer
/// than two rows, or a constant variable).
/// </summary>
public static class RankCorrelation
{
    public static RankResult Of(ReadOnlySpan<double> predictions, ReadOnlySpan<double> targets)
    {
        if (predictions.Length != targets.Length) throw new ArgumentException($"{predictions.Length} predictions for {targets.Length} targets", nameof(predictions));
        int n = predictions.Length;
        for (int i = 0; i < n; i++)
        {
            if (!double.IsFinite(predictions[i]) || !double.IsFinite(targets[i])) return new RankResult(double.NaN, double.NaN, double.NaN);
        }
        if (n < 2) return new RankResult(double.NaN, double.NaN, double.NaN);
        double spearman = Pearson(Ranks(predictions), Ranks(targets));
        var (concordantMinusDiscordant, pairs, tiedPredictions, tiedTargets, tiedBoth) = KendallCounts(predictions, targets);
        double untied = (double)(pairs - tiedPredictions) * (pairs - tiedTargets);
        double tau = untied > 0 ? concordantMinusDiscordant / Math.Sqrt(untied) : double.NaN;
        // Pairs with different targets: concordant + discordant + those tied in the predictions alone.
        long untiedTargets = pairs - tiedTargets, predictionOnlyTies = tiedPredictions - tiedBoth;
        double concordance = untiedTargets == 0 ? double.NaN : ((concordantMinusDiscordant + untiedTargets - predictionOnlyTies) / 2.0 + 0.5 * predictionOnlyTies) / untiedTargets;
        return new RankResult(spearman, tau, concordance);
    }

    /// <summary>1-based ranks, ties sharing their mean rank.</summary>
    private static double[] Ranks(ReadOnlySpan<double> values)
    {
        int n = values.Length;
        int[] order = [.. Enumerable.Range(0, n)];
        double[] v = values.ToArray();
        Array.Sort(order, (a, b) => v[a].CompareTo(v[b]));
        var ranks = new double[n];
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j + 1 < n && v[order[j + 1]] == v[order[i]]) j++;
            double mean = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) ranks[order[k]] = mean;
            i = j + 1;
        }
        return ranks;
    }

    private static double Pearson(double[] a, double[] b)
    {
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            (double da, double db) = (a[i] - ma, b[i] - mb);
            sab += da * db;
            saa += da * da;
            sbb += db * db;
        }
        return saa == 0 || sbb == 0 ? double.NaN : sab / Math.Sqrt(saa * sbb);
    }

    /// <summary>
    /// (concordant − discordant, all pairs, pairs tied in the predictions, tied in the targets, tied in both). Rows are
    /// sorted by (prediction, target); each run of equal predictions gives its ties; then a merge sort of the targets
    /// counts the pairs out of order, which are the discordant ones (a pair tied in the prediction is already in target
    /// order, so it is never counted).
    /// </summary>
    private static (double ConcordantMinusDiscordant, long Pairs, long TiedPredictions, long TiedTargets, long TiedBoth) KendallCounts(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int n = x.Length;
        double[] xs = x.ToArray(), ys = y.ToArray();
        int[] order = [.. Enumerable.Range(0, n)];
        Array.Sort(order, (a, b) => xs[a] != xs[b] ? xs[a].CompareTo(xs[b]) : ys[a].CompareTo(ys[b]));
        long pairs = (long)n * (n - 1) / 2;
        long tiedX = RunPairs(order, (a, b) => xs[a] == xs[b]);
        long tiedBoth = RunPairs(order, (a, b) => xs[a] == xs[b] && ys[a] == ys[b]);
        double[] sorted = [.. order.Select(i => ys[i])];
        long discordant = MergeCount(sorted, new double[n], 0, n);
        long tiedY = RunPairs([.. Enumerable.Range(0, n)], (a, b) => sorted[a] == sorted[b]);   // sorted by now
        double concordantMinusDiscordant = pairs - tiedX - tiedY + tiedBoth - 2.0 * discordant;
        return (concordantMinusDiscordant, pairs, tiedX, tiedY, tiedBoth);
    }

    /// <summary>Σ k(k − 1)/2 over the runs of consecutive equal elements (by <paramref name="same"/>) of a sorted order.</summary>
    private static long RunPairs(int[] order, Func<int, int, bool> same)
    {
        long total = 0, run = 1;
        for (int i = 1; i <= order.Length; i++)
        {
            if (i < order.Length && same(order[i - 1], order[i])) { run++; continue; }
            total += run * (run - 1) / 2;
            run = 1;
        }
        return total;
    }

    /// <summary>Sorts values[lo..hi) ascending and returns the number of strictly inverted pairs it had.</summary>
    private static long MergeCount(double[] values, double[] scratch, int lo, int hi)
    {
        if (hi - lo < 2) return 0;
        int mid = (lo + hi) / 2;
        long swaps = MergeCount(values, scratch, lo, mid) + MergeCount(values, scratch, mid, hi);
        int i = lo, j = mid, k = lo;
        while (i < mid && j < hi)
        {
            if (values[j] < values[i])
            {
                swaps += mid - i;   // values[j] is below every remaining left value
                scratch[k++] = values[j++];
            }
            else
            {
                scratch[k++] = values[i++];
            }
        }
        while (i < mid) scratch[k++] = values[i++];
        while (j < hi) scratch[k++] = values[j++];
        Array.Copy(scratch, lo, values, lo, hi - lo);
        return swaps;
    }
}
