using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Segmentation;

/// <summary>Optax's dice losses: values derived by hand (each comment gives the sums), its shape rules and its errors.</summary>
public sealed class OptaxDiceTests
{
    private static LossResult Run(string loss, LossInputs inputs, params (string, object?)[] options)
        => LossRegistry.Default.Create(loss, options.ToDictionary(o => o.Item1, o => o.Item2)).Evaluate(inputs);

    // One sample, two pixels, two classes, probabilities: class 0 has I = 0.7, P = 0.9, T = 1; class 1 I = 0.8, P = 1.1, T = 1.
    private static LossInputs TwoPixels() => T.In(
        ("predictions", T.Shaped(new double[] { 0.7, 0.3, 0.2, 0.8 }, 1, 2, 2)),
        ("targets", T.Shaped(new double[] { 1, 0, 0, 1 }, 1, 2, 2)));

    [Fact]
    public void Dice_is_tversky_per_sample_and_class_over_the_spatial_axes()
    {
        // s = 0, α = β = ½: coeff = I/(I + ½(P − I) + ½(T − I)) = 0.7/0.95 and 0.8/1.05.
        double c0 = 0.7 / 0.95, c1 = 0.8 / 1.05;
        LossResult none = Run("optax.dice_loss", TwoPixels(), ("apply_softmax", false), ("smooth", 0.0), ("reduction", "none"));
        Assert.Equal(new Shape(1, 2), none.Value.Shape);
        T.Close([1 - c0, 1 - c1], none.Value, 1e-15);
        T.Close([1 - (c0 + c1) / 2], Run("optax.dice_loss", TwoPixels(), ("apply_softmax", false), ("smooth", 0.0)).Value, 1e-15);
        // s = 1 (Optax's default): (0.7 + 1)/(0.95 + 1), (0.8 + 1)/(1.05 + 1); class weights (2, 0.5) and a sum over classes.
        LossResult weighted = Run("optax.dice_loss", TwoPixels(), ("apply_softmax", false), ("class_weights", T.D(2, 0.5)), ("reduction", "sum"));
        T.Close([2 * (1 - 1.7 / 1.95) + 0.5 * (1 - 1.8 / 2.05)], weighted.Value, 1e-15);
        // Tversky α = 0.3, β = 0.7: class 0 denominator 0.7 + 0.3·0.2 + 0.7·0.3 = 0.97; class 1: 0.8 + 0.3·0.3 + 0.7·0.2 = 1.03.
        LossResult tversky = Run("optax.dice_loss", TwoPixels(), ("apply_softmax", false), ("smooth", 0.0), ("alpha", 0.3), ("beta", 0.7), ("ignore_background", true));
        T.Close([1 - 0.8 / 1.03], tversky.Value, 1e-15);
    }

    [Fact]
    public void Dice_gradient_flows_through_the_softmax()
    {
        // Logits whose softmax is the probabilities above: the value equals the probability version's, and the gradient is
        // the probability gradient pushed through the softmax Jacobian, p ⊙ (g − Σ p·g) per pixel.
        double[] logits = [Math.Log(0.7), Math.Log(0.3), Math.Log(0.2), Math.Log(0.8)];
        LossResult fromLogits = Run("optax.dice_loss", T.In(("predictions", T.Shaped(logits, 1, 2, 2)), ("targets", T.Shaped(new double[] { 1, 0, 0, 1 }, 1, 2, 2))));
        LossResult fromProbs = Run("optax.dice_loss", TwoPixels(), ("apply_softmax", false));
        T.Close(T.Values(fromProbs.Value), fromLogits.Value, 1e-15);
        double[] gp = T.Values(fromProbs.Gradient("predictions")), p = [0.7, 0.3, 0.2, 0.8];
        for (int px = 0; px < 2; px++)
        {
            double dot = p[2 * px] * gp[2 * px] + p[2 * px + 1] * gp[2 * px + 1];
            for (int j = 0; j < 2; j++) T.Close(p[2 * px + j] * (gp[2 * px + j] - dot), fromLogits.Gradient("predictions").GetDouble(2 * px + j), 1e-14);
        }
    }

