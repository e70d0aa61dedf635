using LossLab.Losses.Core;
using LossLab.Losses.MetricLearning;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.MetricLearning;

/// <summary>
/// Golden values, derived by hand from pytorch-metric-learning's definitions, for the lifted-structure, tuplet-margin,
/// intra-pair-variance, margin, SNR contrastive, ranked list, FastAP, histogram, PNP, TCM, P2SGrad, instance and angular
/// losses, and their edge cases (no positive or no negative pair, identical positives).
/// </summary>
public sealed class PmlPairLossTests
{
    private static LossResult Run(string loss, double[] x, long[] labels, params (string, object?)[] options)
        => LossRegistry.Default.Create(loss, options.ToDictionary(o => o.Item1, o => o.Item2))
            .Evaluate(T.In(("embeddings", T.Shaped(x, labels.Length, x.Length / labels.Length)), ("labels", T.Shaped(labels, labels.Length))));

    // Normalized: x̂0 = (1, 0), x̂1 = (0, 1) (label 0), x̂2 = (1, 0) (label 1): d01 = √2, d02 = 0, d12 = √2.
    private static readonly double[] Three = [2, 0, 0, 3, 5, 0];
    private static readonly long[] ThreeLabels = [0, 0, 1];

    [Fact]
    public void Generalized_lifted_structure_adds_the_two_log_sum_exps_per_anchor()
    {
        // m⁻ = 1, m⁺ = 0. Anchor 0: lse_P = √2, lse_N = 1 − 0. Anchor 1: √2 + (1 − √2) = 1.
        // Anchor 2 (no positive, counts 0): log(e^{1 − 0} + e^{1 − √2}) = 1 + log(1 + e^{−√2}).
        double r2 = Math.Sqrt(2), l2 = 1 + Math.Log(1 + Math.Exp(-r2));
        LossResult none = Run("generalized_lifted_structure_loss", Three, ThreeLabels, ("reduction", "none"));
        T.Close([r2 + 1, 1, l2], none.Value, 1e-15);
        T.Close((r2 + 2 + l2) / 3, Run("generalized_lifted_structure_loss", Three, ThreeLabels).Scalar, 1e-15);
        // A margin large enough to make every anchor negative: relu gives 0 and no gradient.
        LossResult off = Run("generalized_lifted_structure_loss", Three, ThreeLabels, ("neg_margin", -10.0), ("pos_margin", 10.0));
        Assert.Equal(0, off.Scalar);
        Assert.All(T.Values(off.Gradient("embeddings")), g => Assert.Equal(0, g));
    }

    [Fact]
    public void Lifted_structure_pools_the_negatives_of_both_rows_of_a_positive_pair()
    {
        // Pairs (0, 1) and (1, 0): L_0 = 1 − d02 = 1, L_1 = 1 − d12 = 1 − √2; u = log(e^{L_0} + e^{L_1}) + d01 − 0.
        double u = 1 + Math.Log(1 + Math.Exp(-Math.Sqrt(2))) + Math.Sqrt(2);
        T.Close(0.5 * u * u, Run("lifted_structure_loss", Three, ThreeLabels).Scalar, 1e-15);
        T.Close(u * u, Run("lifted_structure_loss", Three, ThreeLabels, ("reduction", "sum")).Scalar, 1e-15);
        T.Close([0.5 * u * u, 0.5 * u * u, 0], Run("lifted_structure_loss", Three, ThreeLabels, ("reduction", "none")).Value, 1e-15);
    }

    [Fact]
    public void Tuplet_margin_takes_the_margin_off_the_positive_angle()
    {
        // x0 = (1, 0) and x1 at 60° (label 0), x2 = (0, 1) (label 1). Margin 60°: cos(θ01 − m) = 1.
        // Pair (0, 1): log(1 + e^{s(cos θ02 − 1)}) = softplus(−s); pair (1, 0): softplus(s(cos θ12 − 1)) = softplus(s(√3/2 − 1)).
        double[] x = [1, 0, 0.5, Math.Sqrt(3) / 2, 0, 4];
        double s = 2;
        double expected = (Softplus(-s) + Softplus(s * (Math.Sqrt(3) / 2 - 1))) / 2;
        T.Close(expected, Run("tuplet_margin_loss", x, [0, 0, 1], ("margin", 60.0), ("scale", s)).Scalar, 1e-14);
    }

