using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>
/// Golden values for Optax's binary, cosine, sparsemax and ranking losses. Sources: Optax's own docstring examples and
/// tests (named where used), exact rational arithmetic (Python fractions) for the piecewise-polynomial losses, and
/// mpmath at 40 digits for the rest.
/// </summary>
public sealed class OptaxGoldenTests
{
    private static LossResult Run(string loss, LossInputs inputs, params (string, object?)[] options)
        => LossRegistry.Default.Create(loss, options.ToDictionary(o => o.Item1, o => o.Item2)).Evaluate(inputs);

    [Fact]
    public void Hinge_and_perceptron_match_optax_gradient_test()
    {
        // optax _classification_test: pred (−0.5, 2), targ (1, −1): hinge 1.5 and 3, gradient −targ; perceptron 0.5 and 2.
        LossResult h = Run("hinge_loss", T.In(("predictor_outputs", T.D(-0.5, 2)), ("targets", T.D(1, -1))));
        T.Close([1.5, 3], h.Value, 0);
        T.Close([-1, 1], h.Gradient("predictor_outputs"), 0);
        Assert.False(h.Gradients.ContainsKey("targets"));
        LossResult p = Run("perceptron_loss", T.In(("predictor_outputs", T.D(-0.5, 2, 3, 0)), ("targets", T.D(1, -1, 1, 1))));
        T.Close([0.5, 2, 0, 0], p.Value, 0);
        T.Close([-1, 1, 0, 0], p.Gradient("predictor_outputs"), 0);   // 0 at s = 0, the kink
        // Past the margin the hinge is 0 with a zero gradient; exactly at it (s·t = 1) too.
        LossResult edge = Run("hinge_loss", T.In(("predictor_outputs", T.D(1, 1.5)), ("targets", T.D(1, 1))));
        T.Close([0, 0], edge.Value, 0);
        T.Close([0, 0], edge.Gradient("predictor_outputs"), 0);
    }

    [Fact]
    public void Sparsemax_loss_is_sparse_plus_of_the_signed_logit()
    {
        // z = −x for label 1, x for label 0: (0.5, 1) → z −0.5: ¼·0.25 = 1/16; (0.5, 0) → z 0.5: ¼·2.25 = 9/16;
        // (3, 0) → z 3 ≥ 1: 3; (3, 1) → z −3 ≤ −1: 0; (10, 1), (20, 0) as optax's test: 0 and 20.
        LossResult r = Run("sparsemax_loss", T.In(("logits", T.D(0.5, 0.5, 3, 3, 10, 20)), ("labels", T.D(1, 0, 0, 1, 1, 0))), ("reduction", "none"));
        T.Close([1.0 / 16, 9.0 / 16, 3, 0, 0, 20], r.Value, 1e-15);
        // ∂ℓ/∂x = clip((x + 1)/2, 0, 1) − y: ¾ − 1, ¾, 1, 0, 0, 1.
        T.Close([-0.25, 0.75, 1, 0, 0, 1], r.Gradient("logits"), 1e-15);
    }

    [Fact]
    public void L2_loss_is_half_the_squared_error()
    {
        LossResult r = Run("l2_loss", T.In(("predictions", T.D(3, -1)), ("targets", T.D(1, 1))), ("reduction", "sum"));
        T.Close(4, r.Value.GetDouble(0), 0);   // ½·4 + ½·4
        T.Close([2, -2], r.Gradient("predictions"), 0);
        T.Close([-2, 2], r.Gradient("targets"), 0);
    }

