using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// sentence-transformers' <c>ContrastiveLoss(distance_metric=SiameseDistanceMetric.COSINE_DISTANCE, margin=0.5,
/// size_average=True)</c> (Hadsell, Chopra and LeCun 2006) over labelled pairs: ℓ_k = ½(y_k·d_k² + (1 − y_k)·max(0,
/// m − d_k)²), d_k the distance between the pair's embeddings, y_k = 1 for a similar pair and 0 for a dissimilar one.
/// Averaged over the pairs (size_average); <c>sum</c> is size_average=False. pytorch-metric-learning's ContrastiveLoss,
/// over labelled embeddings rather than pairs, is <c>contrastive_loss</c>.
/// </summary>
/// <remarks>
/// <b>Gradient:</b> ∂ℓ_k/∂d_k = y_k·d_k − (1 − y_k)·max(0, m − d_k), then through the distance: 1 − cos(x, y) with
/// PyTorch's cosine_similarity (eps 1e-8), or pairwise_distance ‖x − y + 10⁻⁶‖ for p = 2 (euclidean) and 1 (manhattan).
/// The labels are classes (0 or 1) and get no gradient.
/// </remarks>
public sealed class PairContrastiveLoss : SentenceEmbeddingLoss, ILossDefinition
{
    private readonly IEmbeddingDistance _distance;
    private readonly double _margin;
    private readonly Reduction _reduction;

    public PairContrastiveLoss(IEmbeddingDistance distance, double margin = 0.5, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(distance);
        if (!double.IsFinite(margin)) throw LossArgumentException.Value($"PairContrastiveLoss: margin must be finite, got {margin}");
        (_distance, _margin, _reduction) = (distance, margin, reduction);
    }

    /// <summary>sentence-transformers' SiameseDistanceMetric by name: cosine_distance, euclidean or manhattan.</summary>
    internal static IEmbeddingDistance Metric(string name) => name switch
    {
        "euclidean" => new LpDistance(2, 1e-6),
        "manhattan" => new LpDistance(1, 1e-6),
        _ => new CosineDistance(),
    };

    internal static OptionSpec MetricOption => OptionSpec.Choice("distance_metric", "cosine_distance",
        "SiameseDistanceMetric: cosine_distance (1 − cos), euclidean or manhattan (pairwise_distance, eps 1e-6)", "cosine_distance", "euclidean", "manhattan");

    internal static readonly InputSpec[] PairInputs = EmbeddingPairs.Inputs("1 for a similar pair, 0 for a dissimilar one (N)");

    internal static LossInputs PairSample(Random r, Shape s) => EmbeddingPairs.Sample(r, s, Samples.Bernoulli);

    /// <summary>The pairs, checked, and their 1/0 labels.</summary>
    internal static (int N, int D, double[] U, double[] V, double[] Y) ReadPairs(LossInputs inputs, string loss)
    {
        var (n, d, u, v) = EmbeddingPairs.Read(inputs, loss);
        return (n, d, u, v, EmbeddingPairs.Labels(inputs, loss, n, "1 for a similar pair and 0 for a dissimilar one"));
    }

    protected override string[] EmbeddingInputs => ["embeddings1", "embeddings2"];

    protected override LossResult ComputeEmbeddings<T>(LossInputs inputs, bool computeGradients)
    {
        var (n, d, u, v, y) = ReadPairs(inputs, "PairContrastiveLoss");
        var losses = new double[n];
        double[] gu = computeGradients ? new double[u.Length] : [], gv = computeGradients ? new double[v.Length] : [];
        double scale = Reducer.Scale(_reduction, n);
        for (int k = 0; k < n; k++)
        {
            ReadOnlySpan<double> x = u.AsSpan(k * d, d), z = v.AsSpan(k * d, d);
            double dist = _distance.Distance(x, z), hinge = Math.Max(0, _margin - dist);
            losses[k] = 0.5 * (y[k] * dist * dist + (1 - y[k]) * hinge * hinge);
            if (computeGradients) _distance.Backward(x, z, scale * (y[k] * dist - (1 - y[k]) * hinge), gu.AsSpan(k * d, d), gv.AsSpan(k * d, d));
        }
        TensorData value = ReduceRows<T>(losses, _reduction, new Shape(n)).Value;
        if (!computeGradients) return Result(value);
        return Result(value, ("embeddings1", FromDoubles<T>(gu, inputs["embeddings1"].Shape)), ("embeddings2", FromDoubles<T>(gv, inputs["embeddings2"].Shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "PairContrastiveLoss",
        Aliases = ["pair_contrastive_loss", "st.ContrastiveLoss", "siamese_contrastive_loss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = PairInputs,
        Options = [OptionSpec.Reduction("none", "mean", "sum"), MetricOption, OptionSpec.Float("margin", 0.5, "dissimilar pairs closer than this are pushed apart"), .. MatryoshkaOptions],
        Sample = PairSample,
        Formula = "ℓ_k = ½(y_k·d_k² + (1 − y_k)·max(0, m − d_k)²),  d = 1 − cos (or ‖·‖₂, ‖·‖₁)",
        Gradient = "∂ℓ/∂d = y·d − (1 − y)·max(0, m − d), through the distance",
        Reference = "sentence-transformers ContrastiveLoss (SiameseDistanceMetric); Hadsell, Chopra and LeCun 2006",
        Stability = "distances in double: finite for any finite input",
        Libraries = "sentence-transformers (ContrastiveLoss; size_average=False is reduction sum)",
        Factory = o => new PairContrastiveLoss(Metric(o.Choice("distance_metric")), o.Float("margin"), o.Reduction) { Matryoshka = MatryoshkaDims.From(o, "PairContrastiveLoss") },
    };

    public override LossDescriptor Descriptor => Entry;
}
