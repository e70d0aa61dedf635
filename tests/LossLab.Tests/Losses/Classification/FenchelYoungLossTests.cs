using LossLab.Autograd;
using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>
/// Optax's <c>make_fenchel_young_loss</c>: golden values (mpmath at 40 digits of max_Ω(s) − ⟨t, s⟩ for the three
/// built-in max functions), the catalog losses it equals on one-hot targets, precision at large scores, and max
/// functions written with autograd.
/// </summary>
public sealed class FenchelYoungLossTests
{
    private static readonly TensorData Scores = T.Shaped([1, 2, 0.5, -1, 0, 3, 0.3, 0.1, 0.2], 3, 3);
    private static readonly TensorData Targets = T.Shaped([0.2, 0.5, 0.3, 0, 0, 1, 1, 0, 0], 3, 3);

    private static LossResult Run(string maxFun, TensorData scores, TensorData targets, string reduction = "none")
        => LossRegistry.Default.Create("optax.make_fenchel_young_loss", T.Opt(("max_fun", maxFun), ("reduction", reduction)))
            .Evaluate(T.In(("scores", scores), ("targets", targets)));

    [Fact]
    public void Values_and_gradients_match_mpmath_for_each_max_function()
    {
        LossResult lse = Run("logsumexp", Scores, Targets);
        T.Close([1.1143687841079448, 0.065883903757429168, 1.0019428482292441], lse.Value, 1e-15);
        // ∂ℓ/∂s = softmax(s) − t; ∂ℓ/∂t = −s.
        T.Close([0.23122389762214907 - 0.2, 0.62853171921176245 - 0.5, 0.14024438316608848 - 0.3,
                 0.01714782554552039, 0.046612622577973891, 0.93623955187650572 - 1,
                 0.36716540111092546 - 1, 0.30060960535572729, 0.33222499353334725], lse.Gradient("scores"), 1e-14, 1e-16);
        T.Close([-1, -2, -0.5, 1, 0, -3, -0.3, -0.1, -0.2], lse.Gradient("targets"), 0);

        LossResult sparse = Run("sparsemax", Scores, Targets);
        T.Close([0.65, 0, 0.24333333333333334], sparse.Value, 1e-15, 1e-16);
        T.Close([-0.2, 0.5, -0.3, 0, 0, 0, 0.43333333333333332 - 1, 0.23333333333333334, 0.33333333333333334], sparse.Gradient("scores"), 1e-14, 1e-16);

        LossResult max = Run("max", Scores, Targets);
        T.Close([0.65, 0, 0], max.Value, 1e-15, 1e-16);
        T.Close([-0.2, 0.5, -0.3, 0, 0, 0, 0, 0, 0], max.Gradient("scores"), 0);
    }

    [Theory]
    [InlineData("logsumexp", "optax.softmax_cross_entropy", "logits", "labels")]
    [InlineData("sparsemax", "multiclass_sparsemax_loss", "scores", "labels")]
    [InlineData("max", "multiclass_perceptron_loss", "scores", "labels")]
    public void On_one_hot_targets_it_is_the_loss_of_its_max_function(string maxFun, string loss, string x, string y)
    {
        var r = new Random(7);
        int n = 6, c = 5;
        var scores = new double[n * c];
        for (int i = 0; i < scores.Length; i++) scores[i] = 3 * (r.NextDouble() - 0.5);
        long[] labels = [.. Enumerable.Range(0, n).Select(_ => (long)r.Next(c))];
        var oneHot = new double[n * c];
        for (int i = 0; i < n; i++) oneHot[i * c + labels[i]] = 1;
        LossResult fy = Run(maxFun, T.Shaped(scores, n, c), T.Shaped(oneHot, n, c), "mean");
        TensorData target = loss == "optax.softmax_cross_entropy" ? T.Shaped(oneHot, n, c) : T.Shaped(labels, n);
        LossResult reference = LossRegistry.Default.Create(loss, T.Opt(("reduction", "mean")))
            .Evaluate(T.In((x, T.Shaped(scores, n, c)), (y, target)));
        T.Close(reference.Value.GetDouble(0), fy.Value.GetDouble(0), 1e-14);
        T.Close(T.Values(reference.Gradient(x)), fy.Gradient("scores"), 1e-13, 1e-16);
    }

