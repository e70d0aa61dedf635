using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Losses.Keras;
using LossLab.Losses.MetricLearning;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>
/// Keras 3's categorical_generalized_cross_entropy and circle: golden values worked by hand from Keras's source
/// (keras/src/losses/losses.py), and the relation of each to its PyTorch-side sibling.
/// </summary>
public sealed class KerasNoisyLabelAndCircleTests
{
    [Fact]
    public void Generalized_cross_entropy_on_probabilities_by_hand()
    {
        // Rows (0.2, 0.64, 0.16) with label 1 and (0.25, 0.5, 0.25) with label 2, q = 0.5:
        // ℓ = (1 − √0.64)/0.5 = 0.4 and (1 − √0.25)/0.5 = 1; ∂ℓ/∂p_y = −p_y^(−1/2) = −1.25 and −2; mean halves them.
        var inputs = T.In(("y_true", T.I(1, 2)), ("y_pred", T.Shaped(new double[] { 0.2, 0.64, 0.16, 0.25, 0.5, 0.25 }, 2, 3)));
        LossResult r = LossRegistry.Default.Create("keras.CategoricalGeneralizedCrossEntropy").Evaluate(inputs);
        T.Close(0.7, T.Values(r.Value)[0], 1e-15);
        T.Close(new double[] { 0, -0.625, 0, 0, 0, -1 }, r.Gradient("y_pred"), rel: 1e-15, abs: 1e-15);
        Assert.False(r.Gradients.ContainsKey("y_true"));   // labels are not differentiable
    }

    /// <summary>On probabilities p = softmax(z) it is the logit version (GeneralizedCrossEntropy), value and chain-ruled gradient.</summary>
    [Fact]
    public void Generalized_cross_entropy_matches_the_logit_version_through_softmax()
    {
        double[] z = [0.3, -1.2, 2.0, 0.7, 0.1, -0.4];
        long[] y = [2, 0];
        double[] p = new double[6];
        for (int row = 0; row < 2; row++) Stable.Softmax<double>(z.AsSpan(row * 3, 3), p.AsSpan(row * 3, 3));
        var keras = new KerasCategoricalGeneralizedCrossEntropy(q: 0.7, reduction: "sum").Evaluate(T.In(("y_true", T.I(y)), ("y_pred", T.Shaped(p, 2, 3))));
        var logits = new GeneralizedCrossEntropy(q: 0.7, reduction: Reduction.Sum).Evaluate(T.In(("input", T.Shaped(z, 2, 3)), ("target", T.I(y))));
        T.Close(T.Values(logits.Value)[0], T.Values(keras.Value)[0], 1e-14);
        // ∂/∂z_j = Σ_k ∂ℓ/∂p_k · p_k(δ_jk − p_j), with only k = y non-zero.
        double[] gp = T.Values(keras.Gradient("y_pred")), gz = T.Values(logits.Gradient("input"));
        for (int row = 0; row < 2; row++)
        {
            int k = row * 3 + (int)y[row];
            for (int j = 0; j < 3; j++) T.Close(gz[row * 3 + j], gp[k] * p[k] * ((row * 3 + j == k ? 1 : 0) - p[row * 3 + j]), 1e-13, 1e-15);
        }
    }

    [Fact]
    public void Generalized_cross_entropy_names_bad_input()
    {
        var loss = new KerasCategoricalGeneralizedCrossEntropy();
        var e = Assert.Throws<LossArgumentException>(() => loss.Evaluate(T.In(("y_true", T.I(0, 3)), ("y_pred", T.Shaped(new double[6], 2, 3)))));
        Assert.Contains("label 3 at position 1", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<LossArgumentException>(() => loss.Evaluate(T.In(("y_true", T.I(0, 1)), ("y_pred", T.Shaped(new double[] { 0.5, 0.5, 0, 0.2, -0.1, 0.9 }, 2, 3)))));
        Assert.Contains("y_pred[1, 1] = -0.1", e.Message, StringComparison.Ordinal);
        Assert.Throws<LossArgumentException>(() => new KerasCategoricalGeneralizedCrossEntropy(q: 0));
    }

    [Fact]
    public void Circle_by_hand()
    {
        // e0 = (1, 0), e1 = (0, 1), e2 = (1, 0); labels 0, 0, 1; γ = 1, m = 0.25.
        // Anchor 0: positive e1 (s = 0, d = 1): a = −1.25·(0.25 − 1) = 0.9375; negative e2 (s = 1, d = 0): b = 1.25·0.75 = 0.9375.
        // Anchor 1: positive e0: a = 0.9375; negative e2 (s = 0, d = 1): b = max(0.25, 0)·(0.75 − 1) = −0.0625.
        // Anchor 2: no positive, ℓ = 0 and masked: the mean runs over the two others.
        var inputs = T.In(("y_true", T.I(0, 0, 1)), ("y_pred", T.Shaped(new double[] { 1, 0, 0, 1, 1, 0 }, 3, 2)));
        double l0 = Math.Log(1 + Math.Exp(1.875)), l1 = Math.Log(1 + Math.Exp(0.875));
        var none = new KerasCircle(gamma: 1, margin: 0.25, reduction: "none").Evaluate(inputs);
        T.Close(new[] { l0, l1, 0 }, none.Value, rel: 1e-15, abs: 0);
        var mean = LossRegistry.Default.Create("keras.circle", new Dictionary<string, object?> { ["gamma"] = 1.0, ["margin"] = 0.25 }).Evaluate(inputs);
        T.Close((l0 + l1) / 2, T.Values(mean.Value)[0], 1e-15);
    }

    /// <summary>On unit embeddings it is CircleLoss with the true (not detached) gradient, mean over the non-zero anchors.</summary>
    [Fact]
    public void Circle_on_unit_embeddings_equals_the_pytorch_metric_learning_form_with_true_gradients()
    {
        var r = new Random(3);
        double[] e = LossSamples.RowsOfNorm(LossSamples.Normal(r, 32), 8, 4);
        long[] labels = [0, 1, 0, 1, 2, 2, 0, 3];
        var keras = new KerasCircle(gamma: 16, margin: 0.3).Evaluate(T.In(("y_true", T.I(labels)), ("y_pred", T.Shaped(e, 8, 4))));
        var pml = new CircleLoss(m: 0.3, gamma: 16, detachWeights: false).Evaluate(T.In(("embeddings", T.Shaped(e, 8, 4)), ("labels", T.I(labels))));
        T.Close(T.Values(pml.Value)[0], T.Values(keras.Value)[0], 1e-12);
        // CircleLoss differentiates through the normalization; on unit rows that only removes the radial part.
        double[] gk = T.Values(keras.Gradient("y_pred")), gp = T.Values(pml.Gradient("embeddings"));
        for (int i = 0; i < 8; i++)
        {
            double radial = Enumerable.Range(0, 4).Sum(k => gk[i * 4 + k] * e[i * 4 + k]);
            for (int k = 0; k < 4; k++) T.Close(gp[i * 4 + k], gk[i * 4 + k] - radial * e[i * 4 + k], 1e-10, 1e-12);
        }
    }
}