    [Fact]
    public void Log_cosh_keeps_its_relative_accuracy_for_tiny_errors()
    {
        // log cosh d = d²/2 − d⁴/12 + …: at d = 1e-8, 5e-17 to 16 digits; at 1e-5, 4.9999999999166667e-11 and at 1,
        // 0.4337808304830272 (mpmath); at 800, 800 − log 2 (cosh overflows double there). No absolute slack: with the
        // default 1e-9 this test let through .NET's LogP1 (log(1 + x): 0 at 1e-8, 5.0000004e-11 at 1e-5) and a golden
        // value at 1 with wrong digits (0.43378083004874476).
        LossResult r = Run("optax.log_cosh", T.In(("predictions", T.D(1e-8, 1e-5, 1, 800)), ("targets", T.D(0, 0, 0, 0))));
        T.Close([5e-17, 4.9999999999166667e-11, 0.4337808304830272, 800 - Math.Log(2)], r.Value, 5e-16, 0);   // within 2 ulp
        T.Close([Math.Tanh(1e-8), Math.Tanh(1e-5), Math.Tanh(1), 1], r.Gradient("predictions"), 1e-15, 0);
        // Keras's log_cosh is its mean over the last axis.
        var p = T.Shaped(LossSamples.Normal(new Random(8), 6, 2), 2, 3);
        var y = T.Shaped(LossSamples.Normal(new Random(9), 6, 2), 2, 3);
        T.Close(Run("keras.log_cosh", T.In(("y_true", y), ("y_pred", p))).Value.GetDouble(0),
            Run("optax.log_cosh", T.In(("predictions", p), ("targets", y)), ("reduction", "mean")).Value.GetDouble(0), 1e-14);
    }

    [Fact]
    public void Safe_softmax_cross_entropy_takes_minus_infinity_logits_with_zero_labels()
    {
        // Logits (0, 0, −∞), labels (½, ½, 0): the softmax is (½, ½, 0) and the loss log 2; the −∞ class adds 0.
        var logits = T.D(0, 0, double.NegativeInfinity);
        LossResult r = Run("safe_softmax_cross_entropy", T.In(("logits", logits), ("labels", T.D(0.5, 0.5, 0))));
        T.Close(Math.Log(2), r.Value.GetDouble(0), 1e-15);
        T.Close([0, 0, 0], r.Gradient("logits"), 1e-15);                      // S·p − t = (½ − ½, ½ − ½, 0 − 0)
        T.Close([Math.Log(2), Math.Log(2), double.PositiveInfinity], r.Gradient("labels"), 1e-15);   // −log p
        // For finite logits it is PyTorch's cross_entropy with probability targets, per row.
        var x = T.Shaped(LossSamples.Normal(new Random(4), 12, 2), 3, 4);
        var y = T.Shaped(KerasSamples.SimplexRows(new Random(5), 12), 3, 4);
        T.Close(T.Values(Run("cross_entropy", T.In(("input", x), ("target", y)), ("reduction", "none")).Value),
            Run("optax.softmax_cross_entropy", T.In(("logits", x), ("labels", y))).Value, 1e-14);
        // where leaves class 2 out: the same row as the −∞ logit.
        T.Close(Math.Log(2), Run("optax.softmax_cross_entropy", T.In(("logits", T.D(0, 0, 7)), ("labels", T.D(0.5, 0.5, 1))), ("where", T.D(1, 1, 0))).Value.GetDouble(0), 1e-15);
        var inf = Assert.Throws<LossArgumentException>(() => Run("safe_softmax_cross_entropy", T.In(("logits", logits), ("labels", T.D(0.5, 0.25, 0.25)))));
        Assert.Contains("labels[2] = 0.25 is positive but its logit is −∞", inf.Message);
        Assert.Throws<LossArgumentException>(() => Run("safe_softmax_cross_entropy", T.In(("logits", T.D(double.NegativeInfinity, double.NegativeInfinity)), ("labels", T.D(0, 0)))));
    }

    [Fact]
    public void Cosine_similarity_and_distance_with_and_without_the_clip()
    {
        // a = (1, 2, −2), b = (3, 0, 4): a·b = −5, ‖a‖ = 3, ‖b‖ = 5, c = −1/3; ∂c/∂a = b/15 − c·a/9 (mpmath).
        LossInputs In() => T.In(("predictions", T.D(1, 2, -2)), ("targets", T.D(3, 0, 4)));
        LossResult s = Run("optax.cosine_similarity", In());
        T.Close(-1.0 / 3, s.Value.GetDouble(0), 1e-15);
        T.Close([0.23703703703703703704, 0.074074074074074074074, 0.19259259259259259259], s.Gradient("predictions"), 1e-15);
        LossResult d = Run("cosine_distance", In());
        T.Close(4.0 / 3, d.Value.GetDouble(0), 1e-15);
        T.Close([-0.23703703703703703704, -0.074074074074074074074, -0.19259259259259259259], d.Gradient("predictions"), 1e-15);
        // ε = 16 clips ‖a‖² = 9 to 16 (n_a = 4) but not ‖b‖² = 25: c = −5/20; ∂c/∂a = b/20 (n_a is constant),
        // ∂c/∂b = a/20 − c·b/25.
        LossResult clipped = Run("cosine_similarity", In(), ("epsilon", 16.0));
        T.Close(-0.25, clipped.Value.GetDouble(0), 1e-15);
        T.Close([0.15, 0, 0.2], clipped.Gradient("predictions"), 1e-15);
        T.Close([0.08, 0.1, -0.06], clipped.Gradient("targets"), 1e-15);
    }

