using System.Numerics;
using System.Numerics.Tensors;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Supervised contrastive loss (Khosla et al., 2020; pytorch-metric-learning <c>SupConLoss(temperature=0.1)</c>): for
/// each anchor a with positives P(a) (same label, not a), ℓ_a = −(1/|P(a)|)·Σ_{p∈P(a)} (s_ap/τ − lse_{j≠a} s_aj/τ), s the
/// cosine similarity. The denominator runs over every other sample, positives included (unlike NT-Xent).
/// </summary>
/// <remarks>
/// <para><c>mean</c> is pytorch-metric-learning's AvgNonZeroReducer over anchors (anchors without positives give 0 and
/// are left out); <c>sum</c> adds the anchors; <c>none</c> gives ℓ_a (N). Memory O(N·D + B·N): blocks of B anchor rows
/// at a time (<see cref="SimilarityBlocks"/>).</para>
/// <para>Derivation: ∂ℓ_a/∂s_aj = (softmax_{j≠a}(s_a·/τ)_j − [j ∈ P(a)]/|P(a)|)/τ, then ∂s_ij/∂x̂_i = x̂_j and
/// through the normalization.</para>
/// </remarks>
public sealed class SupConLoss : Loss, ILossDefinition
{
    private readonly double _temperature;
    private readonly Reduction _reduction;

    public SupConLoss(double temperature = 0.1, Reduction reduction = Reduction.Mean)
    {
        if (!(temperature > 0) || !double.IsFinite(temperature)) throw LossArgumentException.Value($"SupConLoss: temperature must be > 0, got {temperature}");
        (_temperature, _reduction) = (temperature, reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "SupConLoss");
        var (unit, norms) = Embeddings.Normalize(x, n, d);
        double tau = _temperature;
        var (members, group) = Embeddings.Groups(labels);
        var perAnchor = new double[n];
        var blocks = new SimilarityBlocks(unit, n, d, computeGradients, scratchRows: 1);
        blocks.Run(1 / tau, (a, row, g, e) =>
        {
            int[] own = members[group[a]];
            int positives = own.Length - 1;
            if (positives == 0) return;     // ℓ_a = 0, left out of the mean
            // lse over j ≠ a: e^{−∞} = 0 drops the anchor itself.
            row.CopyTo(e);
            e[a] = double.NegativeInfinity;
            var (lse, max) = Embeddings.ExpAndLse(e);
            double sum = 0;
            foreach (int p in own) if (p != a) sum += lse - row[p];
            perAnchor[a] = sum / positives;
            // Mean is AvgNonZero: an anchor with ℓ_a = 0 is left out of it, and so is its gradient.
            if (g.IsEmpty || (!(perAnchor[a] > 0) && _reduction == Reduction.Mean)) return;
            // ∂ℓ_a/∂s_aj = (e^{s_aj/τ − lse} − [j ∈ P(a)]/|P(a)|)/τ; the mean's 1/count is applied at the end.
            TensorPrimitives.Multiply(e, Math.Exp(max - lse) / tau, g);
            double pull = 1.0 / (positives * tau);
            foreach (int p in own) if (p != a) g[p] -= pull;
        });
        var (values, shape, gradientScale) = Embeddings.AvgNonZero(perAnchor, _reduction);
        TensorData value = Wrap(values.Select(T.CreateTruncating).ToArray(), shape);
        if (!computeGradients) return Result(value);
        double[] gUnit = blocks.UnitGradient(gradientScale);
        double[] gx = Embeddings.BackThroughNormalize(gUnit, unit, norms, n, d);
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "SupConLoss",
        Aliases = ["supcon_loss", "supervised_contrastive_loss", "pml.SupConLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options = [OptionSpec.Reduction("none", "mean", "sum"), OptionSpec.Float("temperature", 0.1, "τ: similarities are divided by it")],
        Sample = Embeddings.Sample,
        Formula = "ℓ_a = −(1/|P(a)|)·Σ_p (s_ap/τ − lse_{j≠a} s_aj/τ); mean = average over anchors with ℓ_a > 0",
        Gradient = "∂ℓ_a/∂s_aj = (softmax_j − [j ∈ P(a)]/|P(a)|)/τ, through the normalization",
        Reference = "pytorch_metric_learning.losses.SupConLoss (Khosla et al., Supervised Contrastive Learning, 2020)",
        Stability = "log-sum-exp in double: finite for every finite embedding and τ > 0; O(N·D) memory",
        Libraries = "pytorch-metric-learning",
        Factory = o => new SupConLoss(o.Float("temperature"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
