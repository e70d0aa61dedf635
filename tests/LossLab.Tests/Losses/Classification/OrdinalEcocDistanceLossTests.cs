using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>dlordinal's ordinal ECOC distance: the codes [q &lt; y], a value by hand, class weights, errors.</summary>
public sealed class OrdinalEcocDistanceLossTests
{
    [Fact]
    public void The_distance_to_the_true_class_code_is_summed_over_thresholds_and_rows()
    {
        // K = 4: class 0 codes (0, 0, 0), class 2 (1, 1, 0), class 3 (1, 1, 1).
        TensorData p = T.Shaped([0.1, 0.2, 0.3, 0.9, 0.6, 0.2, 0.5, 0.5, 0.5], 3, 3);
        LossResult none = LossRegistry.Default.Create("OrdinalECOCDistanceLoss", T.Opt(("reduction", "none"))).Evaluate(T.In(("input", p), ("target", T.I(0, 2, 3))));
        T.Close([0.01 + 0.04 + 0.09, 0.01 + 0.16 + 0.04, 0.75], none.Value, 1e-15);
        LossResult sum = LossRegistry.Default.Create("ordinal_ecoc_distance_loss").Evaluate(T.In(("input", p), ("target", T.I(0, 2, 3))));
        T.Close(0.14 + 0.21 + 0.75, sum.Scalar, 1e-15);
        T.Close([0.2, 0.4, 0.6, -0.2, -0.8, 0.4, -1, -1, -1], sum.Gradient("input"), 1e-15);
        LossResult weighted = LossRegistry.Default.Create("ordinal_ecoc_distance_loss", T.Opt(("weights", T.D(2, 1, 0.5, 3)))).Evaluate(T.In(("input", p), ("target", T.I(0, 2, 3))));
        T.Close(2 * 0.14 + 0.5 * 0.21 + 3 * 0.75, weighted.Scalar, 1e-15);
    }

    [Fact]
    public void A_class_beyond_the_thresholds_and_wrong_weights_are_typed_errors()
    {
        TensorData p = T.Shaped([0.1, 0.2], 1, 2);
        Assert.Contains("target 3 at position 0 is not a class in [0, 2]", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("ordinal_ecoc_distance_loss").Evaluate(T.In(("input", p), ("target", T.I(3))))).Message);
        var w = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("ordinal_ecoc_distance_loss", T.Opt(("weights", T.D(1, 2)))).Evaluate(T.In(("input", p), ("target", T.I(1)))));
        Assert.Equal(LossErrorCode.InvalidShape, w.Code);
    }
}
