using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>iou</c> (IoU loss) over <c>axis</c> (default: every axis, one scalar): ℓ = 1 − I/(U + ε) with I = Σ y·ŷ,
/// U = Σy + Σŷ − I (the soft Jaccard index), ε = 1e-7 (backend.epsilon).
/// </summary>
/// <remarks>
/// Gradient: with N = I and D = U + ε, ∂ℓ/∂ŷ_j = −(y_j·D − N·(1 − y_j))/D² and ∂ℓ/∂y_j = −(ŷ_j·D − N·(1 − ŷ_j))/D². Unlike
/// Dice (2I/(Σy + Σŷ)) it counts the overlap once in the denominator, so it punishes a partial overlap harder: for the
/// same masks IoU = Dice/(2 − Dice). Finite for every finite input (ε keeps an empty union away from 0/0).
/// </remarks>
public sealed class KerasIoU(string reduction = "sum_over_batch_size", TensorData? sampleWeight = null, int[]? axes = null)
    : KerasGroupLoss(reduction, sampleWeight, axes), ILossDefinition
{
    private static (T Num, T Den) Parts<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> p) where T : struct, IFloatingPointIeee754<T>
    {
        T inter = T.Zero, sy = T.Zero, sp = T.Zero;
        for (int j = 0; j < y.Length; j++)
        {
            inter += y[j] * p[j];
            sy += y[j];
            sp += p[j];
        }
        return (inter, sy + sp - inter + Epsilon<T>());
    }

    protected override T GroupValue<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> p)
    {
        var (num, den) = Parts(y, p);
        return T.One - num / den;
    }

    protected override void GroupGradient<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> p, T upstream, Span<T> gTrue, Span<T> gPred)
    {
        var (num, den) = Parts(y, p);
        // (y_j·D − N·(1 − y_j))/D² as (y_j − (N/D)(1 − y_j))/D: D² overflows float32 once D passes 1.8e19.
        T ratio = num / den;
        for (int j = 0; j < y.Length; j++)
        {
            gPred[j] = -upstream * (y[j] - ratio * (T.One - y[j])) / den;
            gTrue[j] = -upstream * (p[j] - ratio * (T.One - p[j])) / den;
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasIoU",
        Aliases = ["keras.iou", "keras.IoU"],
        Family = LossFamily.Segmentation,
        Task = LossTask.Segmentation,
        Inputs = TrueAndPred,
        Options = [ReductionOption, SampleWeightOption, OptionSpec.Tensor("axis", "reduced axes; default all (one scalar)")],
        Sample = (r, s) => new LossInputs().Add("y_true", Samples.Bernoulli(r, Samples.Or(s, 3, 4))).Add("y_pred", Samples.Uniform(r, Samples.Or(s, 3, 4), 0.05, 0.95)),
        Formula = "ℓ = 1 − Σyŷ/(Σy + Σŷ − Σyŷ + ε)",
        Gradient = "∂ℓ/∂ŷ_j = −(y_j·D − N·(1 − y_j))/D²,  N = Σyŷ, D = Σy + Σŷ − N + ε",
        Reference = "keras.losses.iou (Rahman & Wang, 2016)",
        Stability = "finite for every finite input (ε = 1e-7 in the denominator)",
        Libraries = "Keras, segmentation_models_pytorch (JaccardLoss)",
        Factory = o => new KerasIoU(o.Choice("reduction"), o.Tensor("sample_weight"), AxisGroups.Parse(o.Tensor("axis"))),
    };

    public override LossDescriptor Descriptor => Entry;
}
