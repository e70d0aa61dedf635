using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Classification;

/// <summary>
/// Binary perceptron loss (Optax <c>perceptron_loss(predictor_outputs, targets)</c>): ℓ = max(0, −s·t) for a score s
/// and a label t ∈ {−1, +1}: zero for every correctly signed score, however small its margin (the hinge loss without
/// the 1).
/// </summary>
/// <remarks>
/// Gradient ∂ℓ/∂s = −t where s·t &lt; 0, else 0 (0 at s = 0, as ReLU's). Labels are not differentiated. Default
/// reduction <c>none</c> (Optax returns one value per element). Labels other than ±1 are an error (Optax does not
/// check). Finite for every finite input.
/// </remarks>
public sealed class PerceptronLoss(Reduction reduction = Reduction.None) : ElementwiseLoss<PerceptronLoss.Kernel>(reduction, null), ILossDefinition
{
    /// <summary>ℓ = max(0, −s·t); ∂ℓ/∂s = −t·[s·t &lt; 0].</summary>
    public readonly struct Kernel : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T m = -(x * y);
            return T.Max(m, T.Zero);   // IEEE maximum: a NaN margin stays NaN, as jnp.maximum
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
            => (-(x * y) > T.Zero ? -y : T.Zero, T.Zero);
    }

    protected override (string Input, string Target) InputNames => ("predictor_outputs", "targets");

    protected override bool TargetDifferentiable => false;

    protected override void Validate<T>(T[] input, T[] target) => BinaryLabels.RequireSigns(Entry.Name, "targets", target);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "PerceptronLoss",
        Aliases = ["perceptron_loss", "optax.perceptron_loss"],
        Family = LossFamily.Classification,
        Task = LossTask.BinaryClassification,
        Inputs = [new("predictor_outputs", InputKind.Floating, true, "scores, any shape"), new("targets", InputKind.Floating, false, "labels −1 or +1, same shape")],
        Options = [OptionSpec.Choice("reduction", "none", "none (Optax: one value per element), mean or sum", "none", "mean", "sum")],
        Sample = (r, s) => new LossInputs().Add("predictor_outputs", Samples.Normal(r, Samples.Or(s, 3, 4), 2)).Add("targets", Samples.Signs(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = max(0, −s·t),  t ∈ {−1, 1}",
        Gradient = "∂ℓ/∂s = −t where s·t < 0, else 0",
        Reference = "optax.losses.perceptron_loss",
        Stability = "finite for every finite input",
        Libraries = "Optax",
        Factory = o => new PerceptronLoss(o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => default;
}
