using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Classification;

/// <summary>
/// Binary hinge loss (Optax <c>hinge_loss(predictor_outputs, targets)</c>): ℓ = max(0, 1 − s·t) for a score s and a
/// label t ∈ {−1, +1}, zero once the score is on the right side with margin 1 (the SVM loss).
/// </summary>
/// <remarks>
/// Gradient ∂ℓ/∂s = −t where 1 − s·t &gt; 0, else 0 (0 at the kink, as ReLU's). Labels are not differentiated. Optax
/// returns one value per element: the default reduction is <c>none</c>. Labels other than ±1 are an error (Optax does
/// not check; a 0 label would give ℓ = 1 with a zero gradient). Keras's <c>Hinge</c> differs: it converts 0/1 labels
/// and averages over the last axis. Finite for every finite input.
/// </remarks>
public sealed class HingeLoss(Reduction reduction = Reduction.None) : ElementwiseLoss<HingeLoss.Kernel>(reduction, null), ILossDefinition
{
    /// <summary>ℓ = max(0, 1 − s·t); ∂ℓ/∂s = −t·[1 − s·t &gt; 0].</summary>
    public readonly struct Kernel : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T m = T.One - x * y;
            return T.Max(m, T.Zero);   // IEEE maximum: a NaN margin stays NaN, as jnp.maximum
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
            => (T.One - x * y > T.Zero ? -y : T.Zero, T.Zero);
    }

    protected override (string Input, string Target) InputNames => ("predictor_outputs", "targets");

    protected override bool TargetDifferentiable => false;

    protected override void Validate<T>(T[] input, T[] target) => BinaryLabels.RequireSigns(Entry.Name, "targets", target);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "HingeLoss",
        Aliases = ["hinge_loss", "optax.hinge_loss"],
        Family = LossFamily.Classification,
        Task = LossTask.BinaryClassification,
        Inputs = [new("predictor_outputs", InputKind.Floating, true, "scores, any shape"), new("targets", InputKind.Floating, false, "labels −1 or +1, same shape")],
        Options = [OptionSpec.Choice("reduction", "none", "none (Optax: one value per element), mean or sum", "none", "mean", "sum")],
        Sample = (r, s) => new LossInputs().Add("predictor_outputs", Samples.Normal(r, Samples.Or(s, 3, 4), 2)).Add("targets", Samples.Signs(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = max(0, 1 − s·t),  t ∈ {−1, 1}",
        Gradient = "∂ℓ/∂s = −t where 1 − s·t > 0, else 0",
        Reference = "optax.losses.hinge_loss",
        Stability = "finite for every finite input",
        Libraries = "Optax, ML.NET (HingeLoss), Keras (Hinge, with 0/1 conversion and a mean over the last axis)",
        Factory = o => new HingeLoss(o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => default;
}
