namespace LossLab.Data;

/// <summary>
/// Measured properties of a data set that bear on the choice of loss: class balance, label conflicts, target
/// skew and tails, the outlier share by a robust rule, the targets' robust scale, count-valued and bounded targets.
/// </summary>
public sealed record DataProfile(
    TaskKind Task,
    int Rows,
    int Features,
    IReadOnlyList<int> ClassCounts,
    double ImbalanceRatio,
    double MinorityShare,
    int ConflictingDuplicates,
    double Skewness,
    double ExcessKurtosis,
    double OutlierShare,
    bool CountValued,
    bool UnitInterval,
    double TargetMean,
    double TargetVariance,
    double TargetScale)
{
    /// <summary>Computes the profile; regression statistics are NaN for classification and vice versa.</summary>
    public static DataProfile Of(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        int conflicts = CountConflictingDuplicates(data);
        if (data.Task != TaskKind.Regression)
        {
            int[] counts = data.ClassCounts();
            int min = counts.Min(), max = counts.Max();
            double ratio = data.Task == TaskKind.Multilabel
                ? counts.Max(c => Math.Max(c, data.Rows - c) / (double)Math.Max(Math.Min(c, data.Rows - c), 1))
                : max / (double)Math.Max(min, 1);
            double minority = data.Task == TaskKind.Multilabel ? counts.Min(c => Math.Min(c, data.Rows - c)) / (double)data.Rows : min / (double)data.Rows;
            return new DataProfile(data.Task, data.Rows, data.Columns, counts, ratio, minority, conflicts, double.NaN, double.NaN, double.NaN, false, false, double.NaN, double.NaN, double.NaN);
        }
        double[] y = data.Targets;
        double mean = y.Average();
        double m2 = y.Average(v => Math.Pow(v - mean, 2)), m3 = y.Average(v => Math.Pow(v - mean, 3)), m4 = y.Average(v => Math.Pow(v - mean, 4));
        double skew = m2 > 0 ? m3 / Math.Pow(m2, 1.5) : 0, kurt = m2 > 0 ? m4 / (m2 * m2) - 3 : 0;
        var (median, mad) = MedianAndMad(y);
        return new DataProfile(data.Task, data.Rows, data.Columns, [], double.NaN, double.NaN, conflicts, skew, kurt, ShareBeyond(y, median, mad),
            y.All(v => v >= 0 && v == Math.Floor(v)), y.All(v => v >= 0 && v <= 1), mean, m2 * y.Length / Math.Max(y.Length - 1, 1), ScaleFrom(y, mad));
    }

    /// <summary>
    /// 1.4826·MAD: the standard deviation of Gaussian data, not moved by outliers (the scale robust losses such as Huber
    /// are tuned in); the standard deviation when more than half the values are equal (MAD = 0), NaN when empty.
    /// </summary>
    public static double RobustScale(IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(y);
        return y.Count == 0 ? double.NaN : ScaleFrom(y, MedianAndMad(y).Mad);
    }

    /// <summary>
    /// Share of targets with a modified z-score |0.6745·(y − median)/MAD| above 3.5 (Iglewicz and Hoaglin's rule);
    /// the median and the median absolute deviation are not moved by the outliers themselves.
    /// </summary>
    public static double RobustOutlierShare(IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(y);
        if (y.Count == 0) return double.NaN;
        var (median, mad) = MedianAndMad(y);
        return ShareBeyond(y, median, mad);
    }

    /// <summary>The median and the median absolute deviation from it (two sorts), shared by the scale and the outlier share.</summary>
    private static (double Median, double Mad) MedianAndMad(IReadOnlyList<double> y)
    {
        double median = Median(y);
        return (median, Median([.. y.Select(v => Math.Abs(v - median))]));
    }

    private static double ShareBeyond(IReadOnlyList<double> y, double median, double mad)
    {
        if (mad == 0) return y.Count(v => v != median) / (double)y.Count;
        return y.Count(v => Math.Abs(0.6745 * (v - median) / mad) > 3.5) / (double)y.Count;
    }

    private static double ScaleFrom(IReadOnlyList<double> y, double mad)
    {
        if (mad > 0) return 1.4826 * mad;
        double mean = y.Average();
        return Math.Sqrt(y.Average(v => (v - mean) * (v - mean)));
    }

    private static double Median(IReadOnlyList<double> values)
    {
        double[] s = [.. values.Order()];
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>Rows whose features equal another row's while the targets differ (label noise made visible).</summary>
    private static int CountConflictingDuplicates(Dataset data)
    {
        var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < data.Rows; i++)
        {
            string key = string.Join(",", data.Row(i).ToArray().Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
            if (!groups.TryGetValue(key, out List<int>? list)) groups[key] = list = [];
            list.Add(i);
        }
        int conflicting = 0;
        foreach (List<int> g in groups.Values)
        {
            if (g.Count > 1 && g.Select(i => string.Join(",", data.TargetRow(i).ToArray())).Distinct().Count() > 1) conflicting += g.Count;
        }
        return conflicting;
    }
}
