using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>dice</c> and <c>tversky</c> over <c>axis</c> (default: every axis, one scalar). Dice: 1 − 2I/(Σy + Σŷ + ε),
/// I = Σ y·ŷ. Tversky: 1 − TP/(TP + α·FP + β·FN + ε) with TP = Σ y·ŷ, FN = Σ y(1 − ŷ), FP = Σ (1 − y)ŷ
/// (dice is tversky with α = β = ½ up to ε). Gradients: with D the denominator, ∂ℓ/∂ŷ_j = −(∂N/∂ŷ_j·D − N·∂D/∂ŷ_j)/D².
/// </summary>
public sealed class KerasDice(bool tversky, double alpha, double beta, string reduction = "sum_over_batch_size", TensorData? sampleWeight = null, int[]? axes = null)
    : KerasGroupLoss(reduction, sampleWeight, axes), ILossDefinition
{
    private (T Num, T Den) Parts<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> p) where T : struct, IFloatingPointIeee754<T>
    {
        T tp = T.Zero, sy = T.Zero, sp = T.Zero;
        for (int j = 0; j < y.Length; j++)
        {
            tp += y[j] * p[j];
            sy += y[j];
            sp += p[j];
        }
        if (!tversky) return (tp + tp, sy + sp + Epsilon<T>());
        T fn = sy - tp, fp = sp - tp;
        return (tp, tp + T.CreateTruncating(alpha) * fp + T.CreateTruncating(beta) * fn + Epsilon<T>());
    }

    protected override T GroupValue<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> p)
    {
        var (num, den) = Parts(y, p);
        return T.One - num / den;
    }

    protected override void GroupGradient<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> p, T upstream, Span<T> gTrue, Span<T> gPred)
    {
        var (num, den) = Parts(y, p);
        // (dN·D − N·dD)/D² as (dN − (N/D)·dD)/D: D² overflows float32 once D passes 1.8e19.
        T a = T.CreateTruncating(alpha), b = T.CreateTruncating(beta), two = T.One + T.One, ratio = num / den;
        for (int j = 0; j < y.Length; j++)
        {
            // Dice: N = 2Σyŷ, D = Σy + Σŷ. Tversky: N = TP, D = TP + α·FP + β·FN with FP = Σŷ − TP, FN = Σy − TP.
            T dNp = tversky ? y[j] : two * y[j], dDp = tversky ? y[j] * (T.One - a - b) + a : T.One;
            T dNy = tversky ? p[j] : two * p[j], dDy = tversky ? p[j] * (T.One - a - b) + b : T.One;
            gPred[j] = -upstream * (dNp - ratio * dDp) / den;
            gTrue[j] = -upstream * (dNy - ratio * dDy) / den;
        }
    }

    public static LossDescriptor Entry { get; } = Describe(false);

    internal static LossDescriptor Describe(bool tversky) => new()
    {
        Name = tversky ? "KerasTversky" : "KerasDice",
        Aliases = tversky ? ["keras.tversky", "keras.Tversky"] : ["keras.dice", "keras.Dice"],
        Family = LossFamily.Segmentation,
        Task = LossTask.Segmentation,
        Inputs = TrueAndPred,
        Options = tversky
            ? [ReductionOption, SampleWeightOption, OptionSpec.Float("alpha", 0.5, "weight of false positives"), OptionSpec.Float("beta", 0.5, "weight of false negatives"), OptionSpec.Tensor("axis", "reduced axes; default all")]
            : [ReductionOption, SampleWeightOption, OptionSpec.Tensor("axis", "reduced axes; default all (one scalar)")],
        Sample = (r, s) => new LossInputs().Add("y_true", Samples.Bernoulli(r, Samples.Or(s, 3, 4))).Add("y_pred", Samples.Uniform(r, Samples.Or(s, 3, 4), 0.05, 0.95)),
        Formula = tversky ? "ℓ = 1 − TP/(TP + α·FP + β·FN + ε)" : "ℓ = 1 − 2Σyŷ/(Σy + Σŷ + ε)",
        Gradient = "∂ℓ/∂ŷ_j = −(∂N/∂ŷ_j·D − N·∂D/∂ŷ_j)/D²",
        Reference = tversky ? "keras.losses.tversky (Salehi et al., 2017)" : "keras.losses.dice (Milletari et al., V-Net, 2016)",
        Stability = "finite for every finite input (ε = 1e-7 in the denominator)",
        Libraries = "Keras, Optax (dice_loss), segmentation_models_pytorch",
        Factory = o => new KerasDice(tversky, tversky ? o.Float("alpha") : 0.5, tversky ? o.Float("beta") : 0.5, o.Choice("reduction"), o.Tensor("sample_weight"), AxisGroups.Parse(o.Tensor("axis"))),
    };

    public override LossDescriptor Descriptor => tversky ? KerasTversky.Entry : Entry;
}

/// <summary>Keras <c>tversky</c> (see <see cref="KerasDice"/>).</summary>
public sealed class KerasTversky : ILossDefinition
{
    public static LossDescriptor Entry { get; } = KerasDice.Describe(true);
}
