using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Tests.TestKit;

/// <summary>One way to call a loss: options plus a generator of float64 inputs away from kinks.</summary>
internal sealed record LossSample(string Label, Dictionary<string, object?> Options, Func<Random, LossInputs> Make)
{
    public override string ToString() => Label;
}

/// <summary>
/// Extreme float32 inputs where PyTorch's math is finite, and the inputs whose gradients must then be finite.
/// </summary>
internal sealed record ExtremeSample(Dictionary<string, object?> Options, LossInputs Inputs, string[] FiniteGradients);

/// <summary>Everything the shared contract test needs to exercise one registered loss.</summary>
internal sealed record LossSampleSet(string Name, IReadOnlyList<LossSample> Samples, IReadOnlyList<ExtremeSample> Extremes)
{
    /// <summary>False when <c>mean</c> is not sum / numel(none) (CTC divides by target lengths); tested per loss instead.</summary>
    public bool PlainMean { get; init; } = true;

    /// <summary>Inputs the generic wrong-shape test leaves alone (CTC's 1-D targets are a valid concatenated form).</summary>
    public IReadOnlyList<string> ShapeCheckSkip { get; init; } = [];
}

/// <summary>
/// The per-loss sample catalogue. Every registered loss must have an entry (a test enforces it), so no loss escapes
/// the contract test. The FIRST sample of each loss is unweighted with nothing ignored: the reduction-consistency
/// check relies on mean = sum / numel(none) there.
/// </summary>
internal static class LossSamples
{
    private static readonly string[] Reductions = ["none", "mean", "sum"];

    public static IReadOnlyDictionary<string, LossSampleSet> All { get; } = Build().ToDictionary(s => s.Name);

