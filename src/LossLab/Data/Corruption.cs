namespace LossLab.Data;

/// <summary>
/// Seeded, documented corruptions of a data set, so that a claim about a loss can be tested under control:
/// outlying targets, flipped labels, a rarer class.
/// </summary>
public static class Corruption
{
    /// <summary>
    /// Multiplies a share of regression targets by <paramref name="factor"/> (gross measurement errors); returns the
    /// corrupted data and the corrupted row indices.
    /// </summary>
    public static (Dataset Data, int[] Rows) InjectOutliers(Dataset data, double share, double factor, int seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Task != TaskKind.Regression) throw new ArgumentException("outliers are injected into regression targets", nameof(data));
        int[] rows = Pick(data.Rows, share, seed);
        double[] t = (double[])data.Targets.Clone();
        foreach (int i in rows) t[i] *= factor;
        return (data.WithTargets(t), rows);
    }

    /// <summary>Replaces a share of class labels by a different class chosen uniformly (symmetric label noise).</summary>
    public static (Dataset Data, int[] Rows) FlipLabels(Dataset data, double share, int seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!data.Task.IsSingleLabel()) throw new ArgumentException("labels are flipped in single-label classification data", nameof(data));
        int[] rows = Pick(data.Rows, share, seed);
        var random = new Random(seed ^ 0x5bd1e995);
        double[] t = (double[])data.Targets.Clone();
        foreach (int i in rows)
        {
            int other = random.Next(data.Classes - 1);
            t[i] = other >= (int)t[i] ? other + 1 : other;
        }
        return (data.WithTargets(t), rows);
    }

    /// <summary>Keeps only a share of the rows of one class (the others untouched), making it a minority.</summary>
    public static Dataset SubsampleClass(Dataset data, int cls, double keep, int seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        var random = new Random(seed);
        var rows = Enumerable.Range(0, data.Rows).Where(i => (int)data.Targets[i] != cls || random.NextDouble() < keep).ToList();
        return data.Subset(rows);
    }

    /// <summary>
    /// A long-tailed version of single-label data (Cui et al., 2019's exponential profile): class k of C keeps
    /// ⌈n_k·ρ^{k/(C−1)}⌉ of its n_k rows, chosen at random, so that class 0 keeps all and class C − 1 a share ρ (the
    /// imbalance ratio is 1/ρ). Row order is kept.
    /// </summary>
    public static Dataset LongTail(Dataset data, double rho, int seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!data.Task.IsSingleLabel()) throw new ArgumentException("a long tail is made of single-label classification data", nameof(data));
        if (!(rho > 0 && rho <= 1)) throw new ArgumentOutOfRangeException(nameof(rho), $"ρ must be in (0, 1], got {rho}");
        var random = new Random(seed);
        var kept = new List<int>();
        for (int k = 0; k < data.Classes; k++)
        {
            int[] rows = [.. Enumerable.Range(0, data.Rows).Where(i => (int)data.Targets[i] == k)];
            Splitter.Shuffle(rows, random);
            double share = data.Classes == 1 ? 1 : Math.Pow(rho, k / (double)(data.Classes - 1));
            kept.AddRange(rows.Take((int)Math.Ceiling(rows.Length * share)));
        }
        kept.Sort();
        return data.Subset(kept);
    }

    private static int[] Pick(int rows, double share, int seed)
    {
        if (!(share >= 0 && share <= 1)) throw new ArgumentOutOfRangeException(nameof(share), $"share must be in [0, 1], got {share}");
        int[] order = [.. Enumerable.Range(0, rows)];
        Splitter.Shuffle(order, new Random(seed));
        return [.. order.Take((int)Math.Round(rows * share)).Order()];
    }
}
