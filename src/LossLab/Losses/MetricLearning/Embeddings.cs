using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>Shared parts of the metric-learning losses: L2 normalization of (N, D) embeddings and its backward pass.</summary>
internal static class Embeddings
{
    /// <summary>Checks embeddings (N, D) and labels (N); returns the shape, N, D, the values in double and the labels.</summary>
    public static (Shape Shape, int N, int D, double[] X, long[] Labels) Read(LossInputs inputs, string loss)
    {
        Shape es = inputs["embeddings"].Shape, ls = inputs["labels"].Shape;
        if (es.Rank != 2) throw LossArgumentException.Shape($"{loss}: 'embeddings' must be (N, D), got {es}");
        if (ls != new Shape(es[0])) throw LossArgumentException.Shape($"{loss}: 'labels' has shape {ls} but 'embeddings' {es} needs ({es[0]})");
        return (es, es[0], es[1], inputs["embeddings"].ToArray<double>(), inputs.Indices("labels"));
    }

    /// <summary>
    /// Checks the class proxies (C, D) of a proxy loss (Proxy Anchor, Proxy-NCA) against embeddings of width D and
    /// labels in [0, C); returns C, their shape and their values in double.
    /// </summary>
    public static (int C, Shape Shape, double[] P) ReadProxies(LossInputs inputs, string loss, Shape embeddings, long[] labels)
    {
        int d = embeddings[1];
        Shape ps = inputs["proxies"].Shape;
        if (ps.Rank != 2 || ps[1] != d || ps[0] == 0) throw LossArgumentException.Shape($"{loss}: 'proxies' has shape {ps}; expected (C, D) = (C, {d}) for embeddings {embeddings}");
        int c = ps[0];
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] < 0 || labels[i] >= c) throw LossArgumentException.Value($"{loss}: label {labels[i]} at row {i} is not one of the {c} proxies' classes");
        return (c, ps, inputs["proxies"].ToArray<double>());
    }

    /// <summary>The proxies (C, D) as class vectors (<see cref="IClassParameterLoss.ClassVectors"/>): class c's is row c.</summary>
    public static double[][] ProxyRows(ReadOnlySpan<double> parameters, int dimension, int classes)
    {
        if (parameters.Length != (long)classes * dimension) throw LossArgumentException.Shape($"proxies need {classes}·{dimension} values for ({classes}, {dimension}), got {parameters.Length}");
        var vectors = new double[classes][];
        for (int c = 0; c < classes; c++) vectors[c] = parameters.Slice(c * dimension, dimension).ToArray();
        return vectors;
    }

    /// <summary>
    /// The rows of each distinct label, in order of first appearance (each list ascending), and for each row the index
    /// of its label's group there (so that comparing labels is comparing ints).
    /// </summary>
    public static (int[][] Members, int[] Group) Groups(long[] labels)
    {
        var index = new Dictionary<long, int>();
        var members = new List<List<int>>();
        var group = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            if (!index.TryGetValue(labels[i], out int g)) { g = members.Count; index[labels[i]] = g; members.Add([]); }
            members[g].Add(i);
            group[i] = g;
        }
        return ([.. members.Select(r => r.ToArray())], group);
    }

    /// <summary>
    /// pytorch-metric-learning's AvgNonZeroReducer for <c>mean</c> (the average over anchors with ℓ_a &gt; 0; 0 when there
    /// are none), the total for <c>sum</c>, ℓ_a (N) for <c>none</c>: the value's entries and shape, and the factor the
    /// summed per-anchor gradients take (1/count for mean, else 1).
    /// </summary>
    public static (double[] Values, Shape Shape, double GradientScale) AvgNonZero(double[] perAnchor, Reduction reduction)
    {
        if (reduction == Reduction.None) return (perAnchor, new Shape(perAnchor.Length), 1);
        double total = perAnchor.Sum();
        if (reduction == Reduction.Sum) return ([total], Shape.Scalar, 1);
        int nonZero = perAnchor.Count(v => v > 0);
        double meanScale = nonZero == 0 ? 0 : 1.0 / nonZero;
        return ([total * meanScale], Shape.Scalar, meanScale);
    }

    /// <summary>The inputs of the proxy losses (Proxy Anchor, Proxy-NCA): embeddings, labels and one proxy per class.</summary>
    public static readonly InputSpec[] ProxyInputs =
    [
        new("embeddings", InputKind.Floating, true, "embeddings (N, D)"),
        new("labels", InputKind.Indices, false, "class labels (N) in [0, C)"),
        new("proxies", InputKind.Floating, true, "one proxy per class (C, D), the loss's parameters (pytorch-metric-learning's loss.proxies)"),
    ];

    /// <summary>lse of z (−∞ entries left out; −∞ when all are) and its max; z becomes e^{z − max} (0 at the −∞ entries).</summary>
    public static (double Lse, double Max) ExpAndLse(Span<double> z)
    {
        double max = System.Numerics.Tensors.TensorPrimitives.Max<double>(z);
        if (double.IsNegativeInfinity(max)) { z.Clear(); return (max, max); }
        System.Numerics.Tensors.TensorPrimitives.Subtract(z, max, z);
        System.Numerics.Tensors.TensorPrimitives.Exp(z, z);
        return (max + Math.Log(System.Numerics.Tensors.TensorPrimitives.Sum<double>(z)), max);
    }

    /// <summary>x̂ = x / max(‖x‖, 1e-12) per row, and the clamped norms.</summary>
    public static (double[] Unit, double[] Norms) Normalize(double[] x, int n, int d)
    {
        var unit = new double[x.Length];
        double[] norms = Norms(x, n, d);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < d; k++) unit[i * d + k] = x[i * d + k] / norms[i];
        return (unit, norms);
    }

    /// <summary>The rows' norms as <see cref="Normalize"/> takes them (clamped at 1e-12), without the unit rows.</summary>
    public static double[] Norms(double[] x, int n, int d)
    {
        var norms = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int k = 0; k < d; k++) s += x[i * d + k] * x[i * d + k];
            norms[i] = Math.Max(Math.Sqrt(s), 1e-12);
        }
        return norms;
    }

    /// <summary>
    /// <see cref="BackThroughNormalize"/> from the raw rows x (unit = x/norm taken on the fly) and in place over
    /// <paramref name="gUnit"/>: for a caller that holds no unit copy of a large x (100000 proxies of 512: 410 MB).
    /// </summary>
    public static void BackThroughNormsInPlace(double[] gUnit, double[] x, double[] norms, int n, int d)
    {
        for (int i = 0; i < n; i++)
        {
            Span<double> g = gUnit.AsSpan(i * d, d);
            if (norms[i] <= 1e-12) { g.Clear(); continue; }
            double dot = 0;
            for (int k = 0; k < d; k++) dot += g[k] * (x[i * d + k] / norms[i]);
            for (int k = 0; k < d; k++) g[k] = (g[k] - dot * (x[i * d + k] / norms[i])) / norms[i];
        }
    }

    /// <summary>unit_i · unit_j, vectorized (System.Numerics.Tensors) in double.</summary>
    public static double Dot(double[] unit, int i, int j, int d) => Dot(unit, i, unit, j, d);

    /// <summary>a_i · b_j for rows of two (·, D) arrays (embeddings and class vectors), vectorized in double.</summary>
    public static double Dot(double[] a, int i, double[] b, int j, int d)
        => System.Numerics.Tensors.TensorPrimitives.Dot(a.AsSpan(i * d, d), b.AsSpan(j * d, d));

    /// <summary>The gradient of g·(unit_a · unit_j) folded into both rows: ∂_a += g·unit_j, ∂_j += g·unit_a (vectorized).</summary>
    public static void AddPair(double[] gUnit, double[] unit, int a, int j, double g, int d) => AddPair(gUnit, unit, a, gUnit, unit, j, g, d);

    /// <summary>The same for a_i · b_j across two arrays: ∂a_i += g·b_j, ∂b_j += g·a_i (ArcFace's W, Proxy Anchor's proxies).</summary>
    public static void AddPair(double[] gA, double[] a, int i, double[] gB, double[] b, int j, double g, int d)
    {
        Span<double> gi = gA.AsSpan(i * d, d), gj = gB.AsSpan(j * d, d);
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(b.AsSpan(j * d, d), g, gi, gi);
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(a.AsSpan(i * d, d), g, gj, gj);
    }

    /// <summary>∂/∂x = (g − (g·x̂)x̂)/‖x‖ per row (0 for a zero row, whose norm was clamped).</summary>
    public static double[] BackThroughNormalize(double[] gUnit, double[] unit, double[] norms, int n, int d)
        => BackThroughNormalizeInPlace((double[])gUnit.Clone(), unit, norms, n, d);

    /// <summary>The same over <paramref name="g"/> itself (returned): for a caller that owns its ∂Û and holds a large one.</summary>
    public static double[] BackThroughNormalizeInPlace(double[] g, double[] unit, double[] norms, int n, int d)
    {
        for (int i = 0; i < n; i++)
        {
            Span<double> row = g.AsSpan(i * d, d);
            if (norms[i] <= 1e-12)
            {
                row.Clear();
                continue;
            }
            double dot = 0;
            for (int k = 0; k < d; k++) dot += row[k] * unit[i * d + k];
            for (int k = 0; k < d; k++) row[k] = (row[k] - dot * unit[i * d + k]) / norms[i];
        }
        return g;
    }

    public static readonly InputSpec[] Inputs =
    [
        new("embeddings", InputKind.Floating, true, "embeddings (N, D)"),
        new("labels", InputKind.Indices, false, "class labels (N); equal labels make positive pairs"),
    ];

    public static LossInputs Sample(Random r, Shape s)
    {
        Shape x = s.Rank == 2 ? s : new Shape(6, 4);
        return new LossInputs().Add("embeddings", Samples.Normal(r, x)).Add("labels", Samples.Classes(r, new Shape(x[0]), 3));
    }
}
