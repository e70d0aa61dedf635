using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Ranked list loss (Wang et al., CVPR 2019; pytorch-metric-learning <c>RankedListLoss(margin, Tn, imbalance=0.5,
/// alpha=1 + margin/2, Tp=0)</c> with its default <c>LpDistance(p=2, normalize_embeddings=True)</c>): per anchor,
/// ℓ_a = (1 − λ)·L_P + λ·L_N, where L_P is the weighted mean of d − (α − m) over the positives farther than α − m and
/// L_N the weighted mean of α − d over the negatives closer than α, with weights e^{Tp·(d − (α − m))} and e^{Tn·(α − d)}.
/// </summary>
/// <remarks>
/// <para><c>mean</c> averages ℓ over the N anchors (MeanReducer), <c>sum</c> adds them, <c>none</c> gives ℓ (N).
/// pytorch-metric-learning requires margin and Tn; the defaults here are the paper's (m = 0.4, Tn = 10, so α = 1.2).
/// An anchor with no positive beyond α − m has L_P = 0 here, as an anchor without a close negative has L_N = 0 in both;
/// pytorch-metric-learning divides 0 by 0 there and returns NaN. A negative at distance exactly 0 has no weight (as
/// there), and α − m must not be negative (there every non-positive pair would count as a positive at distance 0).</para>
/// <para>The weights are not held constant. For a weighted mean L = Σ ω_k e_k with ω_k = e^{T e_k}/Σ e^{T e}:
/// ∂L/∂e_k = ω_k·(1 + T·(e_k − L)); e = d − (α − m) or α − d; then (x̂_a − x̂_j)/d (<see cref="PairDistances"/>) and
/// the normalization. The exponentials are taken after their maximum, so any temperature stays finite.</para>
/// </remarks>
public sealed class RankedListLoss : Loss, ILossDefinition
{
    private readonly double _margin, _alpha, _imbalance, _tp, _tn;
    private readonly bool _normalize;
    private readonly Reduction _reduction;

    public RankedListLoss(double margin = 0.4, double tn = 10, double imbalance = 0.5, double? alpha = null, double tp = 0, bool normalizeEmbeddings = true, Reduction reduction = Reduction.Mean)
    {
        double a = alpha ?? 1 + margin / 2;
        if (!double.IsFinite(margin) || !double.IsFinite(a) || !double.IsFinite(tp) || !double.IsFinite(tn))
            throw LossArgumentException.Value($"RankedListLoss: margin, alpha, Tp and Tn must be finite, got margin = {margin}, alpha = {a}, Tp = {tp}, Tn = {tn}");
        if (!(imbalance >= 0 && imbalance <= 1)) throw LossArgumentException.Value($"RankedListLoss: imbalance must be in [0, 1], got {imbalance}");
        if (a - margin < 0) throw LossArgumentException.Value($"RankedListLoss: the positive boundary alpha − margin = {a - margin} must not be negative (alpha = {a}, margin = {margin})");
        (_margin, _alpha, _imbalance, _tp, _tn, _normalize, _reduction) = (margin, a, imbalance, tp, tn, normalizeEmbeddings, reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "RankedListLoss");
        var (unit, norms) = _normalize ? Embeddings.Normalize(x, n, d) : (x, Enumerable.Repeat(1.0, n).ToArray());
        var (_, group) = Embeddings.Groups(labels);
        var distances = new PairDistances(unit, n, d);
        double boundary = _alpha - _margin;

        // Pass 1: per anchor the two weighted means (L_P, L_N) with the maxima and sums their weights were taken after.
        double[] lossP = new double[n], lossN = new double[n], maxP = new double[n], maxN = new double[n], sumP = new double[n], sumN = new double[n];
        var perAnchor = new double[n];
        var values = new SimilarityBlocks(unit, n, d, gradients: false, scratchRows: 1);
        values.Run(1, (a, s, unused, scratch) =>
        {
            // Each pair's violation once (NaN where it has none), then the maxima and the weighted sums from it.
            Span<double> excess = scratch[..n];
            (maxP[a], maxN[a]) = (double.NegativeInfinity, double.NegativeInfinity);
            bool nan = false;
            for (int j = 0; j < n; j++)
            {
                if (j == a) { excess[j] = double.NaN; continue; }
                double dist = distances.Between(s[j], a, j);
                nan |= double.IsNaN(dist);   // a NaN embedding (autograd path) must not read as "no violation"
                double e = excess[j] = Excess(group[j] == group[a], dist);
                if (double.IsNaN(e)) continue;
                if (group[j] == group[a]) maxP[a] = Math.Max(maxP[a], _tp * e);
                else maxN[a] = Math.Max(maxN[a], _tn * e);
            }
            double weightedP = 0, weightedN = 0;
            for (int j = 0; j < n; j++)
            {
                double e = excess[j];
                if (double.IsNaN(e)) continue;
                bool positive = group[j] == group[a];
                double w = positive ? Math.Exp(_tp * e - maxP[a]) : Math.Exp(_tn * e - maxN[a]);
                if (positive) (sumP[a], weightedP) = (sumP[a] + w, weightedP + w * e);
                else (sumN[a], weightedN) = (sumN[a] + w, weightedN + w * e);
            }
            lossP[a] = sumP[a] > 0 ? weightedP / sumP[a] : 0;
            lossN[a] = sumN[a] > 0 ? weightedN / sumN[a] : 0;
            perAnchor[a] = nan ? double.NaN : (1 - _imbalance) * lossP[a] + _imbalance * lossN[a];
        });
        Reducer.Reduced reduced = Reducer.Reduce<double>(perAnchor, _reduction, n);
        TensorData value = _reduction == Reduction.None
            ? Wrap(perAnchor.Select(T.CreateTruncating).ToArray(), new Shape(n))
            : Wrap(new[] { T.CreateTruncating(reduced.Value) }, Shape.Scalar);
        if (!computeGradients) return Result(value);

        // Pass 2: ∂ℓ_a/∂d_aj from anchor a's weighted means (and, in row a, d_ja's from anchor j's).
        double scale = reduced.Scale;
        double[] gUnit = distances.Backward((i, j, dist) => scale * Slope(i, group[j] == group[i], dist));
        double[] gx = _normalize ? Embeddings.BackThroughNormalize(gUnit, unit, norms, n, d) : gUnit;
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));

        // ∂ℓ_i/∂d for one of anchor i's pairs: ω(1 + T(e − L)), through e = d − (α − m) (+) or α − d (−).
        double Slope(int i, bool positive, double dist)
        {
            double e = Excess(positive, dist);
            if (double.IsNaN(e)) return 0;
            return positive
                ? (1 - _imbalance) * Math.Exp(_tp * e - maxP[i]) / sumP[i] * (1 + _tp * (e - lossP[i]))
                : -_imbalance * Math.Exp(_tn * e - maxN[i]) / sumN[i] * (1 + _tn * (e - lossN[i]));
        }
    }

    /// <summary>A pair's violation e (d − (α − m) for a positive beyond α − m, α − d for a negative closer than α, above 0); NaN when it has none.</summary>
    private double Excess(bool positive, double dist) => positive
        ? (dist > _alpha - _margin ? dist - (_alpha - _margin) : double.NaN)
        : (dist > 0 && dist < _alpha ? _alpha - dist : double.NaN);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "RankedListLoss",
        Aliases = ["ranked_list_loss", "rll", "pml.RankedListLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("margin", 0.4, "m: the gap between the positive boundary α − m and the negative boundary α"),
            OptionSpec.Float("Tn", 10.0, "temperature of the negatives' weights e^{Tn(α − d)}"),
            OptionSpec.Float("imbalance", 0.5, "λ: the negatives' share, (1 − λ)·L_P + λ·L_N"),
            OptionSpec.OptionalFloat("alpha", "α: the negative boundary (None: 1 + m/2)"),
            OptionSpec.Float("Tp", 0.0, "temperature of the positives' weights e^{Tp(d − (α − m))} (0: plain mean, RLL-Simpler)"),
            OptionSpec.Bool("normalize_embeddings", true, "L2-normalize the embeddings first (pytorch-metric-learning's default)"),
        ],
        Sample = Embeddings.Sample,
        Formula = "ℓ_a = (1 − λ)·wmean_{P: d > α − m}(d − (α − m)) + λ·wmean_{N: 0 < d < α}(α − d),  weights e^{Tp(d − α + m)}, e^{Tn(α − d)}",
        Gradient = "∂L/∂e_k = ω_k(1 + T(e_k − L)) per weighted mean (weights not detached); (x̂_a − x̂_j)/d, then through the normalization",
        Reference = "pytorch_metric_learning.losses.RankedListLoss (Wang, Hua, Kodirov, Hu, Garnier & Robertson, CVPR 2019)",
        Stability = "weights after their maximum: finite for every finite embedding and temperature; an anchor without violating positives has L_P = 0 (PyTorch NaN); O(N·D) memory",
        Libraries = "pytorch-metric-learning",
        Factory = o => new RankedListLoss(o.Float("margin"), o.Float("Tn"), o.Float("imbalance"), o.NullableFloat("alpha"), o.Float("Tp"), o.Bool("normalize_embeddings"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
