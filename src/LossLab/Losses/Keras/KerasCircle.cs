using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Losses.MetricLearning;
using LossLab.Numerics;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>circle</c> (Sun et al., CVPR 2020) on integer labels y_true (N) and embeddings y_pred (N, D) that the
/// caller has already L2-normalized (Keras does not normalize; <see cref="MetricLearning.CircleLoss"/> does). Per
/// anchor i, with s_ij = y_pred_i·y_pred_j and the cosine distance d_ij = max(1 − s_ij, 0):
/// positives (same label, j ≠ i unless remove_diagonal = false) a_ij = −γ·max(m + d, 0)·(m − d), negatives
/// (other labels) b_ij = γ·max(1 + m − d, 0)·(1 − m − d), ℓ_i = softplus(lse_pos a + lse_neg b), 0 when either set is
/// empty. Keras masks the values that are not &gt; 0 out of the reduction, so sum_over_batch_size averages the
/// non-zero anchors (as pytorch-metric-learning's AvgNonZeroReducer).
/// </summary>
/// <remarks>
/// <para>Derivation (the true gradient: Keras differentiates through the weights, it does not detach them): with
/// σ = σ(lse_pos + lse_neg), ∂ℓ_i/∂a_ij = σ·softmax_pos(a)_j and likewise for b;
/// ∂a/∂d = −γ([m + d &gt; 0](m − d) − max(m + d, 0)), ∂b/∂d = −γ([1 + m − d &gt; 0](1 − m − d) + max(1 + m − d, 0)),
/// ∂d/∂s = −[1 − s &gt; 0], and ∂s_ij/∂y_pred_i = y_pred_j, ∂s_ij/∂y_pred_j = y_pred_i (2·y_pred_i on the diagonal).
/// The similarities come a block of anchors at a time from one double matrix product (<see cref="SimilarityBlocks"/>,
/// as the other pairwise losses), and the gradient rows are folded back by two more: memory O(N·D + B·N), time
/// O(N²·D).</para>
/// <para>Keras's <c>ref_labels</c>/<c>ref_embeddings</c> (a separate reference set) are not offered: the batch is its
/// own reference, Keras's default.</para>
/// </remarks>
public sealed class KerasCircle : KerasLoss, ILossDefinition
{
    private readonly double _gamma, _margin;
    private readonly bool _removeDiagonal;

    public KerasCircle(double gamma = 80, double margin = 0.4, bool removeDiagonal = true, string reduction = "sum_over_batch_size", TensorData? sampleWeight = null)
        : base(reduction, sampleWeight)
    {
        if (!(gamma > 0) || !double.IsFinite(gamma) || !double.IsFinite(margin))
            throw LossArgumentException.Value($"KerasCircle: gamma must be a finite number > 0 and margin finite, got gamma = {gamma}, margin = {margin}");
        (_gamma, _margin, _removeDiagonal) = (gamma, margin, removeDiagonal);
    }

    protected override bool TargetDifferentiable => false;

    protected override bool MaskNonPositive => true;

    protected override T[] TrueValues<T>(LossInputs inputs)
    {
        Shape e = inputs["y_pred"].Shape, l = inputs["y_true"].Shape;
        if (e.Rank != 2) throw LossArgumentException.Shape($"KerasCircle: y_pred must be embeddings (N, D), got shape {e}");
        if (!(l.Rank == 1 && l[0] == e[0]) && !(l.Rank == 2 && l[0] == e[0] && l[1] == 1))
            throw LossArgumentException.Shape($"KerasCircle: y_true has shape {l} but y_pred {e} needs integer labels of shape ({e[0]}) or ({e[0]}, 1)");
        return [.. inputs.Indices("y_true").Select(v => T.CreateTruncating(v))];
    }

    protected override T[] PerSample<T>(T[] yTrue, T[] yPred, Shape shape, out Shape valueShape)
    {
        int n = shape[0], d = shape[1];
        valueShape = new Shape(n);
        double[] x = [.. yPred.Select(double.CreateTruncating)];
        var values = new T[n];
        // Each anchor's row of similarities from one matrix product per block of anchors; scratch: distances and logits.
        new SimilarityBlocks(x, n, d, gradients: false, scratchRows: 2).Run(1, (i, s, unused, scratch) =>
            values[i] = T.CreateTruncating(Anchor(s, yTrue, i, n, scratch[..n], scratch.Slice(n, n), out _, out _)));
        return values;
    }