    private static IEnumerable<LossSampleSet> Build()
    {
        yield return Pointwise("MseLoss", (r, n) => Normal(r, n), (r, x) => Normal(r, x.Length),
            [T.Opt(("weight", Positive(new Random(5), 12, 3, 4)))], Regression());
        yield return Pointwise("L1Loss", (r, n) => Normal(r, n), (r, x) => AwayFrom(r, x, 0.05),
            [T.Opt(("weight", Positive(new Random(6), 12, 3, 4)))], Regression());
        yield return Pointwise("QuantileLoss", (r, n) => Normal(r, n), (r, x) => AwayFrom(r, x, 0.05),
            [T.Opt(("quantile", 0.9)), T.Opt(("quantile", 0.1), ("weight", Positive(new Random(13), 12, 3, 4))), T.Opt(("quantile", 0.0)), T.Opt(("quantile", 1.0))], Regression());
        yield return Pointwise("TweedieLoss", (r, n) => Normal(r, n), (r, x) => [.. x.Select(_ => r.Next(3) == 0 ? 0 : 3 * r.NextDouble() + 0.1)],
            [T.Opt(("power", 1.0)), T.Opt(("power", 1.8), ("weight", Positive(new Random(14), 12, 3, 4))), T.Opt(("log_input", false))],
            [Extreme(T.Opt(), ["input"], ("input", T.F(30, -30, 0, -100)), ("target", T.F(0, 3, 1, 2))), Extreme(T.Opt(("power", 1.0)), ["input"], ("input", T.F(30, -30, 0, -100)), ("target", T.F(0, 3, 1, 2)))],
            positiveInputWhen: "log_input");
        yield return Pointwise("SmoothL1Loss", (r, n) => Normal(r, n), (r, x) => AwayFromBand(r, x, 1.0),
            [T.Opt(("beta", 1.0)), T.Opt(("beta", 0.0))], Regression());
        yield return Pointwise("HuberLoss", (r, n) => Normal(r, n), (r, x) => AwayFromBand(r, x, 1.0),
            [T.Opt(("delta", 1.0), ("weight", Positive(new Random(7), 12, 3, 4)))], Regression());
        yield return Pointwise("PoissonNllLoss", (r, n) => Normal(r, n), (r, x) => Counts(r, x.Length),
            [T.Opt(("log_input", false)), T.Opt(("full", true)), T.Opt(("log_input", false), ("full", true))],
            [Extreme(T.Opt(), ("input", T.F(30, -30, 0, -100)), ("target", T.F(0, 3, 1, 2)))],
            positiveInputWhen: "log_input");
        yield return Gaussian();
        yield return Pointwise("BinaryCrossEntropy", (r, n) => Uniform(r, n, 0.05, 0.95), (r, x) => Uniform(r, x.Length, 0, 1),
            [T.Opt(("weight", Positive(new Random(8), 4, 1, 4)))],
            [Extreme(T.Opt(), ["input"], ("input", T.F(0, 1, 0, 1, 1e-30f, 1 - 6e-8f)), ("target", T.F(1, 0, 0, 1, 1, 0)))]);
        yield return Pointwise("BinaryCrossEntropyWithLogits", (r, n) => Normal(r, n, 2), (r, x) => Uniform(r, x.Length, 0, 1),
            [T.Opt(("pos_weight", Positive(new Random(9), 4, 4))), T.Opt(("weight", Positive(new Random(10), 3, 3, 1)), ("pos_weight", Positive(new Random(11), 4, 4))),
             T.Opt(("label_smoothing", 0.2), ("pos_weight", Positive(new Random(12), 4, 4)))],
            [Extreme(T.Opt(("pos_weight", T.D(3))), ("input", Logits()), ("target", T.F(1, 0, 1, 0, 1, 0, 0.5f, 0.5f)))]);
        yield return Pointwise("SoftMarginLoss", (r, n) => Normal(r, n, 2), (r, x) => Signs(r, x.Length), [],
            [Extreme(T.Opt(), ["input"], ("input", Logits()), ("target", T.F(1, 1, -1, -1, 1, -1, 1, -1)))]);
        yield return Pointwise("KLDivergence", (r, n) => LogProbs(r, n), (r, x) => Uniform(r, x.Length, 0.05, 1),
            [T.Opt(("reduction", "batchmean")), T.Opt(("log_target", true))],
            [Extreme(T.Opt(("reduction", "batchmean")), ["input"], ("input", T.F(-1e4f, -100, -30, 0)), ("target", T.F(0, 0.25f, 0.25f, 0.5f))),
             Extreme(T.Opt(("reduction", "batchmean")), ("input", T.F(-1e4f, -100, -30, 0)), ("target", T.F(1e-30f, 0.25f, 0.25f, 0.5f)))]);
        yield return CrossEntropySet();
        yield return NllSet();
        foreach (var set in CatalogTwo.Sets()) yield return set;
        foreach (var set in KerasSamples.Sets()) yield return set;
        foreach (var set in CatalogThree.Sets()) yield return set;
        foreach (var set in CatalogSentence.Sets()) yield return set;
        foreach (var set in CatalogModern.Sets()) yield return set;
        foreach (var set in CatalogOptax.Sets()) yield return set;
        foreach (var set in SegmentationSamples.Sets()) yield return set;
        yield return SegmentationSamples.LovaszHinge();
        yield return SegmentationSamples.LovaszSoftmax();
    }

    // ---------------------------------------------------------------- per-loss builders

    private static LossSampleSet Pointwise(
        string name, Func<Random, int, double[]> input, Func<Random, double[], double[]> target,
        Dictionary<string, object?>[] extraOptions, ExtremeSample[] extremes, string? positiveInputWhen = null)
    {
        var samples = new List<LossSample>();
        foreach (var options in Reductions.Select(r => T.Opt(("reduction", r))).Concat(extraOptions))
        {
            var opts = options;
            bool positive = positiveInputWhen is not null && opts.TryGetValue(positiveInputWhen, out var v) && v is false;
            samples.Add(new($"{name} {Describe(opts)}", opts, r =>
            {
                double[] x = positive ? Uniform(r, 12, 0.5, 3) : input(r, 12);
                return T.In(("input", T.Shaped(x, 3, 4)), ("target", T.Shaped(target(r, x), 3, 4)));
            }));
        }
        return new(name, samples, extremes);
    }

