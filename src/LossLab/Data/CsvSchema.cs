using System.Globalization;

namespace LossLab.Data;

/// <summary>
/// Reads a CSV into a trained model's schema: its feature columns (by name, one-hot columns from the categories
/// seen in training) and its classes. A file's own distinct values would otherwise decide the one-hot columns and
/// the class indices, so a file without class 0 would shift every label by one.
/// </summary>
internal static class CsvSchema
{
    /// <summary>Fills <paramref name="columns"/> with the model's features, in its order.</summary>
    public static void Columns(List<(int Line, string[] Cells)> rows, List<string> header, int[] targetColumns, IReadOnlyList<string> features,
        string source, List<(string Name, double[][] Values)> columns, List<string> encoded)
    {
        // "column=category" names of the model, grouped by column: the categories training saw.
        var categories = new Dictionary<string, HashSet<string>>();
        foreach (string f in features)
        {
            int eq = f.IndexOf('=', StringComparison.Ordinal);
            if (header.Contains(f) || eq <= 0) continue;
            string name = f[..eq];
            if (!categories.TryGetValue(name, out HashSet<string>? set)) categories[name] = set = [];
            set.Add(f[(eq + 1)..]);
        }
        foreach (string f in features)
        {
            int c = header.IndexOf(f);
            if (c >= 0 && !targetColumns.Contains(c))
            {
                double[]? numeric = CsvLoader.Numeric(rows, c, f, source, out _);
                if (numeric is null)
                {
                    throw new DataFormatException($"{source}: column '{f}' holds text, but the model was trained on it as a number");
                }
                columns.Add((f, [numeric]));
                continue;
            }
            int eq = f.IndexOf('=', StringComparison.Ordinal);
            int column = eq > 0 ? header.IndexOf(f[..eq]) : -1;
            if (column < 0 || targetColumns.Contains(column))
            {
                throw new DataFormatException($"{source}: no column '{(eq > 0 ? f[..eq] : f)}'; the model was trained on {Describe(features)}");
            }
            string name = f[..eq], category = f[(eq + 1)..];
            if (!encoded.Contains(name))
            {
                encoded.Add(name);
                int unseen = rows.FindIndex(r => !categories[name].Contains(r.Cells[column].Trim()));
                if (unseen >= 0)
                {
                    throw new DataFormatException($"{source}: line {rows[unseen].Line}, column '{name}': category '{rows[unseen].Cells[column].Trim()}' was not seen in training (known: {string.Join(", ", categories[name].Order(StringComparer.Ordinal))})");
                }
            }
            columns.Add((f, [rows.Select(r => r.Cells[column].Trim() == category ? 1.0 : 0.0).ToArray()]));
        }
    }

    /// <summary>Class indices of the model's classes; a label outside them is an error naming its line.</summary>
    public static (double[] Targets, TaskKind Task, IReadOnlyList<string> ClassNames) Targets(List<(int Line, string[] Cells)> rows, int c, string name,
        string source, IReadOnlyList<string> classes, TaskKind task)
    {
        var targets = new double[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            string cell = rows[i].Cells[c].Trim();
            int k = IndexOf(classes, cell);
            if (k < 0)
            {
                throw new DataFormatException($"{source}: line {rows[i].Line}, column '{name}': '{cell}' is not one of the model's classes ({string.Join(", ", classes)})");
            }
            targets[i] = k;
        }
        return (targets, task, classes);
    }

    /// <summary>
    /// A numeric target cut into ordered classes: at the (k/K)-quantiles of its values (the k·n/K-th smallest, k = 1..K−1,
    /// equal edges merged) when <paramref name="bins"/> is given, else at a model's <paramref name="edges"/>. Class k
    /// holds the targets in (e_{k−1}, e_k], the first everything up to e₁, the last everything above the last edge.
    /// </summary>
    public static (double[] Ranks, double[] Edges, string[] Names) Binned(List<(int Line, string[] Cells)> rows, int c, string name, string source,
        int? bins, IReadOnlyList<double>? edges)
    {
        var values = new double[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            string cell = rows[i].Cells[c].Trim();
            if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
            {
                throw new DataFormatException($"{source}: line {rows[i].Line}, column '{name}': '{cell}' is not a number (binning cuts a numeric target into ordered classes)");
            }
        }
        double[] cuts;
        if (edges is not null)
        {
            cuts = [.. edges];
            for (int k = 1; k < cuts.Length; k++)
                if (!(cuts[k] > cuts[k - 1])) throw new DataFormatException($"{source}: the bin edges must increase, got {cuts[k - 1]} then {cuts[k]} at position {k}");
        }
        else
        {
            int k = bins!.Value;
            if (k < 2) throw new DataFormatException($"{source}: --bins needs at least 2 classes, got {k}");
            double[] sorted = [.. values.Order()];
            cuts = [.. Enumerable.Range(1, k - 1).Select(j => sorted[Math.Max((int)Math.Ceiling((double)j * sorted.Length / k) - 1, 0)]).Distinct().Where(e => e < sorted[^1])];
            if (cuts.Length == 0) throw new DataFormatException($"{source}: column '{name}' has one value only ({sorted[0]}); binning needs at least two");
        }
        var ranks = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            int r = 0;
            while (r < cuts.Length && values[i] > cuts[r]) r++;
            ranks[i] = r;
        }
        return (ranks, cuts, BinNames(cuts));
    }

    /// <summary>The classes' names from the edges, without commas (they are CSV cells): y&lt;=e₁, e₁&lt;y&lt;=e₂, …, y&gt;e_last.</summary>
    public static string[] BinNames(IReadOnlyList<double> edges)
    {
        static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
        var names = new string[edges.Count + 1];
        names[0] = $"y<={F(edges[0])}";
        for (int k = 1; k < edges.Count; k++) names[k] = $"{F(edges[k - 1])}<y<={F(edges[k])}";
        names[^1] = $"y>{F(edges[^1])}";
        return names;
    }

    private static int IndexOf(IReadOnlyList<string> classes, string cell)
    {
        for (int k = 0; k < classes.Count; k++) if (classes[k] == cell) return k;
        // "1.0" is class "1": compare as numbers when both are.
        if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)) return -1;
        for (int k = 0; k < classes.Count; k++)
        {
            if (double.TryParse(classes[k], NumberStyles.Float, CultureInfo.InvariantCulture, out double w) && v == w) return k;
        }
        return -1;
    }

    private static string Describe(IReadOnlyList<string> features)
        => string.Join(", ", features.Take(8)) + (features.Count > 8 ? $", … ({features.Count} columns)" : "");
}
