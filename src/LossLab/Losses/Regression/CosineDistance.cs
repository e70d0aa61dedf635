using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Regression;

/// <summary>
/// Cosine distance over the last axis (Optax <c>cosine_distance(predictions, targets, epsilon=0)</c>): ℓ = 1 − c with
/// c the clipped cosine of <see cref="CosineSimilarity"/>. In [0, 2]: 0 for parallel vectors, 2 for opposite ones.
/// Scale-free, so it steers directions (embeddings, normalized regression targets), never lengths.
/// </summary>
/// <remarks>
/// ∂ℓ/∂a = −∂c/∂a = c·a/n_a² − b/(n_a n_b) (the first term only where ‖a‖² ≥ ε). Shapes (…, D); default reduction
/// <c>none</c>. A zero row at ε = 0 is an error naming the row (Optax returns NaN).
/// </remarks>
public sealed class CosineDistance(double epsilon = 0, Reduction reduction = Reduction.None, TensorData? where = null, int[]? axes = null) : CosineRows(epsilon, reduction, where, axes, sign: -1, offset: 1), ILossDefinition
{
    protected override CosineRows OverLastAxis(TensorData? where) => new CosineDistance(Epsilon, Reduction, where);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "CosineDistance",
        Aliases = ["cosine_distance", "optax.cosine_distance"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = Vectors,
        Options = Options("distances"),
        Sample = Sample,
        Formula = "ℓ = 1 − Σ a·b / (√max(‖a‖², ε)·√max(‖b‖², ε)) over the last axis",
        Gradient = "∂ℓ/∂a = c·a/n_a² − b/(n_a·n_b) (the first term only where ‖a‖² ≥ ε)",
        Reference = "optax.losses.cosine_distance",
        Stability = "finite for every finite input with a non-zero row or ε > 0 (a zero row at ε = 0 is an error)",
        Libraries = "Optax",
        Factory = o => new CosineDistance(o.Float("epsilon"), o.Reduction, o.Tensor("where"), AxisGroups.Parse(o.Tensor("axis"))),
    };

    public override LossDescriptor Descriptor => Entry;
}
