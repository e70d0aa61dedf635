using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.Ranking;

/// <summary>ListNet and ListMLE on lists whose softmaxes and Plackett–Luce sums are known by hand (the papers' formulas).</summary>
public sealed class ListwiseLossTests
{
    private static readonly double Ln2 = Math.Log(2), Ln3 = Math.Log(3);

    [Fact]
    public void ListNet_is_the_cross_entropy_of_the_labels_softmax_and_the_scores_softmax()
    {
        // s = (0, ln 3): softmax (¼, ¾); y = (ln 3, 0): softmax (¾, ¼). A third, padded document changes nothing.
        var inputs = T.In(("logits", T.D2(new double[,] { { 0, Ln3, 50 } })), ("labels", T.D2(new double[,] { { Ln3, 0, 9 } })),
            ("mask", T.D2(new double[,] { { 1, 1, 0 } })));
        LossResult r = LossRegistry.Default.Create("list_net_loss").Evaluate(inputs);
        double expected = -(0.75 * Math.Log(0.25) + 0.25 * Math.Log(0.75));
        T.Close(expected, r.Scalar, rel: 1e-15);
        T.Close([-0.5, 0.5, 0], r.Gradient("logits"), rel: 1e-15);
        // ∂ℓ/∂y_j = −p_j·(log q_j + ℓ).
        T.Close([-0.75 * (Math.Log(0.25) + expected), -0.25 * (Math.Log(0.75) + expected), 0], r.Gradient("labels"), rel: 1e-14);
    }

    private static LossInputs Three(params double[] labels) => T.In(("logits", T.D2(new double[,] { { Ln3, Ln2, 0 } })), ("labels", T.D2(new double[,] { { labels[0], labels[1], labels[2] } })));

    [Fact]
    public void ListMle_is_the_plackett_luce_likelihood_of_the_input_order()
    {
        // e^s = (3, 2, 1): suffix sums 6, 3, 1 (each + 1e-10).
        double[] logP = [Ln3 - Math.Log(6 + 1e-10), Ln2 - Math.Log(3 + 1e-10), -Math.Log(1 + 1e-10)];
        T.Close(-logP.Sum(), LossRegistry.Default.Create("list_mle_loss").Evaluate(Three(0, 0, 0)).Scalar, rel: 1e-15);
        // p-ListMLE: weights 2³ − 1, 2² − 1, 2 − 1 = 7, 3, 1 over their sum 11 (+ 1e-10).
        double position = -(7 * logP[0] + 3 * logP[1] + logP[2]) / (11 + 1e-10);
        T.Close(position, LossRegistry.Default.Create("list_mle_loss", T.Opt(("lambda_weight", "position"))).Evaluate(Three(0, 0, 0)).Scalar, rel: 1e-15);
        // Gradient of ListMLE at s_0: −1 + e^{s_0}/S_0 = −1 + ½.
        T.Close(-0.5, LossRegistry.Default.Create("list_mle_loss").Evaluate(Three(0, 0, 0)).Gradient("logits").GetDouble(0), rel: 1e-9);
    }

    [Fact]
    public void ListMle_by_labels_orders_the_documents_by_relevance_with_ties_in_input_order()
    {
        // Labels (0, 2, 1): documents 1, 2, 0 with e^s = 2, 1, 3: suffix sums 6, 4, 3; ℓ = ln 6 − ln 2 + ln 4 + ln 3 − ln 3 = ln 12.
        var byLabel = LossRegistry.Default.Create("list_mle_loss", T.Opt(("respect_input_order", false)));
        T.Close(Math.Log(12), byLabel.Evaluate(Three(0, 2, 1)).Scalar, rel: 1e-9);
        // Labels (1, 1, 0): a tie keeps documents 0, 1 in input order, the input-order value.
        T.Close(LossRegistry.Default.Create("list_mle_loss").Evaluate(Three(1, 1, 0)).Scalar, byLabel.Evaluate(Three(1, 1, 0)).Scalar, rel: 1e-15);
    }