    [Theory]
    [InlineData("logsumexp")]
    [InlineData("sparsemax")]
    [InlineData("max")]
    public void Large_scores_do_not_cancel(string maxFun)
    {
        // The loss is shift-invariant for targets on the simplex: adding 1e8 to every score changes nothing, where the
        // unshifted difference max_Ω(s) − ⟨t, s⟩ would keep about 8 of its 16 digits.
        // Dyadic scores, so that s + 1e8 is exact and only the loss's own arithmetic could differ.
        TensorData scores = T.Shaped([1, 2, 0.5, -1, 0, 3, 0.375, 0.125, 0.25], 3, 3);
        LossResult small = Run(maxFun, scores, Targets);
        double[] big = [.. T.Values(scores).Select(v => v + 1e8)];
        LossResult large = Run(maxFun, T.Shaped(big, 3, 3), Targets);
        T.Close(T.Values(small.Value), large.Value, 1e-15, 1e-16);
        T.Close(T.Values(small.Gradient("scores")), large.Gradient("scores"), 1e-15, 1e-16);
        LossResult single = Run(maxFun, T.Shaped(big.Select(v => (float)v).ToArray(), 3, 3), T.Shaped(T.Values(Targets).Select(v => (float)v).ToArray(), 3, 3));
        Assert.Equal(DType.Float32, single.Value.DType);
        Assert.All(T.Values(single.Value), v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void A_max_function_written_with_autograd_gives_the_built_in_result()
    {
        var fromAutograd = new FenchelYoungLoss(MaxFunctions.FromAutograd("lse", s => Ops.LogSumExp(s)), Reduction.Sum);
        LossResult a = fromAutograd.Evaluate(T.In(("scores", Scores), ("targets", Targets)));
        LossResult b = Run("logsumexp", Scores, Targets, "sum");
        T.Close(b.Value.GetDouble(0), a.Value.GetDouble(0), 1e-15);
        T.Close(T.Values(b.Gradient("scores")), a.Gradient("scores"), 1e-14, 1e-17);
        T.Close(T.Values(b.Gradient("targets")), a.Gradient("targets"), 0);
    }

    [Fact]
    public void A_max_function_that_is_not_shift_equivariant_is_evaluated_as_given()
    {
        // Ω(p) = ½‖p‖² on all of Rᶜ: max_Ω(s) = ½‖s‖², ŷ = s, so ℓ = ½‖s‖² − ⟨t, s⟩ and ∂ℓ/∂s = s − t.
        var loss = new FenchelYoungLoss(MaxFunctions.FromAutograd("half_sq", s => Ops.Sum(s * s) * Tensor.Scalar(0.5)));
        LossResult r = loss.Evaluate(T.In(("scores", T.D(3, -1)), ("targets", T.D(1, 0))));
        T.Close(0.5 * 10 - 3, r.Value.GetDouble(0), 1e-15);
        T.Close([2, -1], r.Gradient("scores"), 1e-15);
        // Leading axes are rows: (2, 1, 2) scores give a (2, 1) loss.
        LossResult rows = loss.Evaluate(T.In(("scores", T.Shaped([3.0, -1, 1, 1], 2, 1, 2)), ("targets", T.Shaped([1.0, 0, 0, 0], 2, 1, 2))));
        Assert.Equal(new Shape(2, 1), rows.Value.Shape);
        T.Close([2, 1], rows.Value, 1e-15);
    }

    [Fact]
    public void Bad_input_is_a_typed_error_naming_it()
    {
        var scalar = Assert.Throws<LossArgumentException>(() => Run("logsumexp", T.Shaped([1.0], []), T.Shaped([1.0], [])));
        Assert.Contains("class axis", scalar.Message);
        var mismatch = Assert.Throws<LossArgumentException>(() => Run("logsumexp", Scores, T.Shaped(new double[6], 3, 2)));
        Assert.Equal(LossErrorCode.InvalidShape, mismatch.Code);
        var empty = Assert.Throws<LossArgumentException>(() => Run("logsumexp", T.Shaped(Array.Empty<double>(), 2, 0), T.Shaped(Array.Empty<double>(), 2, 0)));
        Assert.Contains("at least one class", empty.Message);
        var unknown = Assert.Throws<LossArgumentException>(() => Run("softmax", Scores, Targets));
        Assert.Equal(LossErrorCode.UnsupportedOption, unknown.Code);
        var nonScalar = new FenchelYoungLoss(MaxFunctions.FromAutograd("identity", s => s));
        var shape = Assert.Throws<LossArgumentException>(() => nonScalar.Evaluate(T.In(("scores", Scores), ("targets", Targets))));
        Assert.Contains("'identity' must map a row of scores (3) to a scalar", shape.Message);
        var infinite = new FenchelYoungLoss(MaxFunctions.FromAutograd("log0", s => Ops.Log(Ops.Sum(s) * Tensor.Scalar(0))));
        var nan = Assert.Throws<LossArgumentException>(() => infinite.Evaluate(T.In(("scores", Scores), ("targets", Targets))));
        Assert.Contains("row 0", nan.Message);
        // No rows: an empty loss, not an error.
        Assert.Equal(0, Run("logsumexp", T.Shaped(Array.Empty<double>(), 0, 3), T.Shaped(Array.Empty<double>(), 0, 3)).Value.Length);
    }
}
