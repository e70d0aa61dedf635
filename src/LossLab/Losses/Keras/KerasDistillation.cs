using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Keras;

/// <summary>
/// What Keras's two distillation losses share (<c>keras/src/distillation/distillation_loss.py</c>): a Keras loss named
/// by string, looked up as <c>keras.losses.get</c> does, applied as <c>ops.mean(loss_fn(teacher, student))</c>, the
/// teacher as y_true and the student as y_pred, then the mean over every per-sample value (what the loss's class gives
/// with its default sum_over_batch_size reduction, which is how it is evaluated here).
/// </summary>
internal static class KerasDistillation
{
    /// <summary>keras.losses.get's string names for the losses whose y_true and y_pred have one shape → the catalog's loss.</summary>
    private static readonly Dictionary<string, string> Losses = new(StringComparer.Ordinal)
    {
        ["kl_divergence"] = "KerasKLDivergence", ["kld"] = "KerasKLDivergence", ["KLD"] = "KerasKLDivergence",
        ["mean_squared_error"] = "KerasMeanSquaredError", ["mse"] = "KerasMeanSquaredError", ["MSE"] = "KerasMeanSquaredError",
        ["mean_absolute_error"] = "KerasMeanAbsoluteError", ["mae"] = "KerasMeanAbsoluteError", ["MAE"] = "KerasMeanAbsoluteError",
        ["mean_absolute_percentage_error"] = "KerasMeanAbsolutePercentageError", ["mape"] = "KerasMeanAbsolutePercentageError", ["MAPE"] = "KerasMeanAbsolutePercentageError",
        ["mean_squared_logarithmic_error"] = "KerasMeanSquaredLogarithmicError", ["msle"] = "KerasMeanSquaredLogarithmicError", ["MSLE"] = "KerasMeanSquaredLogarithmicError",
        ["huber"] = "KerasHuber", ["log_cosh"] = "KerasLogCosh", ["logcosh"] = "KerasLogCosh", ["poisson"] = "KerasPoisson",
        ["hinge"] = "KerasHinge", ["squared_hinge"] = "KerasSquaredHinge", ["categorical_hinge"] = "KerasCategoricalHinge",
        ["binary_crossentropy"] = "KerasBinaryCrossentropy", ["categorical_crossentropy"] = "KerasCategoricalCrossentropy",
        ["binary_focal_crossentropy"] = "KerasBinaryFocalCrossentropy", ["categorical_focal_crossentropy"] = "KerasCategoricalFocalCrossentropy",
        ["cosine_similarity"] = "KerasCosineSimilarity",
    };

    /// <summary>The names the <c>loss</c> option accepts (keras.losses.get's, upper-case abbreviations included).</summary>
    internal static IEnumerable<string> ChoiceNames => Losses.Keys;

    private static string Names => string.Join(", ", Losses.Keys.Where(k => k.Any(char.IsLower)));

    /// <summary>The catalog loss for a Keras string name, and whether Keras takes its KL path ("kl" in the function's name).</summary>
    internal static (ILoss Loss, bool IsKl) Resolve(string name, string owner)
    {
        if (!Losses.TryGetValue(name, out string? entry))
            throw new LossArgumentException(LossErrorCode.UnsupportedOption, $"{owner}: loss '{name}' is not a Keras loss of two same-shape tensors; expected one of {Names}");
        return (LossRegistry.Default.Create(entry), entry == "KerasKLDivergence");
    }

    /// <summary>
    /// The Keras loss on (teacher → y_true, student → y_pred) in double: its mean value and its gradients for the two
    /// (the teacher's null where the loss gives y_true none). Errors name the distillation loss and its inputs.
    /// </summary>
    internal static (double Value, double[]? GradTeacher, double[]? GradStudent) Apply(ILoss loss, double[] teacher, double[] student, Shape shape, string owner, string teacherName, string studentName, bool allowNonFinite, bool computeGradients)
    {
        var inputs = new LossInputs { AllowNonFinite = allowNonFinite }.Add("y_true", TensorData.FromArray(teacher, shape.Dims.ToArray())).Add("y_pred", TensorData.FromArray(student, shape.Dims.ToArray()));
        LossResult r;
        try
        {
            r = loss.Evaluate(inputs, computeGradients);
        }
        catch (LossArgumentException e)
        {
            string message = e.Message.Replace("'y_true'", $"the {teacherName} as y_true", StringComparison.Ordinal).Replace("'y_pred'", $"the {studentName} as y_pred", StringComparison.Ordinal);
            throw new LossArgumentException(e.Code, $"{owner} ({loss.Descriptor.Name}): {message}");
        }
        if (!computeGradients) return (r.Scalar, null, null);
        double[]? gt = r.Gradients.TryGetValue("y_true", out TensorData? t) ? t.ToArray<double>() : null;
        return (r.Scalar, gt, r.Gradient("y_pred").ToArray<double>());
    }
}
