using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>cosine_similarity</c> (a loss: −cos) over <c>axis</c> (default −1): ℓ = −Σ ŷ'·y' with x' = x·rsqrt(max(Σx², ε²)),
/// so a zero vector gives 0. Where the norm is not clamped ∂ℓ/∂ŷ_j = −(y'_j − S·ŷ'_j)/‖ŷ‖ (S = Σ y'ŷ'); clamped,
/// ∂ℓ/∂ŷ_j = −y'_j/ε. Symmetric in y.
/// </summary>
public sealed class KerasCosineSimilarity(string reduction = "sum_over_batch_size", TensorData? sampleWeight = null, int[]? axes = null)
    : KerasGroupLoss(reduction, sampleWeight, axes ?? [-1]), ILossDefinition
{
    protected override T GroupValue<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> p)
    {
        T ry = Scale(y), rp = Scale(p), s = T.Zero;
        for (int j = 0; j < y.Length; j++) s += y[j] * ry * p[j] * rp;
        return -s;
    }

    protected override void GroupGradient<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> p, T upstream, Span<T> gTrue, Span<T> gPred)
    {
        T ry = Scale(y), rp = Scale(p), s = T.Zero;
        for (int j = 0; j < y.Length; j++) s += y[j] * ry * p[j] * rp;
        bool clampY = Clamped(y), clampP = Clamped(p);
        for (int j = 0; j < y.Length; j++)
        {
            T yn = y[j] * ry, pn = p[j] * rp;
            gPred[j] = -upstream * (clampP ? yn * rp : (yn - s * pn) * rp);
            gTrue[j] = -upstream * (clampY ? pn * ry : (pn - s * yn) * ry);
        }
    }

    private static T Epsilon2<T>() where T : struct, IFloatingPointIeee754<T> => Epsilon<T>() * Epsilon<T>();

    private static T SquaredNorm<T>(ReadOnlySpan<T> x) where T : struct, IFloatingPointIeee754<T>
    {
        T s = T.Zero;
        foreach (T v in x) s += v * v;
        return s;
    }

    private static bool Clamped<T>(ReadOnlySpan<T> x) where T : struct, IFloatingPointIeee754<T> => SquaredNorm(x) < Epsilon2<T>();

    /// <summary>rsqrt(max(Σx², ε²)).</summary>
    private static T Scale<T>(ReadOnlySpan<T> x) where T : struct, IFloatingPointIeee754<T> => T.One / T.Sqrt(T.Max(SquaredNorm(x), Epsilon2<T>()));

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasCosineSimilarity",
        Aliases = ["keras.cosine_similarity", "keras.CosineSimilarity"],
        Family = LossFamily.Embedding,
        Task = LossTask.Regression,
        Inputs = TrueAndPred,
        Options = [ReductionOption, SampleWeightOption, OptionSpec.Tensor("axis", "axis (or axes) of the vectors; default −1")],
        Sample = (r, s) => new LossInputs().Add("y_true", Samples.Normal(r, Samples.Or(s, 3, 4))).Add("y_pred", Samples.Normal(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = −Σ y'·ŷ',  x' = x / sqrt(max(Σx², ε²))",
        Gradient = "∂ℓ/∂ŷ = −(y' − (y'·ŷ')ŷ')/‖ŷ‖",
        Reference = "keras.losses.cosine_similarity",
        Stability = "finite for every finite input; a zero vector gives 0",
        LowerBound = -1,   // −cos ≥ −1 per unweighted sample
        Libraries = "Keras, Optax (cosine_similarity)",
        Factory = o => new KerasCosineSimilarity(o.Choice("reduction"), o.Tensor("sample_weight"), AxisGroups.Parse(o.Tensor("axis"))),
    };

    public override LossDescriptor Descriptor => Entry;
}
