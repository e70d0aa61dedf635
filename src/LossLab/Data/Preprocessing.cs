namespace LossLab.Data;

/// <summary>Train/validation/test row indices.</summary>
public sealed record Split(IReadOnlyList<int> Train, IReadOnlyList<int> Validation, IReadOnlyList<int> Test);

/// <summary>Seeded splits; stratified by class for single-label classification so every split keeps the class balance.</summary>
public static class Splitter
{
    public static Split Stratified(Dataset data, double testFraction, double validationFraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!(testFraction >= 0 && validationFraction >= 0 && testFraction + validationFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), $"test ({testFraction}) and validation ({validationFraction}) fractions must be ≥ 0 and leave rows for training");
        }
        var random = new Random(seed);
        var groups = data.Task is TaskKind.Regression or TaskKind.Multilabel
            ? [Enumerable.Range(0, data.Rows).ToList()]
            : Enumerable.Range(0, data.Rows).GroupBy(i => (int)data.Targets[i]).OrderBy(g => g.Key).Select(g => g.ToList()).ToList();
        List<int> train = [], validation = [], test = [];
        foreach (List<int> group in groups)
        {
            Shuffle(group, random);
            int nTest = (int)Math.Round(group.Count * testFraction), nVal = (int)Math.Round(group.Count * validationFraction);
            test.AddRange(group.Take(nTest));
            validation.AddRange(group.Skip(nTest).Take(nVal));
            train.AddRange(group.Skip(nTest + nVal));
        }
        // On small data a split asked for can round to no rows (2 rows per class × 0.2 = 0): give it one training row,
        // from the class with the most, rather than report metrics of nothing.
        bool byClass = groups.Count > 1;
        if (testFraction > 0 && test.Count == 0) MoveOne(train, test, data, byClass, "test");
        if (validationFraction > 0 && validation.Count == 0) MoveOne(train, validation, data, byClass, "validation");
        Shuffle(train, random);
        Shuffle(validation, random);
        Shuffle(test, random);
        return new Split(train, validation, test);
    }

    private static void MoveOne(List<int> train, List<int> split, Dataset data, bool byClass, string name)
    {
        if (train.Count < 2)
        {
            throw new ArgumentException($"{data.Rows} rows are too few for a {name} split and a training split; use more rows or set the {name} fraction to 0");
        }
        int index = train.Count - 1;
        if (byClass)
        {
            int largest = train.GroupBy(i => (int)data.Targets[i]).MaxBy(g => g.Count())!.Key;
            index = train.FindLastIndex(i => (int)data.Targets[i] == largest);
        }
        split.Add(train[index]);
        train.RemoveAt(index);
    }

    /// <summary>Fisher–Yates with the given generator (deterministic for a seed).</summary>
    public static void Shuffle<T>(IList<T> items, Random random)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(random);
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}

/// <summary>Per-feature standardization (x − mean)/std, fitted on the training split only; constant features keep std 1.</summary>
public sealed record Standardizer(double[] Mean, double[] Std)
{
    public static Standardizer Fit(Dataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        int d = train.Columns;
        var mean = new double[d];
        var std = new double[d];
        for (int i = 0; i < train.Rows; i++)
            for (int j = 0; j < d; j++) mean[j] += train.Features[i * d + j];
        for (int j = 0; j < d; j++) mean[j] /= Math.Max(train.Rows, 1);
        for (int i = 0; i < train.Rows; i++)
            for (int j = 0; j < d; j++) std[j] += Math.Pow(train.Features[i * d + j] - mean[j], 2);
        for (int j = 0; j < d; j++)
        {
            std[j] = Math.Sqrt(std[j] / Math.Max(train.Rows, 1));
            if (!(std[j] > 1e-12)) std[j] = 1;
        }
        return new Standardizer(mean, std);
    }

    public Dataset Transform(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Columns != Mean.Length) throw new ArgumentException($"the data has {data.Columns} features; the standardizer was fitted on {Mean.Length}", nameof(data));
        var f = new double[data.Features.Length];
        for (int i = 0; i < data.Rows; i++)
            for (int j = 0; j < data.Columns; j++) f[i * data.Columns + j] = (data.Features[i * data.Columns + j] - Mean[j]) / Std[j];
        return data.WithFeatures(f);
    }
}

/// <summary>Seeded mini-batches: a fresh permutation of the rows every epoch, batches of at most <c>batchSize</c> rows.</summary>
public sealed class BatchLoader(int rows, int batchSize, int seed)
{
    private readonly Random _random = new(seed);

    public int BatchSize { get; } = batchSize > 0 ? batchSize : throw new ArgumentOutOfRangeException(nameof(batchSize), $"batch size must be positive, got {batchSize}");

    /// <summary>The batches of one epoch (row indices); the generator advances, so each epoch has a new order.</summary>
    public IEnumerable<int[]> Epoch()
    {
        var order = Enumerable.Range(0, rows).ToArray();
        Splitter.Shuffle(order, _random);
        for (int start = 0; start < rows; start += BatchSize) yield return order[start..Math.Min(rows, start + BatchSize)];
    }
}
