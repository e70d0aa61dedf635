using System.Globalization;
using System.Text;

namespace LossLab.Data;

/// <summary>A CSV that cannot be read; names the line and the column.</summary>
public sealed class DataFormatException : FormatException
{
    public DataFormatException(string message) : base(message) { }

    public DataFormatException() { }

    public DataFormatException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>How to read a CSV into a <see cref="Dataset"/>.</summary>
public sealed record CsvOptions
{
    /// <summary>The target column's name (the last column when null); for multilabel data, the label columns separated by commas.</summary>
    public string? TargetColumn { get; init; }

    /// <summary>The task; inferred from the target when null (few distinct integers → classification).</summary>
    public TaskKind? Task { get; init; }

    /// <summary>Drop rows with empty cells instead of failing (the count is reported in <see cref="CsvReport"/>).</summary>
    public bool DropMissing { get; init; }

    /// <summary>
    /// A trained model's feature columns, in order (numeric columns by name, one-hot columns as "column=category"):
    /// the data is read into exactly these, by name, and a category the model never saw is an error. Null reads the
    /// file's own columns.
    /// </summary>
    public IReadOnlyList<string>? FeatureNames { get; init; }

    /// <summary>
    /// A trained model's classes: labels map to these indices by name (numerically when both are numbers), a label
    /// outside them is an error, and a file may hold fewer classes. Null derives the classes from the file.
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>
    /// Cuts a numeric target into this many ordered classes at its quantiles (an <see cref="TaskKind.Ordinal"/> task:
    /// class k holds the targets in (e_{k−1}, e_k]); fewer when ties make two edges equal. Null keeps the target as it is.
    /// </summary>
    public int? Bins { get; init; }

    /// <summary>A trained model's bin edges (<see cref="Dataset.BinEdges"/>): the target is cut at these, not at its own quantiles.</summary>
    public IReadOnlyList<double>? BinEdges { get; init; }
}

/// <summary>What the loader did: rows read and dropped, and the categorical columns it one-hot encoded.</summary>
public sealed record CsvReport(int RowsRead, int RowsDropped, IReadOnlyList<string> EncodedColumns);

/// <summary>
/// Reads numeric CSV with a header (invariant culture, quoted fields allowed). Columns whose cells are mostly
/// non-numeric are categorical and one-hot encoded; a stray non-numeric cell in a numeric column is an error naming
/// its line and column; empty cells are missing values, reported (or dropped with <see cref="CsvOptions.DropMissing"/>).
/// </summary>
public static class CsvLoader
{
    public static Dataset Load(string path, CsvOptions? options = null) => Load(path, options, out _);

    public static Dataset Load(string path, CsvOptions? options, out CsvReport report)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new DataFormatException($"{path}: no such file");
        using var reader = new StreamReader(path, Encoding.UTF8);
        return Parse(reader, options, path, out report);
    }

