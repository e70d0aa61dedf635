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

/// <summary>
/// Classifies with a metric-learning model: a nearest-centroid rule over its embeddings. A loss such as circle, SupCon
/// or triplet trains an embedding (N, D), not class scores; its classes are read off by the nearest class centre,
/// the mean embedding of each class's training rows (for <see cref="EmbeddingMetric.Cosine"/>, the normalized mean
/// of the normalized rows). A class with no training row has no centre and is never predicted.
/// </summary>
public sealed class EmbeddingHead
{
    public EmbeddingHead(EmbeddingMetric metric, int dimension, IReadOnlyList<double[]?> centroids)
    {
        ArgumentNullException.ThrowIfNull(centroids);
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), $"an embedding needs at least 1 dimension, got {dimension}");
        for (int c = 0; c < centroids.Count; c++)
        {
            if (centroids[c] is double[] v && v.Length != dimension)
            {
                throw new ArgumentException($"centroid {c} has {v.Length} values, the embedding {dimension}", nameof(centroids));
            }
        }
        if (!centroids.Any(c => c is not null)) throw new ArgumentException("an embedding head needs at least one class centroid", nameof(centroids));
        Metric = metric;
        Dimension = dimension;
        Centroids = centroids;
    }

    public EmbeddingMetric Metric { get; }

    public int Dimension { get; }

    /// <summary>One centre per class (D values), null for a class absent from the training rows.</summary>
    public IReadOnlyList<double[]?> Centroids { get; }

    public int Classes => Centroids.Count;

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
    /// Class scores (rows × C) of embeddings (rows × D): a softmax over the classes of minus each centre's distance,
    /// 0 for a class without a centre. The nearest centre scores highest and the scores rank rows by how much nearer
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
                distance[k] = Centroids[k] is double[] centre ? System.Numerics.Tensors.TensorPrimitives.Distance<double>(row, centre) : double.PositiveInfinity;
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
            [.. node["centroids"]!.AsArray().Select(c => c is null ? null : c.AsArray().Select(v => v!.GetValue<double>()).ToArray())]);
    }

    /// <summary>
    /// Embeddings (rows × D) in the metric's geometry: a copy, with each row normalized for the cosine metric (the loss
    /// side's <see cref="Embeddings.Normalize"/>: norms clamped at 1e-12, so a zero row stays 0).
    /// </summary>
    internal static double[] InMetric(ReadOnlySpan<double> embeddings, int dimension, EmbeddingMetric metric)
        => metric == EmbeddingMetric.Cosine ? Embeddings.Normalize(embeddings.ToArray(), embeddings.Length / dimension, dimension).Unit : embeddings.ToArray();
}
