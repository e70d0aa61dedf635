using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>Golden values derived by hand (each comment gives the derivation) for the noisy-label and Optax losses.</summary>
public sealed class BeyondPyTorchGoldenTests
{
    private static double Eval(string loss, LossInputs inputs, params (string, object?)[] options)
        => LossRegistry.Default.Create(loss, options.ToDictionary(o => o.Item1, o => o.Item2)).Evaluate(inputs).Value.GetDouble(0);

    [Theory]
    [InlineData(0L, 2.0)]   // perceptron: max(1, 3, 2) − x_0 = 3 − 1
    [InlineData(1L, 0.0)]   // the label has the top score
    public void Perceptron_is_the_gap_to_the_top_score(long label, double expected)
        => T.Close(expected, Eval("multiclass_perceptron_loss", T.In(("scores", T.D(1, 3, 2)), ("labels", T.Shaped(new[] { label })))), 1e-15);

    [Theory]
    [InlineData(0L, 3.0)]   // max(1 + 0, 3 + 1, 2 + 1) − 1 = 3
    [InlineData(1L, 0.0)]   // max(1 + 1, 3 + 0, 2 + 1) − 3 = 0
    [InlineData(2L, 2.0)]   // max(1 + 1, 3 + 1, 2 + 0) − 2 = 2
    public void Crammer_singer_hinge_has_one_margin_per_row(long label, double expected)
        => T.Close(expected, Eval("multiclass_hinge_loss", T.In(("scores", T.D(1, 3, 2)), ("labels", T.Shaped(new[] { label })))), 1e-15);

    [Fact]
    public void Generalized_cross_entropy_at_q_one_is_one_minus_p_and_tends_to_cross_entropy()
    {
        LossInputs In() => T.In(("input", T.D(0, 0)), ("target", T.Shaped(new[] { 0L })));
        T.Close(0.5, Eval("gce", In(), ("q", 1.0)), 1e-15);                                  // 1 − ½
        T.Close((1 - Math.Sqrt(0.5)) / 0.5, Eval("gce", In(), ("q", 0.5)), 1e-14);          // (1 − ½^½)/½
        T.Close(Math.Log(2), Eval("gce", In(), ("q", 1e-6)), 1e-6);                          // q → 0: −log ½
    }

    [Fact]
    public void Symmetric_cross_entropy_splits_into_ce_and_reverse_ce()
    {
        LossInputs In() => T.In(("input", T.D(0, 0)), ("target", T.Shaped(new[] { 0L })));
        T.Close(Math.Log(2), Eval("sce", In(), ("alpha", 1.0), ("beta", 0.0)), 1e-15);                 // CE = log 2
        T.Close(-Math.Log(1e-4) * 0.5, Eval("sce", In(), ("alpha", 0.0), ("beta", 1.0)), 1e-14);       // RCE = −log(A)(1 − ½)
    }

    [Fact]
    public void Poly_one_adds_epsilon_times_one_minus_pt()
    {
        T.Close(Math.Log(2) + 2 * 0.5, Eval("poly_loss_cross_entropy", T.In(("logits", T.D(0, 0)), ("labels", T.D(1, 0)))), 1e-15);   // CE + ε(1 − p_t)
        // Optax sums ε·t_c(1 − p_c), which is ε(1 − p_t) only for labels summing to 1: labels (1, 1) give
        // 2·log 2 + 2·(½ + ½).
        T.Close(2 * Math.Log(2) + 2, Eval("poly_loss_cross_entropy", T.In(("logits", T.D(0, 0)), ("labels", T.D(1, 1)))), 1e-15);
        // where leaves class 2 out of the softmax and the sums: p = (½, ½), CE = log 2, ε·1·(1 − ½) = 1.
        T.Close(Math.Log(2) + 1, Eval("poly_loss_cross_entropy", T.In(("logits", T.D(0, 0, 5)), ("labels", T.D(1, 0, 1))), ("where", T.D(1, 1, 0))), 1e-15);
        T.Close(0, Eval("poly_loss_cross_entropy", T.In(("logits", T.D(0, 0)), ("labels", T.D(1, 0))), ("where", T.D(0, 0))), 0);   // nothing kept
    }

    [Fact]
    public void Convex_kl_is_the_i_divergence()
    {
        // t = (1, 1), lp = (0, log 2): [1·(0 − 0) + 1 − 1] + [1·(0 − log 2) + 2 − 1] = 1 − log 2.
        T.Close(1 - Math.Log(2), Eval("convex_kl_divergence", T.In(("log_predictions", T.D(0, Math.Log(2))), ("targets", T.D(1, 1)))), 1e-15);
        var e = Assert.Throws<LossArgumentException>(() => Eval("convex_kl_divergence", T.In(("log_predictions", T.D(0, 0)), ("targets", T.D(1, -0.5)))));
        Assert.Contains("-0.5 at position 1", e.Message);
    }

