namespace LossLab.Cli.Lab;

/// <summary>
/// Picks where on a line chart the legend hides the least of the curves: a corner, or the middle of an edge. ScottPlot
/// puts it in the lower right by default, which is where falling loss curves end: the final epochs a reader compares
/// were under the box.
/// </summary>
internal static class LegendPlacement
{
    // In order of preference when two hide as much: the corners first.
    internal enum Place { UpperRight, UpperLeft, LowerRight, LowerLeft, MiddleRight, MiddleLeft, UpperCenter, LowerCenter }

    // Points sampled along each segment, so that a line crossing a corner counts even with no data point inside it.
    private const int SamplesPerSegment = 8;

    /// <summary>
    /// The place whose box (<paramref name="boxWidth"/> × <paramref name="boxHeight"/>, fractions of the data area)
    /// covers the fewest points of the curves; ties go in the order of <see cref="Place"/>. Series on the right axis
    /// are scaled on their own range, as they are drawn. Non-finite points are not drawn and not counted.
    /// </summary>
    public static Place Best(IReadOnlyList<SeriesRecord> left, IReadOnlyList<SeriesRecord>? right, double boxWidth, double boxHeight)
    {
        IEnumerable<SeriesRecord> all = right is null ? left : left.Concat(right);
        var (xMin, xMax) = Range(all.SelectMany(s => s.X));
        var counts = new int[Enum.GetValues<Place>().Length];
        Count(left, xMin, xMax, boxWidth, boxHeight, counts);
        if (right is not null) Count(right, xMin, xMax, boxWidth, boxHeight, counts);
        int best = 0;
        for (int c = 1; c < counts.Length; c++) if (counts[c] < counts[best]) best = c;
        return (Place)best;
    }

    /// <summary>The legend's box as fractions of a plot's data area, from its longest entry and its number of entries.</summary>
    public static (double Width, double Height) Box(IEnumerable<string> names, double dataWidthPixels, double dataHeightPixels)
    {
        string[] n = [.. names];
        double width = 45 + 7.5 * n.Select(s => s.Length).DefaultIfEmpty(0).Max(), height = 14 + 21 * n.Length;
        return (Math.Min(1, width / dataWidthPixels), Math.Min(1, height / dataHeightPixels));
    }

    private static void Count(IReadOnlyList<SeriesRecord> series, double xMin, double xMax, double bw, double bh, int[] counts)
    {
        var (yMin, yMax) = Range(series.SelectMany(s => s.Y));
        foreach (SeriesRecord s in series)
        {
            for (int i = 0; i < s.X.Length; i++)
            {
                if (!double.IsFinite(s.X[i]) || !double.IsFinite(s.Y[i])) continue;
                double x0 = Scale(s.X[i], xMin, xMax), y0 = Scale(s.Y[i], yMin, yMax);
                bool next = i + 1 < s.X.Length && double.IsFinite(s.X[i + 1]) && double.IsFinite(s.Y[i + 1]);
                double x1 = next ? Scale(s.X[i + 1], xMin, xMax) : x0, y1 = next ? Scale(s.Y[i + 1], yMin, yMax) : y0;
                int samples = next ? SamplesPerSegment : 1;
                for (int k = 0; k < samples; k++)
                {
                    double t = (double)k / samples, x = x0 + t * (x1 - x0), y = y0 + t * (y1 - y0);
                    for (int c = 0; c < counts.Length; c++)
                    {
                        var (h, v) = Anchor((Place)c);
                        if (Inside(x, h, bw) && Inside(y, v, bh)) counts[c]++;
                    }
                }
            }
        }
    }

    // Where a place's box sits along one axis: 0 at the low end, 0.5 centred, 1 at the high end (y grows upwards).
    private static (double H, double V) Anchor(Place c) => c switch
    {
        Place.UpperRight => (1, 1),
        Place.UpperLeft => (0, 1),
        Place.LowerRight => (1, 0),
        Place.LowerLeft => (0, 0),
        Place.MiddleRight => (1, 0.5),
        Place.MiddleLeft => (0, 0.5),
        Place.UpperCenter => (0.5, 1),
        _ => (0.5, 0),
    };

    private static bool Inside(double p, double anchor, double size)
    {
        double low = anchor * (1 - size);
        return p >= low && p <= low + size;
    }

    // ScottPlot leaves a margin around the data; 5 % on each side is close enough for choosing a corner.
    private static double Scale(double v, double min, double max) => max > min ? 0.05 + 0.9 * (v - min) / (max - min) : 0.5;

    private static (double Min, double Max) Range(IEnumerable<double> values)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in values)
        {
            if (!double.IsFinite(v)) continue;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        return (min, max);
    }
}
