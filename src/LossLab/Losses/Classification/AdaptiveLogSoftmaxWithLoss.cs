using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// PyTorch's <c>nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, div_value=4.0, head_bias=False)</c>
/// (Grave et al., "Efficient softmax approximation for GPUs", 2017): a softmax over a large vocabulary split by
/// frequency. The head scores the <c>shortlist</c> = cutoffs[0] most frequent classes plus one entry per tail cluster;
/// cluster i (classes [cutoffs[i], cutoffs[i+1]), the last ending at n_classes) gets its own softmax over the
/// projection O_i·(P_i·x), P_i of ⌊D / div_valueⁱ⁺¹⌋ rows. With z = W_h·x + b_h and lsm the log-softmax:
/// log p(y | x) = lsm(z)_y for y &lt; shortlist, else lsm(z)_{shortlist+i} + lsm(O_i·P_i·x)_{y − cutoffs[i]}.
/// The loss is −log p(y | x), its mean by default: PyTorch's <c>loss</c>; its <c>output</c> is the per-row log p, the
/// negated values of <c>reduction: none</c>.
/// </summary>
/// <remarks>
/// <para>The module's parameters are inputs here, named as in its <c>state_dict</c>: <c>head.weight</c>
/// (shortlist + clusters, D), <c>head.bias</c> (when head_bias), and per cluster i <c>tail.i.0.weight</c> P_i (h_i, D)
/// and <c>tail.i.1.weight</c> O_i (cluster size, h_i). Cutoffs and n_classes follow from those shapes when not given;
/// given, they and div_value are checked against them.</para>
/// <para><b>Gradient:</b> ∂(−log p)/∂z = softmax(z) − e_g (g = y or the cluster's head entry) and ∂(−log p)/∂o =
/// softmax(o) − e_{y − cutoffs[i]} for o = O_i·h, h = P_i·x; then ∂W_h = Σ_rows (∂z)·xᵀ, ∂b_h = Σ_rows ∂z,
/// ∂O_i = Σ (∂o)·hᵀ, ∂h = O_iᵀ·∂o, ∂P_i = Σ (∂h)·xᵀ, ∂x = W_hᵀ·∂z + P_iᵀ·∂h. Computed in double, max-shifted log-sum-exps:
/// finite for any finite input.</para>
/// </remarks>
public sealed partial class AdaptiveLogSoftmaxWithLoss : Loss, ILossDefinition
{
    /// <summary>The most tail clusters the inputs name (tail.0 … tail.7): more than the usual two to four.</summary>
    public const int MaxClusters = 8;

    private readonly Options _options;

    public AdaptiveLogSoftmaxWithLoss() : this(new Options()) { }

