using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Intra-pair variance loss (Yu &amp; Tao, ICCV 2019; pytorch-metric-learning <c>IntraPairVarianceLoss(pos_eps=0.01,
/// neg_eps=0.01)</c>, on cosine similarity): with μ⁺ and μ⁻ the mean cosine over the ordered positive and negative pairs,
/// each positive pair costs relu((1 − ε⁺)·μ⁺ − s)² and each negative pair relu(s − (1 + ε⁻)·μ⁻)²: pairs far below (above)
/// their kind's average are pulled back to it.
/// </summary>
/// <remarks>
/// <para><c>mean</c> is the mean over positive pairs plus the mean over negative pairs (pytorch-metric-learning's
/// MeanReducer on its two sub-losses; a kind without pairs adds 0), <c>sum</c> adds every pair's term, <c>none</c> gives
/// each anchor the sum of its pairs' terms (N). The means μ are not held constant: the gradient flows through them.</para>
/// <para>Derivation for the P positive pairs, r_k = relu((1 − ε⁺)μ⁺ − s_k), R = Σ r_k, ℓ = c·Σ r_k² (c = 1/P for mean, 1
/// for sum): ∂ℓ/∂s_k = 2c·(−r_k + (1 − ε⁺)·R/P); for the Q negatives, r_k = relu(s_k − (1 + ε⁻)μ⁻):
/// ∂ℓ/∂s_k = 2c·(r_k − (1 + ε⁻)·R/Q). Three passes over the similarity blocks (the means, the terms, the gradient);
/// memory O(N·D), never N×N.</para>
/// </remarks>
public sealed class IntraPairVarianceLoss : Loss, ILossDefinition
{
    private readonly double _posEps, _negEps;
    private readonly Reduction _reduction;

    public IntraPairVarianceLoss(double posEps = 0.01, double negEps = 0.01, Reduction reduction = Reduction.Mean)
    {
        if (!double.IsFinite(posEps) || !double.IsFinite(negEps))
            throw LossArgumentException.Value($"IntraPairVarianceLoss: pos_eps and neg_eps must be finite, got {posEps} and {negEps}");
        (_posEps, _negEps, _reduction) = (posEps, negEps, reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "IntraPairVarianceLoss");
        var (unit, norms) = Embeddings.Normalize(x, n, d);
        var (members, group) = Embeddings.Groups(labels);
        long posPairs = members.Sum(m => (long)m.Length * (m.Length - 1)), negPairs = (long)n * (n - 1) - posPairs;

        // Pass 1: each anchor's sums of its positive and negative cosines, then the two means.
        double[] posSum = new double[n], negSum = new double[n];
        var values = new SimilarityBlocks(unit, n, d, gradients: false, scratchRows: 0);   // passes 1 and 2
        values.Run(1, (a, s, unused, scratch) =>
        {
            for (int j = 0; j < n; j++)
            {
                if (j == a) continue;
                if (group[j] == group[a]) posSum[a] += s[j];
                else negSum[a] += s[j];
            }
        });
        double posTarget = posPairs == 0 ? 0 : (1 - _posEps) * Reducer.Sum<double>(posSum) / posPairs;
        double negTarget = negPairs == 0 ? 0 : (1 + _negEps) * Reducer.Sum<double>(negSum) / negPairs;

        // Pass 2: the terms, per anchor the sums of r (for the gradient through the means) and the loss.
        double[] posR = new double[n], negR = new double[n], posLoss = new double[n], negLoss = new double[n];
        values.Run(1, (a, s, unused, scratch) =>
        {
            for (int j = 0; j < n; j++)
            {
                if (j == a) continue;
                if (group[j] == group[a])
                {
                    double r = Math.Max(0, posTarget - s[j]);
                    (posR[a], posLoss[a]) = (posR[a] + r, posLoss[a] + r * r);
                }
                else
                {
                    double r = Math.Max(0, s[j] - negTarget);
                    (negR[a], negLoss[a]) = (negR[a] + r, negLoss[a] + r * r);
                }
            }
        });
        double posScale = _reduction == Reduction.Mean ? (posPairs == 0 ? 0 : 1.0 / posPairs) : 1;
        double negScale = _reduction == Reduction.Mean ? (negPairs == 0 ? 0 : 1.0 / negPairs) : 1;
        var perAnchor = new double[n];
        for (int a = 0; a < n; a++) perAnchor[a] = posLoss[a] + negLoss[a];
        TensorData value = _reduction switch
        {
            Reduction.None => Wrap(perAnchor.Select(T.CreateTruncating).ToArray(), new Shape(n)),
            Reduction.Sum => Wrap(new[] { T.CreateTruncating(Reducer.Sum<double>(perAnchor)) }, Shape.Scalar),
            _ => Wrap(new[] { T.CreateTruncating(Reducer.Sum<double>(posLoss) * posScale + Reducer.Sum<double>(negLoss) * negScale) }, Shape.Scalar),
        };
        if (!computeGradients) return Result(value);

        // Pass 3: ∂ℓ/∂s for every ordered pair (the means' share is the same for every pair of a kind).
        double posShared = posPairs == 0 ? 0 : (1 - _posEps) * Reducer.Sum<double>(posR) / posPairs;
        double negShared = negPairs == 0 ? 0 : (1 + _negEps) * Reducer.Sum<double>(negR) / negPairs;
        var blocks = new SimilarityBlocks(unit, n, d, gradients: true, scratchRows: 0);
        blocks.Run(1, (a, s, g, scratch) =>
        {
            for (int j = 0; j < n; j++)
            {
                if (j == a) continue;
                g[j] = group[j] == group[a]
                    ? 2 * posScale * (posShared - Math.Max(0, posTarget - s[j]))
                    : 2 * negScale * (Math.Max(0, s[j] - negTarget) - negShared);
            }
        });
        double[] gx = Embeddings.BackThroughNormalize(blocks.UnitGradient(), unit, norms, n, d);
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "IntraPairVarianceLoss",
        Aliases = ["intra_pair_variance_loss", "pml.IntraPairVarianceLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("pos_eps", 0.01, "ε⁺: positive pairs below (1 − ε⁺)·μ⁺ are penalized"),
            OptionSpec.Float("neg_eps", 0.01, "ε⁻: negative pairs above (1 + ε⁻)·μ⁻ are penalized"),
        ],
        Sample = Embeddings.Sample,
        Formula = "mean_P relu((1 − ε⁺)μ⁺ − s)² + mean_N relu(s − (1 + ε⁻)μ⁻)²,  s the cosine, μ± the mean cosine over each kind of pair",
        Gradient = "∂/∂s_k = 2c(−r_k + (1 − ε⁺)R⁺/P) for positives, 2c(r_k − (1 + ε⁻)R⁻/Q) for negatives (through the means); through the normalization",
        Reference = "pytorch_metric_learning.losses.IntraPairVarianceLoss (Yu & Tao, ICCV 2019, Deep Metric Learning with Tuplet Margin Loss)",
        Stability = "polynomial in the cosines: finite for every finite embedding; O(N·D) memory",
        Libraries = "pytorch-metric-learning",
        Factory = o => new IntraPairVarianceLoss(o.Float("pos_eps"), o.Float("neg_eps"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
