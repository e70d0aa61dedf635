using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>kl_divergence</c> over the last axis: Σ t·log(t/p) with both clipped to [ε, 1], so a zero target or
/// prediction stays finite. ∂/∂p = −t/p where p is inside [ε, 1] (0 outside); ∂/∂t = log(t/p) + 1 where t is inside.
/// </summary>
public sealed class KerasKLDivergence(string reduction = "sum_over_batch_size", TensorData? sampleWeight = null)
    : KerasGroupLoss(reduction, sampleWeight, [-1]), ILossDefinition
{
    private static T Clip<T>(T x) where T : struct, IFloatingPointIeee754<T> => T.Clamp(x, Epsilon<T>(), T.One);

    // The clamp passes the gradient on its closed interval (PyTorch's convention), so a one-hot 1 keeps its gradient.
    private static bool Inside<T>(T x) where T : struct, IFloatingPointIeee754<T> => x >= Epsilon<T>() && x <= T.One;

    protected override T GroupValue<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> p)
    {
        T loss = T.Zero;
        for (int k = 0; k < y.Length; k++)
        {
            T t = Clip(y[k]);
            loss += t * T.Log(t / Clip(p[k]));
        }
        return loss;
    }

    protected override void GroupGradient<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> p, T upstream, Span<T> gTrue, Span<T> gPred)
    {
        for (int k = 0; k < y.Length; k++)
        {
            T t = Clip(y[k]), q = Clip(p[k]);
            gPred[k] = Inside(p[k]) ? -upstream * t / q : T.Zero;
            gTrue[k] = Inside(y[k]) ? upstream * (T.Log(t / q) + T.One) : T.Zero;
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasKLDivergence",
        Aliases = ["keras.kl_divergence", "keras.KLDivergence", "keras.kld"],
        Family = LossFamily.Probabilistic,
        Task = LossTask.Distribution,
        Inputs = TrueAndPred,
        Options = [ReductionOption, SampleWeightOption],
        Sample = (r, s) => { Shape x = Samples.Or(s, 3, 4); return new LossInputs().Add("y_true", Samples.Simplex(r, x)).Add("y_pred", Samples.Simplex(r, x)); },
        Formula = "ℓ = Σ_last t·log(t/p),  t, p clipped to [ε, 1]",
        Gradient = "∂ℓ/∂p = −t/p",
        Reference = "keras.losses.kl_divergence",
        Stability = "finite for every input in [0, 1] (clipped)",
        Libraries = "Keras, PyTorch (kl_div on probabilities), Optax (kl_divergence)",
        Factory = o => new KerasKLDivergence(o.Choice("reduction"), o.Tensor("sample_weight")),
    };

    public override LossDescriptor Descriptor => Entry;
}