    private static LossSampleSet Gaussian()
    {
        LossInputs Make(Random r, int[] varShape)
        {
            double[] x = Normal(r, 12);
            int n = varShape.Aggregate(1, (a, b) => a * b);
            return T.In(("input", T.Shaped(x, 3, 4)), ("target", T.Shaped(Normal(r, 12), 3, 4)), ("var", T.Shaped(Uniform(r, n, 0.5, 2), varShape)));
        }
        var samples = Reductions.Select(red => new LossSample($"GaussianNllLoss {red}", T.Opt(("reduction", red)), r => Make(r, [3, 4]))).ToList();
        samples.Add(new("GaussianNllLoss var (3)", T.Opt(), r => Make(r, [3])));
        samples.Add(new("GaussianNllLoss var (3,1) full", T.Opt(("full", true)), r => Make(r, [3, 1])));
        return new("GaussianNllLoss", samples,
            [Extreme(T.Opt(), ("input", T.F(1e4f, -1e4f, 0)), ("target", T.F(-1e4f, 1e4f, 0)), ("var", T.F(1, 1e-12f, 0)))]);
    }

    private static LossSampleSet CrossEntropySet()
    {
        LossInputs Index(Random r, bool ignore) => T.In(("input", T.Shaped(Normal(r, 20, 2), 4, 5)),
            ("target", T.Shaped(Enumerable.Range(0, 4).Select(i => ignore && i == 1 ? -100L : r.Next(5)).ToArray(), 4)));
        LossInputs Probs(Random r) => T.In(("input", T.Shaped(Normal(r, 20, 2), 4, 5)), ("target", T.Shaped(Simplex(r, 4, 5), 4, 5)));
        LossInputs KDim(Random r) => T.In(("input", T.Shaped(Normal(r, 24), 2, 3, 4)), ("target", T.Shaped(Enumerable.Range(0, 8).Select(_ => (long)r.Next(3)).ToArray(), 2, 4)));
        var w = T.D(0.5, 1.5, 1.0, 2.0, 0.25);
        var samples = Reductions.Select(red => new LossSample($"CrossEntropy {red}", T.Opt(("reduction", red)), r => Index(r, false))).ToList();
        samples.Add(new("CrossEntropy weight+ignore", T.Opt(("weight", w)), r => Index(r, true)));
        samples.Add(new("CrossEntropy smoothing+weight+ignore", T.Opt(("weight", w), ("label_smoothing", 0.2)), r => Index(r, true)));
        samples.Add(new("CrossEntropy probabilities smoothing+weight", T.Opt(("weight", w), ("label_smoothing", 0.1)), Probs));
        samples.Add(new("CrossEntropy probabilities none", T.Opt(("reduction", "none")), Probs));
        samples.Add(new("CrossEntropy k-dim none", T.Opt(("reduction", "none")), KDim));
        samples.Add(new("CrossEntropy unbatched", T.Opt(), r => T.In(("input", T.D(Normal(r, 5))), ("target", T.Shaped(new long[] { 3 })))));
        samples.Add(new("CrossEntropy z_loss+weight+ignore", T.Opt(("weight", w), ("z_loss", 0.3)), r => Index(r, true)));
        samples.Add(new("CrossEntropy z_loss probabilities sum", T.Opt(("reduction", "sum"), ("z_loss", 0.1), ("label_smoothing", 0.1)), Probs));
        return new("CrossEntropy", samples,
            [Extreme(T.Opt(("label_smoothing", 0.1)), ("input", T.Shaped(LogitValues, 2, 4)), ("target", T.I(0, 3)))]);
    }

    private static LossSampleSet NllSet()
    {
        LossInputs Make(Random r, bool ignore) => T.In(("input", T.Shaped(LogProbs(r, 20), 4, 5)),
            ("target", T.Shaped(Enumerable.Range(0, 4).Select(i => ignore && i == 2 ? -100L : r.Next(5)).ToArray(), 4)));
        var samples = Reductions.Select(red => new LossSample($"NllLoss {red}", T.Opt(("reduction", red)), r => Make(r, false))).ToList();
        samples.Add(new("NllLoss weight+ignore", T.Opt(("weight", T.D(0.5, 1.5, 1.0, 2.0, 0.25))), r => Make(r, true)));
        return new("NllLoss", samples, [Extreme(T.Opt(), ("input", T.Shaped(LogitValues, 2, 4)), ("target", T.I(1, 2)))]);
    }

