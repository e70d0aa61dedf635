using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>categorical_focal_crossentropy</c> over the last axis: Σ_c α(1 − o_c)^γ·(−t'_c·log o_c) with
/// t' = t(1 − ls) + ls/C, p = softmax(ŷ) with from_logits, and o = clip(p/Σp, ε, 1 − ε) (Keras renormalizes).
/// </summary>
/// <remarks>
/// With g_c = ∂ℓ/∂o_c = α[γ(1 − o_c)^(γ−1)·t'_c·log o_c − (1 − o_c)^γ·t'_c/o_c] inside the clip and r = p/Σp:
/// ∂ℓ/∂p_j = (g_j − Σ_c g_c r_c)/Σp; with logits ∂ℓ/∂ŷ_j = p_j(g_j − Σ_c g_c p_c);
/// ∂ℓ/∂t_c = (1 − ls)·α(1 − o_c)^γ·(−log o_c).
/// </remarks>
public sealed class KerasCategoricalFocalCrossentropy(double alpha = 0.25, double gamma = 2, bool fromLogits = false, double smoothing = 0,
    string reduction = "sum_over_batch_size", TensorData? sampleWeight = null, int[]? axes = null)
    : KerasGroupLoss(reduction, sampleWeight, axes ?? [-1]), ILossDefinition
{
    private readonly double smoothing = CheckedSmoothing("KerasCategoricalFocalCrossentropy", smoothing);

    private (T[] P, T Sum, T[] O, T[] Smoothed) Parts<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> z) where T : struct, IFloatingPointIeee754<T>
    {
        int c = y.Length;
        T[] p = z.ToArray();
        if (fromLogits) Numerics.Stable.Softmax<T>(z, p);
        T sum = SumOf<T>(p);
        T ls = T.CreateTruncating(smoothing);
        var o = new T[c];
        var t = new T[c];
        for (int k = 0; k < c; k++)
        {
            o[k] = ClipProbability(p[k] / sum);
            t[k] = y[k] * (T.One - ls) + ls / T.CreateTruncating(c);
        }
        return (p, sum, o, t);
    }

    protected override T GroupValue<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> z)
    {
        var (_, _, o, t) = Parts(y, z);
        T a = T.CreateTruncating(alpha), g = T.CreateTruncating(gamma), loss = T.Zero;
        for (int k = 0; k < o.Length; k++) loss += a * T.Pow(T.One - o[k], g) * -t[k] * T.Log(o[k]);
        return loss;
    }

    protected override void GroupGradient<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> z, T upstream, Span<T> gTrue, Span<T> gPred)
    {
        var (p, sum, o, t) = Parts(y, z);
        T a = T.CreateTruncating(alpha), g = T.CreateTruncating(gamma), ls = T.CreateTruncating(smoothing);
        int c = o.Length;
        var dO = new T[c];
        for (int k = 0; k < c; k++)
        {
            T r = p[k] / sum;
            bool inside = InsideClip(r);
            T q = T.One - o[k];
            T powPrime = gamma == 0 ? T.Zero : g * T.Pow(q, g - T.One);
            dO[k] = inside ? a * (powPrime * t[k] * T.Log(o[k]) - T.Pow(q, g) * t[k] / o[k]) : T.Zero;
            gTrue[k] = upstream * (T.One - ls) * a * T.Pow(q, g) * -T.Log(o[k]);
        }
        T mix = T.Zero;
        for (int k = 0; k < c; k++) mix += dO[k] * (fromLogits ? p[k] : p[k] / sum);
        for (int j = 0; j < c; j++)
        {
            gPred[j] = upstream * (fromLogits ? p[j] * (dO[j] - mix) : (dO[j] - mix) / sum);
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasCategoricalFocalCrossentropy",
        Aliases = ["keras.categorical_focal_crossentropy", "keras.CategoricalFocalCrossentropy"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs = TrueAndPred,
        Options =
        [
            ReductionOption, SampleWeightOption,
            OptionSpec.Float("alpha", 0.25, "weight of every class"),
            OptionSpec.Float("gamma", 2.0, "focusing exponent"),
            OptionSpec.Bool("from_logits", false, "y_pred holds logits"),
            OptionSpec.Float("label_smoothing", 0.0, "t → t(1 − ls) + ls/C"),
            OptionSpec.Tensor("axis", "the class axis; default −1"),
        ],
        Sample = (r, s) => { Shape x = Samples.Or(s, 3, 4); return new LossInputs().Add("y_true", KerasCategoricalHinge.OneHot(r, x)).Add("y_pred", Samples.Simplex(r, x)); },
        Formula = "ℓ = Σ_c α(1 − o_c)^γ·(−t_c·log o_c),  o = clip(p/Σp, ε, 1 − ε)",
        Gradient = "∂ℓ/∂p_j = (g_j − Σ_c g_c·p_c/Σp)/Σp",
        Reference = "keras.losses.categorical_focal_crossentropy (Lin et al., 2017)",
        Stability = "finite for probabilities and every finite logit (clipped, max-shifted softmax)",
        Libraries = "Keras",
        Factory = o => new KerasCategoricalFocalCrossentropy(o.Float("alpha"), o.Float("gamma"), o.Bool("from_logits"), o.Float("label_smoothing"),
            o.Choice("reduction"), o.Tensor("sample_weight"), AxisGroups.Parse(o.Tensor("axis"))),
    };

    public override LossDescriptor Descriptor => Entry;
}
