using System.Numerics.Tensors;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// open_clip's <c>ClipLoss</c> (Radford et al. 2021, CLIP), on one device: the symmetric InfoNCE of a batch of N
/// image–text pairs. With logits L = s·I·Tᵀ (N, N), s the learned <c>logit_scale</c> (the model's exp of its
/// log-temperature parameter, as open_clip passes it), image i's loss is the cross-entropy of row i of L against
/// class i, and text j's that of column j against class j:
/// ℓ_i = ½·[(lse_j L_ij − L_ii) + (lse_j L_ji − L_ii)]; open_clip returns the mean over i.
/// </summary>
/// <remarks>
/// <para><b>Gradient:</b> ∂ℓ/∂L_ij = ½·[(P_ij − δ_ij) + (Q_ij − δ_ij)] per unit of ℓ, where P = softmax over each row
/// and Q = softmax over each column (text j's distribution over the images); then ∂I_i = s·Σ_j G_ij·T_j,
/// ∂T_j = s·Σ_i G_ij·I_i and ∂s = Σ_ij G_ij·(I_i·T_j).</para>
/// <para>reduction none (ℓ_i per pair) and sum are LossLab's; open_clip's is the mean. Its multi-device options
/// (local_loss, gather_with_grad) compute the same loss over the gathered batch, and a logit_bias added to every logit
/// leaves both softmaxes unchanged: neither is an option here.</para>
/// </remarks>
public sealed class ClipLoss : Loss, ILossDefinition
{
    private const string Name = "ClipLoss";
    private readonly Reduction _reduction;

