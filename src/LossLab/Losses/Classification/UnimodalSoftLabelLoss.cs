using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// dlordinal's unimodal regularised cross-entropy (its <c>CustomTargetsCrossEntropyLoss</c>, and its newer
/// <c>BinomialLoss</c>, <c>PoissonLoss</c>, <c>ExponentialLoss</c>, <c>TriangularLoss</c> with <c>CrossEntropyLoss</c> as
/// base_loss; Liu et al. 2020, Vargas et al. 2023): PyTorch's cross-entropy of the logits against soft targets (1 − η)·onehot(y) + η·S_y, where row y of a
/// K × K soft-label matrix S is a unimodal distribution around rank y (binomial, Poisson, exponential, triangular, general
/// triangular, beta or geometric: the subclasses). Class weights, label smoothing and the reductions are cross-entropy's with probability targets
/// (<see cref="CrossEntropy"/>: mean over N even with weights), so value and gradient come from it.
/// </summary>
/// <remarks>
/// dlordinal rounds S to float32 before mixing it; here S stays in double (a relative difference of about 10⁻⁸).
/// Targets equal to cross-entropy's ignore_index are not supported by dlordinal's one-hot step, nor here: a rank must be in
/// [0, K).
/// </remarks>
public abstract class UnimodalSoftLabelLoss : Loss
{
    private readonly double _eta;
    private readonly TensorData? _weight;
    private readonly double _labelSmoothing;
    private readonly Reduction _reduction;

    protected UnimodalSoftLabelLoss(double eta, TensorData? weight, double labelSmoothing, Reduction reduction)
    {
        string name = GetType().Name;
        if (!(eta >= 0 && eta <= 1)) throw LossArgumentException.Value($"{name}: eta must be in [0, 1], got {eta}");
        if (reduction == Reduction.BatchMean) throw LossArgumentException.Value($"{name}: reduction must be none, mean or sum");
        (_eta, _weight, _labelSmoothing, _reduction) = (eta, weight, labelSmoothing, reduction);
    }

    /// <summary>The soft-label matrix S (K × K, row y the distribution for true rank y).</summary>
    protected abstract double[,] SoftLabels(int classes);

    /// <summary>The last class count's matrix: S depends only on K and the options, and a training loop asks for the same K every batch.</summary>
    private sealed record Cached(int Classes, double[,] Labels);

    private Cached? _cached;

    /// <summary>Matrices up to this many classes are kept (8 MiB); larger ones are rebuilt per call rather than held.</summary>
    private const int CachedClassesMax = 1024;

    private double[,] SoftLabelsFor(int classes)
    {
        Cached? c = Volatile.Read(ref _cached);
        if (c is not null && c.Classes == classes) return c.Labels;
        double[,] s = SoftLabels(classes);
        if (classes <= CachedClassesMax) Volatile.Write(ref _cached, new Cached(classes, s));
        return s;
    }

