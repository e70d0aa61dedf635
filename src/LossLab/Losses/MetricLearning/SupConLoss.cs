using System.Numerics;
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
/// are left out); <c>sum</c> adds the anchors; <c>none</c> gives ℓ_a (N). Memory O(N·D): one anchor row at a time.</para>
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
        var perAnchor = new double[n];
        var row = new double[n];
        var lses = new double[n];
        for (int a = 0; a < n; a++)
        {
            int positives = Row(unit, labels, a, n, d, row, out lses[a]);
            if (positives == 0) continue;
            double s = 0;
            for (int p = 0; p < n; p++) if (p != a && labels[p] == labels[a]) s += lses[a] - row[p];
            perAnchor[a] = s / positives;
        }
        int nonZero = perAnchor.Count(v => v > 0);
        double total = perAnchor.Sum(), meanScale = nonZero == 0 ? 0 : 1.0 / nonZero;
        TensorData value = _reduction switch
        {
            Reduction.None => Wrap(perAnchor.Select(T.CreateTruncating).ToArray(), new Shape(n)),
            Reduction.Sum => Wrap(new[] { T.CreateTruncating(total) }, Shape.Scalar),
            _ => Wrap(new[] { T.CreateTruncating(total * meanScale) }, Shape.Scalar),
        };
        if (!computeGradients) return Result(value);

        var gUnit = new double[n * d];
        for (int a = 0; a < n; a++)
        {
            if (!(perAnchor[a] > 0) && _reduction == Reduction.Mean) continue;   // left out of the AvgNonZero mean
            int positives = Row(unit, labels, a, n, d, row, out double lse);
            if (positives == 0) continue;
            double scale = _reduction == Reduction.Mean ? meanScale : 1;
            for (int j = 0; j < n; j++)
            {
                if (j == a) continue;
                double g = scale * (Math.Exp(row[j] - lse) - (labels[j] == labels[a] ? 1.0 / positives : 0)) / tau;
                Embeddings.AddPair(gUnit, unit, a, j, g, d);
            }
        }
        double[] gx = Embeddings.BackThroughNormalize(gUnit, unit, norms, n, d);
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));
    }

    /// <summary>row[j] = s_aj/τ, the log-sum-exp over j ≠ a, and the number of positives of a.</summary>
    private int Row(double[] unit, long[] labels, int a, int n, int d, double[] row, out double lse)
    {
        double max = double.NegativeInfinity;
        int positives = 0;
        for (int j = 0; j < n; j++)
        {
            if (j == a) continue;
            row[j] = Embeddings.Dot(unit, a, j, d) / _temperature;
            max = Math.Max(max, row[j]);
            if (labels[j] == labels[a]) positives++;
        }
        double sum = 0;
        for (int j = 0; j < n; j++) if (j != a) sum += Math.Exp(row[j] - max);
        lse = n <= 1 ? double.NegativeInfinity : max + Math.Log(sum);
        return positives;
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
