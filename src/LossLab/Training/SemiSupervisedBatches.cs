using LossLab.Data;

namespace LossLab.Training;

/// <summary>
/// The parts of semi-supervised training (FixMatch): which training rows keep their labels, the unlabeled rows that go
/// with each labeled batch, and the two augmentations of a tabular row. Every draw comes from a generator seeded by
/// (seed, epoch, batch), so that a resumed run makes the same draws as an uninterrupted one.
/// </summary>
/// <remarks>
/// Tabular rows have no crops or flips. On standardized features (unit variance) the weak view adds N(0, 0.1²) noise;
/// the strong view hides each feature with probability 0.3 (sets it to the training mean, 0 after standardization)
/// and adds N(0, 0.3²) noise to the others: the masking-and-noise corruption of tabular self-supervised methods
/// (VIME, Yoon et al., 2020).
/// </remarks>
public static class SemiSupervisedBatches
{
    public const double WeakNoise = 0.1, StrongNoise = 0.3, StrongMask = 0.3;

    /// <summary>
    /// The rows (indices into <paramref name="train"/>) that keep their labels: from each class, a seeded draw of
    /// round(fraction·n_c) rows and at least one; the others are the unlabeled rows.
    /// </summary>
    public static (int[] Labeled, int[] Unlabeled) Split(Dataset train, double fraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), $"the labeled fraction must be in (0, 1], got {fraction}");
        if (train.Task is not (TaskKind.Binary or TaskKind.Multiclass))
        {
            throw new ArgumentException($"a labeled fraction needs class labels (binary or multiclass data), not {train.Task.ToString().ToLowerInvariant()}", nameof(train));
        }
        var random = new Random(seed);
        var labeled = new List<int>();
        var unlabeled = new List<int>();
        foreach (var group in Enumerable.Range(0, train.Rows).GroupBy(i => (int)train.Targets[i]).OrderBy(g => g.Key))
        {
            int[] rows = [.. group];
            Splitter.Shuffle(rows, random);
            int keep = Math.Clamp((int)Math.Round(fraction * rows.Length, MidpointRounding.AwayFromZero), 1, rows.Length);
            labeled.AddRange(rows[..keep]);
            unlabeled.AddRange(rows[keep..]);
        }
        labeled.Sort();
        unlabeled.Sort();
        return ([.. labeled], [.. unlabeled]);
    }

    /// <summary>
    /// The unlabeled rows for each of an epoch's <paramref name="batches"/> labeled batches: a seeded shuffle of all
    /// <paramref name="rows"/> unlabeled rows cut into that many nearly equal parts, so that an epoch sees every
    /// labeled and every unlabeled row once.
    /// </summary>
    public static int[][] UnlabeledBatches(int rows, int batches, int seed, int epoch)
    {
        if (batches < 1) throw new ArgumentOutOfRangeException(nameof(batches), $"at least one batch is needed, got {batches}");
        int[] order = [.. Enumerable.Range(0, rows)];
        Splitter.Shuffle(order, new Random(Mix(seed, epoch, 0, 1)));
        var parts = new int[batches][];
        for (int k = 0; k < batches; k++) parts[k] = order[(int)((long)k * rows / batches)..(int)((long)(k + 1) * rows / batches)];
        return parts;
    }

    /// <summary>The weak view of standardized features (rows × columns): each value plus N(0, 0.1²).</summary>
    public static double[] Weak(double[] features, int seed, int epoch, int batch)
    {
        ArgumentNullException.ThrowIfNull(features);
        var random = new Random(Mix(seed, epoch, batch, 2));
        return [.. features.Select(v => v + WeakNoise * Gaussian(random))];
    }

    /// <summary>The strong view: each value hidden (0, the training mean) with probability 0.3, else plus N(0, 0.3²).</summary>
    public static double[] Strong(double[] features, int seed, int epoch, int batch)
    {
        ArgumentNullException.ThrowIfNull(features);
        var random = new Random(Mix(seed, epoch, batch, 3));
        return [.. features.Select(v => random.NextDouble() < StrongMask ? 0 : v + StrongNoise * Gaussian(random))];
    }

    /// <summary>
    /// A generator seed from (seed, epoch, batch, stream), the same in every process (HashCode is randomized per
    /// process): SplitMix64's finalizer over the packed values.
    /// </summary>
    private static int Mix(int seed, int epoch, int batch, int stream)
    {
        ulong z = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ ((ulong)(uint)epoch << 32 | (uint)batch) ^ (ulong)stream << 60;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)(z ^ (z >> 31));
    }

    /// <summary>A standard normal draw (Box–Muller).</summary>
    private static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
