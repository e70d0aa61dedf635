using LossLab.Autograd;
using LossLab.Numerics;

namespace LossLab.Training;

/// <summary>How a metric-learning loss meets a batch of class labels.</summary>
public enum EmbeddingInputs
{
    /// <summary>Not a metric-learning loss: the model's output is its prediction.</summary>
    None,

    /// <summary>(embeddings (N, D), labels (N)): circle, SupCon, NT-Xent, multi-similarity, contrastive, Keras circle.</summary>
    Labels,

    /// <summary>(anchor, positive, negative), each (M, D): the triplet losses, fed the batch's hardest triplets.</summary>
    Triplets,

    /// <summary>(input1, input2, target ±1), each pair of the batch: the cosine embedding loss.</summary>
    Pairs,
}

/// <summary>
/// Turns a batch of embeddings (N, D) and class labels (N) into a pair or triplet loss's inputs. The selection is not
/// differentiated (as in every mining scheme); the chosen rows are gathered from the embeddings with their gradient.
/// </summary>
public static class EmbeddingBatch
{
    /// <summary>
    /// Batch-hard triplets (Hermans, Beyer and Leibe, 2017, "In Defense of the Triplet Loss"): each row that has
    /// another row of its class and a row of another class in the batch is an anchor, with its farthest positive and
    /// its nearest negative under <paramref name="metric"/>. A row without either gives no triplet; ties go to the
    /// lowest index. Distances are taken in double on the embeddings (N × D, row-major).
    /// </summary>
    public static (int[] Anchors, int[] Positives, int[] Negatives) HardTriplets(ReadOnlySpan<double> embeddings, int dimension, ReadOnlySpan<double> labels, EmbeddingMetric metric)
    {
        int n = labels.Length;
        if (dimension < 1 || embeddings.Length != n * dimension)
        {
            throw new LossArgumentException(LossErrorCode.InvalidShape, $"triplet mining: {n} labels need ({n}, D) embeddings, got {embeddings.Length} values for D = {dimension}");
        }
        double[] rows = embeddings.ToArray();
        if (metric == EmbeddingMetric.Cosine)
        {
            for (int i = 0; i < n; i++)
            {
                Span<double> r = rows.AsSpan(i * dimension, dimension);
                double norm = Math.Max(Math.Sqrt(System.Numerics.Tensors.TensorPrimitives.Dot<double>(r, r)), 1e-12);
                System.Numerics.Tensors.TensorPrimitives.Divide(r, norm, r);
            }
        }
        var anchors = new List<int>();
        var positives = new List<int>();
        var negatives = new List<int>();
        for (int a = 0; a < n; a++)
        {
            int p = -1, q = -1;
            double far = double.NegativeInfinity, near = double.PositiveInfinity;
            ReadOnlySpan<double> x = rows.AsSpan(a * dimension, dimension);
            for (int j = 0; j < n; j++)
            {
                if (j == a) continue;
                double d = System.Numerics.Tensors.TensorPrimitives.Distance<double>(x, rows.AsSpan(j * dimension, dimension));
                if (labels[j] == labels[a])
                {
                    if (d > far || p < 0) (far, p) = (d, j);
                }
                else if (d < near || q < 0)
                {
                    (near, q) = (d, j);
                }
            }
            if (p < 0 || q < 0) continue;
            anchors.Add(a);
            positives.Add(p);
            negatives.Add(q);
        }
        return ([.. anchors], [.. positives], [.. negatives]);
    }

    /// <summary>
    /// Every unordered pair i &lt; j of a batch of labels (N), with target +1 for a pair of one class and −1 for a pair
    /// of two: N(N − 1)/2 pairs.
    /// </summary>
    public static (int[] First, int[] Second, double[] Targets) Pairs(ReadOnlySpan<double> labels)
    {
        int n = labels.Length;
        long count = (long)n * (n - 1) / 2;
        if (count > Array.MaxLength) throw new LossArgumentException(LossErrorCode.InvalidShape, $"pair mining: {n} rows give {count} pairs, too many for one batch");
        var first = new int[count];
        var second = new int[count];
        var targets = new double[count];
        int k = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++, k++)
            {
                (first[k], second[k]) = (i, j);
                targets[k] = labels[i] == labels[j] ? 1 : -1;
            }
        }
        return (first, second, targets);
    }

    /// <summary>The rows <paramref name="rows"/> of embeddings (N, D) as an (M, D) tensor, with the gradient scattered back.</summary>
    public static Tensor Rows(Tensor embeddings, int[] rows)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(rows);
        if (embeddings.Shape.Rank != 2) throw new LossArgumentException(LossErrorCode.InvalidShape, $"embeddings must be (N, D), got {embeddings.Shape}");
        int d = embeddings.Shape[1];
        var index = new int[rows.Length * d];
        for (int m = 0; m < rows.Length; m++) index.AsSpan(m * d, d).Fill(rows[m]);
        return Ops.Gather(embeddings, 0, Tensor.FromData(TensorData.FromArray(index, rows.Length, d)));
    }

    /// <summary>Rows scaled to unit L2 norm (norms clamped at 1e-12, as Keras's UnitNormalization), with the gradient.</summary>
    public static Tensor UnitRows(Tensor embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        return embeddings / Ops.Sqrt(Ops.Clamp(Ops.Sum(embeddings * embeddings, 1, keepDim: true), 1e-24));
    }
}
