using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Tuplet margin loss (Yu &amp; Tao, ICCV 2019; pytorch-metric-learning <c>TupletMarginLoss(margin=5.73, scale=64)</c>, on
/// cosine similarity): per positive pair (a, p), in both orders, ℓ_ap = log(1 + Σ_{n∈N(a)} e^{s·(cos θ_an − cos(θ_ap − m))}),
/// θ the angle between the two embeddings, m the margin in degrees, s the scale.
/// </summary>
/// <remarks>
/// <para><c>mean</c> averages over the ordered positive pairs (pytorch-metric-learning's MeanReducer), <c>sum</c> adds
/// them, <c>none</c> gives each anchor the sum of its pairs' losses (N). Without a positive or without a negative pair
/// the loss is 0.</para>
/// <para>With L_a = lse_{n∈N(a)}(s·cos θ_an), ℓ_ap = softplus(L_a − s·c_ap), c = cos(θ − m) = x·cos m + √(1 − x²)·sin m for
/// the cosine x: one row of similarities holds all of anchor a's pairs. Gradient, q = σ(L_a − s·c_ap):
/// ∂ℓ_ap/∂x_ap = −s·q·(cos m − x·sin m/√(1 − x²)), ∂ℓ_ap/∂x_an = s·q·e^{s·x_an − L_a}; then through the normalization.</para>
/// <para>The cosine is clamped to [−1, 1] before the arccosine (round-off can put it outside, where torch.acos gives NaN),
/// and the arccosine's derivative, infinite at ±1 (two identical positives), is taken at 1 − x² = 10⁻¹², so the
/// gradient stays finite there (pytorch-metric-learning gives ∞ or NaN).</para>
/// </remarks>
public sealed class TupletMarginLoss : Loss, ILossDefinition
{
    private const double MinSine2 = 1e-12;
    private readonly double _scale, _cosMargin, _sinMargin;
    private readonly Reduction _reduction;

    public TupletMarginLoss(double margin = 5.73, double scale = 64, Reduction reduction = Reduction.Mean)
    {
        if (!double.IsFinite(margin) || !double.IsFinite(scale) || !(scale > 0))
            throw LossArgumentException.Value($"TupletMarginLoss: margin must be finite and scale > 0, got margin = {margin}, scale = {scale}");
        (_scale, _reduction) = (scale, reduction);
        double radians = margin * Math.PI / 180;
        (_cosMargin, _sinMargin) = (Math.Cos(radians), Math.Sin(radians));
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "TupletMarginLoss");
        var (unit, norms) = Embeddings.Normalize(x, n, d);
        var (members, group) = Embeddings.Groups(labels);
        long pairs = members.Sum(m => (long)m.Length * (m.Length - 1));
        bool active = pairs > 0 && members.Length > 1;   // then every row has a negative
        var perAnchor = new double[n];
        // One pass: mean needs only the pair count, known up front, so the gradient rows are filled with the values.
        double scale = _reduction == Reduction.Mean ? 1.0 / pairs : 1;
        var blocks = new SimilarityBlocks(unit, n, d, computeGradients && active, scratchRows: 1);
        if (active)
            blocks.Run(1, (a, cos, g, scratch) =>
            {
                Span<double> z = scratch[..n];
                for (int j = 0; j < n; j++) z[j] = group[j] == group[a] ? double.NegativeInfinity : _scale * cos[j];
                var (lse, max) = Embeddings.ExpAndLse(z);   // z: e^{s·x_an − max}, 0 off the negatives
                double sumQ = 0;
                foreach (int p in members[group[a]])
                {
                    if (p == a) continue;
                    double c = Math.Clamp(cos[p], -1, 1), sine = Math.Sqrt(Math.Max(1 - c * c, 0));
                    double u = lse - _scale * (c * _cosMargin + sine * _sinMargin);
                    perAnchor[a] += Stable.Softplus(u);
                    if (g.IsEmpty) continue;
                    double q = Stable.Sigmoid(u);
                    sumQ += q;
                    g[p] = -scale * _scale * q * (_cosMargin - c * _sinMargin / Math.Sqrt(Math.Max(1 - c * c, MinSine2)));
                }
                if (g.IsEmpty) return;
                // e^{s·x_an − L_a} = z_n·e^{max − L_a}; z holds e^{s·x_an − max}.
                double toSoftmax = Math.Exp(max - lse);
                for (int j = 0; j < n; j++)
                    if (group[j] != group[a]) g[j] = scale * _scale * sumQ * z[j] * toSoftmax;
            });
        double total = Reducer.Sum<double>(perAnchor);
        TensorData value = _reduction switch
        {
            Reduction.None => Wrap(perAnchor.Select(T.CreateTruncating).ToArray(), new Shape(n)),
            Reduction.Sum => Wrap(new[] { T.CreateTruncating(total) }, Shape.Scalar),
            _ => Wrap(new[] { T.CreateTruncating(active ? total / pairs : 0) }, Shape.Scalar),
        };
        if (!computeGradients) return Result(value);
        if (!active) return Result(value, ("embeddings", Wrap(new T[x.Length], es)));
        double[] gx = Embeddings.BackThroughNormalize(blocks.UnitGradient(), unit, norms, n, d);
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "TupletMarginLoss",
        Aliases = ["tuplet_margin_loss", "pml.TupletMarginLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("margin", 5.73, "m: the angular margin in degrees taken off each positive pair's angle"),
            OptionSpec.Float("scale", 64.0, "s: the inverse temperature of the softmax over negatives"),
        ],
        Sample = Embeddings.Sample,
        Formula = "ℓ_ap = log(1 + Σ_{N(a)} e^{s·(cos θ_an − cos(θ_ap − m))}) per ordered positive pair; mean over them",
        Gradient = "∂/∂cos θ_ap = −s·q·(cos m − cos θ_ap·sin m/sin θ_ap), ∂/∂cos θ_an = s·q·softmax_N(s·cos θ)_n, q = σ(ℓ's argument); through the normalization",
        Reference = "pytorch_metric_learning.losses.TupletMarginLoss (Yu & Tao, ICCV 2019, Deep Metric Learning with Tuplet Margin Loss)",
        Stability = "softplus of a log-sum-exp: finite for every finite embedding; the arccosine's slope capped at 1 − cos² = 1e-12; O(N·D) memory",
        Libraries = "pytorch-metric-learning",
        Factory = o => new TupletMarginLoss(o.Float("margin"), o.Float("scale"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