    [Fact]
    public void Sparse_focal_at_gamma_zero_is_weighted_cross_entropy_with_ignore_index()
    {
        var x = T.Shaped(LossSamples.Normal(new Random(4), 20, 2), 4, 5);
        var y = T.I(1, -100, 4, 0);
        var w = T.D(0.5, 2, 1, 1.5, 0.25);
        double ce = LossRegistry.Default.Create("cross_entropy", T.Opt(("weight", w))).Evaluate(T.In(("input", x), ("target", y))).Scalar;
        T.Close(ce, Eval("sparse_categorical_focal_loss", T.In(("input", x), ("target", y)), ("gamma", 0.0), ("weight", w)), 1e-12);
        // γ = 2 on logits (0, 0) with label 0: −(1 − ½)²·log ½ = ¼·log 2.
        T.Close(0.25 * Math.Log(2), Eval("sparse_categorical_focal_loss", T.In(("input", T.D(0, 0)), ("target", T.Shaped(new[] { 0L })))), 1e-15);
    }

    [Fact]
    public void Jensen_shannon_of_disjoint_distributions_is_log_two()
    {
        // p = (1, 0), q = (0, 1): m = (½, ½), JS = ½·log 2 + ½·log 2 = log 2 (its maximum).
        T.Close(Math.Log(2), Eval("js_divergence", T.In(("input", T.D(1, 0)), ("target", T.D(0, 1)))), 1e-15);
        T.Close(0, Eval("js_divergence", T.In(("input", T.D(0.3, 0.7)), ("target", T.D(0.3, 0.7)))), 1e-15);
    }

    [Fact]
    public void Ntxent_matches_the_softmax_over_the_positive_and_the_negatives()
    {
        // x0 = x1 = (1, 0) (label 0), x2 = (0, 1) (label 1), τ = 1: pairs (0, 1) and (1, 0) each −log(e/(e + e⁰));
        // anchor 2 has no positive. Mean over the two pairs = log(1 + e⁻¹).
        var inputs = T.In(("embeddings", T.Shaped(new double[] { 1, 0, 2, 0, 0, 3 }, 3, 2)), ("labels", T.I(0, 0, 1)));
        T.Close(Math.Log(1 + Math.Exp(-1)), Eval("ntxent_loss", inputs, ("temperature", 1.0)), 1e-15);
        T.Close(0, Eval("ntxent_loss", T.In(("embeddings", T.Shaped(new double[] { 1, 0, 0, 1 }, 2, 2)), ("labels", T.I(0, 1)))), 0);   // no positive pairs
    }

    [Fact]
    public void Contrastive_averages_the_nonzero_positive_and_negative_terms_separately()
    {
        // Normalized: x0 = (1, 0), x1 = (0, 1) (label 0), x2 = (1, 0) (label 1). d01 = √2, d02 = 0, d12 = √2.
        // Positives (0,1), (1,0): √2 − 0 each → average √2. Negatives: (0,2), (2,0): 1 − 0 = 1; (1,2), (2,1): max(0, 1 − √2) = 0.
        // AvgNonZero over negatives: 1 (two non-zero terms of 1). Loss = √2 + 1.
        var inputs = T.In(("embeddings", T.Shaped(new double[] { 2, 0, 0, 3, 5, 0 }, 3, 2)), ("labels", T.I(0, 0, 1)));
        T.Close(Math.Sqrt(2) + 1, Eval("contrastive_loss", inputs), 1e-15);
        T.Close(2 * Math.Sqrt(2) + 2, Eval("contrastive_loss", inputs, ("reduction", "sum")), 1e-15);
    }

    [Fact]
    public void Z_loss_adds_s_times_lse_squared_per_counted_row()
    {
        // Logits (0, 0): CE = log 2, lse = log 2; s = 0.5 adds 0.5·(log 2)². The ignored row adds nothing.
        var inputs = T.In(("input", T.Shaped(new double[] { 0, 0, 5, -5 }, 2, 2)), ("target", T.I(0, -100)));
        T.Close(Math.Log(2) + 0.5 * Math.Log(2) * Math.Log(2), Eval("cross_entropy", inputs, ("z_loss", 0.5)), 1e-15);
        var e = Assert.Throws<LossArgumentException>(() => Eval("cross_entropy", inputs, ("z_loss", -1.0)));
        Assert.Contains("z_loss", e.Message);
    }

    [Fact]
    public void Bce_label_smoothing_equals_keras_binary_crossentropy_from_logits()
    {
        double[] x = LossSamples.Normal(new Random(6), 12, 3), y = [.. Enumerable.Range(0, 12).Select(i => (double)(i % 2))];
        double torch = Eval("binary_cross_entropy_with_logits", T.In(("input", T.Shaped(x, 3, 4)), ("target", T.Shaped(y, 3, 4))), ("label_smoothing", 0.2));
        double keras = Eval("keras.binary_crossentropy", T.In(("y_true", T.Shaped(y, 3, 4)), ("y_pred", T.Shaped(x, 3, 4))), ("from_logits", true), ("label_smoothing", 0.2));
        T.Close(keras, torch, 1e-13);
    }

    [Fact]
    public void Labels_out_of_range_name_the_input_and_the_position()
    {
        var e = Assert.Throws<LossArgumentException>(() => Eval("multiclass_hinge_loss", T.In(("scores", T.Shaped(new double[] { 1, 2, 3, 4 }, 2, 2)), ("labels", T.I(0, 2)))));
        Assert.Equal("CrammerSingerHinge: labels 2 at position 1 is out of range: class indices must be in [0, 1]", e.Message);
    }
}
