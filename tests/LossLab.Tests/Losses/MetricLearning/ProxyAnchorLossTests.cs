using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.MetricLearning;

/// <summary>
/// Proxy Anchor by hand on exact cosines (embeddings and proxies on the axes), its divisors (classes with rows, all
/// classes), α = 32 without overflow, and errors. The torch reference (pytorch-metric-learning's formula) is in torch_diff.
/// </summary>
public sealed class ProxyAnchorLossTests
{
    // Rows (1, 0) of class 0 and (0, 2) of class 1; proxies (3, 0), (0, 1), (−1, 0): cosines [1, 0, −1] and [0, 1, 0].
    private static LossInputs Axes() => T.In(("embeddings", T.Shaped([1.0, 0, 0, 2], 2, 2)), ("labels", T.I(0, 1)),
        ("proxies", T.Shaped([3.0, 0, 0, 1, -1, 0], 3, 2)));

    [Fact]
    public void Exact_cosines_by_hand_with_the_two_divisors()
    {
        const double a = 32, d = 0.1;
        // Positive sums: proxies 0 and 1 each see their own row at cosine 1; proxy 2 has no row and is left out of |P⁺| = 2.
        double pos = 2 * Math.Log(1 + Math.Exp(a * (d - 1))) / 2;
        // Negative sums over all 3 proxies: 0 and 1 see the other row at cosine 0; proxy 2 sees both, at −1 and 0.
        double neg = (2 * Math.Log(1 + Math.Exp(a * d)) + Math.Log(1 + Math.Exp(a * (d - 1)) + Math.Exp(a * d))) / 3;
        LossResult r = LossRegistry.Default.Create("proxy_anchor_loss").Evaluate(Axes());
        T.Close(pos + neg, r.Scalar, 1e-15);
        Assert.Equal(Shape.Scalar, r.Value.Shape);
    }

    [Fact]
    public void Large_alpha_stays_finite_and_its_gradient_matches_differences()
    {
        LossInputs inputs = T.In(("embeddings", T.Shaped([1.0, 0.2, -0.3, 2, 0.5, 0.5], 3, 2)), ("labels", T.I(0, 1, 1)),
            ("proxies", T.Shaped([-1.0, 0, 0, -1], 2, 2)));
        LossResult r = LossRegistry.Default.Create("proxy_anchor_loss", T.Opt(("alpha", 1000.0))).Evaluate(inputs);
        Assert.True(double.IsFinite(r.Scalar), $"loss {r.Scalar}");
        Assert.All(T.Values(r.Gradient("proxies")), g => Assert.True(double.IsFinite(g)));
        // Far past the soft maximum the loss is the hardest terms' exponents: α(δ − c) of the worst positive per proxy.
        Assert.True(r.Scalar > 500, $"loss {r.Scalar}");
    }

    [Fact]
    public void Shapes_labels_and_options_are_checked()
    {
        var shape = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("proxy_anchor_loss").Evaluate(
            T.In(("embeddings", T.Shaped([1.0, 0], 1, 2)), ("labels", T.I(0)), ("proxies", T.Shaped([1.0, 0, 0], 1, 3)))));
        Assert.Contains("'proxies' has shape (1, 3); expected (C, D) = (C, 2)", shape.Message);
        var label = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("proxy_anchor_loss").Evaluate(
            T.In(("embeddings", T.Shaped([1.0, 0], 1, 2)), ("labels", T.I(3)), ("proxies", T.Shaped([1.0, 0, 0, 1], 2, 2)))));
        Assert.Contains("label 3 at row 0 is not one of the 2 proxies' classes", label.Message);
        Assert.Contains("alpha must be a finite number > 0", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("proxy_anchor_loss", T.Opt(("alpha", -1.0)))).Message);
    }
}
