using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>dlordinal's MCELoss: a value by hand, the per-class vector of none, class weights as dlordinal's test uses them, digits of a confident row, errors.</summary>
public sealed class PerClassMseLossTests
{
    [Fact]
    public void Per_class_errors_are_averaged_over_the_rows_then_over_the_classes()
    {
        // Logits 0 everywhere: p = 1/3 in each class. Targets 0 and 2: class 0 errors (2/3)² and (1/3)², class 1 twice
        // (1/3)², class 2 (1/3)² and (2/3)².
        TensorData x = T.Shaped(new double[6], 2, 3);
        LossResult none = LossRegistry.Default.Create("MCELoss", T.Opt(("reduction", "none"))).Evaluate(T.In(("input", x), ("target", T.I(0, 2))));
        T.Close([(4.0 / 9 + 1.0 / 9) / 2, (1.0 / 9 + 1.0 / 9) / 2, (1.0 / 9 + 4.0 / 9) / 2], none.Value, 1e-15);
        LossResult mean = LossRegistry.Default.Create("mce_loss").Evaluate(T.In(("input", x), ("target", T.I(0, 2))));
        T.Close((5.0 / 18 + 2.0 / 18 + 5.0 / 18) / 3, mean.Scalar, 1e-15);
    }

    [Fact]
    public void Class_weights_scale_each_class_error_as_in_dlordinal_s_test()
    {
        // dlordinal's test: errors in classes 1 and 3 cost less with their weights below 1, an error in class 5 more.
        TensorData x = T.Shaped([-0.2031, 1.4755, 0.0284, -0.2866, 0.1422, 0.3226, -0.2673, 0.0656, 0.7692, 1.4546, -0.3020, 0.3431, 0.8162, 1.3829, 0.1576, -0.1615, 1.2485, 0.2667], 3, 6);
        TensorData w = T.D(1.60843373, 0.55394191, 1.02692308, 0.78070175, 1.12184874, 2.34210526);
        double Loss(TensorData y, bool weighted) => LossRegistry.Default.Create("mce_loss", weighted ? T.Opt(("weight", w)) : T.Opt()).Evaluate(T.In(("input", x), ("target", y))).Scalar;
        Assert.True(Loss(T.I(3, 3, 1), false) > Loss(T.I(3, 3, 1), true));
        Assert.True(Loss(T.I(5, 3, 1), false) < Loss(T.I(5, 3, 1), true));
    }

    [Fact]
    public void A_confident_correct_row_keeps_the_digits_of_its_small_error()
    {
        // p_y = 1 − 2e^−40 (to first order): 1 − p_y is 2e^−40, which 1 − p_y in double would round to 0.
        LossResult r = LossRegistry.Default.Create("mce_loss", T.Opt(("reduction", "sum"))).Evaluate(T.In(("input", T.Shaped([40.0, 0, 0], 1, 3)), ("target", T.I(0))));
        double e = Math.Exp(-40);
        T.Close(4 * e * e + 2 * e * e, r.Scalar, 1e-14);
    }

    [Fact]
    public void Bad_targets_and_weights_are_typed_errors()
    {
        var range = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("mce_loss").Evaluate(T.In(("input", T.Shaped(new double[6], 2, 3)), ("target", T.I(0, 3)))));
        Assert.Contains("target 3 at position 1 is not a class in [0, 2]", range.Message);
        var weight = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("mce_loss", T.Opt(("weight", T.D(1, 2)))).Evaluate(T.In(("input", T.Shaped(new double[6], 2, 3)), ("target", T.I(0, 1)))));
        Assert.Equal(LossErrorCode.InvalidShape, weight.Code);
    }
}
