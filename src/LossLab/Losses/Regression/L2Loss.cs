using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Regression;

/// <summary>
/// Half squared error (Optax <c>l2_loss(predictions, targets)</c>): ℓ = ½(x − y)², whose gradient is the plain
/// residual x − y (the ½ of Bishop's convention; Optax's <c>squared_error</c>, LossLab's <see cref="MseLoss"/>, has none).
/// </summary>
/// <remarks>
/// ∂ℓ/∂x = x − y = −∂ℓ/∂y. Default reduction <c>none</c> (Optax returns one value per element). Optax lets the targets
/// default to zeros (ℓ = ½x², a weight penalty); here they are given explicitly. Finite while (x − y)² is: |x − y| ≤ 1.8e19 in float32.
/// </remarks>
public sealed class L2Loss(Reduction reduction = Reduction.None) : ElementwiseLoss<L2Loss.Kernel>(reduction, null), ILossDefinition
{
    /// <summary>ℓ = ½(x − y)²; ∂ℓ/∂x = x − y.</summary>
    public readonly struct Kernel : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T d = x - y;
            return d * d / (T.One + T.One);
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T d = x - y;
            return (d, -d);
        }
    }

    protected override (string Input, string Target) InputNames => ("predictions", "targets");

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "L2Loss",
        Aliases = ["l2_loss", "optax.l2_loss"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = [new("predictions", InputKind.Floating, true, "predictions, any shape"), new("targets", InputKind.Floating, true, "targets, same shape")],
        Options = [OptionSpec.Choice("reduction", "none", "none (Optax: one value per element), mean or sum", "none", "mean", "sum")],
        Sample = (r, s) => new LossInputs().Add("predictions", Samples.Normal(r, Samples.Or(s, 3, 4))).Add("targets", Samples.Normal(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = ½(x − y)²",
        Gradient = "∂ℓ/∂x = x − y = −∂ℓ/∂y",
        Reference = "optax.losses.l2_loss",
        Stability = "finite while (x − y)² is finite: |x − y| ≤ 1.8e19 (float32)",
        Libraries = "Optax",
        Factory = o => new L2Loss(o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => default;
}
