using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Classification;

/// <summary>
/// Binary sparsemax loss (Optax <c>sparsemax_loss(logits, labels)</c>, Blondel, Martins &amp; Niculae, JMLR 2020,
/// §4.4): the Fenchel–Young loss of the sparse sigmoid. With z = −x for label 1 and z = x for label 0,
/// ℓ = sparse_plus(z) = 0 for z ≤ −1, ¼(z + 1)² for −1 &lt; z &lt; 1, z for z ≥ 1. It is 0 exactly when
/// sparse_sigmoid(x) = clip((x + 1)/2, 0, 1) equals the label: unlike the logistic loss it stops pushing once
/// x ≥ 1 (label 1) or x ≤ −1 (label 0).
/// </summary>
/// <remarks>
/// Derivation: sparse_plus′(z) = clip((z + 1)/2, 0, 1) = sparse_sigmoid(z) (continuous at ±1, so ℓ is C¹), and
/// dz/dx = ∓1, so ∂ℓ/∂x = sparse_sigmoid(x) − y: the same "prediction − label" form as the logistic loss. Labels are
/// not differentiated. Default reduction <c>none</c> (Optax returns one value per element). Labels other than 0/1 are
/// an error (Optax treats any non-zero label as 1). Finite for every finite input (the quadratic piece only runs on
/// |z| &lt; 1).
/// </remarks>
public sealed class SparsemaxLoss(Reduction reduction = Reduction.None) : ElementwiseLoss<SparsemaxLoss.Kernel>(reduction, null), ILossDefinition
{
    /// <summary>ℓ = sparse_plus(y ? −x : x); ∂ℓ/∂x = clip((x + 1)/2, 0, 1) − y.</summary>
    public readonly struct Kernel : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T z = y == T.One ? -x : x;
            if (z <= -T.One) return T.Zero;
            if (z >= T.One) return z;
            T u = z + T.One;
            return u * u / (T.One + T.One + T.One + T.One);
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T s = T.Clamp((x + T.One) / (T.One + T.One), T.Zero, T.One);
            return (s - y, T.Zero);
        }
    }

    protected override (string Input, string Target) InputNames => ("logits", "labels");

    protected override bool TargetDifferentiable => false;

    protected override void Validate<T>(T[] input, T[] target) => BinaryLabels.RequireZeroOne(Entry.Name, "labels", target);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "SparsemaxLoss",
        Aliases = ["sparsemax_loss", "optax.sparsemax_loss", "binary_sparsemax_loss"],
        Family = LossFamily.Classification,
        Task = LossTask.BinaryClassification,
        Inputs = [new("logits", InputKind.Floating, true, "scores, any shape"), new("labels", InputKind.Floating, false, "labels 0 or 1, same shape")],
        Options = [OptionSpec.Choice("reduction", "none", "none (Optax: one value per element), mean or sum", "none", "mean", "sum")],
        Sample = (r, s) => new LossInputs().Add("logits", Samples.Normal(r, Samples.Or(s, 3, 4), 1.5)).Add("labels", Samples.Bernoulli(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = sparse_plus(z),  z = −x if y = 1 else x;  sparse_plus(z) = 0, ¼(z + 1)², z on z ≤ −1, |z| < 1, z ≥ 1",
        Gradient = "∂ℓ/∂x = clip((x + 1)/2, 0, 1) − y",
        Reference = "optax.losses.sparsemax_loss (Blondel et al., 2020)",
        Stability = "finite for every finite input",
        Libraries = "Optax",
        Factory = o => new SparsemaxLoss(o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => default;
}
