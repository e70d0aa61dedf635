using LossLab.Autograd;
using LossLab.Data;

namespace LossLab.Training;

/// <summary>
/// The parts of semi-supervised training: which training rows keep their labels, the unlabeled rows that go with each
/// labeled batch, the augmentations of a tabular row (FixMatch's weak and strong views), and MixMatch's sharpening and
/// MixUp, and the training step of each. Every draw comes from a generator seeded by (seed, epoch, batch), so that a
/// resumed run makes the same draws as an uninterrupted one.
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

    /// <summary>MixMatch's λ_u grows linearly from 0 over this share of the epochs, then stays.</summary>
    public const double RampUpShare = 0.4;

    /// <summary>
    /// The semi-supervised loss of one labeled batch and its unlabeled rows. FixMatch: the unlabeled rows seen weakly and
    /// strongly augmented. MixMatch: targets guessed from two weak views (the mean prediction, sharpened, no dropout),
    /// then the labeled and unlabeled examples mixed with one another (<see cref="MixUp"/>).
    /// </summary>
    internal static Tensor Step(Model model, LossBinding binding, Tensor labeled, Dataset b, Dataset u, int seed, int epoch, int batch, double rampUp)
    {
        if (binding.MixesBatches) return MixMatchStep(model, binding, b, u, seed, epoch, batch, rampUp);
        if (u.Rows == 0) return binding.ComputeSemiSupervised(labeled, b.Targets, null, null);
        Tensor weak = model.Forward(Weak(u.Features, seed, epoch, batch), u.Rows, training: true);
        Tensor strong = model.Forward(SemiSupervisedBatches.Strong(u.Features, seed, epoch, batch), u.Rows, training: true);
        return binding.ComputeSemiSupervised(labeled, b.Targets, weak, strong);
    }

    private static Tensor MixMatchStep(Model model, LossBinding binding, Dataset b, Dataset u, int seed, int epoch, int batch, double rampUp)
    {
        int c = binding.Outputs, d = b.Columns;
        double[] x = Weak(b.Features, seed, epoch, batch);
        var onehot = new double[b.Rows * c];
        for (int i = 0; i < b.Rows; i++) onehot[i * c + (int)b.Targets[i]] = 1;
        if (u.Rows == 0) return binding.Compute(model.Forward(x, b.Rows, training: true), b.Targets);   // no unlabeled row: the labeled term
        double[] v1 = Weak(u.Features, seed, epoch, batch, view: 1), v2 = Weak(u.Features, seed, epoch, batch, view: 2);
        double[] p1 = Ops.Softmax(model.Forward(v1, u.Rows), 1).ToArray(), p2 = Ops.Softmax(model.Forward(v2, u.Rows), 1).ToArray();
        double[] guessed = Sharpen([.. p1.Select((p, i) => (p + p2[i]) / 2)], c);
        var (mx, mp, ux, uq) = MixUp(x, onehot, v1, v2, guessed, d, c, seed, epoch, batch);
        Tensor labeledLogits = model.Forward(mx, b.Rows, training: true);
        Tensor unlabeledLogits = model.Forward(ux, 2 * u.Rows, training: true);
        return binding.ComputeMixMatch(labeledLogits, mp, unlabeledLogits, uq, rampUp);
    }

    /// <summary>
    /// The rows (indices into <paramref name="train"/>) that keep their labels: from each class, a seeded draw of
    /// round(fraction·n_c) rows and at least one; the others are the unlabeled rows.
    /// </summary>
    public static (int[] Labeled, int[] Unlabeled) Split(Dataset train, double fraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), $"the labeled fraction must be in (0, 1], got {fraction}");
        if (!train.Task.IsSingleLabel())
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

    /// <summary>The weak view of standardized features (rows × columns): each value plus N(0, 0.1²); <paramref name="view"/> picks an independent draw.</summary>
    public static double[] Weak(double[] features, int seed, int epoch, int batch, int view = 0)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (view is < 0 or > 2) throw new ArgumentOutOfRangeException(nameof(view), $"views 0 to 2 are available, got {view}");
        var random = new Random(Mix(seed, epoch, batch, 2 + 4 * view));
        return [.. features.Select(v => v + WeakNoise * Gaussian(random))];
    }

    /// <summary>The strong view: each value hidden (0, the training mean) with probability 0.3, else plus N(0, 0.3²).</summary>
    public static double[] Strong(double[] features, int seed, int epoch, int batch)
    {
        ArgumentNullException.ThrowIfNull(features);
        var random = new Random(Mix(seed, epoch, batch, 3));
        return [.. features.Select(v => random.NextDouble() < StrongMask ? 0 : v + StrongNoise * Gaussian(random))];
    }

    public const double MixUpAlpha = 0.75, SharpenTemperature = 0.5;

    /// <summary>
    /// MixMatch's batch (Berthelot et al., 2019) from labeled rows (B × D features, B × C one-hot targets) and two weak
    /// views of unlabeled rows whose targets are the sharpened mean of the model's predictions on both views
    /// (<paramref name="guessed"/>, U × C, already sharpened): every example is mixed with a row of the shuffled union,
    /// x' = λ'x + (1 − λ')w and the same for its target, λ' = max(λ, 1 − λ), λ ~ Beta(0.75, 0.75) per example. The
    /// first B mixed rows are the labeled batch, the other 2U the unlabeled one.
    /// </summary>
    public static (double[] LabeledX, double[] LabeledP, double[] UnlabeledX, double[] UnlabeledQ) MixUp(
        double[] labeledX, double[] labeledP, double[] view1, double[] view2, double[] guessed, int columns, int classes, int seed, int epoch, int batch)
    {
        ArgumentNullException.ThrowIfNull(labeledX);
        ArgumentNullException.ThrowIfNull(labeledP);
        ArgumentNullException.ThrowIfNull(view1);
        ArgumentNullException.ThrowIfNull(view2);
        ArgumentNullException.ThrowIfNull(guessed);
        int b = labeledX.Length / columns, u = view1.Length / columns, n = b + 2 * u;
        double[] x = [.. labeledX, .. view1, .. view2], p = [.. labeledP, .. guessed, .. guessed];
        var random = new Random(Mix(seed, epoch, batch, 4));
        int[] partner = [.. Enumerable.Range(0, n)];
        Splitter.Shuffle(partner, random);
        var mixedX = new double[n * columns];
        var mixedP = new double[n * classes];
        for (int i = 0; i < n; i++)
        {
            double l = Beta(random, MixUpAlpha);
            l = Math.Max(l, 1 - l);
            int j = partner[i];
            for (int k = 0; k < columns; k++) mixedX[i * columns + k] = l * x[i * columns + k] + (1 - l) * x[j * columns + k];
            for (int k = 0; k < classes; k++) mixedP[i * classes + k] = l * p[i * classes + k] + (1 - l) * p[j * classes + k];
        }
        return (mixedX[..(b * columns)], mixedP[..(b * classes)], mixedX[(b * columns)..], mixedP[(b * classes)..]);
    }

    /// <summary>Sharpening of each row of probabilities (rows × C): p^(1/T) renormalized, T = 0.5.</summary>
    public static double[] Sharpen(double[] probabilities, int classes)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        var q = new double[probabilities.Length];
        for (int r = 0; r < probabilities.Length / classes; r++)
        {
            double total = 0;
            for (int k = 0; k < classes; k++) total += q[r * classes + k] = Math.Pow(probabilities[r * classes + k], 1 / SharpenTemperature);
            for (int k = 0; k < classes; k++) q[r * classes + k] = total > 0 ? q[r * classes + k] / total : 1.0 / classes;
        }
        return q;
    }

    /// <summary>A Beta(a, a) draw: X/(X + Y) of two Gamma(a) draws.</summary>
    private static double Beta(Random random, double a)
    {
        double x = Gamma(random, a), y = Gamma(random, a);
        return x + y > 0 ? x / (x + y) : 0.5;
    }

    /// <summary>A Gamma(a, 1) draw (Marsaglia and Tsang, 2000), with Gamma(a) = Gamma(a + 1)·U^(1/a) for a &lt; 1.</summary>
    private static double Gamma(Random random, double a)
    {
        if (a < 1) return Gamma(random, a + 1) * Math.Pow(1 - random.NextDouble(), 1 / a);
        double d = a - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double z = Gaussian(random), v = 1 + c * z;
            if (v <= 0) continue;
            v = v * v * v;
            double u = 1 - random.NextDouble();
            if (Math.Log(u) < 0.5 * z * z + d - d * v + d * Math.Log(v)) return d * v;
        }
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