    [Fact]
    public void Tuplet_margin_stays_finite_for_identical_positives()
    {
        // cos θ = 1 exactly: the arccosine's slope is infinite there (PyTorch gives NaN); LossLab caps it.
        LossResult r = Run("tuplet_margin_loss", [1, 0, 3, 0, 0, 1], [0, 0, 1]);
        Assert.True(double.IsFinite(r.Scalar));
        Assert.All(T.Values(r.Gradient("embeddings")), g => Assert.True(double.IsFinite(g)));
    }

    [Fact]
    public void Intra_pair_variance_pulls_pairs_back_to_their_kind_s_mean()
    {
        // Label 0: (1, 0), (0, 1), (1, 1)/√2; label 1: (−1, 0). Positive cosines 0, 1/√2, 1/√2 (each twice), μ⁺ = √2/3;
        // with ε = 0 only the 0 pairs fall below: 2·(√2/3)² / 6. Negative cosines −1, 0, −1/√2, μ⁻ = −(1 + 1/√2)/3; only the
        // 0 pairs rise above: 2·μ⁻² / 6.
        double[] x = [1, 0, 0, 1, 1, 1, -1, 0];
        double mp = Math.Sqrt(2) / 3, mn = (1 + 1 / Math.Sqrt(2)) / 3;
        LossResult r = Run("intra_pair_variance_loss", x, [0, 0, 0, 1], ("pos_eps", 0.0), ("neg_eps", 0.0));
        T.Close((mp * mp + mn * mn) / 3, r.Scalar, 1e-15);
        T.Close(2 * mp * mp + 2 * mn * mn, Run("intra_pair_variance_loss", x, [0, 0, 0, 1], ("pos_eps", 0.0), ("neg_eps", 0.0), ("reduction", "sum")).Scalar, 1e-15);
    }

    [Fact]
    public void Margin_loss_divides_the_triplets_by_their_non_zero_terms()
    {
        // m = 0.2, β = 1.2. Triplet (0, 1, 2): relu(√2 − 1) + relu(1.4 − 0) = (√2 − 1) + 1.4; triplet (1, 0, 2):
        // (√2 − 1) + relu(1.4 − √2) = √2 − 1 + 0. Three non-zero terms.
        double r2 = Math.Sqrt(2);
        T.Close((2 * r2 - 0.6) / 3, Run("margin_loss", Three, ThreeLabels).Scalar, 1e-15);
        T.Close(2 * r2 - 0.6, Run("margin_loss", Three, ThreeLabels, ("reduction", "sum")).Scalar, 1e-15);
        T.Close([r2 - 1 + 1.4, r2 - 1, 0], Run("margin_loss", Three, ThreeLabels, ("reduction", "none")).Value, 1e-15);
        // A learned β = 1.2 with ν = 0.5 adds ν·β, and its gradient is (−2 active positive + 1 active negative)/3 + ν.
        LossResult learned = LossRegistry.Default.Create("margin_loss", T.Opt(("nu", 0.5)))
            .Evaluate(T.In(("embeddings", T.Shaped(Three, 3, 2)), ("labels", T.Shaped(ThreeLabels, 3)), ("beta", T.D(1.2))));
        T.Close((2 * r2 - 0.6) / 3 + 0.6, learned.Scalar, 1e-15);
        T.Close([-1.0 / 3 + 0.5], learned.Gradient("beta"), 1e-15);
    }