    public static Dataset Parse(TextReader reader, CsvOptions? options, string source, out CsvReport report)
    {
        ArgumentNullException.ThrowIfNull(reader);
        options ??= new CsvOptions();
        string? headerLine = reader.ReadLine();
        if (string.IsNullOrWhiteSpace(headerLine)) throw new DataFormatException($"{source}: the file is empty (a header row is needed)");
        List<string> header = [.. Split(headerLine, source, 1).Select(h => h.Trim())];
        var duplicate = header.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new DataFormatException($"{source}: line 1: column '{duplicate.Key}' appears twice");
        if (header.Count < 2) throw new DataFormatException($"{source}: line 1: need at least one feature column and a target column");
        string[] targetNames = options.TargetColumn is null ? [header[^1]] : options.TargetColumn.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        int[] targetColumns = [.. targetNames.Select(name => header.IndexOf(name))];
        int missingTarget = Array.IndexOf(targetColumns, -1);
        if (missingTarget >= 0) throw new DataFormatException($"{source}: no column '{targetNames[missingTarget]}'; columns: {string.Join(", ", header)}");
        bool multilabel = options.Task == TaskKind.Multilabel || targetColumns.Length > 1;
        if (multilabel && targetColumns.Length < 2) throw new DataFormatException($"{source}: a multilabel task needs two or more label columns: --target a,b,c");
        if (header.Count - targetColumns.Length < 1) throw new DataFormatException($"{source}: no feature columns are left besides the target");
        int target = targetColumns[0];

        var rows = new List<(int Line, string[] Cells)>();
        int lineNumber = 1, dropped = 0;
        var missing = new List<string>();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            string[] cells = Split(line, source, lineNumber);
            if (cells.Length != header.Count)
            {
                throw new DataFormatException($"{source}: line {lineNumber} has {cells.Length} fields but the header has {header.Count}");
            }
            int empty = Array.FindIndex(cells, c => c.Trim().Length == 0);
            if (empty >= 0)
            {
                if (options.DropMissing) { dropped++; continue; }
                if (missing.Count < 5) missing.Add($"line {lineNumber}, column '{header[empty]}'");
                else missing.Add("");
                continue;
            }
            rows.Add((lineNumber, cells));
        }
        if (missing.Count > 0)
        {
            throw new DataFormatException($"{source}: {missing.Count} row(s) have missing values ({string.Join("; ", missing.Where(m => m.Length > 0))}{(missing.Count > 5 ? "; …" : "")}); fill them in or drop those rows (--drop-missing)");
        }
        if (rows.Count == 0) throw new DataFormatException($"{source}: no data rows");

        var columns = new List<(string Name, double[][] Values)>();   // each feature column expands to 1+ columns
        var encoded = new List<string>();
        if (options.FeatureNames is not null) CsvSchema.Columns(rows, header, targetColumns, options.FeatureNames, source, columns, encoded);
        for (int c = 0; options.FeatureNames is null && c < header.Count; c++)
        {
            if (targetColumns.Contains(c)) continue;
            double[]? numeric = Numeric(rows, c, header[c], source, out string[]? categories);
            if (numeric is not null)
            {
                columns.Add((header[c], [numeric]));
                continue;
            }
            encoded.Add(header[c]);
            foreach (string category in categories!)
            {
                columns.Add(($"{header[c]}={category}", [rows.Select(r => r.Cells[c].Trim() == category ? 1.0 : 0.0).ToArray()]));
            }
        }
        int n = rows.Count, d = columns.Count;
        var features = new double[n * d];
        for (int j = 0; j < d; j++)
            for (int i = 0; i < n; i++) features[i * d + j] = columns[j].Values[0][i];

