using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Instance loss (Zheng et al., ACM TOMM 2020, "Dual-Path Convolutional Image-Text Embeddings with Instance Loss";
/// pytorch-metric-learning <c>InstanceLoss(gamma=64)</c>): cross-entropy of each row's scaled cosines to every row of the
/// batch (itself included), ℓ_i = −log softmax_j(γ·û_i·û_j)_{t_i}, with t_i the rank of row i's label among the batch's
/// distinct labels.
/// </summary>
/// <remarks>
/// <para>The target column is pytorch-metric-learning's: <c>torch.unique(labels, return_inverse=True)</c>, so the logit
/// of class k is the similarity to row k of the batch. With every row its own instance (labels 0..N−1 in order, or no
/// labels there) the target is the row itself: the paper's instance discrimination. With shared labels the target is a
/// row that need not carry the label; that is pytorch-metric-learning's definition, reproduced, not endorsed.</para>
/// <para>û = x/(‖x‖ + 10⁻⁶) (its own l2_norm, not a clamp), and its backward pass
/// g/(‖x‖ + ε) − (x·g)·x/(‖x‖·(‖x‖ + ε)²). <c>mean</c> is AvgNonZero over the rows (its default reducer), <c>sum</c>
/// adds them, <c>none</c> gives ℓ (N). ∂ℓ_i/∂z_ij = p_ij − [j = t_i] on z = γ·ÛÛᵀ, streamed by
/// <see cref="SimilarityBlocks"/> (O(N·D) memory; pytorch-metric-learning builds N×N).</para>
/// </remarks>
public sealed class InstanceLoss : Loss, ILossDefinition
{
    private const double Epsilon = 1e-6;
    private readonly double _gamma;
    private readonly Reduction _reduction;

    public InstanceLoss(double gamma = 64, Reduction reduction = Reduction.Mean)
    {
        if (!double.IsFinite(gamma)) throw LossArgumentException.Value($"InstanceLoss: gamma must be finite, got {gamma}");
        (_gamma, _reduction) = (gamma, reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "InstanceLoss");
        long[] distinct = [.. labels.Distinct().Order()];
        int[] target = [.. labels.Select(l => Array.BinarySearch(distinct, l))];
        var norms = new double[n];
        var unit = new double[x.Length];
        for (int i = 0; i < n; i++)
        {
            norms[i] = Math.Sqrt(System.Numerics.Tensors.TensorPrimitives.Dot<double>(x.AsSpan(i * d, d), x.AsSpan(i * d, d)));
            System.Numerics.Tensors.TensorPrimitives.Divide(x.AsSpan(i * d, d), norms[i] + Epsilon, unit.AsSpan(i * d, d));
        }
        // Pass 1: the rows' cross-entropies (AvgNonZero needs their count before any gradient), keeping each row's max and
        // Σe^{z − max}; pass 2: the gradients from them.
        double[] perAnchor = new double[n], rowMax = new double[n], rowSum = new double[n];
        var values = new SimilarityBlocks(unit, n, d, gradients: false, scratchRows: 0);
        values.Run(_gamma, (i, z, unused, scratch) =>
        {
            double max = rowMax[i] = System.Numerics.Tensors.TensorPrimitives.Max(z);
            double sum = 0;
            foreach (double v in z) sum += Math.Exp(v - max);
            rowSum[i] = sum;
            // log Σ − (z_t − max), torch's association: a row whose target dominates rounds to exactly 0 as there, and
            // AvgNonZero then counts the same rows.
            perAnchor[i] = Math.Log(sum) - (z[target[i]] - max);
        });
        var (valueData, valueShape, scale) = Embeddings.AvgNonZero(perAnchor, _reduction);
        TensorData value = Wrap(valueData.Select(T.CreateTruncating).ToArray(), valueShape);
        if (!computeGradients) return Result(value);

        var blocks = new SimilarityBlocks(unit, n, d, gradients: true, scratchRows: 0);
        blocks.Run(_gamma, (i, z, g, scratch) =>
        {
            for (int j = 0; j < n; j++) g[j] = scale * _gamma * Math.Exp(z[j] - rowMax[i]) / rowSum[i];
            g[target[i]] -= scale * _gamma;
        });
        double[] gUnit = blocks.UnitGradient();
        // Back through û = x/(‖x‖ + ε).
        var gx = new double[x.Length];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> gi = gUnit.AsSpan(i * d, d), xi = x.AsSpan(i * d, d);
            double r = norms[i], dot = System.Numerics.Tensors.TensorPrimitives.Dot(xi, gi);
            double radial = r > 0 ? dot / (r * (r + Epsilon) * (r + Epsilon)) : 0;
            for (int k = 0; k < d; k++) gx[i * d + k] = gi[k] / (r + Epsilon) - radial * xi[k];
        }
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "InstanceLoss",
        Aliases = ["instance_loss", "pml.InstanceLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("gamma", 64.0, "γ: the scale of the cosines"),
        ],
        Sample = Embeddings.Sample,
        Formula = "ℓ_i = −log softmax_j(γ·û_i·û_j)_{t_i},  û = x/(‖x‖ + 1e-6), t_i = rank of label i among the batch's distinct labels",
        Gradient = "∂ℓ_i/∂z_ij = p_ij − [j = t_i], z = γ·ÛÛᵀ; through û = x/(‖x‖ + ε)",
        Reference = "pytorch_metric_learning.losses.InstanceLoss (Zheng, Zheng, Garrett, Yang, Xu & Shen, ACM TOMM 2020)",
        Stability = "max-shifted log-sum-exp: finite for every finite embedding; O(N·D) memory",
        Libraries = "pytorch-metric-learning",
        Factory = o => new InstanceLoss(o.Float("gamma"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
