using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>
/// The ordinal losses by hand: coral_pytorch's at zero logits (every binary question at σ = ½, ln 2 each), dlordinal's
/// squared EMD and class distance weighted cross-entropy at zero logits (p = ⅓ each of three ranks).
/// </summary>
public sealed class OrdinalLossTests
{
    private static readonly double Ln2 = Math.Log(2);

    [Fact]
    public void Coral_sums_the_logistic_losses_of_the_rank_thresholds()
    {
        // Rank 1 of 3 classes: levels (1, 0); each threshold's loss is ln 2, its slope σ(0) − y.
        LossResult r = LossRegistry.Default.Create("coral_loss").Evaluate(T.In(("logits", T.D2(new double[,] { { 0, 0 } })), ("levels", T.D(1))));
        T.Close(2 * Ln2, r.Scalar, rel: 1e-15);
        T.Close([-0.5, 0.5], r.Gradient("logits"), rel: 1e-15);
        // Levels given as such, and importance weights (2, 3).
        LossResult w = LossRegistry.Default.Create("coral_loss", T.Opt(("importance_weights", T.D(2, 3))))
            .Evaluate(T.In(("logits", T.D2(new double[,] { { 0, 0 } })), ("levels", T.D2(new double[,] { { 1, 0 } }))));
        T.Close(5 * Ln2, w.Scalar, rel: 1e-15);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("coral_loss").Evaluate(T.In(("logits", T.D2(new double[,] { { 0, 0 } })), ("levels", T.D(3)))));
        Assert.Equal("CoralLoss: rank 3 at position 0 is not in 0..2 (3 classes)", e.Message);
    }

    [Fact]
    public void Corn_trains_each_threshold_on_the_rows_that_reached_it()
    {
        // Rank 0 reaches threshold 0 only (target 0); rank 2 reaches both (targets 1, 1): three pairs, ln 2 each, over 3.
        LossResult r = LossRegistry.Default.Create("corn_loss").Evaluate(T.In(("logits", T.D2(new double[,] { { 0, 0 }, { 0, 0 } })), ("labels", T.I(0, 2))));
        T.Close(Ln2, r.Scalar, rel: 1e-15);
        T.Close([0.5 / 3, 0, -0.5 / 3, -0.5 / 3], r.Gradient("logits"), rel: 1e-15, abs: 0);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("corn_loss").Evaluate(T.In(("logits", T.D2(new double[,] { { 0, 0 } })), ("labels", T.I(3)))));
        Assert.Equal("CornLoss: label 3 at position 0 is not a rank in [0, 2] (3 classes)", e.Message);
    }

    [Fact]
    public void Squared_emd_sums_the_squared_cdf_differences()
    {
        // Rank 0: P = (⅓, ⅔, 1) against T = (1, 1, 1), D = (−⅔, −⅓, 0): 5/9. Rank 1: T = (0, 1, 1), D = (⅓, −⅓, 0): 2/9.
        ILoss emd = LossRegistry.Default.Create("emd_loss", T.Opt(("reduction", "none")));
        LossResult r = emd.Evaluate(T.In(("input", T.D2(new double[,] { { 0, 0, 0 }, { 0, 0, 0 } })), ("target", T.I(0, 1))));
        T.Close([5.0 / 9, 2.0 / 9], r.Value, rel: 1e-15);
        // Rank 0: G = 2·Σ_{k≥j} D_k = (−2, −⅔, 0), Σp·G = −8/9, ∂ℓ/∂x = p·(G − Σp·G) = (−10, 2, 8)/27.
        // Rank 1: G = (0, −⅔, 0), Σp·G = −2/9: (2, −4, 2)/27.
        T.Close([-10.0 / 27, 2.0 / 27, 8.0 / 27, 2.0 / 27, -4.0 / 27, 2.0 / 27], r.Gradient("input"), rel: 1e-14, abs: 0);
        // A confident right answer costs e^{−2·30}-sized amounts, not a rounding of 1 − P: its digits survive.
        LossResult sure = LossRegistry.Default.Create("emd_loss").Evaluate(T.In(("input", T.D2(new double[,] { { 0, 30, 0 } })), ("target", T.I(1))));
        double e = Math.Exp(-30) / (1 + 2 * Math.Exp(-30));
        T.Close(2 * e * e, sure.Scalar, rel: 1e-12, abs: 0);
    }

    [Fact]
    public void Class_distance_weighted_cross_entropy_weighs_each_wrong_class_by_its_distance()
    {
        // Rank 0, α = ½: a = (0, 1, √2), log(1 − ⅓) each: ℓ = (1 + √2)·ln 1.5.
        LossResult r = LossRegistry.Default.Create("cdw_ce_loss").Evaluate(T.In(("input", T.D2(new double[,] { { 0, 0, 0 } })), ("target", T.I(0))));
        double root2 = Math.Sqrt(2);
        T.Close((1 + root2) * Math.Log(1.5), r.Scalar, rel: 1e-15);
        // r_j = a_j·p_j/(1 − p_j) = a_j/2, ∂ℓ/∂x_i = r_i − p_i·Σr = (−(1 + √2), 2 − √2, 2√2 − 1)/6.
        T.Close([-(1 + root2) / 6, (2 - root2) / 6, (2 * root2 - 1) / 6], r.Gradient("input"), rel: 1e-14, abs: 0);
        // Class weights (1, 2, 1) normalized to (¼, ½, ¼); rank 1, α = 1: a = (1, 0, 1), ℓ = ½·2·ln 1.5.
        LossResult w = LossRegistry.Default.Create("cdw_ce_loss", T.Opt(("alpha", 1.0), ("weight", T.D(1, 2, 1))))
            .Evaluate(T.In(("input", T.D2(new double[,] { { 0, 0, 0 } })), ("target", T.I(1))));
        T.Close(Math.Log(1.5), w.Scalar, rel: 1e-15);
        // Where dlordinal's e^1000 overflows: log(1 − p_0) = ln 2 − 1000 − log1p(2e^{−1000}), so ℓ = 2·(1000 − ln 2).
        LossResult far = LossRegistry.Default.Create("cdw_ce_loss", T.Opt(("alpha", 1.0))).Evaluate(T.In(("input", T.D2(new double[,] { { 1000, 0, 0 } })), ("target", T.I(2))));
        T.Close(2 * (1000 - Math.Log(2)), far.Scalar, rel: 1e-15);
        Assert.All(far.Gradient("input").ToArray<double>(), g => Assert.True(double.IsFinite(g)));
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("cdw_ce_loss", T.Opt(("weight", T.D(1, 2)))).Evaluate(T.In(("input", T.D2(new double[,] { { 0, 0, 0 } })), ("target", T.I(1)))));
        Assert.Equal("ClassDistanceWeightedCrossEntropy: weight has 2 entries but the input has 3 classes", e.Message);
        Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("cdw_ce_loss", T.Opt(("alpha", -1.0))));
    }

    [Fact]
    public void Weighted_kappa_is_one_for_a_chance_prediction_and_zero_for_a_perfect_one()
    {
        // Two rows at (½, ½), ranks 0 and 1, ε = 0: O = 1, E = 1, ℓ = 1 (κ = 0). ∂ℓ/∂P = U/D − O·V/(N·D²) = U − ½:
        // (−½, ½) and (½, −½); the row normalization doubles them (s = ½) and y² multiplies by 2y = 1.
        LossInputs chance = T.In(("input", T.D2(new double[,] { { 0.5, 0.5 }, { 0.5, 0.5 } })), ("target", T.I(0, 1)));
        LossResult q = LossRegistry.Default.Create("wk_loss", T.Opt(("epsilon", 0.0))).Evaluate(chance);
        T.Close(1, q.Scalar, rel: 1e-15);
        T.Close([-1, 1, 1, -1], q.Gradient("input"), rel: 1e-15, abs: 0);
        // The linear exponent: no doubling by the normalization (s = 1), no 2y.
        LossResult l = LossRegistry.Default.Create("wk_loss", T.Opt(("epsilon", 0.0), ("penalization_type", "linear"))).Evaluate(chance);
        T.Close([-0.5, 0.5, 0.5, -0.5], l.Gradient("input"), rel: 1e-15, abs: 0);
        LossResult perfect = LossRegistry.Default.Create("wk_loss").Evaluate(T.In(("input", T.D2(new double[,] { { 1, 0 }, { 0, 1 } })), ("target", T.I(0, 1))));
        Assert.Equal(0, perfect.Scalar);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("wk_loss").Evaluate(T.In(("input", T.D2(new double[,] { { 2, -1 } })), ("target", T.I(0)))));
        Assert.Equal("WeightedKappaLoss: 'input' holds -1 at row 0, class 1; it takes probabilities (a softmax output), which are finite and ≥ 0", e.Message);
    }

    [Fact]
    public void Sord_is_cross_entropy_against_a_softmax_of_the_rank_distances()
    {
        // Zero logits: ℓ = −Σ q·log ⅓ = ln 3 whatever q; the gradient p − q with q = softmax(−(0, 1, 2)).
        LossResult r = LossRegistry.Default.Create("sord_loss").Evaluate(T.In(("input", T.D2(new double[,] { { 0, 0, 0 } })), ("target", T.I(0))));
        T.Close(Math.Log(3), r.Scalar, rel: 1e-15);
        double z = 1 + Math.Exp(-1) + Math.Exp(-2);
        T.Close([1.0 / 3 - 1 / z, 1.0 / 3 - Math.Exp(-1) / z, 1.0 / 3 - Math.Exp(-2) / z], r.Gradient("input"), rel: 1e-14, abs: 0);
        // Counts (2, 1, 1): prox row 0 is (ln 4, ln 2, ln 4/3) and the largest prox ln 8, so φ(0, ·) = (ln 2, ln 4, ln 6) and
        // q = (½, ¼, ⅙)/(11/12) = (6, 3, 2)/11: the gradient at zero logits is ⅓ − q = (−7, 2, 5)/33.
        LossResult p = LossRegistry.Default.Create("sord_loss", T.Opt(("prox", true), ("class_counts", T.D(2, 1, 1))))
            .Evaluate(T.In(("input", T.D2(new double[,] { { 0, 0, 0 } })), ("target", T.I(0))));
        T.Close([-7.0 / 33, 2.0 / 33, 5.0 / 33], p.Gradient("input"), rel: 1e-14, abs: 0);
        // Probabilities in (use_logits false): −Σ q·log(x + 1e-9).
        LossResult pr = LossRegistry.Default.Create("sord_loss", T.Opt(("use_logits", false))).Evaluate(T.In(("input", T.D2(new double[,] { { 0.5, 0.25, 0.25 } })), ("target", T.I(0))));
        T.Close(-(Math.Log(0.5 + 1e-9) + Math.Exp(-1) * Math.Log(0.25 + 1e-9) + Math.Exp(-2) * Math.Log(0.25 + 1e-9)) / z, pr.Scalar, rel: 1e-14);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("sord_loss", T.Opt(("use_logits", false))).Evaluate(T.In(("input", T.D2(new double[,] { { 1.5, -0.5, 0 } })), ("target", T.I(0)))));
        Assert.Contains("probabilities in [0, 1]; class 0 of a row holds 1.5", e.Message);
        Assert.Contains("prox needs class_counts", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("sord_loss", T.Opt(("prox", true)))).Message);
    }

    [Theory]
    // dlordinal's own examples of its soft-label matrices for 5 classes (rows 0, 2 and 4; triangular with α₂ = 0.01).
    [InlineData("binomial_ce_loss", 0.0, new[] { 6.561e-01, 2.916e-01, 4.860e-02, 3.600e-03, 1.000e-04, 6.250e-02, 2.500e-01, 3.750e-01, 2.500e-01, 6.250e-02, 1.000e-04, 3.600e-03, 4.860e-02, 2.916e-01, 6.561e-01 })]
    [InlineData("exponential_cross_entropy_loss", 0.0, new[] { 0.63640865, 0.23412166, 0.08612854, 0.03168492, 0.01165623, 0.06745081, 0.1833503, 0.49839779, 0.1833503, 0.06745081, 0.01165623, 0.03168492, 0.08612854, 0.23412166, 0.63640865 })]
    [InlineData("triangular_ce_loss", 0.01, new[] { 0.98845494, 0.01154505, 0, 0, 0, 0, 0.01, 0.98, 0.01, 0, 0, 0, 0, 0.00505524, 0.99494475 })]
    public void Unimodal_soft_labels_are_dlordinals_rows(string loss, double alpha2, double[] rows)
    {
        // At zero logits with η = 1 the gradient of the sum is softmax − target = ⅕ − S_y, so the rows read off it.
        var options = alpha2 > 0 ? T.Opt(("reduction", "sum"), ("alpha2", alpha2)) : T.Opt(("reduction", "sum"));
        LossResult r = LossRegistry.Default.Create(loss, options).Evaluate(T.In(("input", T.D2(new double[3, 5])), ("target", T.I(0, 2, 4))));
        double[] soft = [.. r.Gradient("input").ToArray<double>().Select(g => 0.2 - g)];
        for (int i = 0; i < rows.Length; i++) Assert.True(Math.Abs(rows[i] - soft[i]) <= 1e-8, $"{loss} [{i}]: {soft[i]:R} vs dlordinal's {rows[i]}");
        // η = 0 is cross-entropy itself.
        LossResult plain = LossRegistry.Default.Create(loss, T.Opt(("eta", 0.0))).Evaluate(T.In(("input", T.D2(new double[,] { { 1, 2, 0.5 } })), ("target", T.I(1))));
        T.Close(LossRegistry.Default.Create("cross_entropy").Evaluate(T.In(("input", T.D2(new double[,] { { 1, 2, 0.5 } })), ("target", T.I(1)))).Scalar, plain.Scalar, rel: 1e-15);
    }

    [Fact]
    public void Beta_soft_labels_are_dlordinals_rows_for_three_and_five_classes()
    {
        // dlordinal's documented get_beta_softlabels(3) and (5).
        double[][] three =
        [
            [0.802469132197531, 0.18518518474074064, 0.01234567906172801],
            [0.17329675405578432, 0.6534064918884313, 0.1732967540557846],
            [0.012345679061728405, 0.1851851847407408, 0.8024691321975309],
        ];
        double[][] five =
        [
            [0.8322278330066323, 0.15097599903815717, 0.01614079995258888, 0.0006528000025611824, 2.5600000609360407e-06],
            [0.16306230596685573, 0.6740152119811103, 0.15985465217901373, 0.003067150177798128, 6.796952229937148e-07],
            [0.0005973937258183486, 0.16304604740785777, 0.6727131177326486, 0.16304604740785367, 0.000597393725820794],
            [6.796952207410873e-07, 0.0030671501777993896, 0.15985465217901168, 0.6740152119811109, 0.16306230596685678],
            [2.560000061440001e-06, 0.0006528000025600005, 0.01614079995258879, 0.1509759990381568, 0.8322278330066332],
        ];
        foreach (double[][] rows in new[] { three, five })
        {
            int k = rows.Length;
            double[,] b = BetaCrossEntropyLoss.Probabilities(k);
            // dlordinal subtracts two values near 1 in the tails: its small entries carry errors up to a few 10⁻¹⁵ (its
            // B[1, 4] and B[3, 0] for K = 5, equal by symmetry, differ by 2.3·10⁻¹⁵); these are symmetric to 10⁻¹².
            for (int y = 0; y < k; y++)
            {
                for (int j = 0; j < k; j++)
                {
                    Assert.True(Math.Abs(rows[y][j] - b[y, j]) <= 5e-15, $"K={k} B[{y},{j}]: {b[y, j]:R} vs dlordinal's {rows[y][j]:R}");
                    T.Close(b[k - 1 - y, k - 1 - j], b[y, j], rel: 1e-12, abs: 0);
                }
            }
            // The loss is cross-entropy against those rows: at zero logits the gradient of the sum is (Σ_k B_yk)/K − B_y
            // (a row sums to a little under 1, the interval ends leaving 10⁻⁹ out at each end).
            LossResult r = LossRegistry.Default.Create("beta_ce_loss", T.Opt(("reduction", "sum"))).Evaluate(T.In(("input", T.D2(new double[k, k])), ("target", T.I([.. Enumerable.Range(0, k)]))));
            double[] g = r.Gradient("input").ToArray<double>();
            for (int y = 0; y < k; y++)
            {
                double total = Enumerable.Range(0, k).Sum(j => b[y, j]);
                for (int j = 0; j < k; j++) T.Close(total / k - b[y, j], g[y * k + j], rel: 1e-14, abs: 1e-17);
            }
        }
        // By hand: rank 0 of 3 is B(1, 4), whose CDF is 1 − (1 − x)⁴, on linspace(1e-9, 1 − 1e-9, 4).
        double[] t = [1e-9, 1e-9 + (1 - 2e-9) / 3, 1e-9 + 2 * (1 - 2e-9) / 3, 1 - 1e-9];
        double F(double x) => 1 - Math.Pow(1 - x, 4);
        double[,] b3 = BetaCrossEntropyLoss.Probabilities(3);
        for (int j = 0; j < 3; j++) T.Close(F(t[j + 1]) - F(t[j]), b3[0, j], rel: 1e-13, abs: 1e-17);
        // The table covers 3 to 14 classes.
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("BetaLoss").Evaluate(T.In(("input", T.D2(new double[2, 15])), ("target", T.I(0, 3)))));
        Assert.Contains("tabulated for 3 to 14 ordered classes, got K = 15", e.Message);
        Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("BetaLoss").Evaluate(T.In(("input", T.D2(new double[2, 2])), ("target", T.I(0, 1)))));
        // Every row of every table sums to nearly 1 (the interval ends leave 10⁻⁹ out at each end), no mass negative.
        for (int k = 3; k <= 14; k++)
        {
            double[,] bk = BetaCrossEntropyLoss.Probabilities(k);
            for (int y = 0; y < k; y++)
            {
                double[] row = [.. Enumerable.Range(0, k).Select(j => bk[y, j])];
                Assert.InRange(row.Sum(), 1 - 1e-7, 1 + 1e-12);
                Assert.All(row, v => Assert.True(v >= 0, $"K={k} rank {y}: a negative mass {v}"));
            }
        }
    }

    [Fact]
    public void General_triangular_soft_labels_are_dlordinals_for_its_documented_alphas()
    {
        // dlordinal's get_general_triangular_params(5, α) and get_general_triangular_softlabels(5, α) (float32) for this α.
        double[] alphas = [0, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.1, 0];
        var (a2, b2, c2) = GeneralTriangularCrossEntropyLoss.Inner(5, 2, 0.05, 0.05);
        T.Close(0.153752470442574, a2, rel: 1e-13);
        T.Close(0.446247529557426, b2, rel: 1e-13);
        Assert.Equal(0.3, c2, 15);
        var (a4, b4, _) = GeneralTriangularCrossEntropyLoss.Inner(5, 4, 0.05, 0.1);
        T.Close(0.550779686438060, a4, rel: 1e-13);
        T.Close(0.875486049708105, b4, rel: 1e-13);
        double[,] expected = { { 0.95, 0.05, 0, 0, 0 }, { 0.05, 0.9, 0.05, 0, 0 }, { 0, 0.05, 0.9, 0.05, 0 }, { 0, 0, 0.05, 0.85, 0.1 }, { 0, 0, 0, 0, 1 } };
        double[,] s = GeneralTriangularCrossEntropyLoss.Probabilities(5, alphas);
        for (int y = 0; y < 5; y++)
        {
            for (int j = 0; j < 5; j++) Assert.True(Math.Abs(expected[y, j] - s[y, j]) <= 5e-8, $"T[{y},{j}] = {s[y, j]:R} vs dlordinal's {expected[y, j]}");
        }
        // The loss is cross-entropy against those rows, and its alphas must be 2K values in [0, 0.5).
        LossResult r = LossRegistry.Default.Create("general_triangular_ce_loss", T.Opt(("reduction", "sum"), ("alphas", T.D(alphas)))).Evaluate(T.In(("input", T.D2(new double[1, 5])), ("target", T.I(3))));
        double total = Enumerable.Range(0, 5).Sum(j => s[3, j]);
        T.Close([.. Enumerable.Range(0, 5).Select(j => total / 5 - s[3, j])], r.Gradient("input"), rel: 1e-13, abs: 1e-16);
        Assert.Contains("needs 2K = 8", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("GeneralTriangularLoss", T.Opt(("alphas", T.D(alphas)))).Evaluate(T.In(("input", T.D2(new double[1, 4])), ("target", T.I(0))))).Message);
        Assert.Contains("alphas[3] = 0.6", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("GeneralTriangularLoss", T.Opt(("alphas", T.D(0, 0.1, 0.05, 0.6, 0.05, 0))))).Message);
        // α = 0 on a side puts that end on the interval's edge (where dlordinal divides by zero): a one-hot inner row.
        var (a0, b0, _) = GeneralTriangularCrossEntropyLoss.Inner(5, 3, 0, 0);
        Assert.Equal(0.4, a0, 15);
        Assert.Equal(0.6, b0, 15);
    }

    [Fact]
    public void Poisson_soft_labels_are_the_softmax_of_the_pmf_as_dlordinal_takes_it()
    {
        // Rank 0 of 5: λ = 1, pmf (1, 1, ½, ⅙, 1/24)/e, then a softmax over those probabilities.
        LossResult r = LossRegistry.Default.Create("poisson_ce_loss", T.Opt(("reduction", "sum"))).Evaluate(T.In(("input", T.D2(new double[1, 5])), ("target", T.I(0))));
        double[] pmf = [1 / Math.E, 1 / Math.E, 0.5 / Math.E, 1 / (6 * Math.E), 1 / (24 * Math.E)];
        double z = pmf.Sum(Math.Exp);
        T.Close([.. pmf.Select(v => 0.2 - Math.Exp(v) / z)], r.Gradient("input"), rel: 1e-14, abs: 0);
    }

    [Fact]
    public void Geometric_soft_labels_keep_one_minus_alpha_and_spread_alpha_geometrically()
    {
        // α = 0.1, three ranks. Rank 0: G = 0.1·0.9 + 0.01·0.9, so S = (0.9, 0.1·10/11, 0.1·1/11); rank 1: 0.05 each side.
        double[] S(LossResult r) => [.. r.Gradient("input").ToArray<double>().Select(g => 1.0 / 3 - g)];
        LossResult sym = LossRegistry.Default.Create("geometric_loss", T.Opt(("reduction", "sum"))).Evaluate(T.In(("input", T.D2(new double[2, 3])), ("target", T.I(0, 1))));
        double[] s = S(sym), expected = [0.9, 1.0 / 11, 0.1 / 11, 0.05, 0.9, 0.05];
        for (int i = 0; i < 6; i++) Assert.True(Math.Abs(expected[i] - s[i]) <= 1e-15, $"[{i}] {s[i]:R} vs {expected[i]:R}");
        // (α, F_l, F_r) rows: rank 1 with (0.2, ¾, ¼) keeps 0.8 and sends 0.15 down, 0.05 up; rank 0 sends everything up.
        TensorData rows = T.Shaped(new double[] { 0.2, 1, 0, 0.2, 0.75, 0.25, 0.2, 0, 1 }, 3, 3);
        LossResult asym = LossRegistry.Default.Create("geometric_loss", T.Opt(("reduction", "sum"), ("alphas", rows))).Evaluate(T.In(("input", T.D2(new double[2, 3])), ("target", T.I(1, 0))));
        double[] a = S(asym), want = [0.15, 0.8, 0.05, 0.8, 0.2 * 0.8 / (0.8 + 0.2 * 0.8) * 1, 0.2 * 0.2 * 0.8 / (0.8 + 0.2 * 0.8)];
        // Rank 0 up: α·α^k(1 − α)/Σ_{k≥1} α^k(1 − α) with α = 0.2: 0.2·(0.16, 0.032)/0.192.
        want[4] = 0.2 * 0.16 / 0.192;
        want[5] = 0.2 * 0.032 / 0.192;
        for (int i = 0; i < 6; i++) Assert.True(Math.Abs(want[i] - a[i]) <= 1e-15, $"[{i}] {a[i]:R} vs {want[i]:R}");
        Assert.Contains("they must be in [0, 1] and sum to 1", Assert.Throws<LossArgumentException>(() =>
            LossRegistry.Default.Create("geometric_loss", T.Opt(("alphas", T.Shaped(new double[] { 0.2, 0.5, 0.6 }, 1, 3))))).Message);
        Assert.Contains("alphas has 2 rows but the input has 3 classes", Assert.Throws<LossArgumentException>(() =>
            LossRegistry.Default.Create("geometric_loss", T.Opt(("alphas", T.D(0.1, 0.2)))).Evaluate(T.In(("input", T.D2(new double[1, 3])), ("target", T.I(0))))).Message);
    }
}
