using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras 3's <c>keras.distillation.FeatureDistillation(loss="mse")</c>, its <c>compute_loss(teacher_outputs,
/// student_outputs)</c> on features taken from a teacher's and a student's layers: mean(loss(teacher, student)), the
/// teacher as y_true, no temperature and no softmax (a kl_divergence here compares the features as they are).
/// </summary>
/// <remarks>
/// The layers the features come from (teacher_layer_name, student_layer_name) are the model's business, not the loss's:
/// pass the two layers' outputs. One output: Keras's nested structures of outputs and losses are left out. The gradients
/// are the Keras loss's own, for y_pred (the student) and, where the loss has one, y_true (the teacher).
/// </remarks>
public sealed class KerasFeatureDistillation : Loss, ILossDefinition
{
    private const string Name = "KerasFeatureDistillation";
    private readonly ILoss _loss;

    public KerasFeatureDistillation(string loss = "mse") => (_loss, _) = KerasDistillation.Resolve(loss, Name);

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        RequireSameShape(inputs, "teacher_features", "student_features");
        Shape shape = inputs["teacher_features"].Shape;
        if (shape.Rank == 0) throw LossArgumentException.Shape($"{Name}: 'teacher_features' must have a feature axis (…, D), got a scalar");
        var (value, gt, gs) = KerasDistillation.Apply(_loss, inputs["teacher_features"].ToArray<double>(), inputs["student_features"].ToArray<double>(),
            shape, Name, "teacher_features", "student_features", inputs.AllowNonFinite, computeGradients);
        TensorData v = FromDoubles<T>([value], Shape.Scalar);
        if (!computeGradients) return Result(v);
        return Result(v, ("teacher_features", gt is null ? null : FromDoubles<T>(gt, shape)), ("student_features", FromDoubles<T>(gs!, shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["keras.distillation.FeatureDistillation", "keras.FeatureDistillation", "feature_distillation"],
        Family = LossFamily.Probabilistic,
        Task = LossTask.Distribution,
        Inputs =
        [
            new("teacher_features", InputKind.Floating, true, "a teacher layer's outputs (…, D): y_true"),
            new("student_features", InputKind.Floating, true, "the matching student layer's outputs, same shape: y_pred"),
        ],
        Options = [OptionSpec.Choice("loss", "mse", "the Keras loss of two same-shape tensors applied to the features", [.. KerasDistillation.ChoiceNames])],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 3, 4);
            return new LossInputs().Add("teacher_features", Samples.Uniform(r, x, 0.05, 1)).Add("student_features", Samples.Uniform(r, x, 0.05, 1));
        },
        Formula = "ℓ = mean loss(teacher, student)  (mse by default: mean (t − s)²)",
        Gradient = "the Keras loss's own: mse ∂ℓ/∂s = 2(s − t)/numel",
        Reference = "keras.distillation.FeatureDistillation (keras/src/distillation/distillation_loss.py); Romero et al., FitNets: Hints for Thin Deep Nets, ICLR 2015",
        Stability = "that of the Keras loss chosen",
        Libraries = "Keras 3 (keras.distillation.FeatureDistillation with keras.distillation.Distiller)",
        LowerBound = double.NegativeInfinity,   // 0 for most; cosine_similarity reaches −1
        Factory = o => new KerasFeatureDistillation(o.Choice("loss")),
    };

    public override LossDescriptor Descriptor => Entry;
}
