using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>
/// The asymmetric loss (Ridnik et al., 2021): golden values and gradients from the authors' formula in mpmath at 40
/// digits (with the focal weight detached, their default, and not), BCE-with-logits as its special case, precision
/// at confident logits, and label checks.
/// </summary>
public sealed class AsymmetricLossTests
{
    private static LossResult Run(double[] x, double[] y, params (string, object?)[] options)
        => LossRegistry.Default.Create("asymmetric_loss", T.Opt([("reduction", "none"), .. options])).Evaluate(T.In(("input", T.D(x)), ("target", T.D(y))));

    [Fact]
    public void Values_and_gradients_match_the_authors_formula()
    {
        double[] x = [2, -1, 20, 0.5], y = [1, 0, 1, 0.5];
        LossResult r = Run(x, y);
        T.Close([0.015130189802777927, 0.0005677975178983673, 4.2483542421568229e-18, 0.10292497685094903], r.Value, 1e-14, 0);
        T.Close([-0.014209336618611039, 0.00057841293912261435, -4.2483542377785675e-18, 0.013382700521036156], r.Gradient("input"), 1e-14, 0);
        Assert.False(r.Gradients.ContainsKey("target"));
        // The focal weight differentiated too.
        LossResult full = Run(x, y, ("disable_torch_grad_focal_loss", false));
        T.Close([-0.02753596358614859, 0.0026179679394540782, -8.4967084711788797e-18, 0.013382700521036156], full.Gradient("input"), 1e-14, 0);
        // The authors' default reduction is the sum.
        LossResult sum = LossRegistry.Default.Create("asl").Evaluate(T.In(("input", T.D(x)), ("target", T.D(y))));
        T.Close(T.Values(r.Value).Sum(), sum.Scalar, 1e-15);
    }

    [Fact]
    public void Without_focusing_or_margin_it_is_the_summed_bce_with_logits()
    {
        var rng = new Random(4);
        double[] x = LossSamples.Normal(rng, 24, 3), y = [.. Enumerable.Range(0, 24).Select(i => i % 3 == 0 ? 1.0 : 0.0)];
        LossInputs inputs = T.In(("input", T.Shaped(x, 4, 6)), ("target", T.Shaped(y, 4, 6)));
        LossResult asl = LossRegistry.Default.Create("asymmetric_loss", T.Opt(("gamma_neg", 0.0), ("gamma_pos", 0.0), ("clip", 0.0))).Evaluate(inputs);
        LossResult bce = LossRegistry.Default.Create("binary_cross_entropy_with_logits", T.Opt(("reduction", "sum"))).Evaluate(inputs);
        T.Close(bce.Scalar, asl.Scalar, 1e-14);
        T.Close(T.Values(bce.Gradient("input")), asl.Gradient("input"), 1e-14, 1e-16);
    }

    [Fact]
    public void The_margin_discards_easy_negatives()
    {
        // p = σ(−4) = 0.018 < m = 0.05: the negative's shifted probability is 0, and so are its loss and gradient.
        LossResult r = Run([-4, -2], [0, 0]);
        Assert.Equal(0, r.Value.GetDouble(0));
        Assert.Equal(0, r.Gradient("input").GetDouble(0));
        Assert.True(r.Value.GetDouble(1) > 0);
    }

    [Fact]
    public void Labels_outside_the_unit_interval_and_bad_options_are_errors()
    {
        var e = Assert.Throws<LossArgumentException>(() => Run([1, 2], [0, 2]));
        Assert.Contains("target 2 at index 1 is not a label in [0, 1]", e.Message);
        Assert.Contains("clip", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("asl", T.Opt(("clip", 1.0)))).Message);
        Assert.Contains("gamma_neg", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("asl", T.Opt(("gamma_neg", -1.0)))).Message);
    }
}
