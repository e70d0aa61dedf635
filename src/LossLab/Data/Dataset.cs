namespace LossLab.Data;

/// <summary>The kind of prediction a data set asks for.</summary>
public enum TaskKind
{
    Regression,
    Binary,
    Multiclass,
}

/// <summary>
/// A table of numeric features (N rows × D columns, row-major) and one target per row. Classification targets are
/// class indices 0..C−1 (<see cref="ClassNames"/> keeps the original labels); regression targets are values.
/// </summary>
public sealed class Dataset
{
    public Dataset(double[] features, int columns, double[] targets, IReadOnlyList<string> featureNames, string targetName, TaskKind task, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (columns <= 0 || features.Length != targets.Length * columns)
        {
            throw new ArgumentException($"{targets.Length} rows of {columns} features need {targets.Length * columns} values, got {features.Length}", nameof(features));
        }
        Features = features;
        Columns = columns;
        Targets = targets;
        FeatureNames = featureNames;
        TargetName = targetName;
        Task = task;
        ClassNames = classNames ?? (task == TaskKind.Regression ? [] : [.. Enumerable.Range(0, (int)targets.DefaultIfEmpty(0).Max() + 1).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
    }

    /// <summary>N × D values, row-major.</summary>
    public double[] Features { get; }

    public int Columns { get; }

    public int Rows => Targets.Length;

    public double[] Targets { get; }

    public IReadOnlyList<string> FeatureNames { get; }

    public string TargetName { get; }

    public TaskKind Task { get; }

    /// <summary>Original class labels by index (classification only).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    public int Classes => Task == TaskKind.Regression ? 0 : ClassNames.Count;

    public ReadOnlySpan<double> Row(int i) => Features.AsSpan(i * Columns, Columns);

    /// <summary>The rows at <paramref name="indices"/>, in that order.</summary>
    public Dataset Subset(IReadOnlyList<int> indices)
    {
        var f = new double[indices.Count * Columns];
        var t = new double[indices.Count];
        for (int k = 0; k < indices.Count; k++)
        {
            Row(indices[k]).CopyTo(f.AsSpan(k * Columns, Columns));
            t[k] = Targets[indices[k]];
        }
        return new Dataset(f, Columns, t, FeatureNames, TargetName, Task, ClassNames);
    }

    /// <summary>The same rows with other features (after scaling or encoding).</summary>
    public Dataset WithFeatures(double[] features) => new(features, Columns, Targets, FeatureNames, TargetName, Task, ClassNames);

    /// <summary>The same features with other targets (label noise, corrupted targets).</summary>
    public Dataset WithTargets(double[] targets) => new(Features, Columns, targets, FeatureNames, TargetName, Task, ClassNames);

    /// <summary>Rows per class (classification).</summary>
    public int[] ClassCounts()
    {
        var counts = new int[Classes];
        foreach (double t in Targets) counts[(int)t]++;
        return counts;
    }
}