    [Fact]
    public void Cosine_where_leaves_components_out_of_the_dot_product_and_the_norms()
    {
        // Masking the last component of a = (1, 2, −2), b = (3, 0, 4) leaves (1, 2)·(3, 0) = 3 over √5·3: c = 1/√5.
        LossResult r = Run("cosine_similarity", T.In(("predictions", T.D(1, 2, -2)), ("targets", T.D(3, 0, 4))), ("where", T.D(1, 1, 0)));
        T.Close(1 / Math.Sqrt(5), r.Value.GetDouble(0), 1e-15);
        Assert.Equal(0, r.Gradient("predictions").GetDouble(2));
        Assert.Equal(0, r.Gradient("targets").GetDouble(2));
    }

    [Fact]
    public void Cosine_of_a_zero_row_at_epsilon_zero_is_an_error_naming_the_row()
    {
        var e = Assert.Throws<LossArgumentException>(() => Run("cosine_distance", T.In(("predictions", T.Shaped(new double[] { 1, 2, 0, 0 }, 2, 2)), ("targets", T.Shaped(new double[] { 1, 1, 1, 1 }, 2, 2)))));
        Assert.Contains("row 1 of 'predictions' is zero", e.Message);
        Assert.Throws<LossArgumentException>(() => Run("cosine_distance", T.In(("predictions", T.D(1)), ("targets", T.D(1))), ("epsilon", -1.0)));
        // With ε > 0 the zero row is fine: c = 0, and the gradient b/(√ε·‖b‖).
        LossResult r = Run("cosine_distance", T.In(("predictions", T.D(0, 0)), ("targets", T.D(3, 4))), ("epsilon", 0.25));
        T.Close(1, r.Value.GetDouble(0), 0);
        T.Close([-0.6 / 0.5, -0.8 / 0.5], r.Gradient("predictions"), 1e-15);
    }

    [Fact]
    public void Multiclass_sparsemax_matches_exact_rational_values()
    {
        // Fractions: rows (½, −¼, ¾, 0) label 1 → 73/64, gradient (3/8, −1, 5/8, 0); (2, 0.1, −1.5, 1.9) label 3 →
        // 121/400, gradient (11/20, 0, 0, −11/20); (0, 0, 0, 0) label 2 → 3/8, gradient (¼, ¼, −¾, ¼).
        var scores = T.Shaped(new double[] { 0.5, -0.25, 0.75, 0, 2, 0.1, -1.5, 1.9, 0, 0, 0, 0 }, 3, 4);
        LossResult r = Run("multiclass_sparsemax_loss", T.In(("scores", scores), ("labels", T.I(1, 3, 2))));
        T.Close([73.0 / 64, 121.0 / 400, 3.0 / 8], r.Value, 1e-15);
        T.Close([0.375, -1, 0.625, 0, 0.55, 0, 0, -0.55, 0.25, 0.25, -0.75, 0.25], r.Gradient("scores"), 1e-14);
        // optax's zero-loss test: a margin of 1e5 makes sparsemax the one-hot label, so the loss and gradient are 0.
        var confident = T.Shaped(new double[] { 0, 1e5, 0, 1e5, 0, 0, 0, 0, 1e5 }, 3, 3);
        LossResult z = Run("multiclass_sparsemax_loss", T.In(("scores", confident), ("labels", T.I(1, 0, 2))), ("reduction", "mean"));
        T.Close(0, z.Value.GetDouble(0), 0);
        Assert.All(T.Values(z.Gradient("scores")), g => Assert.Equal(0, g));
    }