    [Fact]
    public void Margin_loss_names_a_label_without_a_beta()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("margin_loss")
            .Evaluate(T.In(("embeddings", T.Shaped(Three, 3, 2)), ("labels", T.Shaped(new long[] { 0, 0, 2 }, 3)), ("beta", T.D(1, 1)))));
        Assert.Contains("label 2 at row 2", e.Message);
    }

    [Fact]
    public void Snr_contrastive_divides_the_noise_variance_by_the_anchor_s()
    {
        // Unnormalized, D = 3: x0 = (0, 1, 2), x1 = (2, 1, 0) (label 0), x2 = (1, 1, 4) (label 1); centred rows
        // c0 = (−1, 0, 1), c1 = (1, 0, −1), c2 = (−1, −1, 2), ‖c‖² = 2, 2, 6. d01 = d10 = 8/2 = 4; d02 = 2/2 = 1, d20 = 2/6;
        // d12 = 14/2 = 7, d21 = 14/6. Positives (m⁺ = 0): 4 and 4, AvgNonZero 4. Negatives (m⁻ = 0.9, no distance on
        // it): only (2, 0) is inside, 0.9 − 1/3.
        double[] x = [0, 1, 2, 2, 1, 0, 1, 1, 4];
        long[] labels = [0, 0, 1];
        (string, object?)[] options = [("normalize_embeddings", false), ("neg_margin", 0.9)];
        T.Close(4 + 0.9 - 1.0 / 3, Run("signal_to_noise_ratio_contrastive_loss", x, labels, options).Scalar, 1e-15);
        T.Close([4, 4, 0.9 - 1.0 / 3], Run("signal_to_noise_ratio_contrastive_loss", x, labels, [.. options, ("reduction", "none")]).Value, 1e-15);
        // Row 1 constant (no variance): no anchor, but a reference. (0, 1): ‖c0‖²/2 = 1; (0, 2): 2/2 = 1, outside the
        // margin; (2, 0): 0.9 − 1/3; (2, 1): ‖c2‖²/6 = 1, outside. Positives average 1, negatives 0.9 − 1/3.
        double[] constant = [0, 1, 2, 5, 5, 5, 1, 1, 4];
        T.Close([1, 0, 0.9 - 1.0 / 3], Run("signal_to_noise_ratio_contrastive_loss", constant, labels, [.. options, ("reduction", "none")]).Value, 1e-15);
        LossResult r = Run("signal_to_noise_ratio_contrastive_loss", constant, labels, options);
        T.Close(1 + 0.9 - 1.0 / 3, r.Scalar, 1e-15);
        Assert.All(T.Values(r.Gradient("embeddings")), g => Assert.True(double.IsFinite(g)));
        Assert.Contains(T.Values(r.Gradient("embeddings"))[3..6], g => g != 0);   // the constant row is still pushed
    }

    [Fact]
    public void Ranked_list_weighs_the_violating_pairs_by_their_excess()
    {
        // m = 0.4, α = 1.2, Tn = 10, Tp = 0, λ = ½. x̂0 = (1, 0), x̂1 = (0, 1) (label 0), x̂2 at 60° (label 1):
        // d01 = √2, d02 = 1, d12 = 2·sin 15°. L_P(0) = L_P(1) = √2 − 0.8 (beyond α − m = 0.8); L_N(0) = 1.2 − 1,
        // L_N(1) = 1.2 − d12; anchor 2 has no positive (L_P = 0) and both negatives inside α, weighted e^{10(α − d)}.
        double d12 = 2 * Math.Sin(Math.PI / 12), e0 = 0.2, e1 = 1.2 - d12;
        double ln2 = (e0 * Math.Exp(10 * e0) + e1 * Math.Exp(10 * e1)) / (Math.Exp(10 * e0) + Math.Exp(10 * e1));
        double[] x = [1, 0, 0, 1, 0.5, Math.Sqrt(3) / 2];
        double lp = Math.Sqrt(2) - 0.8;
        LossResult none = Run("ranked_list_loss", x, [0, 0, 1], ("reduction", "none"));
        T.Close([0.5 * lp + 0.5 * e0, 0.5 * lp + 0.5 * e1, 0.5 * ln2], none.Value, 1e-14);
        // A negative at distance 0 has no weight (pytorch-metric-learning's N* > 0), and a positive inside α − m none.
        T.Close((lp) / 3, Run("ranked_list_loss", Three, ThreeLabels).Scalar, 1e-15);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("ranked_list_loss", T.Opt(("margin", 1.0), ("alpha", 0.5))));
        Assert.Contains("alpha − margin", e.Message);
    }

    [Fact]
    public void Fast_ap_is_one_minus_the_soft_average_precision()
    {
        // B = 10, Δ = 0.4. Squared distances d01 = 2 (bin 5 exactly), d02 = 0 (bin 0), d12 = 2. Anchor 0: its negative in
        // bin 0 ranks before its positive in bin 5: AP = 1·1/(1 + 1) = ½. Anchor 1: positive and negative share bin 5:
        // AP = ½. Anchor 2 has no positive: left out of the mean.
        T.Close([0.5, 0.5, 0], Run("fast_ap_loss", Three, ThreeLabels, ("reduction", "none")).Value, 4e-15);   // soft bins: a few roundings
        T.Close(0.5, Run("fast_ap_loss", Three, ThreeLabels).Scalar, 4e-15);
        // Positives closer than every negative: a perfect ranking, AP = 1.
        LossResult perfect = Run("fast_ap_loss", [1, 0, 1, 0.1, -1, 0], [0, 0, 1], ("reduction", "none"));
        T.Close([0, 0, 0], perfect.Value, 1e-15);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("fast_ap_loss", T.Opt(("num_bins", 0L))));
        Assert.Contains("num_bins", e.Message);
    }

    [Fact]
    public void Histogram_loss_is_the_chance_a_negative_outranks_a_positive()
    {
        // B = 4 (δ = ½, nodes −1, −½, 0, ½, 1). x̂0 = (1, 0, 0), x̂1 = (0, 1, 0) (label 0): the positive at 0 puts 1 on node 0.
        // x̂2 = (¼, −¾, √⅜) (label 1): negatives at ¼ (½ on nodes 0 and ½) and −¾ (½ on nodes −1 and −½); p⁻ = ¼ each.
        // Φ⁺ = 1 from node 0 on: L = p⁻(0) + p⁻(½) = ½.
        double[] x = [1, 0, 0, 0, 1, 0, 0.25, -0.75, Math.Sqrt(0.375)];
        T.Close(0.5, Run("histogram_loss", x, [0, 0, 1], ("n_bins", 4L)).Scalar, 1e-14);
        // Negatives all below the positive: 0; the Three batch's negative at 1 and at 0 (a tie counts): 1.
        T.Close(0, Run("histogram_loss", [1, 0, 1, 1, -1, 0], [0, 0, 1], ("n_bins", 4L)).Scalar, 1e-15);
        T.Close(1, Run("histogram_loss", Three, ThreeLabels, ("n_bins", 4L)).Scalar, 1e-15);
        // No triplet (one label): 0.
        Assert.Equal(0, Run("histogram_loss", Three, [5, 5, 5]).Scalar);
    }

    [Fact]
    public void Pnp_counts_the_negatives_ranked_before_each_positive()
    {
        // τ = 1. Cosines s01 = 0, s02 = 1, s12 = 0, s_ii = 1. Anchor 0 (positives 0 itself and 1, negative 2):
        // r = σ(s02 − s00) = σ(0) and σ(s02 − s01) = σ(1); anchor 1: σ(s12 − s11) = σ(−1) and σ(s12 − s10) = σ(0);
        // anchor 2 has no positive. O: (½ + σ(1) + σ(−1) + ½)/2/3 = ⅓.
        double Sig(double v) => 1 / (1 + Math.Exp(-v));
        T.Close(1.0 / 3, Run("pnp_loss", Three, ThreeLabels, ("anneal", 1.0)).Scalar, 1e-15);
        double ds = (Math.Log(1.5) + Math.Log(1 + Sig(1)) + Math.Log(1 + Sig(-1)) + Math.Log(1.5)) / 2 / 3;
        T.Close(ds, Run("pnp_loss", Three, ThreeLabels, ("anneal", 1.0), ("variant", "Ds")).Scalar, 1e-15);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("pnp_loss", T.Opt(("variant", "X"))));
        Assert.Contains("variant", e.Message);
    }

    [Fact]
    public void Tcm_adds_the_pairs_inside_each_margin_to_its_base_loss()
    {
        // Cosines s01 = 0 (positive, inside m⁺ = 0.9: 0.9 − 0 twice), s02 = 1 (negative, inside m⁻ = 0.5: 1 − 0.5 twice),
        // s12 = 0 (outside). TCM = 0.9 + 0.5 on top of the contrastive loss (√2 + 1, BeyondPyTorchGoldenTests).
        double baseValue = Run("contrastive_loss", Three, ThreeLabels).Scalar;
        T.Close(Math.Sqrt(2) + 1, baseValue, 1e-15);
        T.Close(baseValue + 0.9 + 0.5, Run("threshold_consistent_margin_loss", Three, ThreeLabels, ("base_loss", "contrastive_loss")).Scalar, 1e-15);
        T.Close(baseValue + 2 * 0.9 + 3 * 0.5, Run("threshold_consistent_margin_loss", Three, ThreeLabels, ("base_loss", "contrastive_loss"),
            ("lambda_plus", 2.0), ("lambda_minus", 3.0)).Scalar, 1e-15);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("threshold_consistent_margin_loss", T.Opt(("base_loss", "mse_loss"))));
        Assert.Contains("base_loss", e.Message);
    }

    /// <summary>TCM's base_loss choices are exactly the catalog's losses over (embeddings, labels) with one value.</summary>
    [Fact]
    public void Tcm_offers_every_labelled_metric_loss_as_its_base()
    {
        var expected = LossRegistry.Default.Entries
            .Where(d => d.Task == LossTask.MetricLearning && d.Name != "ThresholdConsistentMarginLoss"
                && d.Inputs.Where(i => !i.Optional).Select(i => i.Name).SequenceEqual(["embeddings", "labels"]))
            .Select(d => d.Name).Order();
        var offered = ThresholdConsistentMarginLoss.BaseLosses.Select(b => LossRegistry.Default.Get(b).Name).Order();
        Assert.Equal(expected, offered);
        double[] x = LossSamples.Normal(new Random(2), 21);
        foreach (string b in ThresholdConsistentMarginLoss.BaseLosses)
            Assert.True(double.IsFinite(Run("threshold_consistent_margin_loss", x, [0, 0, 1, 1, 2, 2, 0], ("base_loss", b)).Scalar), b);
    }

    [Fact]
    public void P2sgrad_is_the_squared_error_of_the_cosines_against_one_hot()
    {
        // x0 = (1, 0) label 0, x1 = (0, 2) label 1; W's columns (3, 0) and (1, 1) renormalized: (1, 0), (1, 1)/√2.
        // Cosines: row 0 (1, 1/√2) against (1, 0); row 1 (0, 1/√2) against (0, 1). MSE over the 4 entries.
        double h = 1 / Math.Sqrt(2);
        var inputs = T.In(("embeddings", T.Shaped(new double[] { 1, 0, 0, 2 }, 2, 2)), ("labels", T.I(0, 1)), ("W", T.Shaped(new double[] { 3, 1, 0, 1 }, 2, 2)));
        LossResult r = LossRegistry.Default.Create("p2s_grad_loss").Evaluate(inputs);
        T.Close((0 + h * h + 0 + (h - 1) * (h - 1)) / 4, r.Scalar, 1e-15);
        // W's gradient is the one for its unit columns: ∂/∂ŵ_j = Σ_i 2(c_ij − y_ij)/4·x̂_i; column 0: 0, column 1: (h/2)·(1, 0) + ((h − 1)/2)·(0, 1).
        T.Close([0, h / 2, 0, (h - 1) / 2], r.Gradient("W"), 1e-15);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("p2s_grad_loss")
            .Evaluate(T.In(("embeddings", T.Shaped(new double[] { 1, 0, 0, 2 }, 2, 2)), ("labels", T.I(0, 1)), ("W", T.Shaped(new double[] { 3, 0, 0, 0 }, 2, 2)))));
        Assert.Contains("column 1", e.Message);
    }

    [Fact]
    public void Instance_loss_targets_the_row_at_the_label_s_rank()
    {
        // γ = 1, unit rows (1, 0), (0, 1): û = x/(1 + 1e-6), so the self-similarity is c = 1/(1 + 1e-6)² and the other 0.
        // Labels (5, 7) rank (0, 1): each row's target is itself, ℓ = log(e^c + 1) − c. Labels (7, 5) rank (1, 0): the
        // other row, ℓ = log(e^c + 1).
        double c = 1 / ((1 + 1e-6) * (1 + 1e-6));
        double[] x = [1, 0, 0, 1];
        T.Close([Math.Log(Math.Exp(c) + 1) - c, Math.Log(Math.Exp(c) + 1) - c], Run("instance_loss", x, [5, 7], ("gamma", 1.0), ("reduction", "none")).Value, 1e-15);
        T.Close([Math.Log(Math.Exp(c) + 1), Math.Log(Math.Exp(c) + 1)], Run("instance_loss", x, [7, 5], ("gamma", 1.0), ("reduction", "none")).Value, 1e-15);
    }

    [Fact]
    public void Angular_loss_keeps_the_negatives_raw()
    {
        // α = 45° (tan² = 1: k = 4, c = 4). Pairs (0, 1), (1, 0): x̂0 = (1, 0), x̂1 = (0, 1), s = 0; the negative x2 = (5, 0) is
        // not normalized (pml's ref_emb): (x̂0 + x̂1)·x2 = 5, z = 20, ℓ = log(1 + e²⁰) per pair.
        double sp = 20 + Math.Log(1 + Math.Exp(-20));
        T.Close(sp, Run("angular_loss", Three, ThreeLabels, ("alpha", 45.0)).Scalar, 1e-15);
        T.Close([sp, sp, 0], Run("angular_loss", Three, ThreeLabels, ("alpha", 45.0), ("reduction", "none")).Value, 1e-15);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("angular_loss", T.Opt(("alpha", 90.0))));
        Assert.Contains("alpha", e.Message);
    }

    [Theory]
    [InlineData("lifted_structure_loss")]
    [InlineData("generalized_lifted_structure_loss")]
    [InlineData("tuplet_margin_loss")]
    [InlineData("intra_pair_variance_loss")]
    [InlineData("margin_loss")]
    [InlineData("signal_to_noise_ratio_contrastive_loss")]
    [InlineData("ranked_list_loss")]
    [InlineData("fast_ap_loss")]
    [InlineData("pnp_loss")]
    [InlineData("histogram_loss")]
    [InlineData("threshold_consistent_margin_loss")]
    [InlineData("instance_loss")]
    [InlineData("angular_loss")]
    public void One_label_or_all_labels_distinct_give_a_finite_value_and_gradient(string loss)
    {
        double[] x = LossSamples.Normal(new Random(5), 12);
        foreach (long[] labels in new[] { new long[] { 3, 3, 3, 3 }, [0, 1, 2, 3], [7] })
        {
            double[] rows = x[..(labels.Length * 3)];
            bool reduces = LossRegistry.Default.Get(loss).Options.Any(o => o.Name == "reduction");
            foreach (string? reduction in reduces ? new string?[] { "mean", "sum", "none" } : [null])
            {
                LossResult r = reduction is null ? Run(loss, rows, labels) : Run(loss, rows, labels, ("reduction", reduction));
                Assert.All(T.Values(r.Value), v => Assert.True(double.IsFinite(v), $"{loss} {reduction} labels {string.Join(",", labels)}"));
                Assert.All(T.Values(r.Gradient("embeddings")), g => Assert.True(double.IsFinite(g)));
            }
        }
        // The pair losses are 0 without a positive or without a negative pair.
        if (loss is "lifted_structure_loss" or "tuplet_margin_loss" or "margin_loss")
        {
            Assert.Equal(0, Run(loss, x, [3, 3, 3, 3]).Scalar);
            Assert.Equal(0, Run(loss, x, [0, 1, 2, 3]).Scalar);
        }
    }

    [Theory]
    [InlineData("lifted_structure_loss", "neg_margin")]
    [InlineData("generalized_lifted_structure_loss", "pos_margin")]
    [InlineData("tuplet_margin_loss", "margin")]
    [InlineData("intra_pair_variance_loss", "pos_eps")]
    [InlineData("margin_loss", "nu")]
    [InlineData("signal_to_noise_ratio_contrastive_loss", "neg_margin")]
    [InlineData("ranked_list_loss", "Tn")]
    public void A_non_finite_option_is_a_typed_error_naming_it(string loss, string option)
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create(loss, T.Opt((option, double.NaN))));
        Assert.Contains(option, e.Message);
    }

    [Fact]
    public void Tuplet_scale_must_be_positive()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("tuplet_margin_loss", T.Opt(("scale", 0.0))));
        Assert.Contains("scale", e.Message);
    }

    private static double Softplus(double v) => Math.Max(v, 0) + Math.Log(1 + Math.Exp(-Math.Abs(v)));
}
