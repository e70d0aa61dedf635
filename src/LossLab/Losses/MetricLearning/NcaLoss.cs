using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Neighbourhood components analysis (Goldberger et al., NIPS 2004) as a batch loss, pytorch-metric-learning's
/// <c>NCALoss(softmax_scale=1)</c>: each row picks another row of the batch at random with probability
/// softmax_j(−s·d_ij) over the squared distances d_ij = ‖ê_i − ê_j‖² of the L2-normalized embeddings (itself excluded),
/// and the loss is −log of the chance that it picks a row of its own class.
/// </summary>
/// <remarks>
/// <para><b>Math:</b> z_ij = −s·d_ij (z_ii = −∞), P_ij = softmax_j(z_ij), p_i = Σ_{j ≠ i, y_j = y_i} P_ij, ℓ_i = −log p_i =
/// LSE_all − LSE_positives (computed so, finite for any distances). A row with no other row of its class has p_i = 0
/// and is left out, as pytorch-metric-learning drops the rows whose p_i is 0 (there also when float underflow makes
/// it 0). <c>mean</c> averages the rows kept (0 when none is), <c>none</c> gives 0 for the others.</para>
/// <para><b>Gradient:</b> ∂ℓ_i/∂z_ij = P_ij − Q_ij with Q_ij = P_ij/p_i on the positives (0 elsewhere);
/// ∂d_ij/∂ê_i = 2(ê_i − ê_j), then through the normalization (norms clamped at 1e-12, as F.normalize).
/// O(N²·D) time in blocks of queries (<see cref="SimilarityBlocks"/>, queries against references: one double matrix
/// product for the dot products, two for the gradient), memory O(N·D + B·N). Shared with <see cref="ProxyNcaLoss"/>, whose references are the class proxies.</para>
/// </remarks>
public sealed class NcaLoss(double softmaxScale = 1, Reduction reduction = Reduction.Mean) : Loss, ILossDefinition
{
    public double SoftmaxScale { get; } = softmaxScale > 0 && double.IsFinite(softmaxScale) ? softmaxScale
        : throw LossArgumentException.Value($"NcaLoss: softmax_scale must be a finite number > 0, got {softmaxScale}");