    [Theory]
    [InlineData("none", 40)]
    [InlineData("position", 40)]
    [InlineData("position", 1000)]
    public void ListMle_gradient_is_its_definition_summed_over_every_suffix(string weighting, int length)
    {
        // The gradient by its formula, −w_m + Σ_{k≤m} w_k·e^{s_m}/(S_k + ε), one suffix at a time (O(n²)), against the
        // loss's O(n) recurrence; scores up to ±30 so that the suffix sums span many orders of magnitude.
        var r = new Random(length);
        double[] s = [.. Enumerable.Range(0, length).Select(_ => 60 * (r.NextDouble() - 0.5))];
        double[] w = [.. Enumerable.Range(0, length).Select(k => weighting == "none" ? 1 : Math.Pow(2, length - k) - 1)];
        double norm = weighting == "none" ? 1 : 1 / (w.Sum() + 1e-10);
        double[] suffix = new double[length];
        for (int k = length - 1; k >= 0; k--) suffix[k] = Math.Exp(s[k]) + (k + 1 < length ? suffix[k + 1] : 0);
        double[] expected = new double[length];
        for (int m = 0; m < length; m++)
        {
            expected[m] = -w[m] * norm;
            for (int k = 0; k <= m; k++) expected[m] += w[k] * norm * Math.Exp(s[m]) / (suffix[k] + 1e-10);
        }
        var inputs = T.In(("logits", TensorData.FromArray(s, 1, length)), ("labels", TensorData.FromArray(new double[length], 1, length)));
        LossResult result = LossRegistry.Default.Create("list_mle_loss", T.Opt(("lambda_weight", weighting))).Evaluate(inputs);
        T.Close(expected, result.Gradient("logits"), rel: 1e-10, abs: 1e-15);
        T.Close(-Enumerable.Range(0, length).Sum(k => w[k] * norm * (s[k] - Math.Log(suffix[k] + 1e-10))), result.Scalar, rel: 1e-12);
    }

    [Fact]
    public void PListMle_weights_stay_finite_past_a_thousand_documents()
    {
        // 2^{n−k} overflows from n = 1024: the weights went ∞/∞ = NaN. Normalized, they are (2^−k − 2^−n)/Σ: the first
        // document's about ½, and the loss of n equal scores −Σ_k c_k·log(1/(n − k)) (ε no longer counts).
        const int n = 1500;
        var inputs = T.In(("logits", TensorData.FromArray(new double[n], 1, n)), ("labels", TensorData.FromArray(new double[n], 1, n)));
        LossResult result = LossRegistry.Default.Create("list_mle_loss", T.Opt(("lambda_weight", "position"))).Evaluate(inputs);
        double total = 0, expected = 0;
        for (int k = 0; k < n; k++) total += Math.ScaleB(1, -k);
        for (int k = 0; k < n; k++) expected += Math.ScaleB(1, -k) / total * Math.Log(n - k);
        T.Close(expected, result.Scalar, rel: 1e-13);
        Assert.All(T.Values(result.Gradient("logits")), g => Assert.True(double.IsFinite(g)));
        T.Close(0, T.Values(result.Gradient("logits")).Sum(), abs: 1e-12);   // shifting every score changes nothing
    }

    [Fact]
    public void Lists_are_checked()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("list_net_loss").Evaluate(
            T.In(("logits", T.D2(new double[,] { { 1, 2 } })), ("labels", T.D2(new double[,] { { 1, 0 } })), ("mask", T.D2(new double[,] { { 0, 0 } })))));
        Assert.Equal("ListNetLoss: query 0 has no document (its mask row is all 0)", e.Message);
        e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("list_mle_loss").Evaluate(
            T.In(("logits", T.D2(new double[,] { { 1, 2 } })), ("labels", T.D2(new double[,] { { 1, 0 } })), ("mask", T.D2(new double[,] { { 1, 0.5 } })))));
        Assert.Equal("ListMleLoss: mask must hold 0 (padding) or 1 (document); mask[0, 1] = 0.5", e.Message);
        e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("list_mle_loss").Evaluate(T.In(("logits", T.D(1, 2)), ("labels", T.D(1, 0)))));
        Assert.Equal(LossErrorCode.InvalidShape, e.Code);
    }
}

