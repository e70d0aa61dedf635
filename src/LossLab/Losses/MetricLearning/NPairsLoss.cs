using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// N-pair loss (Sohn, NIPS 2016), pytorch-metric-learning's <c>NPairsLoss()</c>: one anchor–positive pair per class
/// of the batch, and each anchor must pick its own positive among all the pairs' positives, a softmax over the
/// similarities (the other classes' positives are its negatives).
/// </summary>
/// <remarks>
/// <para><b>Pairs</b> (pytorch-metric-learning's convert_to_pos_pairs_with_unique_labels over all positive pairs): for
/// each label with at least two rows, in increasing label order, the anchor is its first row and the positive its
/// second. <b>Math:</b> with M pairs and s_ij = â_i·p̂_j (DotProductSimilarity of the L2-normalized embeddings, i.e.
/// the cosine), ℓ_i = −log softmax_j(s_ij)_i. <b>Gradient:</b> ∂ℓ_i/∂s_ij = P_ij − [i = j], passed to both rows and
/// through the normalization (norms clamped at 1e-12).</para>
/// <para><b>Reductions:</b> <c>mean</c> averages the M anchors (0 when no label has two rows), <c>sum</c> adds them,
/// <c>none</c> gives each row its loss as an anchor (0 for the others). O(M²·D) in blocks of anchors
/// (<see cref="SimilarityBlocks"/>, anchors against positives): each block's similarities are one double matrix
/// product and its gradient two more, so memory is O(M·D + B·M), never M×M.</para>
/// </remarks>
public sealed class NPairsLoss(Reduction reduction = Reduction.Mean) : Loss, ILossDefinition
{
    public Reduction Reduction { get; } = reduction;

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "NPairsLoss");
        // The first and second row of each label, in increasing label order.
        var pairs = new SortedDictionary<long, (int First, int Second)>();
        for (int i = 0; i < n; i++)
        {
            if (!pairs.TryGetValue(labels[i], out var p)) pairs[labels[i]] = (i, -1);
            else if (p.Second < 0) pairs[labels[i]] = (p.First, i);
        }
        int[] anchors = [.. pairs.Values.Where(p => p.Second >= 0).Select(p => p.First)];
        int[] positives = [.. pairs.Values.Where(p => p.Second >= 0).Select(p => p.Second)];
        int m = anchors.Length;
        var (unit, norms) = Embeddings.Normalize(x, n, d);
        var rows = new double[n];
        // Â (M, D) against P̂ (M, D): a block of anchors' similarities is one double matrix product Â[block]·P̂ᵀ.
        var anchorRows = new double[m * d];
        var positiveRows = new double[m * d];
        for (int i = 0; i < m; i++)
        {
            Array.Copy(unit, anchors[i] * d, anchorRows, i * d, d);
            Array.Copy(unit, positives[i] * d, positiveRows, i * d, d);
        }
        double scale = Reduction == Reduction.Mean && m > 0 ? 1.0 / m : 1;
        var blocks = new SimilarityBlocks(anchorRows, m, positiveRows, m, d, computeGradients, scratchRows: 0);
        blocks.Run(1, (i, s, g, scratch) =>
        {
            // ∂ℓ_i/∂s_ij = P_ij − [i = j], times the reduction's scale.
            rows[anchors[i]] = Stable.SoftmaxCrossEntropy(s, i, g);
            for (int j = 0; j < g.Length; j++) g[j] *= scale;
        });
        double sum = 0;
        foreach (int anchor in anchors) sum += rows[anchor];
        TensorData value = Reduction switch
        {
            Reduction.None => FromDoubles<T>(rows, new Shape(n)),
            Reduction.Sum => FromDoubles<T>([sum], Shape.Scalar),
            _ => FromDoubles<T>([m == 0 ? 0 : sum / m], Shape.Scalar),
        };
        if (!computeGradients) return Result(value);
        double[] gA = blocks.QueryGradient(), gP = blocks.ReferenceGradient();
        var gUnit = new double[n * d];
        for (int i = 0; i < m; i++)
            for (int k = 0; k < d; k++)
            {
                gUnit[anchors[i] * d + k] += gA[i * d + k];
                gUnit[positives[i] * d + k] += gP[i * d + k];
            }
        return Result(value, ("embeddings", FromDoubles<T>(Embeddings.BackThroughNormalize(gUnit, unit, norms, n, d), es)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "NPairsLoss",
        Aliases = ["n_pairs_loss", "npairs_loss", "multiclass_n_pair_loss", "pml.NPairsLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs =
        [
            new("embeddings", InputKind.Floating, true, "embeddings (N, D)"),
            new("labels", InputKind.Indices, false, "class labels (N)"),
        ],
        Options = [OptionSpec.Reduction()],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(8, 4);
            return new LossInputs().Add("embeddings", Samples.Normal(r, x)).Add("labels", Samples.Classes(r, new Shape(x[0]), 3));
        },
        Formula = "ℓ_i = −log softmax_j(â_i·p̂_j)_i over one (anchor, positive) pair per label",
        Gradient = "∂ℓ_i/∂s_ij = softmax_j − [i = j], s_ij = â_i·p̂_j; through the L2 normalization",
        Reference = "Sohn, Improved Deep Metric Learning with Multi-class N-pair Loss Objective, NIPS 2016; pytorch-metric-learning NPairsLoss",
        Stability = "finite for every finite input (cosines in [−1, 1]; max-shifted log-sum-exp)",
        Libraries = "pytorch-metric-learning (NPairsLoss)",
        Factory = o => new NPairsLoss(o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
