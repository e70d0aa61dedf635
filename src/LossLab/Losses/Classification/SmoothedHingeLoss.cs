using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Classification;

/// <summary>
/// ML.NET's smoothed hinge loss (<c>SmoothedHingeLoss(smoothingConstant = 1)</c>, Shalev-Shwartz &amp; Zhang 2013): the
/// hinge with its kink replaced by a parabola of width s, so that the loss is (1/s)-smooth and SDCA converges faster.
/// With u = 1 − t·x for a score x and t = +1 for a positive label, −1 otherwise: ℓ = 0 for u &lt; 0, u²/(2s) for
/// 0 ≤ u &lt; s, u − s/2 beyond.
/// </summary>
/// <remarks>
/// <para><b>Derivation:</b> dℓ/du = 0, u/s, 1 on the three pieces (continuous: the parabola meets the line at u = s with
/// value s/2 and slope 1), and du/dx = −t, so ∂ℓ/∂x = 0, −t·u/s, −t. s = 0 is the hinge max(0, 1 − t·x), as in ML.NET.
/// Labels are not differentiated.</para>
/// <para>ML.NET reads a label above 0 as positive; LossLab takes labels 0/1 or −1/+1 and names any other value (ML.NET
/// would silently call 0.5 positive and NaN negative). ML.NET's losses return one value per example: the default
/// reduction is <c>none</c>. Finite for every finite input.</para>
/// </remarks>
public sealed class SmoothedHingeLoss : MLNetBinaryLoss<SmoothedHingeLoss.Kernel>, ILossDefinition
{
    public double Smoothing { get; }

    public SmoothedHingeLoss(double smoothing = 1, Reduction reduction = Reduction.None) : base(reduction)
    {
        Smoothing = smoothing >= 0 && double.IsFinite(smoothing) ? smoothing
            : throw Numerics.LossArgumentException.Value($"SmoothedHingeLoss: smoothing must be a finite number ≥ 0, got {smoothing}");
    }

    /// <summary>u = 1 − t·x, t = ±1 from the label: ℓ = 0 | u²/(2s) | u − s/2; ∂ℓ/∂x = 0 | −t·u/s | −t.</summary>
    public readonly struct Kernel(double smoothing) : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T s = T.CreateTruncating(smoothing), u = T.One - BinaryLabels.Truth(y) * x;
            if (u < T.Zero) return T.Zero;
            return u < s ? u * u / (s + s) : u - s / (T.One + T.One);
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T s = T.CreateTruncating(smoothing), t = BinaryLabels.Truth(y), u = T.One - t * x;
            if (u < T.Zero) return (T.Zero, T.Zero);
            return (u < s ? -t * u / s : -t, T.Zero);
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "SmoothedHingeLoss",
        Aliases = ["smoothed_hinge_loss", "smoothed_hinge", "mlnet.SmoothedHingeLoss"],
        Family = LossFamily.Classification,
        Task = LossTask.BinaryClassification,
        Inputs = OutputAndLabel,
        Options =
        [
            OptionSpec.Float("smoothing", 1, "s ≥ 0, the width of the parabola (0: the hinge)"),
            PerExampleReduction,
        ],
        Sample = Sample,
        Formula = "u = 1 − t·x (t = ±1): ℓ = 0 (u < 0), u²/(2s) (0 ≤ u < s), u − s/2 (u ≥ s)",
        Gradient = "∂ℓ/∂x = 0, −t·u/s, −t on the three pieces",
        Reference = "Microsoft.ML.Trainers.SmoothedHingeLoss; Shalev-Shwartz & Zhang, Stochastic Dual Coordinate Ascent Methods, JMLR 2013",
        Stability = "finite for every finite input",
        Libraries = "ML.NET (SmoothedHingeLoss)",
        Factory = o => new SmoothedHingeLoss(o.Float("smoothing"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => new(Smoothing);
}
