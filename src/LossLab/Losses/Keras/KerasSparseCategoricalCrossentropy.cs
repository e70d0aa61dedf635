using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>sparse_categorical_crossentropy</c>: integer labels y_true of shape (N, d1..) (or with a trailing 1) against
/// y_pred (N, d1.., C). Probabilities: ℓ = −log clip(p_y/Σp, ε, 1 − ε); logits: ℓ = lse(z) − z_y. Labels equal to
/// <c>ignore_class</c> give 0 and are masked out of the reduction (sum_over_batch_size then averages over the valid
/// entries: Σℓ·w/valid, Keras's apply_mask).
/// </summary>
/// <remarks>
/// Logits: ∂ℓ/∂z_j = softmax_j − [j = y]. Probabilities, with r = p/Σp and g = −1/o_y inside the clip (0 outside):
/// ∂ℓ/∂p_j = (g·[j = y] − g·r_y)/Σp. Labels are not differentiable. Unlike Keras (whose one-hot turns an out-of-range
/// label into a silent 0), a label outside [0, C) that is not ignore_class is an error naming it.
/// </remarks>
public sealed class KerasSparseCategoricalCrossentropy(bool fromLogits = false, long? ignoreClass = null, string reduction = "sum_over_batch_size",
    TensorData? sampleWeight = null)
    : KerasLoss(reduction, sampleWeight), ILossDefinition
{
    protected override bool TargetDifferentiable => false;

    protected override T[] TrueValues<T>(LossInputs inputs) => IntegerLabels<T>(inputs, ignoreClass);

    protected override bool[]? Valid(LossInputs inputs) => ignoreClass is null ? null : [.. inputs.Indices("y_true").Select(v => v != ignoreClass)];

    protected override T[] PerSample<T>(T[] yTrue, T[] yPred, Shape shape, out Shape valueShape)
    {
        int c = shape[shape.Rank - 1];
        valueShape = shape.WithoutAxis(shape.Rank - 1);
        var values = new T[yTrue.Length];
        for (int r = 0; r < values.Length; r++)
        {
            long label = long.CreateTruncating(yTrue[r]);
            if (label == ignoreClass) continue;
            ReadOnlySpan<T> z = yPred.AsSpan(r * c, c);
            if (fromLogits)
            {
                T logSum = Stable.ShiftedLogSumExp(z, out T max);
                values[r] = -(z[(int)label] - max - logSum);
            }
            else
            {
                values[r] = -T.Log(ClipProbability(z[(int)label] / SumOf(z)));
            }
        }
        return values;
    }

    protected override void Backward<T>(T[] yTrue, T[] yPred, Shape shape, T[] upstream, T[] gTrue, T[] gPred)
    {
        int c = shape[shape.Rank - 1];
        for (int r = 0; r < yTrue.Length; r++)
        {
            long label = long.CreateTruncating(yTrue[r]);
            if (label == ignoreClass || upstream[r] == T.Zero) continue;
            ReadOnlySpan<T> z = yPred.AsSpan(r * c, c);
            Span<T> g = gPred.AsSpan(r * c, c);
            int y = (int)label;
            if (fromLogits)
            {
                T logSum = Stable.ShiftedLogSumExp(z, out T max);
                // softmax − one-hot, with p_y − 1 as expm1(log p_y) (its digits kept near p_y = 1; TF subtracts).
                for (int j = 0; j < c; j++) g[j] = upstream[r] * (j == y ? Stable.Expm1(z[j] - max - logSum) : T.Exp(z[j] - max - logSum));
                continue;
            }
            T sum = SumOf(z), ry = z[y] / sum;
            T gy = InsideClip(ry) ? -T.One / ry : T.Zero;
            for (int j = 0; j < c; j++) g[j] = upstream[r] * ((j == y ? gy : T.Zero) - gy * ry) / sum;
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasSparseCategoricalCrossentropy",
        Aliases = ["keras.sparse_categorical_crossentropy", "keras.SparseCategoricalCrossentropy"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("y_true", InputKind.Indices, false, "integer labels (N, d1..) or (N, d1.., 1)"),
            new("y_pred", InputKind.Floating, true, "probabilities or logits (N, d1.., C)"),
        ],
        Options =
        [
            ReductionOption, SampleWeightOption,
            OptionSpec.Bool("from_logits", false, "y_pred holds logits"),
            OptionSpec.OptionalInt("ignore_class", "label whose entries are masked out (none by default)"),
        ],
        Sample = LabelsAndProbabilities,
        Formula = "ℓ = −log clip(p_y/Σp, ε, 1 − ε); logits: lse(z) − z_y",
        Gradient = "logits: ∂ℓ/∂z = softmax(z) − onehot(y)",
        Reference = "keras.losses.sparse_categorical_crossentropy",
        Stability = "clipped probabilities; max-shifted log-sum-exp for logits",
        Libraries = "Keras, PyTorch (cross_entropy / nll_loss), Optax (softmax_cross_entropy_with_integer_labels)",
        Factory = o => new KerasSparseCategoricalCrossentropy(o.Bool("from_logits"), o.NullableInt("ignore_class"), o.Choice("reduction"), o.Tensor("sample_weight")),
    };

    public override LossDescriptor Descriptor => Entry;
}
