using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>
/// Confident, correct logits (|x| ≳ 33) give losses below double's spacing at x. Written as (1 − y)x − log σ(x) or
/// softplus(x) − y·x, they cancelled to 0 and took the γ·ce·q^(γ−1) term of the focal target gradient with them
/// (1.5 % off, found by tools/torch_diff.py). References: mpmath at 40 digits.
/// </summary>
public sealed class ConfidentLogitTests
{
    private const double X = -33.30415206552509;

    [Fact]
    public void Bce_with_logits_keeps_the_tiny_loss_and_gradient()
    {
        var loss = new BinaryCrossEntropyWithLogits(new() { Reduction = Reduction.None });
        var r = loss.Evaluate(T.In(("input", T.D(X, 40)), ("target", T.D(0, 1))));
        T.Close([3.437087065529757e-15, 4.248354255291589e-18], r.Value, rel: 1e-14, abs: 0);
        // ∂ℓ/∂x = σ(x) − y: 3.4e-15 and −σ(−40), where σ(40) − 1 rounds to 0.
        T.Close([3.437087065529757e-15, -4.248354255291589e-18], r.Gradient("input"), rel: 1e-14, abs: 0);
    }

    [Fact]
    public void Focal_keeps_the_tiny_loss_and_the_focusing_term_of_the_target_gradient()
    {
        var loss = new SigmoidFocalLoss(new() { Alpha = 0.25, Gamma = 0.5, Reduction = Reduction.None });
        var r = loss.Evaluate(T.In(("inputs", T.D(X)), ("targets", T.D(0))));
        T.Close([1.511287407199089e-22], r.Value, rel: 1e-13, abs: 0);
        T.Close([2.266931110798628e-22], r.Gradient("inputs"), rel: 1e-13, abs: 0);
        T.Close([1.486368787105397e-06], r.Gradient("targets"), rel: 1e-13, abs: 0);
    }

    [Fact]
    public void Keras_binary_crossentropy_from_logits_keeps_the_tiny_loss()
    {
        var r = LossRegistry.Default.Create("keras.binary_crossentropy", new Dictionary<string, object?> { ["from_logits"] = true, ["reduction"] = "none" })
            .Evaluate(T.In(("y_true", T.Shaped([1.0], 1, 1)), ("y_pred", T.Shaped([40.0], 1, 1))));
        T.Close([4.248354255291589e-18], r.Value, rel: 1e-14, abs: 0);
        T.Close([-4.248354255291589e-18], r.Gradient("y_pred"), rel: 1e-14, abs: 0);
    }
}
