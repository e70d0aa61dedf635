using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Classification;

/// <summary>
/// Crammer–Singer multiclass hinge (Optax <c>multiclass_hinge_loss(scores, labels)</c>):
/// ℓ = max_j(x_j + 1 − δ_jy) − x_y, i.e. max(0, 1 + max_{j≠y} x_j − x_y). One margin per row, unlike PyTorch's
/// multi_margin_loss, which sums a hinge per wrong class (Weston–Watkins).
/// </summary>
/// <remarks>
/// Subgradient: +1 at the first j attaining the max of x_j + 1 − δ_jy, −1 at y (they cancel when that j is y, where
/// ℓ = 0). Optax returns one value per row: the default reduction is <c>none</c>. Finite for every finite input.
/// </remarks>
public sealed class CrammerSingerHinge(Reduction reduction = Reduction.None) : IndexedRowLoss(reduction), ILossDefinition
{
    private static int Worst<T>(ReadOnlySpan<T> x, int y) where T : struct, IFloatingPointIeee754<T>
    {
        int best = 0;
        T bestValue = T.NegativeInfinity;
        for (int j = 0; j < x.Length; j++)
        {
            T v = x[j] + (j == y ? T.Zero : T.One);
            if (T.IsNaN(v)) return j;   // NaN is the maximum, as jnp.max and jnp.argmax take it: the row's loss is NaN
            if (v > bestValue) (best, bestValue) = (j, v);
        }
        return best;
    }

    protected override (string Scores, string Labels) Names => ("scores", "labels");

    protected override T RowValue<T>(ReadOnlySpan<T> x, int y)
    {
        int j = Worst(x, y);
        return x[j] + (j == y ? T.Zero : T.One) - x[y];
    }

    protected override void RowGradient<T>(ReadOnlySpan<T> x, int y, T scale, Span<T> g)
    {
        g[Worst(x, y)] += scale;
        g[y] -= scale;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "CrammerSingerHinge",
        Aliases = ["multiclass_hinge_loss", "optax.multiclass_hinge_loss", "crammer_singer_hinge"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs = OptaxScoresAndLabels,
        Options = [OptionSpec.Choice("reduction", "none", "none (Optax: one value per row), mean or sum", "none", "mean", "sum")],
        Sample = OptaxSample,
        Formula = "ℓ = max_j(x_j + 1 − δ_jy) − x_y",
        Gradient = "+1 at the arg max, −1 at y",
        Reference = "optax.losses.multiclass_hinge_loss (Crammer & Singer, 2001)",
        Stability = "finite for every finite input",
        Libraries = "Optax",
        Factory = o => new CrammerSingerHinge(o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
