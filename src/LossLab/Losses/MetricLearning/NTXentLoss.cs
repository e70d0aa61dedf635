using System.Numerics;
using System.Numerics.Tensors;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// NT-Xent / InfoNCE over labeled embeddings (pytorch-metric-learning <c>NTXentLoss(temperature=0.07)</c>, SimCLR):
/// for every ordered positive pair (a, p) (same label, a ≠ p), ℓ_ap = −log(e^{s_ap/τ} / (e^{s_ap/τ} + Σ_{n: label ≠
/// label_a} e^{s_an/τ})) with s the cosine similarity. <c>mean</c> averages over positive pairs (0 when there are
/// none), <c>sum</c> adds them, <c>none</c> gives each anchor's sum over its pairs (N).
/// </summary>
/// <remarks>
/// <para>Memory is O(N·D + B·N): the N×N similarity matrix is never stored. Blocks of B anchors' rows of similarities
/// are computed as one double matrix product, used and dropped (<see cref="SimilarityBlocks"/>; the streaming that
/// pytorch-metric-learning#547 asks for at N = 8192).</para>
/// <para>Derivation: with den_ap = logaddexp(s_ap/τ, lse_n(s_an/τ)), ∂ℓ_ap/∂s_ap = −(1 − e^{s_ap/τ − den_ap})/τ and
/// ∂ℓ_ap/∂s_an = e^{s_an/τ − den_ap}/τ; ∂s_ij/∂x̂_i = x̂_j with x̂ = x/‖x‖, and ∂x̂/∂x = (I − x̂x̂ᵀ)/‖x‖. A zero
/// embedding has cosine 0 with everything (norm clamped at 1e-12) and gradient 0.</para>
/// </remarks>
public sealed class NTXentLoss : Loss, ILossDefinition
{
    private readonly double _temperature;
    private readonly Reduction _reduction;

    public NTXentLoss(double temperature = 0.07, Reduction reduction = Reduction.Mean)
    {
        if (!(temperature > 0) || !double.IsFinite(temperature)) throw LossArgumentException.Value($"NTXentLoss: temperature must be > 0, got {temperature}");
        (_temperature, _reduction) = (temperature, reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "NTXentLoss");
        var (unit, norms) = Embeddings.Normalize(x, n, d);
        double tau = _temperature;
        var (members, group) = Embeddings.Groups(labels);
        long pairs = 0;
        foreach (int[] m in members) pairs += (long)m.Length * (m.Length - 1);
        double scale = _reduction == Reduction.Mean ? (pairs == 0 ? 0 : 1.0 / pairs) : 1;
        var perAnchor = new double[n];
        var blocks = new SimilarityBlocks(unit, n, d, computeGradients, scratchRows: 1);
        blocks.Run(1 / tau, (a, row, g, neg) =>
        {
            int[] own = members[group[a]];
            if (own.Length < 2) return;     // no positive pair
            // neg: s_aj/τ at the negatives, −∞ elsewhere; its lse by max, then one exponential per entry (vectorized).
            row.CopyTo(neg);
            foreach (int p in own) neg[p] = double.NegativeInfinity;
            var (lseNeg, max) = Embeddings.ExpAndLse(neg);
            // Σ_p e^{s_an/τ − den_p} = e^{s_an/τ − lseNeg}·Σ_p e^{lseNeg − den_p}: O(N) per anchor, every factor ≤ 1.
            double spread = 0;
            foreach (int p in own)
            {
                if (p == a) continue;
                double den = Stable.LogAddExp(row[p], lseNeg);
                perAnchor[a] += den - row[p];
                if (g.IsEmpty) continue;
                g[p] = scale * Stable.Expm1(row[p] - den) / tau;   // −(1 − e^{s − den}), its digits kept
                if (!double.IsNegativeInfinity(lseNeg)) spread += Math.Exp(lseNeg - den);
            }
            // Negatives: ∂/∂s_an = e^{s_an/τ − lseNeg}·spread/τ = e^{s_an/τ − max}·e^{max − lseNeg}·spread/τ.
            if (g.IsEmpty || !(spread > 0)) return;
            double factor = scale * Math.Exp(max - lseNeg) * spread / tau;
            for (int j = 0; j < n; j++) if (group[j] != group[a]) g[j] = neg[j] * factor;
        });
        double total = perAnchor.Sum();
        TensorData value = _reduction == Reduction.None
            ? Wrap(perAnchor.Select(T.CreateTruncating).ToArray(), new Shape(n))
            : Wrap(new[] { T.CreateTruncating(_reduction == Reduction.Sum ? total : total * scale) }, Shape.Scalar);
        if (!computeGradients) return Result(value);
        double[] gx = Embeddings.BackThroughNormalize(blocks.UnitGradient(), unit, norms, n, d);
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));
    }


    public static LossDescriptor Entry { get; } = new()
    {
        Name = "NTXentLoss",
        Aliases = ["ntxent_loss", "nt_xent", "info_nce", "pml.NTXentLoss", "ntxent", "optax.ntxent"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options = [OptionSpec.Reduction("none", "mean", "sum"), OptionSpec.Float("temperature", 0.07, "τ: similarities are divided by it")],
        Sample = Embeddings.Sample,
        Formula = "ℓ_ap = −log(e^{s_ap/τ} / (e^{s_ap/τ} + Σ_neg e^{s_an/τ})),  s = cosine similarity; mean over positive pairs",
        Gradient = "∂ℓ/∂s_ap = −(1 − softmax_ap)/τ, ∂ℓ/∂s_an = softmax_an/τ, through the normalization",
        Reference = "pytorch_metric_learning.losses.NTXentLoss (Chen et al., SimCLR, 2020; van den Oord et al., InfoNCE, 2018)",
        Stability = "log-sum-exp in double: finite for every finite embedding and τ > 0; O(N·D) memory",
        Libraries = "pytorch-metric-learning, Optax (ntxent)",
        Factory = o => new NTXentLoss(o.Float("temperature"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
