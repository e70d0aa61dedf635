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
/// O(N²·D) time in blocks of queries (one double matrix product for the dot products, two for the gradient), memory
/// O(N·D + B·N). Shared with <see cref="ProxyNcaLoss"/>, whose references are the class proxies.</para>
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
    /// <summary>Per-query loss (0 where left out), how many were kept, and ∂Σℓ/∂(unit query), ∂Σℓ/∂(unit reference).</summary>
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
        double[]? gq = gradients ? new double[n * d] : null, gr = gradients ? new double[m * d] : null;
        // d_ij = ‖q_i‖² + ‖r_j‖² − 2·q_i·r_j, the dot products a block of queries at a time as one matrix product
        // Q[block]·Rᵀ (as torch.cdist computes them for batches); clamped at 0 where rounding makes a near-duplicate's
        // distance negative.
        var qq = new double[n];
        var rr = new double[m];
        for (int i = 0; i < n; i++) qq[i] = System.Numerics.Tensors.TensorPrimitives.Dot<double>(query.AsSpan(i * d, d), query.AsSpan(i * d, d));
        for (int j = 0; j < m; j++) rr[j] = System.Numerics.Tensors.TensorPrimitives.Dot<double>(reference.AsSpan(j * d, d), reference.AsSpan(j * d, d));
        var rT = new double[d * m];
        for (int j = 0; j < m; j++)
            for (int k = 0; k < d; k++) rT[k * m + j] = reference[j * d + k];
        int block = Math.Max(1, Math.Min(n, Math.Max(4, (1 << 18) / Math.Max(1, m))));
        var z = new double[block * m];
        double[]? blockT = gradients ? new double[d * block] : null, grT = gradients ? new double[d * m] : null, colSum = gradients ? new double[m] : null;
        int kept = 0;
        for (int a0 = 0; a0 < n; a0 += block)
        {
            int count = Math.Min(block, n - a0);
            Span<double> zb = z.AsSpan(0, count * m);
            zb.Clear();
            GemmF64.MultiplyAdd(query.AsSpan(a0 * d), d, rT, m, zb, m, count, d, m);
            for (int r = 0; r < count; r++)
            {
                int i = a0 + r;
                Span<double> row = zb.Slice(r * m, m);
                double all = double.NegativeInfinity, positive = double.NegativeInfinity;
                for (int j = 0; j < m; j++)
                {
                    row[j] = excludeSelf && j == i ? double.NegativeInfinity : -scale * Math.Max(qq[i] + rr[j] - 2 * row[j], 0);
                    all = Math.Max(all, row[j]);
                    if (referenceLabels[j] == queryLabels[i]) positive = Math.Max(positive, row[j]);
                }
                if (double.IsNegativeInfinity(positive))
                {
                    row.Clear();   // no positive: p_i = 0, left out (and no gradient)
                    continue;
                }
                double sumAll = 0, sumPositive = 0;
                for (int j = 0; j < m; j++)
                {
                    double e = Math.Exp(row[j] - all);
                    sumAll += e;
                    if (referenceLabels[j] == queryLabels[i]) sumPositive += Math.Exp(row[j] - positive);
                }
                double lseAll = all + Math.Log(sumAll), lsePositive = positive + Math.Log(sumPositive);
                kept++;
                losses[i] = lseAll - lsePositive;
                if (!gradients) continue;
                // W_ij = ∂ℓ_i/∂d_ij·… = −2s·(P_ij − Q_ij); the row keeps −W for the products below.
                double rowSum = 0;
                for (int j = 0; j < m; j++)
                {
                    if (double.IsNegativeInfinity(row[j])) { row[j] = 0; continue; }
                    double p = Math.Exp(row[j] - lseAll), qj = referenceLabels[j] == queryLabels[i] ? Math.Exp(row[j] - lsePositive) : 0;
                    double w = -2 * scale * (p - qj);
                    rowSum += w;
                    colSum![j] += w;
                    row[j] = -w;
                }
                for (int k = 0; k < d; k++) gq![i * d + k] += rowSum * query[i * d + k];
            }
            if (gq is null || gr is null || blockT is null || grT is null) continue;
            // ∂/∂q_i = Σ_j W_ij (q_i − r_j): the row sums above, and −W·R here; ∂/∂r_j = Σ_i W_ij (r_j − q_i): the column
            // sums at the end, and −Q[block]ᵀ·W here (transposed). (The row- and column-sum terms lie along the unit
            // vectors, so the normalization's backward pass removes them; they are kept so that this is ∂/∂(unit rows).)
            GemmF64.MultiplyAdd(zb, m, reference, d, gq.AsSpan(a0 * d), d, count, m, d);
            for (int r = 0; r < count; r++)
                for (int k = 0; k < d; k++) blockT[k * count + r] = query[(a0 + r) * d + k];
            GemmF64.MultiplyAdd(blockT, count, zb, m, grT, m, d, count, m);
        }
        if (gr is not null && grT is not null && colSum is not null)
        {
            for (int j = 0; j < m; j++)
                for (int k = 0; k < d; k++) gr[j * d + k] = colSum[j] * reference[j * d + k] + grT[k * m + j];
        }
        return new Output(losses, kept, gq, gr);
    }
}
