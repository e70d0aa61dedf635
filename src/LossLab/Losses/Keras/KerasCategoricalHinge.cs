using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>categorical_hinge</c> over the last axis: max(neg − pos + 1, 0) with pos = Σ y·ŷ and neg = max((1 − y)·ŷ)
/// (the true class contributes its 0 to that max). Where active: ∂/∂ŷ_j = −y_j + [j = argmax](1 − y_j),
/// ∂/∂y_j = −ŷ_j − [j = argmax]·ŷ_j.
/// </summary>
public sealed class KerasCategoricalHinge(string reduction = "sum_over_batch_size", TensorData? sampleWeight = null)
    : KerasGroupLoss(reduction, sampleWeight, [-1]), ILossDefinition
{
    protected override T GroupValue<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> p)
    {
        var (pos, neg, _) = Parts(y, p);
        return T.Max(neg - pos + T.One, T.Zero);
    }

    protected override void GroupGradient<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> p, T upstream, Span<T> gTrue, Span<T> gPred)
    {
        var (pos, neg, arg) = Parts(y, p);
        if (neg - pos + T.One <= T.Zero) return;
        for (int j = 0; j < y.Length; j++)
        {
            gPred[j] = upstream * (-y[j] + (j == arg ? T.One - y[j] : T.Zero));
            gTrue[j] = upstream * (-p[j] - (j == arg ? p[j] : T.Zero));
        }
    }

    private static (T Pos, T Neg, int Arg) Parts<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> p) where T : struct, IFloatingPointIeee754<T>
    {
        T pos = T.Zero, neg = T.NegativeInfinity;
        int arg = 0;
        for (int j = 0; j < y.Length; j++)
        {
            pos += y[j] * p[j];
            T v = (T.One - y[j]) * p[j];
            if (v > neg) (neg, arg) = (v, j);
        }
        return (pos, neg, arg);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasCategoricalHinge",
        Aliases = ["keras.categorical_hinge", "keras.CategoricalHinge"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs = TrueAndPred,
        Options = [ReductionOption, SampleWeightOption],
        Sample = (r, s) => { Shape x = Samples.Or(s, 3, 4); return new LossInputs().Add("y_true", OneHot(r, x)).Add("y_pred", Samples.Normal(r, x)); },
        Formula = "ℓ = max(max_j((1 − y_j)·ŷ_j) − Σ_j y_j·ŷ_j + 1, 0)",
        Gradient = "∂ℓ/∂ŷ_j = −y_j + [j = argmax](1 − y_j) where active",
        Reference = "keras.losses.categorical_hinge",
        Stability = "finite for every finite input",
        Libraries = "Keras, Optax (multiclass_hinge_loss)",
        Factory = o => new KerasCategoricalHinge(o.Choice("reduction"), o.Tensor("sample_weight")),
    };

    /// <summary>One-hot rows along the last axis (float).</summary>
    internal static TensorData OneHot(Random r, Shape s)
    {
        int c = s[s.Rank - 1];
        var v = new double[s.Numel];
        for (int row = 0; row < v.Length / c; row++) v[row * c + r.Next(c)] = 1;
        return TensorData.Create(s, DType.Float64, v);
    }

    public override LossDescriptor Descriptor => Entry;
}
