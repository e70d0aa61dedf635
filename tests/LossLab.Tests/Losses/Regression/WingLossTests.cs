using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Regression;

/// <summary>Wing loss by hand (Feng et al. 2018; smp's functional wing_loss): the two pieces, their junction at the width, the slopes.</summary>
public sealed class WingLossTests
{
    [Fact]
    public void Logarithmic_below_the_width_linear_above_and_continuous_at_it()
    {
        // w = 5, ε = 0.5: errors 0.25 (inside), 7 (outside), 5 (the junction), 0.
        LossResult r = LossRegistry.Default.Create("wing_loss", T.Opt(("reduction", "none")))
            .Evaluate(T.In(("output", T.D(1.25, -4, 5, 2)), ("target", T.D(1, 3, 0, 2))));
        double c = 5 - 5 * Math.Log(11);
        T.Close([5 * Math.Log(1.5), 7 - c, 5 - c, 0], r.Value, 1e-15, 0);
        T.Close(5 * Math.Log(11), 5 - c, 1e-15, 0);   // both pieces meet at d = w
        // Slopes: w/(ε + d) inside, 1 outside, with the sign of output − target; 0 at d = 0.
        T.Close([5 / 0.75, -1, 1, 0], r.Gradient("output"), 1e-15, 0);
        T.Close([-5 / 0.75, 1, -1, 0], r.Gradient("target"), 1e-15, 0);
        // A tiny error: w·log1p(d/ε) = 5·log1p(2e-9) = 9.99999999e-9 to the last digit (mpmath); log(1 + x) kept 8 digits.
        LossResult tiny = LossRegistry.Default.Create("wing_loss", T.Opt(("reduction", "none"))).Evaluate(T.In(("output", T.D(1e-9)), ("target", T.D(0))));
        T.Close(9.99999999e-9, tiny.Value.GetDouble(0), 2e-16, 0);
        Assert.Contains("curvature must be a finite number > 0, got 0", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("wing_loss", T.Opt(("curvature", 0.0)))).Message);
    }
}
