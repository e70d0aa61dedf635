using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Threshold-consistent margin (TCM) regularization (Zhang et al., CVPR 2024, "Threshold-Consistent Margin Loss for
/// Open-World Deep Metric Learning"; pytorch-metric-learning <c>ThresholdConsistentMarginLoss(base_loss,
/// lambda_plus=1, lambda_minus=1, margin_plus=0.9, margin_minus=0.5)</c>, on cosine similarity): a base metric loss plus
/// λ⁺·mean over the positive pairs with s ≤ m⁺ of (m⁺ − s) and λ⁻·mean over the negative pairs with s ≥ m⁻ of (s − m⁻).
/// </summary>
/// <remarks>
/// <para>The pairs are all ordered pairs from the labels; a kind with no pair inside its margin adds 0. The base loss is
/// any catalog loss over (embeddings, labels) with a scalar value under its defaults, named by <c>base_loss</c>
/// (pytorch-metric-learning requires one; LossLab's default is the multi-similarity loss, which the paper pairs TCM
/// with). One value per batch (pytorch-metric-learning's already_reduced), so no reduction option.</para>
/// <para>Gradient: the base loss's, plus −λ⁺/count⁺ per positive pair inside m⁺ and +λ⁻/count⁻ per negative pair inside
/// m⁻ on its cosine (the counts held constant, as autograd does), through the normalization. Memory O(N·D) for the
/// regularizer.</para>
/// </remarks>
public sealed class ThresholdConsistentMarginLoss : Loss, ILossDefinition
{
    private readonly ILoss _base;
    private readonly double _lambdaPlus, _lambdaMinus, _marginPlus, _marginMinus;

    public ThresholdConsistentMarginLoss(string baseLoss = "multi_similarity_loss", double lambdaPlus = 1, double lambdaMinus = 1, double marginPlus = 0.9, double marginMinus = 0.5)
    {
        if (!double.IsFinite(lambdaPlus) || !double.IsFinite(lambdaMinus) || !double.IsFinite(marginPlus) || !double.IsFinite(marginMinus))
            throw LossArgumentException.Value($"ThresholdConsistentMarginLoss: lambdas and margins must be finite, got lambda_plus = {lambdaPlus}, lambda_minus = {lambdaMinus}, margin_plus = {marginPlus}, margin_minus = {marginMinus}");
        if (!LossRegistry.Default.TryGet(baseLoss, out LossDescriptor? d) || d.Task != LossTask.MetricLearning
            || d.Inputs.Where(i => !i.Optional).Select(i => i.Name).ToArray() is not ["embeddings", "labels"] || d.Name == "ThresholdConsistentMarginLoss")
        {
            throw LossArgumentException.Value($"ThresholdConsistentMarginLoss: base_loss '{baseLoss}' must be a catalog loss over (embeddings, labels), such as multi_similarity_loss, contrastive_loss or supcon_loss");
        }
        _base = d.Create();
        (_lambdaPlus, _lambdaMinus, _marginPlus, _marginMinus) = (lambdaPlus, lambdaMinus, marginPlus, marginMinus);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "ThresholdConsistentMarginLoss");
        LossResult baseResult = _base.Evaluate(inputs, computeGradients);
        if (baseResult.Value.Length != 1)
            throw LossArgumentException.Value($"ThresholdConsistentMarginLoss: base_loss {_base.Descriptor.Name} gives {baseResult.Value.Shape}, not one value");
        var (unit, norms) = Embeddings.Normalize(x, n, d);

        // Pass 1: per anchor the sums and counts of the pairs inside each margin.
        double[] posSum = new double[n], negSum = new double[n];
        long[] posCount = new long[n], negCount = new long[n];
        var values = new SimilarityBlocks(unit, n, d, gradients: false, scratchRows: 0);
        values.Run(1, (a, s, unused, scratch) =>
        {
            for (int j = 0; j < n; j++)
            {
                if (j == a) continue;
                if (labels[j] == labels[a]) { if (s[j] <= _marginPlus) (posSum[a], posCount[a]) = (posSum[a] + _marginPlus - s[j], posCount[a] + 1); }
                else if (s[j] >= _marginMinus) (negSum[a], negCount[a]) = (negSum[a] + s[j] - _marginMinus, negCount[a] + 1);
                else if (double.IsNaN(s[j])) negSum[a] = double.NaN;   // a NaN embedding (autograd path) must not drop out
            }
        });
        double cp = posCount.Sum(), cn = negCount.Sum();
        double tcm = (cp == 0 ? 0 : _lambdaPlus * Reducer.Sum<double>(posSum) / cp) + (cn == 0 ? 0 : _lambdaMinus * Reducer.Sum<double>(negSum) / cn);
        TensorData value = Wrap(new[] { T.CreateTruncating(baseResult.Scalar + tcm) }, Shape.Scalar);
        if (!computeGradients) return Result(value);

        // Pass 2: ∂/∂s per pair inside its margin, then add the base loss's gradient.
        double wp = cp == 0 ? 0 : -_lambdaPlus / cp, wn = cn == 0 ? 0 : _lambdaMinus / cn;
        var blocks = new SimilarityBlocks(unit, n, d, gradients: true, scratchRows: 0);
        blocks.Run(1, (a, s, g, scratch) =>
        {
            for (int j = 0; j < n; j++)
            {
                if (j == a) continue;
                if (labels[j] == labels[a]) { if (s[j] <= _marginPlus) g[j] = wp; }
                else if (s[j] >= _marginMinus) g[j] = wn;
            }
        });
        double[] gx = Embeddings.BackThroughNormalize(blocks.UnitGradient(), unit, norms, n, d);
        double[] gBase = baseResult.Gradient("embeddings").ToArray<double>();
        for (int i = 0; i < gx.Length; i++) gx[i] += gBase[i];
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));
    }

    /// <summary>The catalog's losses over (embeddings, labels) with one value under their defaults (a test keeps this list whole).</summary>
    internal static readonly string[] BaseLosses =
    [
        "multi_similarity_loss", "contrastive_loss", "ntxent_loss", "supcon_loss", "circle_loss", "nca_loss", "n_pairs_loss", "lifted_structure_loss",
        "generalized_lifted_structure_loss", "tuplet_margin_loss", "intra_pair_variance_loss", "margin_loss",
        "signal_to_noise_ratio_contrastive_loss", "ranked_list_loss", "fast_ap_loss", "smooth_ap_loss", "histogram_loss", "pnp_loss", "instance_loss", "angular_loss",
        "batch_all_triplet_loss", "batch_hard_triplet_loss", "batch_semi_hard_triplet_loss",
    ];

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "ThresholdConsistentMarginLoss",
        Aliases = ["threshold_consistent_margin_loss", "tcm_loss", "pml.ThresholdConsistentMarginLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options =
        [
            OptionSpec.Float("lambda_plus", 1.0, "λ⁺: weight of the positive pairs' term"),
            OptionSpec.Float("lambda_minus", 1.0, "λ⁻: weight of the negative pairs' term"),
            OptionSpec.Float("margin_plus", 0.9, "m⁺: positive pairs less similar than this are pulled up"),
            OptionSpec.Float("margin_minus", 0.5, "m⁻: negative pairs more similar than this are pushed down"),
            OptionSpec.Choice("base_loss", "multi_similarity_loss", "the metric loss TCM regularizes, with its defaults", BaseLosses),
        ],
        Sample = Embeddings.Sample,
        Formula = "base + λ⁺·mean_{P: s ≤ m⁺}(m⁺ − s) + λ⁻·mean_{N: s ≥ m⁻}(s − m⁻),  s the cosine",
        Gradient = "the base loss's, plus −λ⁺/count⁺ and +λ⁻/count⁻ on each cosine inside its margin; through the normalization",
        Reference = "pytorch_metric_learning.losses.ThresholdConsistentMarginLoss (Zhang, Ma, Liu et al., CVPR 2024)",
        Stability = "piecewise linear in the cosines plus the base loss's own guarantee; O(N·D) memory for the regularizer",
        Libraries = "pytorch-metric-learning",
        Factory = o => new ThresholdConsistentMarginLoss(o.Choice("base_loss"), o.Float("lambda_plus"), o.Float("lambda_minus"), o.Float("margin_plus"), o.Float("margin_minus")),
    };

    public override LossDescriptor Descriptor => Entry;
}