    public ClipLoss(Reduction reduction = Reduction.Mean)
    {
        if (reduction == Reduction.BatchMean) throw LossArgumentException.Value($"{Name}: reduction must be none, mean or sum");
        _reduction = reduction;
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var pairs = ImageTextPairs.Read(inputs, Name);
        var (scale, scaleShape) = ImageTextPairs.Scalar(inputs, "logit_scale", Name);
        int n = pairs.N, d = pairs.D;
        // Row and column log-sum-exps of L = scale·S as max + log Σ e^{L − max}, kept apart: L − lse is then
        // (L − max) − log Σ, exact where max + log Σ would round away a log Σ below the ulp of max. Each sum keeps its
        // off-diagonal terms apart from the diagonal's, so that where L_ii is the maximum the cross-entropy is
        // log1p(Σ_{j≠i} e^{L_ij − L_ii}): a confident pair's e^{−40} survives. S comes a chunk of image rows at a time
        // (never N × N), once for the maxima, once for the sums and once for the gradient: a product is cheap next to
        // the exponentials. Rows are vectors; the columns' maxima and sums are vectors updated row by row.
        double[] rowMax = new double[n], rowOthers = new double[n], rowDiagonal = new double[n];
        double[] colMax = new double[n], colOthers = new double[n], colDiagonal = new double[n], diagonal = new double[n];
        int chunk = pairs.ChunkRows;
        var sims = new double[chunk * n];
        double[] row = new double[n], q = new double[n];
        colMax.AsSpan().Fill(double.NegativeInfinity);
        for (int i0 = 0; i0 < n; i0 += chunk)
        {
            int count = Math.Min(chunk, n - i0);
            pairs.Block.Similarities(i0, count, sims);
            for (int i = i0; i < i0 + count; i++)
            {
                TensorPrimitives.Multiply<double>(sims.AsSpan((i - i0) * n, n), scale, row);
                diagonal[i] = row[i];
                rowMax[i] = TensorPrimitives.Max<double>(row);
                TensorPrimitives.Max<double>(colMax, row, colMax);   // NaN comes through (TensorPrimitives.Max propagates it)
            }
        }
        for (int i0 = 0; i0 < n; i0 += chunk)
        {
            int count = Math.Min(chunk, n - i0);
            pairs.Block.Similarities(i0, count, sims);
            for (int i = i0; i < i0 + count; i++)
            {
                TensorPrimitives.Multiply<double>(sims.AsSpan((i - i0) * n, n), scale, q);   // L's row, for both sums
                TensorPrimitives.Subtract<double>(q, rowMax[i], row);
                TensorPrimitives.Exp<double>(row, row);
                rowDiagonal[i] = row[i];
                row[i] = 0;
                rowOthers[i] = TensorPrimitives.Sum<double>(row);
                TensorPrimitives.Subtract<double>(q, colMax, row);
                TensorPrimitives.Exp<double>(row, row);
                colDiagonal[i] = row[i];
                row[i] = 0;
                TensorPrimitives.Add<double>(colOthers, row, colOthers);
            }
        }
        double CrossEntropy(double diag, double max, double others, double diagTerm)
            => diag < max ? max - diag + Math.Log(others + diagTerm) : Stable.Log1p(others);
        var losses = new double[n];
        for (int i = 0; i < n; i++)
            losses[i] = 0.5 * (CrossEntropy(diagonal[i], rowMax[i], rowOthers[i], rowDiagonal[i]) + CrossEntropy(diagonal[i], colMax[i], colOthers[i], colDiagonal[i]));
        var (value, reduce) = ReduceRows<T>(losses, _reduction, new Shape(n));
        if (!computeGradients) return Result(value);
        double r = 0.5 * reduce;
        // Off the diagonal: row i's softmax at j (image i over the texts) plus column j's at i (text j over the images).
        // On it, P_ii − 1 = −Σ_{j≠i} P_ij, which keeps its digits where P_ii rounds to 1 (a confident batch). The row half
        // of the diagonal is known with its row; the column half (Σ over every row) is added after the last chunk, as the
        // pair (I_i, T_i)'s own term. ∂ℓ/∂scale = Σ G_ij·S_ij is taken from each row of S before G replaces it.
        double[] colLog = new double[n], colRest = new double[n], rowLog = new double[n];
        for (int j = 0; j < n; j++) (colLog[j], rowLog[j]) = (Math.Log(colOthers[j] + colDiagonal[j]), Math.Log(rowOthers[j] + rowDiagonal[j]));
        double[] gi = new double[n * d], gt = new double[n * d], scratch = new double[chunk * n], sDiagonal = new double[n];
        double gs = 0;
        for (int i0 = 0; i0 < n; i0 += chunk)
        {
            int count = Math.Min(chunk, n - i0);
            pairs.Block.Similarities(i0, count, sims);
            for (int i = i0; i < i0 + count; i++)
            {
                Span<double> si = sims.AsSpan((i - i0) * n, n);
                sDiagonal[i] = si[i];
                TensorPrimitives.Multiply<double>(si, scale, row);
                TensorPrimitives.Subtract<double>(row, colMax, q);   // (L − max) − log Σ, two steps as above
                TensorPrimitives.Subtract<double>(q, colLog, q);
                TensorPrimitives.Exp<double>(q, q);
                q[i] = 0;
                TensorPrimitives.Add<double>(colRest, q, colRest);
                TensorPrimitives.Subtract<double>(row, rowMax[i], row);
                TensorPrimitives.Subtract<double>(row, rowLog[i], row);
                TensorPrimitives.Exp<double>(row, row);
                row[i] = 0;
                double rowRest = TensorPrimitives.Sum<double>(row);
                TensorPrimitives.Add<double>(row, q, row);
                TensorPrimitives.Multiply<double>(row, r, row);
                row[i] = -r * rowRest;
                gs += TensorPrimitives.Dot<double>(row, si);
                row.CopyTo(si);
            }
            pairs.Block.Fold(sims, i0, count, gi, gt, scratch);
        }
        for (int i = 0; i < n; i++)
        {
            // The column half of G_ii: −r·Σ_{j≠i} Q_ji, folded into the pair (I_i, T_i) as the blocks would have.
            double gii = -r * colRest[i];
            gs += gii * sDiagonal[i];
            TensorPrimitives.MultiplyAdd<double>(pairs.Texts.AsSpan(i * d, d), gii, gi.AsSpan(i * d, d), gi.AsSpan(i * d, d));
            TensorPrimitives.MultiplyAdd<double>(pairs.Images.AsSpan(i * d, d), gii, gt.AsSpan(i * d, d), gt.AsSpan(i * d, d));
        }
        TensorPrimitives.Multiply<double>(gi, scale, gi);   // L = s·S: ∂S = s·∂L
        TensorPrimitives.Multiply<double>(gt, scale, gt);
        return Result(value, ("image_features", FromDoubles<T>(gi, inputs["image_features"].Shape)),
            ("text_features", FromDoubles<T>(gt, inputs["text_features"].Shape)), ("logit_scale", FromDoubles<T>([gs], scaleShape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["clip_loss", "open_clip.ClipLoss", "clip_contrastive_loss", "symmetric_info_nce"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs =
        [
            .. ImageTextPairs.FeatureInputs,
            new("logit_scale", InputKind.Floating, true, "the learned inverse temperature s (a scalar: open_clip passes exp of its log-scale parameter)"),
        ],
        Options = [OptionSpec.Reduction("none", "mean", "sum")],
        Sample = (r, s) => ImageTextPairs.Sample(r, s).Add("logit_scale", Samples.Uniform(r, Shape.Scalar, 1, 10)),
        Formula = "ℓ_i = ½·[(lse_j L_ij − L_ii) + (lse_j L_ji − L_ii)],  L = s·I·Tᵀ",
        Gradient = "∂ℓ/∂L_ij = ½·[(softmax_row(L)_ij − δ_ij) + (softmax_col(L)_ij − δ_ij)];  ∂s = Σ G_ij·I_i·T_j",
        Reference = "open_clip ClipLoss; Radford et al. 2021 (CLIP)",
        Stability = "each row's and column's log-sum-exp by its maximum, in double: finite for any finite input",
        LowerBound = 0,
        Libraries = "open_clip (ClipLoss)",
        Factory = o => new ClipLoss(o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
