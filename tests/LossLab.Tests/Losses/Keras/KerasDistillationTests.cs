using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Keras;

/// <summary>
/// Keras 3's keras.distillation losses: LogitsDistillation's T²-scaled KL of softened softmaxes (golden value and
/// gradient from the definition in mpmath at 40 digits), its other losses on the scaled logits, FeatureDistillation as
/// the Keras loss itself, and the errors for losses Keras cannot apply to two same-shape tensors.
/// </summary>
public sealed class KerasDistillationTests
{
    private static readonly TensorData Teacher = T.Shaped([1, 2, 0.5, 0, -1, 3], 2, 3), Student = T.Shaped([2, 1, 0, 1, 1, 1], 2, 3);

    [Fact]
    public void Logits_distillation_is_t_squared_times_the_kl_of_the_softened_distributions()
    {
        LossResult r = LossRegistry.Default.Create("keras.distillation.LogitsDistillation").Evaluate(T.In(("teacher_logits", Teacher), ("student_logits", Student)));
        T.Close(0.95172305052108166, r.Scalar, 1e-15);
        T.Close([0.20999737213212846, -0.16371664058924105, -0.046280731542887405, 0.16176703437675679, 0.25764548986271814, -0.41941252423947493],
            r.Gradient("student_logits"), 1e-14);
        // "kld" resolves to the same function, so it takes the same path.
        T.Close(r.Scalar, LossRegistry.Default.Create("logits_distillation", T.Opt(("loss", "kld"))).Evaluate(T.In(("teacher_logits", Teacher), ("student_logits", Student))).Scalar, 0);
    }

    [Fact]
    public void Other_losses_see_the_scaled_logits_without_softmax_or_t_squared()
    {
        LossResult mse = LossRegistry.Default.Create("logits_distillation", T.Opt(("loss", "mse"), ("temperature", 2.0))).Evaluate(T.In(("teacher_logits", Teacher), ("student_logits", Student)));
        double[] t = T.Values(Teacher), s = T.Values(Student);
        T.Close(Enumerable.Range(0, 6).Average(k => Math.Pow((t[k] - s[k]) / 2, 2)), mse.Scalar, 1e-15);
        T.Close(Enumerable.Range(0, 6).Select(k => 2 * (s[k] - t[k]) / 2 / 2 / 6).ToArray(), mse.Gradient("student_logits"), 1e-15);
    }

    [Fact]
    public void Feature_distillation_is_the_keras_loss_with_the_teacher_as_y_true()
    {
        foreach (string loss in new[] { "mse", "mae", "cosine_similarity", "huber", "log_cosh" })
        {
            LossResult distilled = LossRegistry.Default.Create("feature_distillation", T.Opt(("loss", loss))).Evaluate(T.In(("teacher_features", Teacher), ("student_features", Student)));
            string keras = loss switch { "mse" => "keras.mse", "mae" => "keras.mean_absolute_error", _ => "keras." + loss };
            LossResult direct = LossRegistry.Default.Create(keras).Evaluate(T.In(("y_true", Teacher), ("y_pred", Student)));
            T.Close(direct.Scalar, distilled.Scalar, 0);
            T.Close(T.Values(direct.Gradient("y_pred")), distilled.Gradient("student_features"), 0);
        }
        LossResult same = LossRegistry.Default.Create("feature_distillation", T.Opt(("loss", "cosine_similarity"))).Evaluate(T.In(("teacher_features", Teacher), ("student_features", Teacher)));
        T.Close(-1, same.Scalar, 1e-15);   // Keras's cosine_similarity is −cos
    }

    [Fact]
    public void A_loss_of_labels_a_bad_temperature_and_mismatched_shapes_are_typed_errors()
    {
        var sparse = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("logits_distillation", T.Opt(("loss", "sparse_categorical_crossentropy"))));
        Assert.Equal(LossErrorCode.UnsupportedOption, sparse.Code);
        Assert.Contains("kl_divergence", sparse.Message);
        Assert.Contains("temperature must be a finite number > 0, got 0", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("logits_distillation", T.Opt(("temperature", 0.0)))).Message);
        var shape = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("feature_distillation").Evaluate(T.In(("teacher_features", Teacher), ("student_features", T.Shaped([1.0, 2], 1, 2)))));
        Assert.Equal(LossErrorCode.InvalidShape, shape.Code);
    }
}
