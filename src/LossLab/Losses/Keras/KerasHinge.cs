using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>hinge</c>: mean over the last axis of max(1 − y·ŷ, 0), with {0, 1} labels converted to ±1 when every
/// label is 0 or 1 (otherwise used as they are). ∂/∂ŷ = −y where 1 − y·ŷ &gt; 0. y_true is not differentiated.
/// </summary>
public sealed class KerasHinge(string reduction = "sum_over_batch_size", TensorData? sampleWeight = null, bool squared = false)
    : KerasMeanLoss<KerasHinge.Kernel>(reduction, sampleWeight), ILossDefinition
{
    /// <summary>m = max(1 − y·ŷ, 0); hinge m, squared hinge m²; ∂/∂ŷ = −y·(1 or 2m).</summary>
    public readonly struct Kernel(bool squared) : IElementwiseKernel
    {
        public T Value<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T m = T.Max(T.One - y * p, T.Zero);
            return squared ? m * m : m;
        }

        public (T Dx, T Dy) Derivative<T>(T y, T p, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T m = T.One - y * p;
            if (m <= T.Zero) return (T.Zero, T.Zero);
            return (T.Zero, squared ? -(y + y) * m : -y);
        }
    }

    protected override Kernel ElementKernel => new(squared);

    protected override bool TargetDifferentiable => false;

    protected override T[] PrepareTrue<T>(T[] yTrue)
        => yTrue.All(v => v == T.Zero || v == T.One) ? [.. yTrue.Select(v => v + v - T.One)] : yTrue;

    public static LossDescriptor Entry { get; } = Describe(false);

    internal static LossDescriptor Describe(bool squared) => new()
    {
        Name = squared ? "KerasSquaredHinge" : "KerasHinge",
        Aliases = squared ? ["keras.squared_hinge", "keras.SquaredHinge"] : ["keras.hinge", "keras.Hinge"],
        Family = LossFamily.Classification,
        Task = LossTask.BinaryClassification,
        Inputs = [new("y_true", InputKind.Floating, false, "labels ±1 (or 0/1, converted)"), new("y_pred", InputKind.Floating, true, "scores, same shape")],
        Options = [ReductionOption, SampleWeightOption],
        Sample = (r, s) => new LossInputs().Add("y_true", Samples.Bernoulli(r, Samples.Or(s, 3, 4))).Add("y_pred", Samples.Normal(r, Samples.Or(s, 3, 4), 2)),
        Formula = squared ? "ℓ = mean_last(max(1 − y·ŷ, 0)²)" : "ℓ = mean_last(max(1 − y·ŷ, 0))",
        Gradient = squared ? "∂ℓ/∂ŷ = −2y·max(1 − y·ŷ, 0)/L" : "∂ℓ/∂ŷ = −y·[1 − y·ŷ > 0]/L",
        Reference = squared ? "keras.losses.squared_hinge" : "keras.losses.hinge",
        Stability = "finite for every finite input",
        Libraries = "Keras, Optax (hinge_loss), ML.NET (HingeLoss)",
        Factory = o => new KerasHinge(o.Choice("reduction"), o.Tensor("sample_weight"), squared),
    };

    public override LossDescriptor Descriptor => Describe(squared);
}

/// <summary>Keras <c>squared_hinge</c>: mean over the last axis of max(1 − y·ŷ, 0)² (labels as in <see cref="KerasHinge"/>).</summary>
public sealed class KerasSquaredHinge : ILossDefinition
{
    public static LossDescriptor Entry { get; } = KerasHinge.Describe(true);
}