    [Fact]
    public void Binary_dice_adds_a_class_axis_and_gives_one_value_per_sample()
    {
        // (2, 2) probabilities: sample 0 I = 0.8, P = 1, T = 1: 1 − 1.8/2 = 0.1; sample 1 I = 0.5, P = 1, T = 1: 1 − 1.5/2 = 0.25.
        var inputs = T.In(("predictions", T.Shaped(new double[] { 0.8, 0.2, 0.5, 0.5 }, 2, 2)), ("targets", T.Shaped(new double[] { 1, 0, 1, 0 }, 2, 2)));
        LossResult r = Run("binary_dice_loss", inputs, ("apply_sigmoid", false));
        Assert.Equal(new Shape(2), r.Value.Shape);
        T.Close([0.1, 0.25], r.Value, 1e-15);
        T.Close([0.175], Run("binary_dice_loss", inputs, ("apply_sigmoid", false), ("reduction", "mean")).Value, 1e-15);
        var e = Assert.Throws<LossArgumentException>(() => Run("binary_dice_loss", T.In(("predictions", T.D(0.5, 1.5)), ("targets", T.D(1, 0))), ("apply_sigmoid", false)));
        Assert.Contains("predictions[1] = 1.5", e.Message);
    }

    [Fact]
    public void Generalized_dice_weights_rare_classes_by_their_inverse_squared_frequency()
    {
        // Three pixels, targets (1, 0), (1, 0), (0, 1): f = (2, 1), u = (1/4, 1) (± 1e-7), w = u/Σu·2 = (0.4, 1.6).
        // Probabilities (0.6, 0.4), (0.9, 0.1), (0.3, 0.7): class 0 I = 1.5, P = 1.8, T = 2; class 1 I = 0.7, P = 1.2, T = 1.
        var inputs = T.In(("predictions", T.Shaped(new double[] { 0.6, 0.4, 0.9, 0.1, 0.3, 0.7 }, 1, 3, 2)), ("targets", T.Shaped(new double[] { 1, 0, 1, 0, 0, 1 }, 1, 3, 2)));
        double u0 = 1 / (4 + 1e-7), u1 = 1 / (1 + 1e-7), w0 = 2 * u0 / (u0 + u1), w1 = 2 * u1 / (u0 + u1);
        double d0 = 1 - (1.5 + 1) / (1.5 + 0.5 * 0.3 + 0.5 * 0.5 + 1), d1 = 1 - (0.7 + 1) / (0.7 + 0.5 * 0.5 + 0.5 * 0.3 + 1);
        T.Close([(w0 * d0 + w1 * d1) / 2], Run("multiclass_generalized_dice_loss", inputs, ("apply_softmax", false)).Value, 2e-15);   // a few roundings apart
        T.Close([w1 * d1], Run("multiclass_generalized_dice_loss", inputs, ("apply_softmax", false), ("ignore_background", true)).Value, 2e-15);
    }

    [Fact]
    public void Bad_inputs_are_typed_errors_naming_what_is_wrong()
    {
        // smooth = 0 and a class with no mass anywhere: 0/0.
        var empty = T.In(("predictions", T.Shaped(new double[] { 1, 0, 1, 0 }, 1, 2, 2)), ("targets", T.Shaped(new double[] { 1, 0, 1, 0 }, 1, 2, 2)));
        var zero = Assert.Throws<LossArgumentException>(() => Run("optax.dice_loss", empty, ("apply_softmax", false), ("smooth", 0.0)));
        Assert.Contains("class 1 of sample 0", zero.Message);
        // Without the softmax the rows must be distributions: Optax's check, with the range of sums found.
        var sums = Assert.Throws<LossArgumentException>(() => Run("optax.dice_loss", T.In(("predictions", T.Shaped(new double[] { 0.5, 0.6, 0.2, 0.8 }, 1, 2, 2)), ("targets", T.Shaped(new double[] { 1, 0, 0, 1 }, 1, 2, 2))), ("apply_softmax", false)));
        Assert.Contains("found sums in [1, 1.1]", sums.Message);
        Assert.Throws<LossArgumentException>(() => Run("optax.dice_loss", TwoPixels(), ("axis", T.D(2))));   // the class axis
        var weights = Assert.Throws<LossArgumentException>(() => Run("optax.dice_loss", TwoPixels(), ("class_weights", T.D(1, 2, 3))));
        Assert.Equal(LossErrorCode.InvalidShape, weights.Code);
        var noClass = Assert.Throws<LossArgumentException>(() => Run("optax.dice_loss", T.In(("predictions", TensorData.Zeros(new Shape(1, 1, 0), DType.Float64)), ("targets", TensorData.Zeros(new Shape(1, 1, 0), DType.Float64)))));
        Assert.Contains("with no class", noClass.Message);
        var shapes = Assert.Throws<LossArgumentException>(() => Run("multiclass_generalized_dice_loss", T.In(("predictions", T.Shaped(new double[4], 2, 2)), ("targets", T.D(1, 0)))));
        Assert.Equal(LossErrorCode.InvalidShape, shapes.Code);
    }
}
