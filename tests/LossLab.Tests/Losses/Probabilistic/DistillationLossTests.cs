using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Probabilistic;

/// <summary>
/// Knowledge distillation: golden values and both gradients from the definition in mpmath at 40 digits (reduction
/// none, T = 2, α = ¼), the T²-scaled batchmean KL of the PyTorch tutorial, and errors.
/// </summary>
public sealed class DistillationLossTests
{
    private static readonly TensorData Student = T.Shaped([1, 2, 0.5, 0, -1, 3], 2, 3), Teacher = T.Shaped([2, 1, 0, 1, 1, 1], 2, 3);

    [Fact]
    public void Values_and_gradients_match_the_definition()
    {
        LossResult r = LossRegistry.Default.Create("kd_loss", T.Opt(("reduction", "none"), ("temperature", 2.0), ("alpha", 0.25)))
            .Evaluate(T.In(("student_logits", Student), ("teacher_logits", Teacher), ("target", T.I(1, 2))));
        T.Close([0.42997985007133083, 1.1397012466224678], r.Value, 1e-15);
        T.Close([-0.26428066658466914, 0.16787549610524751, 0.096405170479421631, -0.24196940291787479, -0.34627757152014242, 0.58824697443801721],
            r.Gradient("student_logits"), 1e-14);
        T.Close([0.33954851472175893, -0.25484724393911433, -0.084701270782644594, 0.16666666666666667, 0.41666666666666667, -0.58333333333333333],
            r.Gradient("teacher_logits"), 1e-14);
    }

    [Fact]
    public void Without_labels_it_is_the_tutorials_kl_of_softened_distributions_times_t_squared()
    {
        // PyTorch's tutorial: kl_div(log_softmax(s/T), softmax(t/T), reduction='batchmean')·T².
        const double temperature = 4;
        double[] s = T.Values(Student), t = T.Values(Teacher);
        var logP = new double[6];
        var q = new double[6];
        for (int row = 0; row < 2; row++)
        {
            Stable.LogSoftmax<double>(s.Skip(3 * row).Take(3).Select(v => v / temperature).ToArray(), logP.AsSpan(3 * row, 3));
            Stable.Softmax<double>(t.Skip(3 * row).Take(3).Select(v => v / temperature).ToArray(), q.AsSpan(3 * row, 3));
        }
        LossResult kl = LossRegistry.Default.Create("kl_div", T.Opt(("reduction", "batchmean"))).Evaluate(T.In(("input", T.Shaped(logP, 2, 3)), ("target", T.Shaped(q, 2, 3))));
        LossResult kd = LossRegistry.Default.Create("distillation_loss", T.Opt(("temperature", temperature))).Evaluate(T.In(("student_logits", Student), ("teacher_logits", Teacher)));
        T.Close(kl.Scalar * temperature * temperature, kd.Scalar, 1e-14);
        // A student equal to its teacher has nothing left to learn.
        LossResult same = LossRegistry.Default.Create("distillation_loss").Evaluate(T.In(("student_logits", Teacher), ("teacher_logits", Teacher)));
        T.Close(0, same.Scalar, 0, 1e-16);
        T.Close(new double[6], same.Gradient("student_logits"), 0, 1e-16);
    }

    [Fact]
    public void Missing_labels_for_alpha_and_bad_shapes_are_errors()
    {
        var missing = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("kd_loss", T.Opt(("alpha", 0.5))).Evaluate(T.In(("student_logits", Student), ("teacher_logits", Teacher))));
        Assert.Contains("'target' (class indices (2,)) is needed", missing.Message);
        var range = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("kd_loss").Evaluate(T.In(("student_logits", Student), ("teacher_logits", Teacher), ("target", T.I(0, 3)))));
        Assert.Contains("target 3 at row 1 is not a class in [0, 2]", range.Message);
        Assert.Contains("temperature", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("kd_loss", T.Opt(("temperature", 0.0)))).Message);
    }
}
