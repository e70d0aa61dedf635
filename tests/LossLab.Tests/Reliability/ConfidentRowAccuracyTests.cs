using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Reliability;

/// <summary>
/// Values and gradients of confident predictions, to the last digits in double. An audit against mpmath (50 digits,
/// the references below) found them exact only to a few digits or 0: log Σ e^{x − m} taken as log(1 + s) rounds s to
/// 1's precision, so a row like (40, 0, 0) had log p = 0 and loss 0 instead of 8.5e-18, and p − 1 or σ(x) − 1 near 1
/// kept no digit of the small difference. PyTorch computes these the naive way; the inputs determine the answers
/// exactly, and each is now computed from the small terms (log1p of the others, expm1 of log p). NCA's ℓ = log(1 +
/// Σ_neg/Σ_pos) likewise, where its positives dominate.
/// </summary>
public sealed class ConfidentRowAccuracyTests
{
    [Fact]
    public void Log_softmax_of_a_confident_row_keeps_the_small_log_probability()
    {
        double[] logp = new double[3];
        Stable.LogSoftmax<double>([40, 0, 0], logp);
        T.Close(-8.4967085105831779546e-18, logp[0], rel: 1e-15);
        Stable.LogSoftmax<double>([-30, 30, 0], logp);
        T.Close(-9.3576229688406124305e-14, logp[1], rel: 1e-15);   // was −9.348e-14: its third digit wrong
        Assert.True(Stable.MaskedLogSoftmax<double>([40, 0, 0], [], logp));
        T.Close(-8.4967085105831779546e-18, logp[0], rel: 1e-15);
        Stable.LogSoftmax<double>([1, 1, 1], logp);   // ties: the others include the second and third maximum
        T.Close(-Math.Log(3), logp[0], rel: 1e-15);
    }

    private static LossInputs Row(string input, double[] row, string target, TensorData labels) =>
        T.In((input, T.D2(new[,] { { row[0], row[1], row[2] } })), (target, labels));

    [Fact]
    public void Cross_entropy_poly1_and_focal_on_a_confident_row()
    {
        LossResult ce = LossRegistry.Default.Create("cross_entropy").Evaluate(Row("input", [40, 0, 0], "target", T.I(0)));
        T.Close(8.4967085105831779546e-18, ce.Value.GetDouble(0), rel: 1e-14);
        T.Close(-8.4967085105831779185e-18, ce.Gradient("input").GetDouble(0), rel: 1e-14);

        LossResult poly = LossRegistry.Default.Create("poly1", T.Opt(("epsilon", 2.0), ("reduction", "sum")))
            .Evaluate(Row("logits", [40, 0, 0], "labels", T.D2(new[,] { { 1.0, 0, 0 } })));
        T.Close(2.5490125531749533791e-17, poly.Value.GetDouble(0), rel: 1e-14);
        T.Close(-2.5490125531749533611e-17, poly.Gradient("logits").GetDouble(0), rel: 1e-14);

        // Distribution focal loss with its label on the first bin: the cross-entropy of that bin.
        LossResult dfl = LossRegistry.Default.Create("distribution_focal_loss").Evaluate(T.In(("pred", T.D2(new[,] { { 40.0, 0, 0 } })), ("label", T.D(0.0))));
        T.Close(8.4967085105831779546e-18, dfl.Value.GetDouble(0), rel: 1e-14);

        LossResult focal = LossRegistry.Default.Create("sparse_categorical_focal_loss").Evaluate(Row("input", [40, 0, 0], "target", T.I(0)));
        T.Close(6.1341184589775995756e-52, focal.Value.GetDouble(0), rel: 1e-14);
        T.Close([-1.8402355376932798597e-51, 9.2011776884663992983e-52, 9.2011776884663992983e-52], focal.Gradient("input"), rel: 1e-14);
    }

    [Fact]
    public void Nca_with_dominating_positives_keeps_its_small_loss()
    {
        // Unit embeddings (1, 0), (1, 0) of one class and (−1, 0) of another: each of the first two has its positive at
        // squared distance 0 and its negative at 4, so ℓ = log1p(e^{−4s}) (the third, alone in its class, is left out).
        // At s = 30 that is 7.7e-53, where the difference of the two log-sum-exps gave 0.
        LossResult r = LossRegistry.Default.Create("NcaLoss", T.Opt(("softmax_scale", 30.0)))
            .Evaluate(T.In(("embeddings", T.D2(new[,] { { 1.0, 0 }, { 1.0, 0 }, { -1.0, 0 } })), ("labels", T.I(0, 0, 1))));
        T.Close(Math.Exp(-120), r.Value.GetDouble(0), rel: 1e-14);
    }