    public AdaptiveLogSoftmaxWithLoss(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.DivValue > 0 && double.IsFinite(options.DivValue)))
            throw LossArgumentException.Value($"{Name}: div_value must be a finite number > 0, got {options.DivValue}");
        if (options.NClasses is long nc && nc < 2) throw LossArgumentException.Value($"{Name}: n_classes must be at least 2, got {nc}");
        if (options.Cutoffs is { } c)
        {
            if (c.Length == 0) throw LossArgumentException.Value($"{Name}: cutoffs should be a sequence of length larger than 0");
            if (c.Length > MaxClusters) throw LossArgumentException.Value($"{Name}: {c.Length} cutoffs make {c.Length} tail clusters; at most {MaxClusters} are supported");
            for (int i = 0; i < c.Length; i++)
            {
                if (c[i] <= 0 || i > 0 && c[i] <= c[i - 1] || options.NClasses is long n && c[i] > n - 1)
                {
                    throw LossArgumentException.Value($"{Name}: cutoffs should be a sequence of unique, positive integers sorted in an increasing order, "
                        + $"where each value is between 1 and n_classes-1; cutoffs[{i}] = {c[i]} in [{string.Join(", ", c)}]");
                }
            }
        }
        _options = options;
    }

    private const string Name = "AdaptiveLogSoftmaxWithLoss";

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>The cluster boundaries, increasing, in [1, n_classes − 1]; null: read from the tail weights' shapes.</summary>
        public long[]? Cutoffs { get; init; }

        /// <summary>The number of classes; null: cutoffs' last boundary plus the last cluster's size.</summary>
        public long? NClasses { get; init; }

        /// <summary>Cluster i's projection has ⌊D / div_valueⁱ⁺¹⌋ rows (Python's floor division, as PyTorch computes it).</summary>
        public double DivValue { get; init; } = 4.0;
    }

    /// <summary>The input names of cluster <paramref name="i"/>'s projection P_i and output O_i.</summary>
    public static (string Projection, string Output) TailInputs(int i) => ($"tail.{i}.0.weight", $"tail.{i}.1.weight");

    /// <summary>The inputs as arrays, with the model's structure checked (shapes in the messages).</summary>
    private sealed class Model
    {
        public required int N, D, Shortlist, Classes;
        public required bool Unbatched;
        public required double[] X, Wh;
        public required double[]? Bh;
        public required long[] Cutoffs;   // [shortlist, …, n_classes]: cluster i spans [Cutoffs[i], Cutoffs[i + 1])
        public required double[][] P, O;
        public required int[] Hidden;
        public int Head => Shortlist + P.Length;
        public int ClusterSize(int i) => (int)(Cutoffs[i + 1] - Cutoffs[i]);
    }

    private Model Bind(LossInputs inputs)
    {
        TensorData xT = inputs["input"], wT = inputs["head.weight"];
        if (xT.Shape.Rank is not (1 or 2)) throw LossArgumentException.Shape($"{Name}: 'input' must be (N, in_features) or (in_features), got shape {xT.Shape}");
        bool unbatched = xT.Shape.Rank == 1;
        int n = unbatched ? 1 : xT.Shape[0], d = xT.Shape[^1];
        int clusters = 0;
        while (clusters < MaxClusters && (inputs.Contains(TailInputs(clusters).Projection) || inputs.Contains(TailInputs(clusters).Output))) clusters++;
        for (int i = 0; i < MaxClusters; i++)
        {
            var (p, o) = TailInputs(i);
            if (i < clusters && !(inputs.Contains(p) && inputs.Contains(o)))
                throw LossArgumentException.Value($"{Name}: cluster {i} needs both '{p}' (projection) and '{o}' (output); '{(inputs.Contains(p) ? o : p)}' is missing");
            if (i >= clusters && (inputs.Contains(p) || inputs.Contains(o)))
                throw LossArgumentException.Value($"{Name}: '{(inputs.Contains(p) ? p : o)}' is given but cluster {clusters} is not: tail clusters are numbered from 0 without gaps");
        }
        if (clusters == 0) throw LossArgumentException.Value($"{Name}: no tail cluster: give 'tail.0.0.weight' and 'tail.0.1.weight' (at least one cutoff)");
        if (_options.Cutoffs is { } given && given.Length != clusters)
            throw LossArgumentException.Value($"{Name}: cutoffs [{string.Join(", ", given)}] make {given.Length} tail clusters but the inputs hold {clusters}");
        if (wT.Shape.Rank != 2 || wT.Shape[1] != d || wT.Shape[0] <= clusters)
            throw LossArgumentException.Shape($"{Name}: 'head.weight' has shape {wT.Shape}; expected (shortlist + {clusters}, {d}), the shortlist at least 1");
        int shortlist = wT.Shape[0] - clusters;
        var cut = new long[clusters + 1];
        cut[0] = shortlist;
        var hidden = new int[clusters];
        var pArrays = new double[clusters][];
        var oArrays = new double[clusters][];
        for (int i = 0; i < clusters; i++)
        {
            var (pName, oName) = TailInputs(i);
            TensorData pT = inputs[pName], oT = inputs[oName];
            hidden[i] = (int)PythonFloorDivide(d, Math.Pow(_options.DivValue, i + 1));
            if (pT.Shape != new Shape(hidden[i], d))
                throw LossArgumentException.Shape($"{Name}: '{pName}' has shape {pT.Shape}; with div_value {_options.DivValue} it is ({hidden[i]}, {d}) = (⌊in_features / div_value^{i + 1}⌋, in_features)");
            if (oT.Shape.Rank != 2 || oT.Shape[1] != hidden[i] || oT.Shape[0] == 0)
                throw LossArgumentException.Shape($"{Name}: '{oName}' has shape {oT.Shape}; expected (cluster size, {hidden[i]}), the cluster size at least 1");
            cut[i + 1] = cut[i] + oT.Shape[0];
            pArrays[i] = pT.ToArray<double>();
            oArrays[i] = oT.ToArray<double>();
        }
        if (_options.Cutoffs is { } c)
        {
            for (int i = 0; i < clusters; i++)
            {
                if (c[i] != cut[i])
                {
                    throw LossArgumentException.Shape(i == 0
                        ? $"{Name}: cutoffs[0] = {c[0]} is the shortlist, but 'head.weight' {wT.Shape} has {shortlist} shortlist rows (plus {clusters} cluster rows)"
                        : $"{Name}: cutoffs[{i}] = {c[i]}, but cluster {i - 1} ('{TailInputs(i - 1).Output}', {oArrays[i - 1].Length / Math.Max(1, hidden[i - 1])} rows) ends at {cut[i]}");
                }
            }
        }
        if (_options.NClasses is long nc && nc != cut[clusters])
            throw LossArgumentException.Shape($"{Name}: n_classes is {nc}, but the last cluster ('{TailInputs(clusters - 1).Output}') ends at {cut[clusters]}");
        TensorData? bT = inputs.Contains("head.bias") ? inputs["head.bias"] : null;
        if (bT is not null && bT.Shape != new Shape(shortlist + clusters))
            throw LossArgumentException.Shape($"{Name}: 'head.bias' has shape {bT.Shape}; expected ({shortlist + clusters}), one per row of 'head.weight'");
        TensorData yT = inputs["target"];
        if (unbatched ? yT.Shape.Rank != 0 : yT.Shape != new Shape(n))
            throw LossArgumentException.Shape(unbatched
                ? $"{Name}: 'target' has shape {yT.Shape}; an unbatched input ({d}) takes one class index, shape ()"
                : $"{Name}: 'target' has shape {yT.Shape}; expected ({n}): input and target should have the same size in the batch dimension");
        return new Model
        {
            N = n, D = d, Shortlist = shortlist, Classes = (int)cut[clusters], Unbatched = unbatched,
            X = xT.ToArray<double>(), Wh = wT.ToArray<double>(), Bh = bT?.ToArray<double>(),
            Cutoffs = cut, P = pArrays, O = oArrays, Hidden = hidden,
        };
    }

    /// <summary>Python's <c>a // b</c> for floats (floor of the exact quotient, from fmod), which PyTorch's hidden sizes use.</summary>
    internal static double PythonFloorDivide(double a, double b)
    {
        double mod = a % b, div = (a - mod) / b;
        if (mod != 0 && b < 0 != mod < 0) div -= 1;
        if (div == 0) return 0;
        double floor = Math.Floor(div);
        return div - floor > 0.5 ? floor + 1 : floor;
    }

    protected override bool IsOptionalInput(string name) => name.StartsWith("tail.", StringComparison.Ordinal);

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        Model m = Bind(inputs);
        long[] y = inputs.Indices("target");
        for (int r = 0; r < y.Length; r++)
        {
            if (y[r] < 0 || y[r] >= m.Classes)
                throw LossArgumentException.Value($"{Name}: target {y[r]}{(m.Unbatched ? "" : $" at position {r}")} is out of range: class indices must be in [0, {m.Classes - 1}] (n_classes {m.Classes})");
        }
        var (losses, gx, gWh, gBh, gP, gO) = Batched(m, y, computeGradients, Reducer.Scale(_options.Reduction, m.N));
        int n = m.N;
        Shape rows = m.Unbatched ? Shape.Scalar : new Shape(n);
        TensorData value = ReduceRows<T>(losses, _options.Reduction, rows).Value;
        if (!computeGradients) return Result(value);
        var grads = new List<(string, TensorData?)>
        {
            ("input", FromDoubles<T>(gx!, inputs["input"].Shape)),
            ("head.weight", FromDoubles<T>(gWh!, inputs["head.weight"].Shape)),
            ("head.bias", gBh is null ? null : FromDoubles<T>(gBh, inputs["head.bias"].Shape)),
        };
        for (int i = 0; i < m.P.Length; i++)
        {
            var (pName, oName) = TailInputs(i);
            grads.Add((pName, FromDoubles<T>(gP[i], inputs[pName].Shape)));
            grads.Add((oName, FromDoubles<T>(gO[i], inputs[oName].Shape)));
        }
        return Result(value, [.. grads]);
    }

    /// <summary>
    /// log p(c | x) for every class c, (N, n_classes) (or (n_classes) for an unbatched input): PyTorch's
    /// <c>log_prob(input)</c>. Takes the same inputs as the loss, without 'target'.
    /// </summary>
    public TensorData LogProbabilities(LossInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        // The loss's checks need a target: a dummy one, class 0, per row.
        TensorData? input = inputs.Contains("input") ? inputs["input"] : null;
        int rowCount = input?.Shape.Rank == 2 ? input.Shape[0] : 1;
        var withTarget = new LossInputs(inputs.Tensors.Where(kv => kv.Key != "target")) { AllowNonFinite = inputs.AllowNonFinite }
            .Add("target", input?.Shape.Rank == 1 ? TensorData.Create(Shape.Scalar, DType.Int64, new long[1]) : TensorData.FromArray(new long[rowCount], rowCount));
        CheckInputs(withTarget);
        Model m = Bind(withTarget);
        int n = m.N, classes = m.Classes;
        double[] result = LogProbabilitiesBatched(m);
        Shape shape = m.Unbatched ? new Shape(classes) : new Shape(n, classes);
        return withTarget.ComputeDType == DType.Float32
            ? TensorData.Create(shape, DType.Float32, Array.ConvertAll(result, v => (float)v))
            : TensorData.Create(shape, DType.Float64, result);
    }

    /// <summary>The most likely class of each row, PyTorch's <c>predict(input)</c>: the argmax of <see cref="LogProbabilities"/> (first on ties).</summary>
    public long[] Predict(LossInputs inputs)
    {
        TensorData lp = LogProbabilities(inputs);
        int classes = lp.Shape[^1], n = lp.Length / classes;
        var result = new long[n];
        for (int r = 0; r < n; r++)
        {
            int best = 0;
            for (int c = 1; c < classes; c++) if (lp.GetDouble(r * classes + c) > lp.GetDouble(r * classes + best)) best = c;
            result[r] = best;
        }
        return result;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["adaptive_log_softmax_with_loss", "AdaptiveLogSoftmaxWithLoss", "adaptive_softmax"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("input", InputKind.Floating, true, "features x (N, in_features) or (in_features)"),
            new("target", InputKind.Indices, false, "class indices (N) or ()"),
            new("head.weight", InputKind.Floating, true, "the head W_h (shortlist + clusters, in_features)"),
            new("head.bias", InputKind.Floating, true, "the head's bias (shortlist + clusters): head_bias=True") { Optional = true },
            .. Enumerable.Range(0, MaxClusters).SelectMany(i => new[]
            {
                new InputSpec(TailInputs(i).Projection, InputKind.Floating, true, $"cluster {i}'s projection P_{i} (⌊in_features / div_value^{i + 1}⌋, in_features)") { Optional = true },
                new InputSpec(TailInputs(i).Output, InputKind.Floating, true, $"cluster {i}'s output layer O_{i} (cluster size, rows of P_{i})") { Optional = true },
            }),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Tensor("cutoffs", "increasing cluster boundaries in [1, n_classes − 1]; default: read from the weights' shapes"),
            OptionSpec.OptionalInt("n_classes", "the number of classes; default: the last cutoff plus the last cluster's size"),
            OptionSpec.Float("div_value", 4.0, "cluster i's projection has ⌊in_features / div_valueⁱ⁺¹⌋ rows (checked)"),
        ],
        Sample = (r, s) =>
        {
            // in_features 16: projections of ⌊16/4⌋ = 4 and ⌊16/16⌋ = 1 rows; shortlist 3, clusters [3, 6) and [6, 9).
            int n = s.Rank >= 1 && s[0] > 0 ? s[0] : 6;
            return new LossInputs().Add("input", Samples.Normal(r, new Shape(n, 16))).Add("target", Samples.Classes(r, new Shape(n), 9))
                .Add("head.weight", Samples.Normal(r, new Shape(5, 16), 0.5)).Add("head.bias", Samples.Normal(r, new Shape(5)))
                .Add("tail.0.0.weight", Samples.Normal(r, new Shape(4, 16), 0.5)).Add("tail.0.1.weight", Samples.Normal(r, new Shape(3, 4)))
                .Add("tail.1.0.weight", Samples.Normal(r, new Shape(1, 16), 0.5)).Add("tail.1.1.weight", Samples.Normal(r, new Shape(3, 1)));
        },
        Formula = "ℓ = −lsm(W_h·x + b)_y (y < shortlist), else −lsm(W_h·x + b)_{shortlist+i} − lsm(O_i·P_i·x)_{y − cutoffs[i]}",
        Gradient = "∂z = softmax(z) − e_g, ∂o = softmax(o) − e_{y − cᵢ};  ∂W_h = ∂z·xᵀ, ∂O_i = ∂o·hᵀ, ∂P_i = (O_iᵀ∂o)·xᵀ, ∂x = W_hᵀ∂z + P_iᵀO_iᵀ∂o",
        Reference = "torch.nn.AdaptiveLogSoftmaxWithLoss (Grave et al. 2017, efficient softmax approximation)",
        Stability = "max-shifted log-sum-exps in double: finite for any finite input",
        Libraries = "PyTorch (nn.AdaptiveLogSoftmaxWithLoss; its output is −(reduction none), its loss the mean)",
        Factory = o => new AdaptiveLogSoftmaxWithLoss(new Options
        {
            Reduction = o.Reduction,
            Cutoffs = CutoffValues(o.Tensor("cutoffs")),
            NClasses = o.NullableInt("n_classes"),
            DivValue = o.Float("div_value"),
        }),
    };

    private static long[]? CutoffValues(TensorData? t)
    {
        if (t is null) return null;
        var c = new long[t.Length];
        for (int i = 0; i < c.Length; i++)
        {
            double v = t.GetDouble(i);
            if (v != Math.Floor(v) || !double.IsFinite(v))
                throw LossArgumentException.Value($"{Name}: cutoffs should be a sequence of unique, positive integers; cutoffs[{i}] = {v}");
            c[i] = (long)v;
        }
        return c;
    }

    public override LossDescriptor Descriptor => Entry;
}
