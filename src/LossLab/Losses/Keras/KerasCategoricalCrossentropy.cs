using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>categorical_crossentropy</c> over <c>axis</c> (default −1) with one-hot or soft targets smoothed to
/// t' = t(1 − ls) + ls/C. Probabilities are renormalized and clipped: o = clip(p/Σp, ε, 1 − ε), ℓ = −Σ t'·log o.
/// Logits use the exact log-softmax: ℓ = Σ t'(lse(z) − z).
/// </summary>
/// <remarks>
/// Probabilities, with r = p/Σp and g_c = −t'_c/o_c inside the clip (0 outside): ∂ℓ/∂p_j = (g_j − Σ_c g_c r_c)/Σp.
/// Logits: ∂ℓ/∂z_j = softmax_j·Σt' − t'_j. Targets: ∂ℓ/∂t_c = −(1 − ls)·log o_c (logits: (1 − ls)(lse − z_c)).
/// </remarks>
public sealed class KerasCategoricalCrossentropy(bool fromLogits = false, double smoothing = 0, string reduction = "sum_over_batch_size",
    TensorData? sampleWeight = null, int[]? axes = null)
    : KerasGroupLoss(reduction, sampleWeight, axes ?? [-1]), ILossDefinition
{
    private readonly double smoothing = CheckedSmoothing("KerasCategoricalCrossentropy", smoothing);

    private T Smooth<T>(T y, int classes) where T : struct, IFloatingPointIeee754<T>
    {
        T ls = T.CreateTruncating(smoothing);
        return y * (T.One - ls) + ls / T.CreateTruncating(classes);
    }

    protected override T GroupValue<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> z)
    {
        int c = y.Length;
        T loss = T.Zero;
        if (fromLogits)
        {
            T logSum = Stable.ShiftedLogSumExp(z, out T max);
            for (int k = 0; k < c; k++) loss -= Smooth(y[k], c) * (z[k] - max - logSum);
            return loss;
        }
        T sum = SumOf(z);
        for (int k = 0; k < c; k++) loss -= Smooth(y[k], c) * T.Log(ClipProbability(z[k] / sum));
        return loss;
    }

    protected override void GroupGradient<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> z, T upstream, Span<T> gTrue, Span<T> gPred)
    {
        int c = y.Length;
        T keep = T.One - T.CreateTruncating(smoothing);
        if (fromLogits)
        {
            T logSum = Stable.ShiftedLogSumExp(z, out T max), tSum = T.Zero;
            for (int k = 0; k < c; k++) tSum += Smooth(y[k], c);
            for (int k = 0; k < c; k++)
            {
                T logP = z[k] - max - logSum, t = Smooth(y[k], c);
                // p·Σt − t = t(p − 1) + p(Σt − t), p − 1 by expm1: a confident one-hot row keeps its small slope.
                gPred[k] = upstream * (t * Stable.Expm1(logP) + T.Exp(logP) * (tSum - t));
                gTrue[k] = upstream * keep * -logP;
            }
            return;
        }
        T sum = SumOf(z), mix = T.Zero;
        // First pass: g_c (kept in gPred) and Σ g_c r_c.
        for (int k = 0; k < c; k++)
        {
            T r = z[k] / sum, o = ClipProbability(r);
            bool inside = InsideClip(r);
            gPred[k] = inside ? -Smooth(y[k], c) / o : T.Zero;
            mix += gPred[k] * r;
            gTrue[k] = -upstream * keep * T.Log(o);
        }
        for (int k = 0; k < c; k++) gPred[k] = upstream * (gPred[k] - mix) / sum;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasCategoricalCrossentropy",
        Aliases = ["keras.categorical_crossentropy", "keras.CategoricalCrossentropy"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs = TrueAndPred,
        Options =
        [
            ReductionOption, SampleWeightOption,
            OptionSpec.Bool("from_logits", false, "y_pred holds logits"),
            OptionSpec.Float("label_smoothing", 0.0, "t → t(1 − ls) + ls/C"),
            OptionSpec.Tensor("axis", "the class axis; default −1"),
        ],
        Sample = (r, s) => { Shape x = Samples.Or(s, 3, 4); return new LossInputs().Add("y_true", KerasCategoricalHinge.OneHot(r, x)).Add("y_pred", Samples.Simplex(r, x)); },
        Formula = "ℓ = −Σ_c t_c·log o_c,  o = clip(p/Σp, ε, 1 − ε); logits: Σ_c t_c(lse(z) − z_c)",
        Gradient = "∂ℓ/∂p_j = (g_j − Σ_c g_c·p_c/Σp)/Σp, g_c = −t_c/o_c; logits: softmax·Σt − t",
        Reference = "keras.losses.categorical_crossentropy",
        Stability = "clipped probabilities; max-shifted log-sum-exp for logits",
        Libraries = "Keras, PyTorch (cross_entropy with probability targets), Optax (softmax_cross_entropy)",
        Factory = o => new KerasCategoricalCrossentropy(o.Bool("from_logits"), o.Float("label_smoothing"), o.Choice("reduction"), o.Tensor("sample_weight"),
            AxisGroups.Parse(o.Tensor("axis"))),
    };

    public override LossDescriptor Descriptor => Entry;
}
