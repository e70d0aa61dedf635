using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Classification;

/// <summary>
/// ML.NET's exponential loss (<c>ExpLoss(beta = 1)</c>), AdaBoost's loss: ℓ = e^{−β·t·x} for a score x and t = +1 for a
/// positive label, −1 otherwise. It punishes a confident mistake exponentially, more than the hinge or log loss, which
/// makes it fast on clean data and fragile on noisy labels.
/// </summary>
/// <remarks>
/// <para><b>Derivation:</b> ∂ℓ/∂x = −β·t·e^{−β·t·x}, the value times −β·t. Labels are not differentiated.</para>
/// <para>ML.NET reads a label above 0 as positive; LossLab takes labels 0/1 or −1/+1 and names any other value. One value
/// per example (ML.NET): the default reduction is <c>none</c>. The value is exact; it is +∞ only where e^{−β·t·x} itself
/// is beyond the floating range (−β·t·x above 88.7 in float32, 709.8 in float64), where the true loss is not representable.</para>
/// </remarks>
public sealed class ExpLoss : MLNetBinaryLoss<ExpLoss.Kernel>, ILossDefinition
{
    public double Beta { get; }

    public ExpLoss(double beta = 1, Reduction reduction = Reduction.None) : base(reduction)
    {
        Beta = double.IsFinite(beta) ? beta : throw Numerics.LossArgumentException.Value($"ExpLoss: beta must be finite, got {beta}");
    }

    /// <summary>ℓ = e^{−β·t·x}; ∂ℓ/∂x = −β·t·ℓ.</summary>
    public readonly struct Kernel(double beta) : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
            => T.Exp(-T.CreateTruncating(beta) * BinaryLabels.Truth(y) * x);

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T f = -T.CreateTruncating(beta) * BinaryLabels.Truth(y);
            return (f * T.Exp(f * x), T.Zero);
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "ExpLoss",
        Aliases = ["exp_loss", "exponential_loss", "mlnet.ExpLoss"],
        Family = LossFamily.Classification,
        Task = LossTask.BinaryClassification,
        Inputs = OutputAndLabel,
        Options =
        [
            OptionSpec.Float("beta", 1, "β, the dilation of the score"),
            PerExampleReduction,
        ],
        Sample = Sample,
        Formula = "ℓ = e^{−β·t·x},  t = +1 (positive label) or −1",
        Gradient = "∂ℓ/∂x = −β·t·e^{−β·t·x}",
        Reference = "Microsoft.ML.Trainers.ExpLoss; Freund & Schapire (AdaBoost), 1997",
        Stability = "exact; +∞ only where e^{−β·t·x} is beyond the floating range (the true value is not representable)",
        Libraries = "ML.NET (ExpLoss)",
        Factory = o => new ExpLoss(o.Float("beta"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => new(Beta);
}