    // ---------------------------------------------------------------- generators

    private static ExtremeSample[] Regression() =>
    [
        Extreme(T.Opt(), ("input", T.F(1e4f, -1e4f, 100, -100, 30, -30)), ("target", T.F(-1e4f, 1e4f, -100, 100, 0, 0))),
    ];

    private static ExtremeSample Extreme(Dictionary<string, object?> options, params (string, TensorData)[] inputs)
        => new(options, T.In(inputs), inputs.Where(i => i.Item2.DType.IsFloating()).Select(i => i.Item1).ToArray());

    private static ExtremeSample Extreme(Dictionary<string, object?> options, string[] finite, params (string, TensorData)[] inputs)
        => new(options, T.In(inputs), finite);

    /// <summary>Logits ±30, ±100, ±1e4 (float32).</summary>
    internal static float[] LogitValues => [30, -30, 100, -100, 1e4f, -1e4f, 0, 1];

    internal static TensorData Logits() => T.F(LogitValues);

    internal static ExtremeSample ExtremeOf(Dictionary<string, object?> options, string[] finite, params (string, TensorData)[] inputs)
        => Extreme(options, finite, inputs);

    internal static ExtremeSample ExtremeOf(Dictionary<string, object?> options, params (string, TensorData)[] inputs) => Extreme(options, inputs);

    /// <summary>Scales each row of a (rows, cols) array to the given L2 norm, in place; returns it.</summary>
    public static double[] RowsOfNorm(double[] e, int rows, int cols, double norm = 1)
    {
        for (int i = 0; i < rows; i++)
        {
            double length = Math.Sqrt(Enumerable.Range(0, cols).Sum(k => e[i * cols + k] * e[i * cols + k]));
            for (int k = 0; k < cols; k++) e[i * cols + k] *= norm / length;
        }
        return e;
    }

    public static double[] Normal(Random r, int n, double scale = 1)
        => Enumerable.Range(0, n).Select(_ => scale * Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble())).ToArray();

    public static double[] Uniform(Random r, int n, double lo, double hi) => Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * r.NextDouble()).ToArray();

    internal static TensorData Positive(Random r, int n, params int[] shape) => T.Shaped(Uniform(r, n, 0.2, 2), shape);

    /// <summary>Counts in {0, 2..6}: t = 1 is where the Stirling term of `full` jumps, so finite differences skip it.</summary>
    private static double[] Counts(Random r, int n) => Enumerable.Range(0, n).Select(_ => r.Next(6) is var k && k == 1 ? 6.0 : k).ToArray();

    internal static double[] Signs(Random r, int n) => Enumerable.Range(0, n).Select(_ => r.Next(2) == 0 ? -1.0 : 1.0).ToArray();

    /// <summary>Targets at least <paramref name="gap"/> away from the input (no tie for |d|).</summary>
    private static double[] AwayFrom(Random r, double[] x, double gap)
        => x.Select(v => v + (r.Next(2) == 0 ? -1 : 1) * (gap + 1.5 * r.NextDouble())).ToArray();

    /// <summary>Targets with |x − y| away from the kink at <paramref name="kink"/> (inside or outside by ≥ 0.1).</summary>
    private static double[] AwayFromBand(Random r, double[] x, double kink)
        => x.Select(v => v + (r.Next(2) == 0 ? -1 : 1) * (r.Next(2) == 0 ? 0.1 + 0.8 * r.NextDouble() * kink : kink + 0.1 + r.NextDouble())).ToArray();

    internal static double[] LogProbs(Random r, int n) => Uniform(r, n, -4, -0.05);

    private static double[] Simplex(Random r, int rows, int cols)
    {
        var result = new double[rows * cols];
        for (int i = 0; i < rows; i++)
        {
            double[] e = Uniform(r, cols, 0.05, 1);
            double s = e.Sum();
            for (int j = 0; j < cols; j++) result[i * cols + j] = e[j] / s;
        }
        return result;
    }

    private static string Describe(Dictionary<string, object?> o)
        => string.Join(" ", o.Select(kv => $"{kv.Key}={(kv.Value is TensorData t ? t.Shape.ToString() : kv.Value)}"));
}
