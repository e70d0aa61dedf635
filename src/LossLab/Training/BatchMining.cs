using LossLab.Autograd;
using LossLab.Numerics;

namespace LossLab.Training;

/// <summary>How a batch's targets label its pairs: by class (same or not) or by order (which target is larger).</summary>
public enum PairRule
{
    SameClass,
    Order,
}

/// <summary>How a metric-learning loss meets a batch of class labels.</summary>
public enum EmbeddingInputs
{
    /// <summary>Not a metric-learning loss: the model's output is its prediction.</summary>
    None,

    /// <summary>(embeddings (N, D), labels (N)): circle, SupCon, NT-Xent, multi-similarity, contrastive, Keras circle.</summary>
    Labels,

    /// <summary>(embeddings (N, D), labels (N), class parameters): ArcFace's W, Proxy Anchor's proxies..., trained along with the model (<see cref="Losses.Core.IClassParameterLoss"/>).</summary>
    LabelsAndClassWeights,

    /// <summary>(anchor, positive, negative), each (M, D): the triplet losses, fed the batch's hardest triplets.</summary>
    Triplets,

    /// <summary>(input1, input2, target ±1), each pair of the batch: the cosine embedding loss.</summary>
    Pairs,
}

/// <summary>
/// Turns a batch of embeddings (N, D) and class labels (N), or of scores and numeric targets, into a pair or triplet
/// loss's inputs. The selection is not differentiated (as in every mining scheme); the chosen rows are gathered from
/// the model's outputs with their gradient.
/// </summary>
public static class BatchMining
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
        double[] rows = EmbeddingHead.InMetric(embeddings, dimension, metric);
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
    /// Pairs of a batch of targets (N) and their ±1 labels. <see cref="PairRule.SameClass"/>: every pair, +1 for one
    /// class and −1 for two (the cosine embedding loss). <see cref="PairRule.Order"/>: +1 when the first row's target
    /// is larger, −1 when smaller, and ties left out (the margin ranking loss). Up to <paramref name="maxPairs"/> pairs
    /// every pair i &lt; j is taken; above that (a whole validation split of thousands of rows) each row is paired with
    /// the k rows after it, cyclically, k = ⌈maxPairs / N⌉: every row in 2k pairs, in a fixed order.
    /// </summary>
    public static (int[] First, int[] Second, double[] Targets) Pairs(ReadOnlySpan<double> targets, PairRule rule, int maxPairs = 1 << 20)
    {
        int n = targets.Length;
        if (maxPairs < 1) throw new ArgumentOutOfRangeException(nameof(maxPairs), $"at least one pair is needed, got {maxPairs}");
        long all = (long)n * (n - 1) / 2;
        int k = all <= maxPairs ? 0 : (int)Math.Min((maxPairs + n - 1) / n, (n - 1) / 2);
        var first = new List<int>();
        var second = new List<int>();
        var labels = new List<double>();
        for (int i = 0; i < n; i++)
        {
            for (int s = 1; s < (k == 0 ? n - i : k + 1); s++)
            {
                int j = k == 0 ? i + s : (i + s) % n;
                double label = rule == PairRule.SameClass ? (targets[i] == targets[j] ? 1 : -1) : Math.Sign(targets[i] - targets[j]);
                if (label == 0) continue;
                first.Add(i);
                second.Add(j);
                labels.Add(label);
            }
        }
        return ([.. first], [.. second], [.. labels]);
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