    protected sealed override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        string name = Descriptor.Name;
        TensorData x = inputs["input"];
        if (x.Shape.Rank != 2 || x.Shape[1] < 2) throw LossArgumentException.Shape($"{name}: 'input' must be logits (N, K) with K ≥ 2 ordered classes, got shape {x.Shape}");
        int n = x.Shape[0], k = x.Shape[1];
        TensorData yT = inputs["target"];
        if (yT.Shape.Rank != 1 || yT.Shape[0] != n) throw LossArgumentException.Shape($"{name}: 'target' must be one rank per row ({n}), got shape {yT.Shape}");
        long[] ranks = inputs.Indices("target");
        double[,] s = SoftLabelsFor(k);   // read only from here on: it may be the cached one
        var soft = new double[n * k];
        for (int i = 0; i < n; i++)
        {
            if (ranks[i] < 0 || ranks[i] >= k) throw LossArgumentException.Value($"{name}: target {ranks[i]} at position {i} is not a rank in [0, {k - 1}]");
            for (int j = 0; j < k; j++) soft[i * k + j] = _eta * s[ranks[i], j] + (j == ranks[i] ? 1 - _eta : 0);
        }
        var ce = new CrossEntropy(new CrossEntropy.Options { Weight = _weight, LabelSmoothing = _labelSmoothing, Reduction = _reduction });
        var softT = TensorData.Create(x.Shape, DType.Float64, soft);
        var inner = new LossInputs().Add("input", x).Add("target", x.DType == DType.Float32 ? softT.ToDType(DType.Float32) : softT);
        inner.AllowNonFinite = inputs.AllowNonFinite;   // the caller's choice carries over to the cross-entropy it is
        LossResult r = ce.Evaluate(inner, computeGradients);
        return computeGradients ? Result(r.Value, ("input", r.Gradient("input"))) : Result(r.Value);
    }

    /// <summary>
    /// A registry entry with what these losses share (family, inputs, sampler, the options around their own, the
    /// cross-entropy gradient and bound); each gives its names, soft labels' formula, reference and factory.
    /// </summary>
    internal static LossDescriptor Describe(string name, string[] aliases, OptionSpec[] own, string formula, string reference, string libraries,
        Func<LossOptions, ILoss> factory, string stability = "cross-entropy's log-softmax: finite for every finite logit") => new()
    {
        Name = name,
        Aliases = aliases,
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs = RanksInputs,
        Options = SharedOptions(own),
        Sample = SampleRanks,
        Formula = formula,
        Gradient = "cross-entropy's with probability targets: w-weighted softmax(x) − target",
        Reference = reference,
        Stability = stability,
        LowerBound = 0,
        Libraries = libraries,
        Factory = factory,
    };

    /// <summary>The options every one of these losses has, after its own.</summary>
    internal static OptionSpec[] SharedOptions(params OptionSpec[] own) =>
    [
        OptionSpec.Reduction("none", "mean", "sum"),
        OptionSpec.Float("eta", 1, "η in [0, 1]: the share of the soft labels in the target (0: plain cross-entropy)"),
        .. own,
        OptionSpec.Tensor("weight", "one weight per class (K), as cross-entropy's with probability targets"),
        OptionSpec.Float("label_smoothing", 0, "cross-entropy's, applied to the mixed target"),
    ];

    internal static readonly InputSpec[] RanksInputs =
    [
        new("input", InputKind.Floating, true, "logits (N, K) over K ordered classes"),
        new("target", InputKind.Indices, false, "ranks (N) in [0, K)"),
    ];

    internal static LossInputs SampleRanks(Random r, Shape s)
    {
        Shape x = Samples.Or(s, 4, 5);
        if (x.Rank != 2) x = new Shape(x.Numel / Math.Max(1, x[x.Rank - 1]), x[x.Rank - 1]);
        return new LossInputs().Add("input", Samples.Normal(r, x, 2)).Add("target", Samples.Classes(r, new Shape(x[0]), x[1]));
    }

    /// <summary>
    /// dlordinal's interval ends for K classes, numpy's linspace(10⁻⁹, 1 − 10⁻⁹, K + 1): start + i·step, the last point
    /// exactly the stop.
    /// </summary>
    protected static double[] IntervalEnds(int k)
    {
        var points = new double[k + 1];
        double start = 1e-9, stop = 1 - 1e-9, step = (stop - start) / k;
        for (int i = 0; i < k; i++) points[i] = start + i * step;
        points[k] = stop;
        return points;
    }

    /// <summary>Row-wise softmax of a matrix, in place (dlordinal's scipy softmax over axis 1).</summary>
    protected static double[,] RowSoftmax(double[,] m)
    {
        int k = m.GetLength(1);
        var row = new double[k];
        for (int i = 0; i < m.GetLength(0); i++)
        {
            for (int j = 0; j < k; j++) row[j] = m[i, j];
            Stable.Softmax<double>(row, row);
            for (int j = 0; j < k; j++) m[i, j] = row[j];
        }
        return m;
    }
}
