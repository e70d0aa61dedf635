using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.Embedding;

/// <summary>
/// open_clip's ClipLoss and SigLipLoss on batches whose logits are known by hand, their relations to the catalog's
/// in-batch-negatives and logistic losses, and their shape errors.
/// </summary>
public sealed class ImageTextLossTests
{
    private static TensorData Eye2 => T.D2(new double[,] { { 1, 0 }, { 0, 1 } });

    private static LossInputs Pairs(TensorData images, TensorData texts, double scale, double? bias = null)
    {
        LossInputs i = T.In(("image_features", images), ("text_features", texts), ("logit_scale", T.Shaped(new[] { scale })));
        return bias is double b ? i.Add("logit_bias", T.D(b)) : i;
    }

    [Fact]
    public void Clip_on_matched_unit_pairs_is_the_log_of_one_plus_e_to_the_minus_scale()
    {
        // L = s·I: each row and each column is (s, 0) around its diagonal, so both cross-entropies are log(1 + e^{−s});
        // s = ln 3 gives log(4/3). Softmax rows (3/4, 1/4): G = ¼·[(P − δ) + (Q − δ)] = ∓1/8 on and off the diagonal.
        double s = Math.Log(3);
        LossResult r = LossRegistry.Default.Create("clip_loss").Evaluate(Pairs(Eye2, Eye2, s));
        T.Close(Math.Log(4.0 / 3), r.Scalar, rel: 1e-15);
        T.Close([-s / 8, s / 8, s / 8, -s / 8], r.Gradient("image_features"), rel: 1e-15);
        T.Close([-s / 8, s / 8, s / 8, -s / 8], r.Gradient("text_features"), rel: 1e-15);
        // d/ds log(1 + e^{−s}) = −1/(1 + e^{s}) = −1/4.
        T.Close([-0.25], r.Gradient("logit_scale"), rel: 1e-15);
    }

    [Fact]
    public void Clip_keeps_the_digits_of_a_confident_batch()
    {
        // s = 40: P_ii = 1/(1 + e^{−40}) rounds to 1 in double, and 1 − P_ii = e^{−40}/(1 + e^{−40}) ≈ 4.25e-18 is what
        // the gradient is made of; taking P_ii − 1 literally would give an exact 0.
        LossResult r = LossRegistry.Default.Create("clip_loss").Evaluate(Pairs(Eye2, Eye2, 40));
        double tail = Math.Exp(-40) / (1 + Math.Exp(-40));
        T.Close(Math.Exp(-40), r.Scalar, rel: 1e-14, abs: 0);   // log(1 + e^{−40}), not lse − L_ii = 0
        T.Close([-tail], r.Gradient("logit_scale"), rel: 1e-14, abs: 0);
        T.Close([-20 * tail, 20 * tail, 20 * tail, -20 * tail], r.Gradient("image_features"), rel: 1e-14, abs: 0);
    }

    [Fact]
    public void Clip_is_symmetric_in_batch_negatives_with_a_dot_product()
    {
        // sentence-transformers' symmetric InfoNCE (doc_to_query, per_direction) with dot_score and scale s: the same loss.
        var rnd = new Random(3);
        TensorData a = T.Shaped(LossSamples.Normal(rnd, 15), 5, 3), b = T.Shaped(LossSamples.Normal(rnd, 15), 5, 3);
        LossResult clip = LossRegistry.Default.Create("clip_loss", T.Opt(("reduction", "none"))).Evaluate(Pairs(a, b, 2.5));
        LossResult mnrl = LossRegistry.Default.Create("multiple_negatives_ranking_loss", T.Opt(("reduction", "none"), ("similarity_fct", "dot_score"),
            ("scale", 2.5), ("doc_to_query", true), ("partition_mode", "per_direction"))).Evaluate(T.In(("anchors", a), ("positives", b)));
        T.Close(T.Values(mnrl.Value), clip.Value, rel: 1e-13);
        T.Close(T.Values(mnrl.Gradient("anchors")), clip.Gradient("image_features"), rel: 1e-12, abs: 1e-14);
        T.Close(T.Values(mnrl.Gradient("positives")), clip.Gradient("text_features"), rel: 1e-12, abs: 1e-14);
    }