    public Reduction Reduction { get; } = reduction;

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "NcaLoss");
        var (unit, norms) = Embeddings.Normalize(x, n, d);
        var r = Nca.Run(unit, n, unit, n, d, labels, labels, SoftmaxScale, excludeSelf: true, computeGradients);
        Reducer.Reduced reduced = Reducer.Reduce<T>(Cast<T>(r.Losses), Reduction, Math.Max(r.Kept, 1));
        TensorData value = ValueTensor(Reduction, reduced, Cast<T>(r.Losses), new Shape(n));
        if (!computeGradients) return Result(value);
        var g = new double[n * d];
        for (int i = 0; i < g.Length; i++) g[i] = reduced.Scale * (r.GradQuery![i] + r.GradReference![i]);   // each row is a query and a reference
        return Result(value, ("embeddings", FromDoubles<T>(Embeddings.BackThroughNormalize(g, unit, norms, n, d), es)));
    }

    private static T[] Cast<T>(double[] v) where T : struct, System.Numerics.IFloatingPointIeee754<T> => [.. v.Select(T.CreateTruncating)];

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "NcaLoss",
        Aliases = ["nca_loss", "nca", "pml.NCALoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs =
        [
            new("embeddings", InputKind.Floating, true, "embeddings (N, D)"),
            new("labels", InputKind.Indices, false, "class labels (N)"),
        ],
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Float("softmax_scale", 1, "s > 0, the softmax's scale on minus the squared distances"),
        ],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(7, 4);
            return new LossInputs().Add("embeddings", Samples.Normal(r, x)).Add("labels", Samples.Classes(r, new Shape(x[0]), 3));
        },
        Formula = "ℓ_i = −log Σ_{j≠i, y_j=y_i} softmax_j(−s·‖ê_i − ê_j‖²); rows without a positive left out",
        Gradient = "∂ℓ_i/∂z_ij = P_ij − P_ij·[y_j = y_i]/p_i, z_ij = −s·d_ij; ∂d_ij/∂ê_i = 2(ê_i − ê_j); through the L2 normalization",
        Reference = "Goldberger et al., Neighbourhood Components Analysis, NIPS 2004; pytorch-metric-learning NCALoss",
        Stability = "finite for every finite input (−log p as a difference of log-sum-exps; norms clamped at 1e-12)",
        Libraries = "pytorch-metric-learning (NCALoss)",
        Factory = o => new NcaLoss(o.Float("softmax_scale"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}

/// <summary>The NCA computation of pytorch-metric-learning's nca_computation, for queries against references (the batch itself, or class proxies).</summary>
internal static class Nca
{
    /// <summary>
    /// Per-query loss (0 where left out), how many were kept, and ∂Σℓ/∂(unit query), ∂Σℓ/∂(unit reference) through the
    /// dot products: d_ij's ‖q_i‖² and ‖r_j‖² terms, whose gradients lie along the rows themselves, are left out, since
    /// both callers pass the gradients through the L2 normalization, whose backward pass removes exactly those parts.
    /// </summary>
    public readonly record struct Output(double[] Losses, int Kept, double[]? GradQuery, double[]? GradReference);

    /// <param name="query">Unit queries (n × d).</param>
    /// <param name="n">Queries.</param>
    /// <param name="reference">Unit references (m × d); the same array as <paramref name="query"/> for the batch loss.</param>
    /// <param name="m">References.</param>
    /// <param name="d">Embedding width.</param>
    /// <param name="queryLabels">The queries' classes (n).</param>
    /// <param name="referenceLabels">The references' classes (m).</param>
    /// <param name="scale">s, on minus the squared distances.</param>
    /// <param name="excludeSelf">Leave reference i out of query i's softmax (the batch loss).</param>
    /// <param name="gradients">Whether to accumulate the gradients.</param>
    public static Output Run(double[] query, int n, double[] reference, int m, int d, long[] queryLabels, long[] referenceLabels, double scale, bool excludeSelf, bool gradients)
    {
        var losses = new double[n];
        var kept = new bool[n];
        // d_ij = ‖q_i‖² + ‖r_j‖² − 2·q_i·r_j with the dot products from the blocks (a block of queries at a time, one
        // matrix product, as torch.cdist computes them for batches); clamped at 0 where rounding makes a near-duplicate's
        // distance negative.
        var qq = new double[n];
        var rr = new double[m];
        for (int i = 0; i < n; i++) qq[i] = System.Numerics.Tensors.TensorPrimitives.Dot<double>(query.AsSpan(i * d, d), query.AsSpan(i * d, d));
        for (int j = 0; j < m; j++) rr[j] = System.Numerics.Tensors.TensorPrimitives.Dot<double>(reference.AsSpan(j * d, d), reference.AsSpan(j * d, d));
        // Σ over query i's negatives of e^{z − positive} (its logits z, shifted by its largest positive logit).
        double NegativeMass(int i, ReadOnlySpan<double> z, double positive)
        {
            double neg = 0;
            for (int j = 0; j < m; j++) if (referenceLabels[j] != queryLabels[i]) neg += Math.Exp(z[j] - positive);
            return neg;
        }
        var blocks = new SimilarityBlocks(query, n, reference, m, d, gradients, scratchRows: 1);
        blocks.Run(1, (i, s, g, z) =>
        {
            double all = double.NegativeInfinity, positive = double.NegativeInfinity;
            for (int j = 0; j < m; j++)
            {
                z[j] = excludeSelf && j == i ? double.NegativeInfinity : -scale * Math.Max(qq[i] + rr[j] - 2 * s[j], 0);
                all = Math.Max(all, z[j]);
                if (referenceLabels[j] == queryLabels[i]) positive = Math.Max(positive, z[j]);
            }
            if (double.IsNegativeInfinity(positive)) return;   // no positive: p_i = 0, left out (and no gradient)
            double sumAll = 0, sumPositive = 0;
            for (int j = 0; j < m; j++)
            {
                sumAll += Math.Exp(z[j] - all);
                if (referenceLabels[j] == queryLabels[i]) sumPositive += Math.Exp(z[j] - positive);
            }
            double lseAll = all + Math.Log(sumAll), lsePositive = positive + Math.Log(sumPositive);
            kept[i] = true;
            // Where the positives dominate, ℓ = log(1 + Σ_neg/Σ_pos) by log1p (every term e^{z − positive} ≤ e): the
            // difference of the two log-sum-exps rounds a small ℓ to the precision of their size.
            losses[i] = all - positive < 1 ? Stable.Log1p(NegativeMass(i, z, positive) / sumPositive) : lseAll - lsePositive;
            if (g.IsEmpty) return;
            // ∂ℓ_i/∂s_ij = ∂ℓ_i/∂z_ij·(−s)·(−2) = 2s·(P_ij − Q_ij); the blocks fold it into both rows. For a positive,
            // P − Q = Q·(e^{−ℓ} − 1) = Q·expm1(−ℓ): no cancellation when ℓ is small.
            double shrink = Stable.Expm1(-losses[i]);
            for (int j = 0; j < m; j++)
            {
                if (double.IsNegativeInfinity(z[j])) continue;
                g[j] = 2 * scale * (referenceLabels[j] == queryLabels[i] ? Math.Exp(z[j] - lsePositive) * shrink : Math.Exp(z[j] - lseAll));
            }
        });
        return gradients
            ? new Output(losses, kept.Count(k => k), blocks.QueryGradient(), blocks.ReferenceGradient())
            : new Output(losses, kept.Count(k => k), null, null);
    }
}
