namespace LossLab.Data;

/// <summary>The kind of prediction a data set asks for.</summary>
public enum TaskKind
{
    Regression,
    Binary,
    Multiclass,
    /// <summary>Several independent 0/1 labels per row (one target column each).</summary>
    Multilabel,

    /// <summary>
    /// Ordered classes (ranks such as ratings 1–5): class indices 0..K−1 in the labels' numeric order. Every
    /// multi-class loss trains on it; the ordinal losses (CORAL, CORN) need it, and its metrics add rank_mae.
    /// </summary>
    Ordinal,
}

/// <summary>Questions about a <see cref="TaskKind"/> that several layers ask.</summary>
public static class TaskKinds
{
    /// <summary>True for one class label per row (binary, multi-class, ordinal): class indices, class weights, oversampling.</summary>
    public static bool IsSingleLabel(this TaskKind task) => task is TaskKind.Binary or TaskKind.Multiclass or TaskKind.Ordinal;
}

/// <summary>
/// A table of numeric features (N rows × D columns, row-major) and one target per row. Classification targets are
/// class indices 0..C−1 (<see cref="ClassNames"/> keeps the original labels); regression targets are values;
/// multilabel targets are L values of 0/1 per row (N × L, row-major; <see cref="ClassNames"/> names the labels).
/// </summary>
public sealed class Dataset
{
    public Dataset(double[] features, int columns, double[] targets, IReadOnlyList<string> featureNames, string targetName, TaskKind task, IReadOnlyList<string>? classNames = null, IReadOnlyList<double>? binEdges = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        TargetWidth = task == TaskKind.Multilabel ? classNames?.Count ?? throw new ArgumentException("multilabel data needs label names", nameof(classNames)) : 1;
        if (TargetWidth == 0 || targets.Length % TargetWidth != 0) throw new ArgumentException($"{targets.Length} target values do not make rows of {TargetWidth} labels", nameof(targets));
        int rows = targets.Length / TargetWidth;
        if (columns <= 0 || features.Length != rows * columns)
        {
            throw new ArgumentException($"{rows} rows of {columns} features need {rows * columns} values, got {features.Length}", nameof(features));
        }
        Features = features;
        Columns = columns;
        Targets = targets;
        FeatureNames = featureNames;
        TargetName = targetName;
        Task = task;
        if (binEdges is not null && (task != TaskKind.Ordinal || ClassCountOf(classNames) != binEdges.Count + 1))
        {
            throw new ArgumentException($"{binEdges.Count} bin edges make {binEdges.Count + 1} ordinal classes; the data is {task} with {ClassCountOf(classNames)} classes", nameof(binEdges));
        }
        BinEdges = binEdges;
        ClassNames = classNames ?? (task == TaskKind.Regression ? [] : [.. Enumerable.Range(0, (int)targets.DefaultIfEmpty(0).Max() + 1).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
    }

    /// <summary>N × D values, row-major.</summary>
    public double[] Features { get; }

    public int Columns { get; }

    public int Rows => Targets.Length / TargetWidth;

    /// <summary>Targets per row: 1, or the number of labels for multilabel data.</summary>
    public int TargetWidth { get; }

    public double[] Targets { get; }

    public IReadOnlyList<string> FeatureNames { get; }

    public string TargetName { get; }

    public TaskKind Task { get; }

    /// <summary>
    /// For an ordinal target cut from numbers (<see cref="CsvOptions.Bins"/>), the edges between its classes (K − 1,
    /// increasing): class k holds (e_{k−1}, e_k]. Null otherwise.
    /// </summary>
    public IReadOnlyList<double>? BinEdges { get; }

    private static int ClassCountOf(IReadOnlyList<string>? names) => names?.Count ?? -1;

    /// <summary>Original class labels by index (classification only).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Classes (single-label) or labels (multilabel); 0 for regression.</summary>
    public int Classes => Task == TaskKind.Regression ? 0 : ClassNames.Count;

    /// <summary>The target values of row i (one value, or the row's labels).</summary>
    public ReadOnlySpan<double> TargetRow(int i) => Targets.AsSpan(i * TargetWidth, TargetWidth);

    public ReadOnlySpan<double> Row(int i) => Features.AsSpan(i * Columns, Columns);

    /// <summary>The rows at <paramref name="indices"/>, in that order.</summary>
    public Dataset Subset(IReadOnlyList<int> indices)
    {
        var f = new double[indices.Count * Columns];
        var t = new double[indices.Count * TargetWidth];
        for (int k = 0; k < indices.Count; k++)
        {
            Row(indices[k]).CopyTo(f.AsSpan(k * Columns, Columns));
            TargetRow(indices[k]).CopyTo(t.AsSpan(k * TargetWidth, TargetWidth));
        }
        return new Dataset(f, Columns, t, FeatureNames, TargetName, Task, ClassNames, BinEdges);
    }

    /// <summary>The same rows with other features (after scaling or encoding).</summary>
    public Dataset WithFeatures(double[] features) => new(features, Columns, Targets, FeatureNames, TargetName, Task, ClassNames, BinEdges);

    /// <summary>The same features with other targets (label noise, corrupted targets).</summary>
    public Dataset WithTargets(double[] targets) => new(Features, Columns, targets, FeatureNames, TargetName, Task, ClassNames, BinEdges);

    /// <summary>Rows per class (single-label classification), or positives per label (multilabel).</summary>
    public int[] ClassCounts()
    {
        var counts = new int[Classes];
        if (Task == TaskKind.Multilabel)
        {
            for (int i = 0; i < Targets.Length; i++) counts[i % TargetWidth] += Targets[i] > 0 ? 1 : 0;
            return counts;
        }
        foreach (double t in Targets) counts[(int)t]++;
        return counts;
    }
}