        report = new CsvReport(n + dropped, dropped, encoded);
        if (multilabel)
        {
            var labels = new double[n * targetColumns.Length];
            for (int i = 0; i < n; i++)
                for (int l = 0; l < targetColumns.Length; l++)
                {
                    string cell = rows[i].Cells[targetColumns[l]].Trim();
                    labels[i * targetColumns.Length + l] = cell switch
                    {
                        "1" or "1.0" or "true" or "True" => 1,
                        "0" or "0.0" or "false" or "False" => 0,
                        _ => throw new DataFormatException($"{source}: line {rows[i].Line}, column '{header[targetColumns[l]]}': '{cell}' is not a 0/1 label"),
                    };
                }
            return new Dataset(features, d, labels, [.. columns.Select(c => c.Name)], string.Join(",", targetNames), TaskKind.Multilabel, targetNames);
        }
        if (options.Bins is not null || options.BinEdges is not null)
        {
            var (ranks, edges, names) = CsvSchema.Binned(rows, target, header[target], source, options.Bins, options.BinEdges);
            return new Dataset(features, d, ranks, [.. columns.Select(c => c.Name)], header[target], TaskKind.Ordinal, names, edges);
        }
        var (targets, task, classNames) = options.ClassNames is not null && options.Task is TaskKind task0 && task0.IsSingleLabel()
            ? CsvSchema.Targets(rows, target, header[target], source, options.ClassNames, options.Task.Value)
            : Targets(rows, target, header[target], source, options.Task);
        return new Dataset(features, d, targets, [.. columns.Select(c => c.Name)], header[target], task, classNames);
    }

    internal static double[]? Numeric(List<(int Line, string[] Cells)> rows, int c, string name, string source, out string[]? categories)
    {
        var values = new double[rows.Count];
        int bad = -1, badCount = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            if (!double.TryParse(rows[i].Cells[c].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
            {
                badCount++;
                if (bad < 0) bad = i;
            }
        }
        categories = null;
        if (badCount == 0) return values;
        if (badCount * 2 > rows.Count)
        {
            categories = [.. rows.Select(r => r.Cells[c].Trim()).Distinct().Order(StringComparer.Ordinal)];
            return null;
        }
        throw new DataFormatException($"{source}: line {rows[bad].Line}, column '{name}': '{rows[bad].Cells[c].Trim()}' is not a number");
    }

    private static (double[] Targets, TaskKind Task, IReadOnlyList<string> ClassNames) Targets(List<(int Line, string[] Cells)> rows, int c, string name, string source, TaskKind? task)
    {
        string[] raw = [.. rows.Select(r => r.Cells[c].Trim())];
        var numbers = new double[raw.Length];
        bool numeric = raw.Select((s, i) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[i]) && double.IsFinite(numbers[i])).All(ok => ok);
        int distinct = raw.Distinct().Count();
        bool integers = numeric && numbers.All(v => v == Math.Floor(v));
        TaskKind inferred = task ?? (!numeric || (integers && distinct <= Math.Max(2, Math.Min(30, rows.Count / 5)))
            ? (distinct == 2 ? TaskKind.Binary : TaskKind.Multiclass)
            : TaskKind.Regression);
        if (inferred == TaskKind.Regression)
        {
            if (!numeric)
            {
                int bad = Array.FindIndex(raw, s => !double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
                throw new DataFormatException($"{source}: line {rows[bad].Line}, column '{name}': '{raw[bad]}' is not a number (regression targets are numbers)");
            }
            return (numbers, inferred, []);
        }
        if (inferred == TaskKind.Ordinal && !numeric)
        {
            int bad = Array.FindIndex(raw, s => !double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v));
            throw new DataFormatException($"{source}: line {rows[bad].Line}, column '{name}': '{raw[bad]}' is not a number (ordinal classes are ordered by their values: code them as numbers, e.g. 1..5)");
        }
        // Classes in numeric order when numeric, else ordinal string order; indices 0..C−1.
        string[] classes = numeric
            ? [.. raw.Distinct().OrderBy(s => double.Parse(s, CultureInfo.InvariantCulture))]
            : [.. raw.Distinct().Order(StringComparer.Ordinal)];
        if (inferred == TaskKind.Binary && classes.Length != 2)
        {
            throw new DataFormatException($"{source}: column '{name}' has {classes.Length} distinct values; a binary task needs exactly 2");
        }
        var index = classes.Select((s, i) => (s, i)).ToDictionary(p => p.s, p => (double)p.i);
        return ([.. raw.Select(s => index[s])], inferred, classes);
    }

    /// <summary>Splits one CSV line; double quotes enclose fields with commas, "" is a quote.</summary>
    private static string[] Split(string line, string source, int lineNumber)
    {
        var cells = new List<string>();
        var sb = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else sb.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { cells.Add(sb.ToString()); sb.Clear(); }
            else if (ch != '\r') sb.Append(ch);
        }
        if (quoted) throw new DataFormatException($"{source}: line {lineNumber}: a quoted field is not closed");
        cells.Add(sb.ToString());
        return [.. cells];
    }
}