    [Fact]
    public void Ranking_softmax_matches_the_optax_docstring()
    {
        // optax.losses ranking docstring: 1.408 and gradient (−0.755, 0.09, 0.665); mpmath to 20 digits.
        LossResult r = Run("ranking_softmax_loss", T.In(("logits", T.D(2, 1, 3)), ("labels", T.D(1, 0, 0))));
        T.Close(1.4076059644443803045, r.Value.GetDouble(0), 1e-15);
        T.Close([-0.75527152894520234753, 0.090030573170380457998, 0.66524095577482188953], r.Gradient("logits"), 1e-15);
        T.Close([1.4076059644443803045, 2.4076059644443803045, 0.40760596444438030448], r.Gradient("labels"), 1e-15);
        // The masked docstring example: 0.497 (mpmath 0.49676567907997870495).
        var logits = T.Shaped(new double[] { 2, 1, 0, 1, 0.5, 1.5 }, 2, 3);
        var labels = T.Shaped(new double[] { 1, 0, 0, 0, 0, 1 }, 2, 3);
        var where = T.Shaped(new double[] { 1, 1, 0, 1, 1, 1 }, 2, 3);
        T.Close(0.49676567907997870495, Run("ranking_softmax_loss", T.In(("logits", logits), ("labels", labels)), ("where", where)).Value.GetDouble(0), 1e-15);
        // Soft labels that do not sum to 1: ∂ℓ/∂s = (Σy)·p − y (mpmath).
        LossResult soft = Run("ranking_softmax_loss", T.In(("logits", T.D(0.5, -1, 2, 0.25)), ("labels", T.D(2, 0, 0.5, 1))));
        T.Close(6.0424764945688870035, soft.Value.GetDouble(0), 1e-15);
        T.Close([-1.4601781115054322929, 0.12045054443142072218, 1.9193138575953576383, -0.57958629052134606763], soft.Gradient("logits"), 1e-14);
    }

    [Fact]
    public void Ranking_lists_without_a_valid_item_count_as_zero_and_leave_the_mean()
    {
        var logits = T.Shaped(new double[] { 2, 1, 3, 5, 6, 7 }, 2, 3);
        var labels = T.Shaped(new double[] { 1, 0, 0, 1, 1, 1 }, 2, 3);
        var where = T.Shaped(new double[] { 1, 1, 1, 0, 0, 0 }, 2, 3);
        LossResult mean = Run("ranking_softmax_loss", T.In(("logits", logits), ("labels", labels)), ("where", where));
        T.Close(1.4076059644443803045, mean.Value.GetDouble(0), 1e-15);   // the first list alone
        Assert.All(T.Values(mean.Gradient("logits")).Skip(3), g => Assert.Equal(0, g));
        LossResult none = Run("ranking_softmax_loss", T.In(("logits", logits), ("labels", labels)), ("where", where), ("reduction", "none"));
        Assert.Equal(0, none.Value.GetDouble(1));
        // Every list masked: Optax's safe mean gives 0, not 0/0.
        var nothing = T.Shaped(new double[6], 2, 3);
        LossResult empty = Run("ranking_softmax_loss", T.In(("logits", logits), ("labels", labels)), ("where", nothing));
        Assert.Equal(0, empty.Value.GetDouble(0));
        Assert.All(T.Values(empty.Gradient("logits")), g => Assert.Equal(0, g));
    }

