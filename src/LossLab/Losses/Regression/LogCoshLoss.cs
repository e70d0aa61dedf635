using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Regression;

/// <summary>
/// Elementwise log-cosh error (Optax <c>log_cosh(predictions, targets)</c>): ℓ = log cosh(x − y), ≈ d²/2 for small
/// errors and |d| − log 2 for large ones: a twice-differentiable Huber. ∂ℓ/∂x = tanh(x − y) = −∂ℓ/∂y. Keras's
/// <c>log_cosh</c> (<see cref="Keras.KerasLogCosh"/>) averages it over the last axis.
/// </summary>
/// <remarks>
/// Computed as log1p(2·sinh²(d/2)) for |d| &lt; 1, exact where d²/2 is far below log 2 (Optax's logaddexp(d, −d) − log 2
/// keeps only absolute accuracy there: at d = 1e-8 it returns 0 or 1e-16 for 5e-17), and |d| + log1p(e^(−2|d|)) − log 2
/// beyond, finite for every finite d. Default reduction <c>none</c> (Optax returns one value per element).
/// </remarks>
public sealed class LogCoshLoss(Reduction reduction = Reduction.None) : ElementwiseLoss<LogCoshLoss.Kernel>(reduction, null), ILossDefinition
{
    /// <summary>ℓ = log cosh(x − y); ∂ℓ/∂x = tanh(x − y).</summary>
    public readonly struct Kernel : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T d = T.Abs(x - y), two = T.One + T.One;
            if (d < T.One)
            {
                T s = T.Sinh(d / two);
                return Stable.Log1p(two * s * s);
            }
            return d + Stable.Log1p(T.Exp(-two * d)) - T.CreateTruncating(Math.Log(2));
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T t = T.Tanh(x - y);
            return (t, -t);
        }
    }

    protected override (string Input, string Target) InputNames => ("predictions", "targets");

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "LogCoshLoss",
        Aliases = ["optax.log_cosh", "log_cosh_loss"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = [new("predictions", InputKind.Floating, true, "predictions, any shape"), new("targets", InputKind.Floating, true, "targets, same shape")],
        Options = [OptionSpec.Choice("reduction", "none", "none (Optax: one value per element), mean or sum", "none", "mean", "sum")],
        Sample = (r, s) => new LossInputs().Add("predictions", Samples.Normal(r, Samples.Or(s, 3, 4), 2)).Add("targets", Samples.Normal(r, Samples.Or(s, 3, 4), 2)),
        Formula = "ℓ = log cosh(x − y)",
        Gradient = "∂ℓ/∂x = tanh(x − y) = −∂ℓ/∂y",
        Reference = "optax.losses.log_cosh (Chen et al., 2019)",
        Stability = "finite for every finite input; relative accuracy for small errors (log1p(2 sinh²(d/2)))",
        Libraries = "Optax (Keras log_cosh averages it over the last axis)",
        Factory = o => new LogCoshLoss(o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => default;
}