    protected override void Backward<T>(T[] yTrue, T[] yPred, Shape shape, T[] upstream, T[] gTrue, T[] gPred)
    {
        int n = shape[0], d = shape[1];
        double[] x = [.. yPred.Select(double.CreateTruncating)];
        var blocks = new SimilarityBlocks(x, n, d, gradients: true, scratchRows: 2);
        // Each anchor fills its row of ∂ℓ/∂s_ij; the blocks fold the rows into ∂y_pred (∂s_ij/∂e_i = e_j, ∂s_ij/∂e_j = e_i).
        blocks.Run(1, (i, s, gs, scratch) =>
        {
            double u = double.CreateTruncating(upstream[i]);
            if (u == 0) return;
            Span<double> dist = scratch[..n], logits = scratch.Slice(n, n);
            Anchor(s, yTrue, i, n, dist, logits, out double lsePos, out double lseNeg);
            if (!double.IsFinite(lsePos) || !double.IsFinite(lseNeg)) return;   // an empty set: ℓ = 0 whatever the inputs
            double outer = u * Stable.Sigmoid(lsePos + lseNeg);
            for (int j = 0; j < n; j++)
            {
                bool pos = IsPositive(yTrue, i, j), neg = yTrue[i] != yTrue[j];
                if (!pos && !neg || dist[j] == 0) continue;   // ∂d/∂s = −[1 − s > 0] = −[d > 0]
                double dj = dist[j];
                double dLogitdD = pos
                    ? -_gamma * ((_margin + dj > 0 ? _margin - dj : 0) - Math.Max(_margin + dj, 0))
                    : -_gamma * ((1 + _margin - dj > 0 ? 1 - _margin - dj : 0) + Math.Max(1 + _margin - dj, 0));
                gs[j] = -outer * Math.Exp(logits[j] - (pos ? lsePos : lseNeg)) * dLogitdD;
            }
        });
        double[] g = blocks.UnitGradient();
        for (int k = 0; k < g.Length; k++) gPred[k] = T.CreateTruncating(g[k]);
    }

    private bool IsPositive<T>(T[] labels, int i, int j) where T : struct, IFloatingPointIeee754<T>
        => labels[i] == labels[j] && (j != i || !_removeDiagonal);

    /// <summary>ℓ_i; fills dist[j] = max(1 − s_ij, 0), logits[j] (a_ij or b_ij) and the two log-sum-exps (−∞ for an empty set).</summary>
    private double Anchor<T>(ReadOnlySpan<double> s, T[] labels, int i, int n, Span<double> dist, Span<double> logits, out double lsePos, out double lseNeg)
        where T : struct, IFloatingPointIeee754<T>
    {
        double maxPos = double.NegativeInfinity, maxNeg = double.NegativeInfinity;
        for (int j = 0; j < n; j++)
        {
            bool pos = IsPositive(labels, i, j), neg = labels[i] != labels[j];
            if (!pos && !neg) continue;
            double dj = dist[j] = Math.Max(1 - s[j], 0);
            logits[j] = pos
                ? -_gamma * Math.Max(_margin + dj, 0) * (_margin - dj)
                : _gamma * Math.Max(1 + _margin - dj, 0) * (1 - _margin - dj);
            if (pos) maxPos = Math.Max(maxPos, logits[j]);
            else maxNeg = Math.Max(maxNeg, logits[j]);
        }
        double sumPos = 0, sumNeg = 0;
        for (int j = 0; j < n; j++)
        {
            if (IsPositive(labels, i, j)) sumPos += Math.Exp(logits[j] - maxPos);
            else if (labels[i] != labels[j]) sumNeg += Math.Exp(logits[j] - maxNeg);
        }
        lsePos = sumPos == 0 ? double.NegativeInfinity : maxPos + Math.Log(sumPos);
        lseNeg = sumNeg == 0 ? double.NegativeInfinity : maxNeg + Math.Log(sumNeg);
        return Stable.Softplus(lsePos + lseNeg);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasCircle",
        Aliases = ["keras.circle", "keras.Circle"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs =
        [
            new("y_true", InputKind.Indices, false, "integer labels (N)"),
            new("y_pred", InputKind.Floating, true, "L2-normalized embeddings (N, D)"),
        ],
        Options =
        [
            ReductionOption, SampleWeightOption,
            OptionSpec.Float("gamma", 80, "scale γ > 0"),
            OptionSpec.Float("margin", 0.4, "relaxation margin m"),
            OptionSpec.Bool("remove_diagonal", true, "leave each anchor's similarity with itself out of its positives"),
        ],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(6, 4);
            // Keras expects unit rows (a UnitNormalization layer before the loss).
            double[] e = Embeddings.Normalize(Samples.Normal(r, x).ToArray<double>(), x[0], x[1]).Unit;
            return new LossInputs().Add("y_true", Samples.Classes(r, new Shape(x[0]), 3)).Add("y_pred", TensorData.Create(x, DType.Float64, e));
        },
        Formula = "ℓ_i = softplus(lse_pos(−γ·[m + d]₊·(m − d)) + lse_neg(γ·[1 + m − d]₊·(1 − m − d))),  d = max(1 − e_i·e_j, 0)",
        Gradient = "through s = e_i·e_j (weights not detached); see the class notes",
        Reference = "keras.losses.circle; Sun et al., Circle Loss, CVPR 2020",
        Stability = "log-sum-exp by maximum shift and a stable softplus, in double",
        Libraries = "Keras (inputs already normalized); pytorch-metric-learning CircleLoss (normalizes, detaches the weights) is LossLab's CircleLoss",
        Factory = o => new KerasCircle(o.Float("gamma"), o.Float("margin"), o.Bool("remove_diagonal"), o.Choice("reduction"), o.Tensor("sample_weight")),
    };

    public override LossDescriptor Descriptor => Entry;
}