    [Fact]
    public void Optax_triplet_adds_eps_once_under_the_root()
    {
        // optax.losses.triplet_margin_loss docstring: [0.1414, 0.1414]; exactly √(0.02 + 1e-6) − √(1 + 1e-6) + 1.
        var anchors = T.Shaped(new double[] { 0, 0, 1, 1 }, 2, 2);
        var positives = T.Shaped(new double[] { 0.1, 0.1, 1.1, 1.1 }, 2, 2);
        var negatives = T.Shaped(new double[] { 1, 0, 0, 1 }, 2, 2);
        LossResult r = Run("optax.triplet_margin_loss", T.In(("anchors", anchors), ("positives", positives), ("negatives", negatives)));
        double expected = Math.Sqrt(0.02 + 1e-6) - Math.Sqrt(1 + 1e-6) + 1;
        T.Close([expected, expected], r.Value, 1e-15);
        // ∂ℓ/∂p = −(a − p)/d(a, p): (0.1, 0.1)/√(0.020001) in each component of the first row.
        T.Close(0.1 / Math.Sqrt(0.02 + 1e-6), r.Gradient("positives").GetDouble(0), 1e-15);
        // Degree 1 is the L1 distance plus eps: |−0.1| + |−0.1| + 1e-6 − (1 + 0 + 1e-6) + 1 = 0.2.
        T.Close(0.2, Run("optax.triplet_margin_loss", T.In(("anchors", anchors), ("positives", positives), ("negatives", negatives)), ("norm_degree", 1.0)).Value.GetDouble(0), 1e-14);
        Assert.Throws<LossArgumentException>(() => Run("optax.triplet_margin_loss", T.In(("anchors", anchors), ("positives", positives), ("negatives", negatives)), ("norm_degree", 0.5)));
    }

    [Fact]
    public void Optax_kl_divergences_sum_each_row_and_honor_where()
    {
        // t = (½, ½), q = (¼, ¾): KL = ½·log 2 + ½·log(2/3); with both sides in log space, the same.
        double expected = 0.5 * Math.Log(2) + 0.5 * Math.Log(2.0 / 3);
        var lp = T.D(Math.Log(0.25), Math.Log(0.75));
        T.Close(expected, Run("optax.kl_divergence", T.In(("log_predictions", lp), ("targets", T.D(0.5, 0.5)))).Value.GetDouble(0), 1e-15);
        T.Close(expected, Run("kl_divergence_with_log_targets", T.In(("log_predictions", lp), ("log_targets", T.D(Math.Log(0.5), Math.Log(0.5))))).Value.GetDouble(0), 1e-15);
        // where leaves the second element out: ½·log 2, and no gradient for it.
        LossResult masked = Run("optax.kl_divergence", T.In(("log_predictions", lp), ("targets", T.D(0.5, 0.5))), ("where", T.D(1, 0)));
        T.Close(0.5 * Math.Log(2), masked.Value.GetDouble(0), 1e-15);
        T.Close([-0.5, 0], masked.Gradient("log_predictions"), 0);
        // Per row, so the mean over (N, K) rows is PyTorch's kl_div with batchmean.
        var x = T.Shaped(LossSamples.LogProbs(new Random(2), 12), 3, 4);
        var t = T.Shaped(KerasSamples.SimplexRows(new Random(3), 12), 3, 4);
        T.Close(Run("kl_div", T.In(("input", x), ("target", t)), ("reduction", "batchmean")).Value.GetDouble(0),
            Run("optax.kl_divergence", T.In(("log_predictions", x), ("targets", t)), ("reduction", "mean")).Value.GetDouble(0), 1e-14);
        // A zero target: its term is 0 and its gradient the limit −∞ (as kl_div's).
        LossResult zero = Run("optax.kl_divergence", T.In(("log_predictions", lp), ("targets", T.D(0, 1))));
        Assert.Equal(double.NegativeInfinity, zero.Gradient("targets").GetDouble(0));
        var e = Assert.Throws<LossArgumentException>(() => Run("optax.kl_divergence", T.In(("log_predictions", lp), ("targets", T.D(1.5, -0.5)))));
        Assert.Contains("-0.5 at position 1", e.Message);
    }

