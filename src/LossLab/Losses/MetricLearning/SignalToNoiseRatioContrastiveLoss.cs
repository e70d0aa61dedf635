using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Signal-to-noise-ratio contrastive loss (Yuan et al., CVPR 2019; pytorch-metric-learning
/// <c>SignalToNoiseRatioContrastiveLoss(pos_margin=0, neg_margin=1)</c>, the contrastive loss on <c>SNRDistance</c>):
/// over ordered pairs i ≠ j, positives cost max(0, d_ij − m⁺) and negatives max(0, m⁻ − d_ij), with the SNR distance
/// d_ij = var(x̂_i − x̂_j) / var(x̂_i) — the noise's variance over the anchor's signal variance, across the D features.
/// </summary>
/// <remarks>
/// <para>The variances are unbiased (torch.var), and x̂ is L2-normalized first (SNRDistance's default). The distance
/// is asymmetric: d_ij divides by the anchor's variance. <c>mean</c> is AvgNonZero per kind of pair (as the contrastive
/// loss's), <c>sum</c> adds every pair, <c>none</c> gives each anchor's sum (N).</para>
/// <para>With c_i = x̂_i − mean(x̂_i) (the centred row), d_ij = ‖c_i − c_j‖² / ‖c_i‖², the (D − 1)'s cancelling, so the
/// centred rows go through the similarity blocks (their dot products give the distances; close pairs are summed term by
/// term, <see cref="PairDistances"/>). Gradient of w·d_ij: ∂/∂c_i = (2w/‖c_i‖²)·((1 − d_ij)c_i − c_j), ∂/∂c_j =
/// (2w/‖c_i‖²)(c_j − c_i); then the centring (subtract each row's mean) and the normalization.</para>
/// <para>A row with no variance across its features (constant, zero, or D = 1) would divide by 0 as an anchor (PyTorch
/// gives ∞ or NaN): it is left out as an anchor and stays a reference of the other rows' pairs, so the loss stays
/// finite and such a row is still pushed by the others (a zero embedding happens in training when a unit dies).</para>
/// </remarks>
public sealed class SignalToNoiseRatioContrastiveLoss : Loss, ILossDefinition
{
    private readonly double _posMargin, _negMargin;
    private readonly bool _normalize;
    private readonly Reduction _reduction;

    public SignalToNoiseRatioContrastiveLoss(double posMargin = 0, double negMargin = 1, bool normalizeEmbeddings = true, Reduction reduction = Reduction.Mean)
    {
        if (!double.IsFinite(posMargin) || !double.IsFinite(negMargin))
            throw LossArgumentException.Value($"SignalToNoiseRatioContrastiveLoss: margins must be finite, got pos_margin = {posMargin}, neg_margin = {negMargin}");
        (_posMargin, _negMargin, _normalize, _reduction) = (posMargin, negMargin, normalizeEmbeddings, reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        const string name = "SignalToNoiseRatioContrastiveLoss";
        var (es, n, d, x, labels) = Embeddings.Read(inputs, name);
        var (unit, norms) = _normalize ? Embeddings.Normalize(x, n, d) : (x, Enumerable.Repeat(1.0, n).ToArray());
        // Centred rows and their squared norms (the anchors' variances times D − 1).
        var centred = new double[unit.Length];
        var variance = new double[n];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> row = unit.AsSpan(i * d, d);
            Span<double> c = centred.AsSpan(i * d, d);
            System.Numerics.Tensors.TensorPrimitives.Subtract(row, System.Numerics.Tensors.TensorPrimitives.Sum(row) / d, c);
            variance[i] = System.Numerics.Tensors.TensorPrimitives.Dot<double>(c, c);
        }
        // A row without variance (constant, zero, or D = 1) is no anchor: its SNR distances would divide by 0. It stays a
        // reference for the others. (A NaN row is not skipped: NaN == 0 is false, so it propagates.)
        bool Anchor(int i) => variance[i] != 0;
        var distances = new PairDistances(centred, n, d);
        double Snr(double s, int i, int j) { double w = distances.Between(s, i, j); return w * w / variance[i]; }

        // Pass 1: per anchor the sum of its terms, and the sums and non-zero counts of each kind.
        double[] perAnchor = new double[n], posA = new double[n], negA = new double[n];
        long[] posN = new long[n], negN = new long[n];
        new SimilarityBlocks(centred, n, d, gradients: false, scratchRows: 0).Run(1, (a, s, unused, scratch) =>
        {
            if (!Anchor(a)) return;
            for (int j = 0; j < n; j++)
            {
                if (j == a) continue;
                bool positive = labels[a] == labels[j];
                double l = Term(positive, Snr(s[j], a, j));
                perAnchor[a] += l;
                if (l <= 0) continue;
                if (positive) (posA[a], posN[a]) = (posA[a] + l, posN[a] + 1);
                else (negA[a], negN[a]) = (negA[a] + l, negN[a] + 1);
            }
        });
        long posCount = posN.Sum(), negCount = negN.Sum();
        double posScale = _reduction == Reduction.Mean ? (posCount == 0 ? 0 : 1.0 / posCount) : 1;
        double negScale = _reduction == Reduction.Mean ? (negCount == 0 ? 0 : 1.0 / negCount) : 1;
        TensorData value = _reduction switch
        {
            Reduction.None => Wrap(perAnchor.Select(T.CreateTruncating).ToArray(), new Shape(n)),
            Reduction.Sum => Wrap(new[] { T.CreateTruncating(Reducer.Sum<double>(perAnchor)) }, Shape.Scalar),
            _ => Wrap(new[] { T.CreateTruncating(Reducer.Sum<double>(posA) * posScale + Reducer.Sum<double>(negA) * negScale) }, Shape.Scalar),
        };
        if (!computeGradients) return Result(value);

        // Pass 2: G_aj = −2w_aj/V_a, and the diagonal 2w_aj(1 − d_aj)/V_a + 2w_ja/V_j (the pair seen from j).
        var diagonal = new double[n];
        var blocks = new SimilarityBlocks(centred, n, d, gradients: true, scratchRows: 0);
        blocks.Run(1, (a, s, g, scratch) =>
        {
            double rowSum = 0;
            for (int j = 0; j < n; j++)
            {
                if (j == a) continue;
                bool positive = labels[a] == labels[j];
                if (Anchor(a))
                {
                    double daj = Snr(s[j], a, j), wa = Slope(positive, daj);
                    g[j] = -2 * wa / variance[a];
                    rowSum += 2 * wa * (1 - daj) / variance[a];
                }
                if (Anchor(j)) rowSum += 2 * Slope(positive, Snr(s[j], j, a)) / variance[j];
            }
            diagonal[a] = rowSum;
        });
        double[] gc = blocks.UnitGradient();
        distances.AddDiagonal(gc, diagonal);
        // Back through the centring: each row minus its mean.
        for (int i = 0; i < n; i++)
        {
            Span<double> row = gc.AsSpan(i * d, d);
            System.Numerics.Tensors.TensorPrimitives.Subtract(row, System.Numerics.Tensors.TensorPrimitives.Sum<double>(row) / d, row);
        }
        double[] gx = _normalize ? Embeddings.BackThroughNormalize(gc, unit, norms, n, d) : gc;
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));

        double Slope(bool positive, double dist) => Term(positive, dist) <= 0 ? 0 : positive ? posScale : -negScale;
    }

    private double Term(bool positive, double dist) => positive ? Math.Max(0, dist - _posMargin) : Math.Max(0, _negMargin - dist);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "SignalToNoiseRatioContrastiveLoss",
        Aliases = ["signal_to_noise_ratio_contrastive_loss", "snr_contrastive_loss", "pml.SignalToNoiseRatioContrastiveLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("pos_margin", 0.0, "positive pairs cost nothing below this SNR distance"),
            OptionSpec.Float("neg_margin", 1.0, "negative pairs cost nothing above this SNR distance"),
            OptionSpec.Bool("normalize_embeddings", true, "L2-normalize the embeddings first (SNRDistance's default)"),
        ],
        Sample = Embeddings.Sample,
        Formula = "pos: max(0, d − m⁺), neg: max(0, m⁻ − d),  d_ij = var(x̂_i − x̂_j)/var(x̂_i); mean = avg of non-zero pos + avg of non-zero neg",
        Gradient = "±1 through each active hinge; ∂d_ij/∂c_i = 2((1 − d)c_i − c_j)/‖c_i‖², ∂d_ij/∂c_j = 2(c_j − c_i)/‖c_i‖² on the centred rows; then the centring and the normalization",
        Reference = "pytorch_metric_learning.losses.SignalToNoiseRatioContrastiveLoss (Yuan, Chen, Wang, Yu, Yang & Ma, CVPR 2019, Signal-to-Noise Ratio: A Robust Distance Metric for Deep Metric Learning)",
        Stability = "finite for every finite embedding (a row without variance is no anchor, where PyTorch divides by 0); O(N·D) memory",
        Libraries = "pytorch-metric-learning",
        Factory = o => new SignalToNoiseRatioContrastiveLoss(o.Float("pos_margin"), o.Float("neg_margin"), o.Bool("normalize_embeddings"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
