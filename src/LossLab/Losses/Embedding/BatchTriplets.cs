using LossLab.Losses.Core;
using LossLab.Losses.MetricLearning;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>sentence-transformers' BatchHardTripletLossDistanceFunction: eucledian_distance (squared=False, the default), its squared form, or cosine_distance.</summary>
public enum BatchDistanceMetric { Euclidean, SquaredEuclidean, Cosine }

/// <summary>
/// What sentence-transformers' batch triplet losses (BatchAll, BatchHard, BatchHardSoftMargin, BatchSemiHard) share:
/// the batch's distances D in one of BatchHardTripletLossDistanceFunction's metrics, held as an N × N matrix or streamed
/// a row per anchor, and the backward pass of a loss given as ∂L/∂D (a matrix, or a list of the few pairs that have a
/// slope). Each loss picks its triplets from D and the labels.
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

    /// <param name="inputs">The embeddings (N, D) and labels (N).</param>
    /// <param name="loss">The loss's name, for errors.</param>
    /// <param name="metric">The distance.</param>
    /// <param name="matrix">Whether to hold <see cref="Distances"/> (N × N); without it, <see cref="ForEachRow"/> streams the rows.</param>
    public BatchTriplets(LossInputs inputs, string loss, BatchDistanceMetric metric, bool matrix = true)
    {
        double[] x;
        (Shape, N, D, x, Labels) = Embeddings.Read(inputs, loss);
        _metric = metric;
        (_rows, _norms) = metric == BatchDistanceMetric.Cosine ? Embeddings.Normalize(x, N, D) : (x, []);
        _pairs = new PairDistances(_rows, N, D);
        Distances = matrix ? new double[N * N] : [];
        if (!matrix) return;
        // The dot products as one double matrix product (S = X·Xᵀ, into the matrix itself), each pair's distance from its
        // upper entry and mirrored, so that D_ij = D_ji exactly.
        GemmF64.MultiplyAdd(_rows, D, GemmF64.Transposed(_rows, N, D), N, Distances, N, N, D, N);
        for (int i = 0; i < N; i++)
        {
            Distances[i * N + i] = 0;
            for (int j = i + 1; j < N; j++) Distances[i * N + j] = Distances[j * N + i] = Distance(Distances[i * N + j], i, j);
        }
    }

    private readonly PairDistances _pairs;

    /// <summary>The metric's distance between rows i and j from their dot product s.</summary>
    private double Distance(double s, int i, int j) => _metric switch
    {
        BatchDistanceMetric.Cosine => 1 - s,
        BatchDistanceMetric.SquaredEuclidean => Square(_pairs.Between(s, i, j)),
        _ => _pairs.Between(s, i, j),
    };

    /// <summary>
    /// Calls <paramref name="body"/>(i, D_i·) for every anchor i with its row of N distances (0 at i), the dot products
    /// taken in blocks of anchors (<see cref="SimilarityBlocks"/>), so that no N × N matrix is held: O(N·D + B·N) memory.
    /// Large batches run two parts at once, so the body writes only anchor i's own state. Returns whether some distance
    /// was NaN (as <see cref="HasNaN"/> for the matrix).
    /// </summary>
    public bool ForEachRow(Action<int, ReadOnlySpan<double>> body)
    {
        var blocks = new SimilarityBlocks(_rows, N, D, gradients: false, scratchRows: 1);
        bool nan = false;   // only ever set to true, from either part: read after both have finished
        blocks.Run(1, (a, s, _, row) =>
        {
            for (int j = 0; j < N; j++) row[j] = j == a ? 0 : Distance(s[j], a, j);
            if (double.IsNaN(System.Numerics.Tensors.TensorPrimitives.Sum<double>(row))) nan = true;   // distances are ≥ 0: no ∞ − ∞
            body(a, row);
        });
        return nan;
    }

    private static double Square(double v) => v * v;

    /// <summary>
    /// A NaN distance fails every comparison that picks triplets and would drop out; the losses return NaN instead, as
    /// PyTorch's max, min and sums propagate it.
    /// </summary>
    public bool HasNaN => double.IsNaN(System.Numerics.Tensors.TensorPrimitives.Sum<double>(Distances));   // distances are ≥ 0: no ∞ − ∞

    public double this[int i, int j] => Distances[i * N + j];

    /// <summary>∂L/∂embeddings (N, D) from <paramref name="slopes"/> = ∂L/∂D (N × N, row-major; D_ij and D_ji are one distance).</summary>
    public double[] Backward(double[] slopes) => Backward((i, j) => slopes[i * N + j]);

    /// <summary>
    /// ∂L/∂embeddings (N, D) from slope(i, j) = ∂L/∂D_ij (D_ij and D_ji are one distance, each slope its own term),
    /// through the blocks of dot products: no N × N matrix is needed when the slopes are a function.
    /// </summary>
    private double[] Backward(Func<int, int, double> slope)
    {
        if (_metric == BatchDistanceMetric.Cosine)
        {
            // D_ij = 1 − x̂_i·x̂_j: ∂L/∂s_ij = −c_ij, which the blocks fold into both rows (−c_ij·x̂_j to i, −c_ij·x̂_i to j).
            var blocks = new SimilarityBlocks(_rows, N, D, gradients: true, scratchRows: 0);
            blocks.Run(1, (a, _, g, _) =>
            {
                for (int j = 0; j < N; j++) g[j] = j == a ? 0 : -slope(a, j);
            });
            return Embeddings.BackThroughNormalize(blocks.UnitGradient(), _rows, _norms, N, D);
        }
        return _pairs.Backward((a, j, _) => slope(a, j), squared: _metric == BatchDistanceMetric.SquaredEuclidean);
    }

    /// <summary>
    /// ∂L/∂embeddings (N, D) from a few slopes, c = ∂L/∂D_ij for each listed pair (i ≠ j; pairs may repeat), in O(terms·D):
    /// through ‖x_i − x_j‖ as (x_i − x_j)/d (0 where the rows coincide, as <see cref="PairDistances"/>), its square as
    /// 2(x_i − x_j), or 1 − x̂_i·x̂_j as −x̂_j and −x̂_i then the normalization.
    /// </summary>
    public double[] Backward(ReadOnlySpan<(int I, int J, double C)> terms)
    {
        var g = new double[_rows.Length];
        Span<double> diff = D <= 256 ? stackalloc double[D] : new double[D];
        foreach (var (i, j, c) in terms)
        {
            if (c == 0 || i == j) continue;
            if (_metric == BatchDistanceMetric.Cosine)
            {
                Embeddings.AddPair(g, _rows, i, j, -c, D);
                continue;
            }
            System.Numerics.Tensors.TensorPrimitives.Subtract(_rows.AsSpan(i * D, D), _rows.AsSpan(j * D, D), diff);
            double k;
            if (_metric == BatchDistanceMetric.SquaredEuclidean)
            {
                k = 2 * c;
            }
            else
            {
                double dist = System.Numerics.Tensors.TensorPrimitives.Norm<double>(diff);
                if (dist == 0) continue;
                k = c / dist;
            }
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(diff, k, g.AsSpan(i * D, D), g.AsSpan(i * D, D));
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(diff, -k, g.AsSpan(j * D, D), g.AsSpan(j * D, D));
        }
        return _metric == BatchDistanceMetric.Cosine ? Embeddings.BackThroughNormalize(g, _rows, _norms, N, D) : g;
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
    public (double Positive, int PositiveAt, double Negative, int NegativeAt) Hardest(int i) => Hardest(i, Distances.AsSpan(i * N, N));

    /// <summary>The same from anchor i's row of distances (N).</summary>
    public (double Positive, int PositiveAt, double Negative, int NegativeAt) Hardest(int i, ReadOnlySpan<double> row)
    {
        double hp = 0, hn = double.PositiveInfinity, rowMax = double.NegativeInfinity;
        int hpAt = -1, hnAt = -1, maxAt = -1;
        for (int j = 0; j < N; j++)
        {
            double dist = row[j];
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