    [Theory]
    [InlineData("GeneralizedCrossEntropy", "input", "target", false)]
    [InlineData("SymmetricCrossEntropy", "input", "target", false)]
    [InlineData("keras.sparse_categorical_crossentropy", "y_pred", "y_true", false)]
    [InlineData("keras.categorical_crossentropy", "y_pred", "y_true", true)]
    public void Softmax_losses_keep_a_confident_rows_slope(string loss, string input, string target, bool oneHot)
    {
        // At (40, 0, 0) with class 0 every one of these has ∂ℓ/∂x_0 = c·(p_0 − 1) = −c·2e^{−40}/(1 + 2e^{−40}) for its
        // own factor c, and ∂ℓ/∂x_1 = c·p_1: so x_0's slope is −2 × x_1's, where p_0 − 1 used to give 0.
        var options = loss.StartsWith("keras", StringComparison.Ordinal) ? T.Opt(("from_logits", true)) : T.Opt();
        TensorData labels = oneHot ? T.D2(new[,] { { 1.0, 0, 0 } }) : T.I(0);
        LossResult r = LossRegistry.Default.Create(loss, options).Evaluate(Row(input, [40, 0, 0], target, labels));
        double[] g = T.Values(r.Gradient(input));
        Assert.True(g[1] > 0);
        T.Close(-2 * g[1], g[0], rel: 1e-14);
    }

    [Theory]
    [InlineData(1.5, false, 2.5000025, 2.5, 1.581137248827125465e-12, 1.2649091666552408359e-6)]
    [InlineData(1.0, false, 2.5000025, 2.5, 2.4999983331452949368e-12, 1.9999979999262847155e-6)]
    [InlineData(1.5, true, 1e-9, 1.0, 1.0000000000000001246e-18, 2.0000000000000001246e-9)]
    public void Tweedie_deviance_near_its_optimum(double power, bool logInput, double input, double target, double value, double slope)
    {
        // The deviance's three terms (y^(2−ρ)/((1−ρ)(2−ρ)), y·μ^(1−ρ)/(1−ρ), μ^(2−ρ)/(2−ρ)) are each about 3 and cancel
        // to 1e-12 or 1e-18: written as 2y^(2−ρ)(E((2−ρ)t)/(2−ρ) − E((1−ρ)t)/(1−ρ)), t = log(μ/y), it keeps every digit
        // (mpmath's references). With log_input, t = x − log y carries log y's rounding (a one-ulp change of y), so
        // the exact case is y = 1.
        LossResult r = LossRegistry.Default.Create("tweedie_loss", T.Opt(("power", power), ("log_input", logInput), ("reduction", "sum")))
            .Evaluate(T.In(("input", T.D(input)), ("target", T.D(target))));
        T.Close(value, r.Value.GetDouble(0), rel: 1e-13);
        T.Close(slope, r.Gradient("input").GetDouble(0), rel: 1e-13);
    }

    [Fact]
    public void Sigmoid_and_exponential_gradients_near_their_targets()
    {
        // multilabel soft margin at x = 17, y = 1: σ(17) − 1 = −σ(−17).
        LossResult m = LossRegistry.Default.Create("multilabel_soft_margin_loss", T.Opt(("reduction", "sum")))
            .Evaluate(T.In(("input", T.D2(new[,] { { 17.0 } })), ("target", T.D2(new[,] { { 1.0 } }))));
        T.Close(-4.1399375473943306009e-8, m.Gradient("input").GetDouble(0), rel: 1e-14);
        // Poisson NLL with log input at x = 1e-10, y = 1: eˣ − 1 = expm1(x).
        LossResult p = LossRegistry.Default.Create("poisson_nll_loss", T.Opt(("reduction", "sum")))
            .Evaluate(T.In(("input", T.D(1e-10)), ("target", T.D(1.0))));
        T.Close(1.00000000005e-10, p.Gradient("input").GetDouble(0), rel: 1e-14);
    }
}