/// <summary>RankNet and LambdaLoss on one query of two documents, the relevant one scored lower (by hand from Wang et al. 2018).</summary>
public sealed class LambdaLossTests
{
    // Scores (0, 1), labels (1, 0): by score the irrelevant document comes first; the one selected pair has s_i − s_j = −1.
    private static LossInputs Swapped() => T.In(("logits", T.D2(new double[,] { { 0, 1 } })), ("labels", T.D2(new double[,] { { 1, 0 } })));

    private static readonly double Log2OnePlusE = Math.Log2(1 + Math.E), Sig1 = 1 / (1 + Math.Exp(-1));

    [Fact]
    public void RankNet_is_the_pairwise_logistic_loss_in_bits()
    {
        LossResult r = LossRegistry.Default.Create("rank_net_loss").Evaluate(Swapped());
        T.Close(Log2OnePlusE, r.Scalar, rel: 1e-14);
        T.Close([-Sig1 / Math.Log(2), Sig1 / Math.Log(2)], r.Gradient("logits"), rel: 1e-14);
        T.Close(Math.Log(1 + Math.E), LossRegistry.Default.Create("rank_net_loss", T.Opt(("reduction_log", "natural"))).Evaluate(Swapped()).Scalar, rel: 1e-14);
    }

    [Fact]
    public void LambdaLoss_weights_the_pair_by_its_ndcg_change()
    {
        // Gains (in score order) 0 and 1 (maxDCG 1); positions 1 and 0 differ by 1: NDCGLoss2 and LambdaRank both give
        // 1 − 1/log₂3, and NDCGLoss2++ 10× the first plus the second.
        double w = 1 - 1 / Math.Log2(3);
        T.Close(11 * w * Log2OnePlusE, LossRegistry.Default.Create("lambda_loss").Evaluate(Swapped()).Scalar, rel: 1e-14);
        T.Close(w * Log2OnePlusE, LossRegistry.Default.Create("lambda_loss", T.Opt(("weighting_scheme", "lambda_rank"))).Evaluate(Swapped()).Scalar, rel: 1e-14);
        // NDCGLoss1 takes every pair, itself included, weighted by the first document's gain over its discount: only the
        // relevant document's two pairs count (weight 1/log₂3), at differences −1 and 0, averaged over all 4 pairs.
        double w1 = 1 / Math.Log2(3);
        T.Close(w1 * (Log2OnePlusE + 1) / 4, LossRegistry.Default.Create("lambda_loss", T.Opt(("weighting_scheme", "ndcg_loss1"))).Evaluate(Swapped()).Scalar, rel: 1e-14);
    }

    [Fact]
    public void A_batch_without_a_pair_is_zero_and_bad_options_are_refused()
    {
        // Tied labels select no pair: 0 with a zero gradient (sentence-transformers: the mean of nothing, NaN).
        var tied = T.In(("logits", T.D2(new double[,] { { 0.3, -1 } })), ("labels", T.D2(new double[,] { { 1, 1 } })));
        LossResult r = LossRegistry.Default.Create("lambda_loss").Evaluate(tied);
        Assert.Equal(0.0, r.Scalar);
        Assert.All(T.Values(r.Gradient("logits")), g => Assert.Equal(0.0, g));
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("rank_net_loss", T.Opt(("k", 0L))));
        Assert.Equal("RankNetLoss: k must be at least 1 (or None for every document), got 0", e.Message);
        e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("lambda_loss", T.Opt(("eps", 0.0))));
        Assert.Equal("LambdaLoss: eps must be in (0, 1), got 0", e.Message);
    }
}