    [Fact]
    public void Fixmatch_trains_the_strong_view_on_the_confident_weak_pseudo_labels()
    {
        // Labeled (0, 0) with label 0: CE = log 2. Weak rows (5, 0): p = 0.9933 ≥ 0.95, pseudo-label 0; (0, 0): p = ½,
        // left out. Strong row 0 (0, log 3): CE against class 0 = log 4, over U = 2: log 2. Total 2·log 2.
        LossInputs In() => T.In(("labeled_logits", T.D2(new double[,] { { 0, 0 } })), ("labeled_labels", T.I(0)),
            ("unlabeled_weak_logits", T.D2(new double[,] { { 5, 0 }, { 0, 0 } })), ("unlabeled_strong_logits", T.D2(new double[,] { { 0, Math.Log(3) }, { 2, -1 } })));
        LossResult r = Run("fixmatch_loss", In());
        T.Close(2 * Math.Log(2), r.Value.GetDouble(0), 1e-15);
        T.Close([-0.375, 0.375, 0, 0], r.Gradient("unlabeled_strong_logits"), 1e-15);   // (softmax − onehot)/U; row 1 masked
        T.Close([-0.5, 0.5], r.Gradient("labeled_logits"), 1e-15);
        Assert.False(r.Gradients.ContainsKey("unlabeled_weak_logits"));
        T.Close([Math.Log(2), Math.Log(4), 0], Run("fixmatch_loss", In(), ("reduction", "none")).Value, 1e-15);
        // τ = 0.999 leaves row 0 out too: only the labeled part.
        T.Close(Math.Log(2), Run("fixmatch_loss", In(), ("confidence_threshold", 0.999)).Value.GetDouble(0), 1e-15);
    }

    [Fact]
    public void Mixmatch_adds_lambda_times_the_brier_score_of_the_unlabeled_softmax()
    {
        // Labeled (0, 0) with soft labels (½, ½): CE = log 2. Unlabeled (0, 0) against (1, 0): p = (½, ½), Σ(p − q)² = ½,
        // times λ = 100 over U = 1: 50. ∂/∂z = λ·p(g − Σp·g), g = 2(p − q) = (−1, 1), Σ p·g = 0: (−50, 50).
        LossResult r = Run("mixmatch_loss", T.In(("labeled_logits", T.D2(new double[,] { { 0, 0 } })), ("labeled_labels", T.D2(new double[,] { { 0.5, 0.5 } })),
            ("unlabeled_logits", T.D2(new double[,] { { 0, 0 } })), ("unlabeled_targets", T.D2(new double[,] { { 1, 0 } }))));
        T.Close(Math.Log(2) + 50, r.Value.GetDouble(0), 1e-15);
        T.Close([-50, 50], r.Gradient("unlabeled_logits"), 1e-13);
        T.Close([Math.Log(2), Math.Log(2)], r.Gradient("labeled_labels"), 1e-15);   // −log p
        var e = Assert.Throws<LossArgumentException>(() => Run("mixmatch_loss", T.In(("labeled_logits", T.D2(new double[,] { { 0, 0 } })), ("labeled_labels", T.I(0)),
            ("unlabeled_logits", T.D2(new double[,] { { 0, 0, 0 } })), ("unlabeled_targets", T.D2(new double[,] { { 1, 0, 0 } })))));
        Assert.Equal(LossErrorCode.InvalidShape, e.Code);
        Assert.Contains("expected (U, 2)", e.Message);
    }

    [Theory]
    [InlineData("hinge_loss", "predictor_outputs", "targets", 0.0, "HingeLoss: 'targets' holds labels −1 or +1; targets[1] = 0")]
    [InlineData("perceptron_loss", "predictor_outputs", "targets", 0.5, "PerceptronLoss: 'targets' holds labels −1 or +1; targets[1] = 0.5")]
    [InlineData("sparsemax_loss", "logits", "labels", -1.0, "SparsemaxLoss: 'labels' holds labels 0 or 1; labels[1] = -1")]
    public void Binary_labels_outside_their_set_are_named(string loss, string x, string y, double bad, string message)
    {
        double good = loss == "sparsemax_loss" ? 0 : 1;
        var e = Assert.Throws<LossArgumentException>(() => Run(loss, T.In((x, T.D(0.3, 0.4)), (y, T.D(good, bad)))));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void Ranking_where_must_be_a_zero_one_mask_of_the_logits_shape()
    {
        LossInputs In() => T.In(("logits", T.D(1, 2, 3)), ("labels", T.D(1, 0, 0)));
        var e = Assert.Throws<LossArgumentException>(() => Run("ranking_softmax_loss", In(), ("where", T.D(1, 0.5, 1))));
        Assert.Contains("where[1] = 0.5", e.Message);
        var s = Assert.Throws<LossArgumentException>(() => Run("ranking_softmax_loss", In(), ("weights", T.D(1, 1))));
        Assert.Equal(LossErrorCode.InvalidShape, s.Code);
    }
}
