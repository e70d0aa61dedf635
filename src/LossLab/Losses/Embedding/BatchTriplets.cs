using LossLab.Losses.Core;
using LossLab.Losses.MetricLearning;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>sentence-transformers' BatchHardTripletLossDistanceFunction: eucledian_distance (squared=False, the default), its squared form, or cosine_distance.</summary>
public enum BatchDistanceMetric { Euclidean, SquaredEuclidean, Cosine }

/// <summary>
/// What sentence-transformers' batch triplet losses (BatchAll, BatchHard, BatchHardSoftMargin, BatchSemiHard) share:
/// the batch's distance matrix D (N × N) in one of BatchHardTripletLossDistanceFunction's metrics, and the backward pass
/// of a loss given as ∂L/∂D. Each loss picks its triplets from D and the labels.
/// </summary>
internal sealed class BatchTriplets
{
    public readonly int N, D;
    public readonly Shape Shape;
    public readonly long[] Labels;
    /// <summary>The distances, row-major (N × N), 0 on the diagonal.</summary>
    public readonly double[] Distances;
    private readonly BatchDistanceMetric _metric;
    private readonly double[] _rows, _norms;

    public BatchTriplets(LossInputs inputs, string loss, BatchDistanceMetric metric)
    {
        double[] x;
        (Shape, N, D, x, Labels) = Embeddings.Read(inputs, loss);
        _metric = metric;
        (_rows, _norms) = metric == BatchDistanceMetric.Cosine ? Embeddings.Normalize(x, N, D) : (x, []);
        Distances = new double[N * N];
        var pairs = new PairDistances(_rows, N, D);
        for (int i = 0; i < N; i++)
        {
            for (int j = i + 1; j < N; j++)
            {
                double s = Embeddings.Dot(_rows, i, _rows, j, D), dist = metric switch
                {
                    BatchDistanceMetric.Cosine => 1 - s,
                    BatchDistanceMetric.SquaredEuclidean => Square(pairs.Between(s, i, j)),
                    _ => pairs.Between(s, i, j),
                };
                Distances[i * N + j] = Distances[j * N + i] = dist;
            }
        }
    }

    private static double Square(double v) => v * v;

    /// <summary>
    /// A NaN distance fails every comparison that picks triplets and would drop out; the losses return NaN instead, as
    /// PyTorch's max, min and sums propagate it.
    /// </summary>
    public bool HasNaN => double.IsNaN(System.Numerics.Tensors.TensorPrimitives.Sum<double>(Distances));   // distances are ≥ 0: no ∞ − ∞

    public double this[int i, int j] => Distances[i * N + j];

    /// <summary>∂L/∂embeddings (N, D) from <paramref name="slopes"/> = ∂L/∂D (N × N, row-major; D_ij and D_ji are one distance).</summary>
    public double[] Backward(double[] slopes)
    {
        if (_metric == BatchDistanceMetric.Cosine)
        {
            // D_ij = 1 − x̂_i·x̂_j: ∂/∂x̂_i = −(c_ij + c_ji)·x̂_j summed over j.
            var gUnit = new double[_rows.Length];
            for (int i = 0; i < N; i++)
            {
                for (int j = 0; j < N; j++)
                {
                    double c = slopes[i * N + j];
                    if (c != 0 && i != j) Embeddings.AddPair(gUnit, _rows, i, gUnit, _rows, j, -c, D);
                }
            }
            return Embeddings.BackThroughNormalize(gUnit, _rows, _norms, N, D);
        }
        return new PairDistances(_rows, N, D).Backward((a, j, _) => slopes[a * N + j], squared: _metric == BatchDistanceMetric.SquaredEuclidean);
    }

    public static BatchDistanceMetric ParseMetric(string name) => name switch
    {
        "squared_euclidean" => BatchDistanceMetric.SquaredEuclidean,
        "cosine_distance" => BatchDistanceMetric.Cosine,
        _ => BatchDistanceMetric.Euclidean,
    };

    public static OptionSpec MetricOption => OptionSpec.Choice("distance_metric", "euclidean",
        "BatchHardTripletLossDistanceFunction: euclidean (eucledian_distance), squared_euclidean (squared=True) or cosine_distance (1 − cos)",
        "euclidean", "squared_euclidean", "cosine_distance");

    /// <summary>The hardest positive (largest distance to a row of the anchor's label, 0 and none without one) and the hardest negative of anchor i, as BatchHardTripletLoss finds them.</summary>
    public (double Positive, int PositiveAt, double Negative, int NegativeAt) Hardest(int i)
    {
        double hp = 0, hn = double.PositiveInfinity, rowMax = double.NegativeInfinity;
        int hpAt = -1, hnAt = -1, maxAt = -1;
        for (int j = 0; j < N; j++)
        {
            double dist = this[i, j];
            if (dist > rowMax) (rowMax, maxAt) = (dist, j);
            if (j != i && Labels[j] == Labels[i] && (hpAt < 0 ? dist >= hp : dist > hp)) (hp, hpAt) = (dist, j);
            if (Labels[j] != Labels[i] && dist < hn) (hn, hnAt) = (dist, j);
        }
        // Without a negative, sentence-transformers' min over D + max·(1 − mask) is the row's maximum (the diagonal's 0 + max).
        return hnAt < 0 ? (hp, hpAt, rowMax, maxAt) : (hp, hpAt, hn, hnAt);
    }

    /// <summary>The registry sample of the four losses: embeddings and labels with two or more rows per class.</summary>
    public static LossInputs Sample(Random r, Shape s)
    {
        Shape x = s.Rank == 2 ? s : new Shape(8, 4);
        return new LossInputs().Add("embeddings", Samples.Normal(r, x)).Add("labels", TensorData.FromArray(Enumerable.Range(0, x[0]).Select(i => (long)(i % 3)).ToArray(), x[0]));
    }
}
