using System.Text.Json.Nodes;
using LossLab.Losses.MetricLearning;

namespace LossLab.Training;

/// <summary>How a metric-learning model's embeddings are compared: the geometry its loss trained.</summary>
public enum EmbeddingMetric
{
    /// <summary>Straight-line distance between the raw embeddings (the triplet losses' pairwise distance).</summary>
    Euclidean,

    /// <summary>Distance between the L2-normalized embeddings, √(2 − 2·cos): the cosine-similarity losses.</summary>
    Cosine,
}

/// <summary>Where an <see cref="EmbeddingHead"/>'s class centres come from.</summary>
public enum EmbeddingCentres
{
    /// <summary>The mean embedding of each class's training rows.</summary>
    ClassMeans,

    /// <summary>
    /// The loss's learned class vectors (<see cref="Losses.Core.IClassParameterLoss.ClassVectors"/>: ArcFace's columns of
    /// W, Proxy Anchor's proxies), the directions its logits compare an embedding with; several per class for
    /// sub-centre ArcFace.
    /// </summary>
    ClassVectors,
}

/// <summary>
/// Classifies with a metric-learning model: a nearest-centre rule over its embeddings. A loss such as circle, SupCon
/// or triplet trains an embedding (N, D), not class scores; its classes are read off by the nearest class centre,
/// the mean embedding of each class's training rows (for <see cref="EmbeddingMetric.Cosine"/>, the normalized mean
/// of the normalized rows). A class with no training row has no centre and is never predicted. A loss with learned
/// class vectors (ArcFace, CosFace, Proxy Anchor...) is read off by those instead: the largest cosine, which is the
/// class its own logits favour; with K vectors per class (sub-centre ArcFace), the nearest of the K.
/// </summary>
public sealed class EmbeddingHead
{
    /// <param name="metric">The geometry of the distances.</param>
    /// <param name="dimension">D, the embedding width.</param>
    /// <param name="centroids">Per class, null (no centre: never predicted) or K·D values, its K centres one after
    /// another; K is the same for every class.</param>
    /// <param name="source">Where the centres come from (informational: <see cref="Model.Describe"/>, the saved JSON).</param>
    public EmbeddingHead(EmbeddingMetric metric, int dimension, IReadOnlyList<double[]?> centroids, EmbeddingCentres source = EmbeddingCentres.ClassMeans)
    {
        ArgumentNullException.ThrowIfNull(centroids);
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), $"an embedding needs at least 1 dimension, got {dimension}");
        if (!centroids.Any(c => c is not null)) throw new ArgumentException("an embedding head needs at least one class centroid", nameof(centroids));
        int perClass = centroids.First(c => c is not null)!.Length;
        if (perClass == 0 || perClass % dimension != 0)
        {
            throw new ArgumentException($"centroid {centroids.ToList().FindIndex(c => c is not null)} has {perClass} values, not a positive multiple of the embedding's {dimension}", nameof(centroids));
        }
        for (int c = 0; c < centroids.Count; c++)
        {
            if (centroids[c] is double[] v && v.Length != perClass)
            {
                throw new ArgumentException($"centroid {c} has {v.Length} values, the others {perClass} ({perClass / dimension} centres of {dimension})", nameof(centroids));
            }
        }
        Metric = metric;
        Dimension = dimension;
        Centroids = centroids;
        CentresPerClass = perClass / dimension;
        Source = source;
    }

    public EmbeddingMetric Metric { get; }

    public int Dimension { get; }

    /// <summary>Per class, its centres (K·D values), null for a class absent from the training rows.</summary>
    public IReadOnlyList<double[]?> Centroids { get; }

    /// <summary>K, the centres of each class: 1, or sub-centre ArcFace's sub_centers.</summary>
    public int CentresPerClass { get; }

    public EmbeddingCentres Source { get; }

    public int Classes => Centroids.Count;

    /// <summary>
    /// A cosine head on a loss's learned class vectors (<see cref="Losses.Core.IClassParameterLoss.ClassVectors"/>:
    /// K·D values per class), each vector normalized: the nearest is the one of largest cosine.
    /// </summary>
    public static EmbeddingHead FromClassVectors(IReadOnlyList<double[]> vectors, int dimension)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        var unit = new double[vectors.Count][];
        for (int c = 0; c < vectors.Count; c++)
        {
            if (vectors[c].Length % dimension != 0) throw new ArgumentException($"class {c} has {vectors[c].Length} values, not vectors of {dimension}", nameof(vectors));
            unit[c] = Embeddings.Normalize(vectors[c], vectors[c].Length / dimension, dimension).Unit;
        }
        return new EmbeddingHead(EmbeddingMetric.Cosine, dimension, unit, EmbeddingCentres.ClassVectors);
    }

    /// <summary>The class centres of embeddings (rows × D) with their labels (class indices 0..classes−1).</summary>
    public static EmbeddingHead Fit(ReadOnlySpan<double> embeddings, int dimension, IReadOnlyList<double> labels, int classes, EmbeddingMetric metric)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (dimension < 1 || embeddings.Length != labels.Count * dimension)
        {
            throw new ArgumentException($"{labels.Count} labels need {labels.Count} embeddings of {dimension} values, got {embeddings.Length} values", nameof(embeddings));
        }
        var sums = new double[classes][];
        var counts = new int[classes];
        double[] rows = InMetric(embeddings, dimension, metric);
        for (int i = 0; i < labels.Count; i++)
        {
            int y = (int)labels[i];
            if (y < 0 || y >= classes || y != labels[i]) throw new ArgumentOutOfRangeException(nameof(labels), $"label {labels[i]} at row {i} is not a class index in [0, {classes - 1}]");
            double[] s = sums[y] ??= new double[dimension];
            counts[y]++;
            for (int k = 0; k < dimension; k++) s[k] += rows[i * dimension + k];
        }
        for (int c = 0; c < classes; c++)
        {
            if (sums[c] is not double[] s) continue;
            if (metric == EmbeddingMetric.Cosine) sums[c] = Embeddings.Normalize(s, 1, dimension).Unit;
            else for (int k = 0; k < dimension; k++) s[k] /= counts[c];
        }
        return new EmbeddingHead(metric, dimension, sums);
    }

    /// <summary>
    /// Class scores (rows × C) of embeddings (rows × D): a softmax over the classes of minus each class's distance (to
    /// its nearest centre), 0 for a class without a centre. The nearest centre scores highest and the scores rank rows by how much nearer
    /// they are to a class than to the others (what ROC-AUC needs); they are not calibrated probabilities.
    /// </summary>
    public double[] Scores(ReadOnlySpan<double> embeddings)
    {
        if (embeddings.Length % Dimension != 0) throw new ArgumentException($"{embeddings.Length} values are not rows of {Dimension}-dimensional embeddings", nameof(embeddings));
        int rows = embeddings.Length / Dimension, c = Classes;
        var scores = new double[rows * c];
        double[] x = InMetric(embeddings, Dimension, Metric);
        var distance = new double[c];
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<double> row = x.AsSpan(i * Dimension, Dimension);
            double nearest = double.PositiveInfinity;
            for (int k = 0; k < c; k++)
            {
                distance[k] = double.PositiveInfinity;
                if (Centroids[k] is not double[] centres) continue;
                for (int j = 0; j < CentresPerClass; j++)   // Math.Min keeps a NaN distance (a non-finite embedding)
                {
                    distance[k] = Math.Min(distance[k], System.Numerics.Tensors.TensorPrimitives.Distance<double>(row, centres.AsSpan(j * Dimension, Dimension)));
                }
                nearest = Math.Min(nearest, distance[k]);
            }
            Span<double> s = scores.AsSpan(i * c, c);
            if (!double.IsFinite(nearest))
            {
                s.Fill(double.NaN);   // a non-finite embedding (a diverged model): no class is nearer
                continue;
            }
            double total = 0;
            for (int k = 0; k < c; k++) total += s[k] = Math.Exp(nearest - distance[k]);
            for (int k = 0; k < c; k++) s[k] /= total;
        }
        return scores;
    }

    /// <summary>The index of the nearest centre of each row of embeddings (rows × D).</summary>
    public int[] Classify(ReadOnlySpan<double> embeddings)
    {
        double[] s = Scores(embeddings);
        var classes = new int[s.Length / Classes];
        for (int i = 0; i < classes.Length; i++)
        {
            int best = 0;
            for (int k = 1; k < Classes; k++) if (s[i * Classes + k] > s[i * Classes + best]) best = k;
            classes[i] = best;
        }
        return classes;
    }

    public JsonObject ToJson() => new()
    {
        ["metric"] = Metric.ToString().ToLowerInvariant(),
        ["dimension"] = Dimension,
        ["centres"] = Source == EmbeddingCentres.ClassVectors ? "class_vectors" : "class_means",
        ["centroids"] = new JsonArray([.. Centroids.Select(c => c is null ? null : (JsonNode)new JsonArray([.. c.Select(v => (JsonNode)v)]))]),
    };

    /// <summary>Reads <see cref="ToJson"/>'s object; a missing or mistyped part throws (the model loader reports it).</summary>
    public static EmbeddingHead FromJson(JsonNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        string metric = node["metric"]!.GetValue<string>();
        return new EmbeddingHead(
            metric switch
            {
                "euclidean" => EmbeddingMetric.Euclidean,
                "cosine" => EmbeddingMetric.Cosine,
                _ => throw new FormatException($"unknown embedding metric '{metric}'"),
            },
            node["dimension"]!.GetValue<int>(),
            [.. node["centroids"]!.AsArray().Select(c => c is null ? null : c.AsArray().Select(v => v!.GetValue<double>()).ToArray())],
            node["centres"]?.GetValue<string>() switch
            {
                null or "class_means" => EmbeddingCentres.ClassMeans,
                "class_vectors" => EmbeddingCentres.ClassVectors,
                string other => throw new FormatException($"unknown embedding centres '{other}'"),
            });
    }

    /// <summary>
    /// Embeddings (rows × D) in the metric's geometry: a copy, with each row normalized for the cosine metric (the loss
    /// side's <see cref="Embeddings.Normalize"/>: norms clamped at 1e-12, so a zero row stays 0).
    /// </summary>
    internal static double[] InMetric(ReadOnlySpan<double> embeddings, int dimension, EmbeddingMetric metric)
        => metric == EmbeddingMetric.Cosine ? Embeddings.Normalize(embeddings.ToArray(), embeddings.Length / dimension, dimension).Unit : embeddings.ToArray();
}