    [Fact]
    public void SigLip_on_matched_unit_pairs_with_every_margin_one()
    {
        // s = 2, b = −1: L = [[1, −1], [−1, 1]], so z·L = 1 everywhere and each row is 2·softplus(−1) = 2·log(1 + 1/e).
        LossResult r = LossRegistry.Default.Create("siglip_loss").Evaluate(Pairs(Eye2, Eye2, 2, -1));
        T.Close(2 * Math.Log(1 + Math.Exp(-1)), r.Scalar, rel: 1e-15);
        // G = −z·σ(−1)/N: −σ/2 on the diagonal, +σ/2 off it; ∂I_0 = s·(G_00·T_0 + G_01·T_1) = (−σ, σ).
        double sigma = 1 / (1 + Math.E);
        T.Close([-sigma, sigma, sigma, -sigma], r.Gradient("image_features"), rel: 1e-15);
        T.Close([-sigma, sigma, sigma, -sigma], r.Gradient("text_features"), rel: 1e-15);
        T.Close([-sigma], r.Gradient("logit_scale"), rel: 1e-15);
        T.Close([0.0], r.Gradient("logit_bias"), abs: 1e-16);   // the diagonal's pull and the two negatives' push cancel
    }

    [Fact]
    public void SigLip_is_the_logistic_loss_of_every_pair_summed_over_the_texts()
    {
        // binary_cross_entropy_with_logits on L = s·I·Tᵀ + b against the identity, summed, over N: open_clip's Σ/N.
        var rnd = new Random(4);
        TensorData a = T.Shaped(LossSamples.Normal(rnd, 12), 4, 3), b = T.Shaped(LossSamples.Normal(rnd, 12), 4, 3);
        double s = 3, bias = -2;
        double[] ia = T.Values(a), tb = T.Values(b);
        double[] logits = [.. Enumerable.Range(0, 16).Select(e => s * Enumerable.Range(0, 3).Sum(k => ia[e / 4 * 3 + k] * tb[e % 4 * 3 + k]) + bias)];
        double[] eye = [.. Enumerable.Range(0, 16).Select(e => e / 4 == e % 4 ? 1.0 : 0.0)];
        double bce = LossRegistry.Default.Create("binary_cross_entropy_with_logits", T.Opt(("reduction", "sum")))
            .Evaluate(T.In(("input", T.Shaped(logits, 4, 4)), ("target", T.Shaped(eye, 4, 4)))).Scalar;
        T.Close(bce / 4, LossRegistry.Default.Create("siglip_loss").Evaluate(Pairs(a, b, s, bias)).Scalar, rel: 1e-14);
    }

    [Fact]
    public void SigLip_without_a_bias_has_none()
    {
        // L = 2·I: margins 2 on the diagonal, 0 off it: softplus(−2) + softplus(0) per row.
        LossResult r = LossRegistry.Default.Create("siglip_loss").Evaluate(Pairs(Eye2, Eye2, 2));
        T.Close(Math.Log(1 + Math.Exp(-2)) + Math.Log(2), r.Scalar, rel: 1e-15);
        Assert.False(r.Gradients.ContainsKey("logit_bias"));
    }

    [Theory]
    [InlineData("clip_loss", "ClipLoss")]
    [InlineData("siglip_loss", "SigLipLoss")]
    public void Unpaired_features_and_a_vector_scale_are_shape_errors(string loss, string name)
    {
        ILoss l = LossRegistry.Default.Create(loss);
        var e = Assert.Throws<LossArgumentException>(() => l.Evaluate(Pairs(Eye2, T.D2(new double[,] { { 1, 0 } }), 1)));
        Assert.Equal(LossErrorCode.InvalidShape, e.Code);
        Assert.Equal($"{name}: 'text_features' has shape (1, 2); expected (2, 2), row i the text of image i", e.Message);
        e = Assert.Throws<LossArgumentException>(() => l.Evaluate(T.In(("image_features", Eye2), ("text_features", Eye2), ("logit_scale", T.D(1, 2)))));
        Assert.Equal($"{name}: 'logit_scale' must be a scalar or (1), one learned value, got shape (2,)", e.Message);
        e = Assert.Throws<LossArgumentException>(() => l.Evaluate(Pairs(T.D(1, 0), T.D(1, 0), 1)));
        Assert.Equal($"{name}: 'image_features' must be (N, D) with N ≥ 1, one row per image–text pair, got shape (2,)", e.Message);
    }

    [Theory]
    [InlineData("clip_loss")]
    [InlineData("siglip_loss")]
    public void A_nan_feature_makes_the_value_and_every_gradient_it_touches_nan(string loss)
    {
        // Row 1 of the images is NaN: its logits' row (and, for CLIP, every column's log-sum-exp) are NaN.
        LossInputs inputs = Pairs(T.D2(new double[,] { { 1, 0 }, { double.NaN, 1 }, { 0.5, 0.5 } }), T.D2(new double[,] { { 1, 0 }, { 0, 1 }, { 0.6, 0.8 } }), 3);
        inputs.AllowNonFinite = true;
        LossResult r = LossRegistry.Default.Create(loss).Evaluate(inputs);
        Assert.True(double.IsNaN(r.Scalar));
        Assert.True(double.IsNaN(r.Gradient("logit_scale").GetDouble(0)));
        Assert.Contains(T.Values(r.Gradient("text_features")), double.IsNaN);
    }
}
