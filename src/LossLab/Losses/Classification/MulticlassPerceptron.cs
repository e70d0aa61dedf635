using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Classification;

/// <summary>
/// Multiclass perceptron loss (Optax <c>multiclass_perceptron_loss(scores, labels)</c>): ℓ = max_j x_j − x_y, zero
/// exactly when the label has the top score. Subgradient +1 at the first arg max, −1 at y. Default reduction
/// <c>none</c> (Optax returns one value per row). Finite for every finite input.
/// </summary>
public sealed class MulticlassPerceptron(Reduction reduction = Reduction.None) : IndexedRowLoss(reduction), ILossDefinition
{
    protected override (string Scores, string Labels) Names => ("scores", "labels");

    protected override T RowValue<T>(ReadOnlySpan<T> x, int y) => x[ArgMax(x)] - x[y];

    protected override void RowGradient<T>(ReadOnlySpan<T> x, int y, T scale, Span<T> g)
    {
        g[ArgMax(x)] += scale;
        g[y] -= scale;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "MulticlassPerceptron",
        Aliases = ["multiclass_perceptron_loss", "optax.multiclass_perceptron_loss", "perceptron"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs = OptaxScoresAndLabels,
        Options = [OptionSpec.Choice("reduction", "none", "none (Optax: one value per row), mean or sum", "none", "mean", "sum")],
        Sample = OptaxSample,
        Formula = "ℓ = max_j x_j − x_y",
        Gradient = "+1 at the arg max, −1 at y",
        Reference = "optax.losses.multiclass_perceptron_loss",
        Stability = "finite for every finite input",
        Libraries = "Optax",
        Factory = o => new MulticlassPerceptron(o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
