using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Reliability;

/// <summary>
/// Options at the ends of their range, and the inputs that a fuzz of the protocol (every catalog example with each input
/// and option replaced by NaN, ±1e30, 1e-300, 1e9, wrong types and shapes) found answered with a NaN, an ∞ − ∞, or a
/// process killed for memory: each is now a typed error naming the option or element, or the finite value the formula
/// has there.
/// </summary>
public sealed class OptionSafetyTests
{
    /// <summary>Every (loss, option) of the catalog whose option is of <paramref name="kind"/>.</summary>
    public static TheoryData<string, string> OptionsOf(OptionKind kind)
    {
        var data = new TheoryData<string, string>();
        foreach (LossDescriptor d in LossRegistry.Default.Entries)
            foreach (OptionSpec o in d.Options.Where(o => o.Kind == kind))
                data.Add(d.Name, o.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(OptionsOf), OptionKind.Float)]
    public void A_NaN_number_option_is_an_error_naming_it(string loss, string option)
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create(loss, T.Opt((option, double.NaN))));
        Assert.Equal(LossErrorCode.InvalidValue, e.Code);
        Assert.Equal($"{loss}: option '{option}' is NaN; expected a number", e.Message);
    }

    [Theory]
    [MemberData(nameof(OptionsOf), OptionKind.Tensor)]
    public void A_tensor_option_holding_NaN_or_infinity_is_an_error_naming_the_index(string loss, string option)
    {
        foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
        {
            var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create(loss, T.Opt((option, T.Shaped(new[] { 1, 1, bad, 1 }, 2, 2)))));
            Assert.Contains($"{loss}: option '{option}' holds {bad.ToString(System.Globalization.CultureInfo.InvariantCulture)} at index 2 (position [1, 0])", e.Message);
        }
    }

    [Theory]
    [InlineData("FastApLoss", "num_bins")]
    [InlineData("HistogramLoss", "n_bins")]
    public void A_bin_count_past_memory_is_an_error_before_anything_is_allocated(string loss, string option)
    {
        LossInputs inputs = LossRegistry.Default.Get(loss).Sample!(new Random(1), new Shape(6, 4));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create(loss, T.Opt((option, 1_000_000_000L))).Evaluate(inputs));
        Assert.Contains($"at {option} = 1000000000 need 2 arrays of 6 × 1000000001 doubles", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 24);
        e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create(loss, T.Opt((option, 1L << 40))));
        Assert.Equal($"{loss}: option '{option}' is {1L << 40}; it must lie in [{int.MinValue}, {int.MaxValue}]", e.Message);
        // The same bins at a size that fits still run.
        Assert.True(double.IsFinite(LossRegistry.Default.Create(loss, T.Opt((option, 1000L))).Evaluate(inputs).Value.GetDouble(0)));
    }

    [Fact]
    public void The_memory_budget_names_what_overflows()
    {
        MemoryBudget.RequireDoubles("small", 2, 1000, 1000);
        var e = Assert.Throws<LossArgumentException>(() => MemoryBudget.RequireDoubles("X at k = 9", 1, 1L << 20, 1L << 20));
        Assert.StartsWith("X at k = 9 need 1048576 × 1048576 doubles (8.19E+03 GiB), more than one array holds", e.Message);
        long half = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2 / sizeof(double);
        e = Assert.Throws<LossArgumentException>(() => MemoryBudget.RequireDoubles("Y", 4, half / 1000, 1000));
        Assert.Contains("more than half the memory available here", e.Message);
    }

    [Fact]
    public void Generalized_cross_entropy_at_a_tiny_q_is_cross_entropy_in_both_precisions()
    {
        LossInputs inputs = T.In(("input", T.D2(new[,] { { 1.0, 2.0, -1.0 }, { 0.5, 0.0, 3.0 } })), ("target", T.I(0, 2)));
        double ce = LossRegistry.Default.Create("cross_entropy").Evaluate(inputs).Value.GetDouble(0);
        foreach (DType dtype in new[] { DType.Float64, DType.Float32 })
        {
            LossResult r = LossRegistry.Default.Create("GeneralizedCrossEntropy", T.Opt(("q", 1e-300))).Evaluate(T.As(inputs, dtype));
            T.Close(ce, r.Value.GetDouble(0), rel: dtype == DType.Float64 ? 1e-15 : 1e-6);
            Assert.All(T.Values(r.Gradient("input")), g => Assert.True(double.IsFinite(g)));
        }
        LossInputs keras = T.In(("y_true", T.I(0, 2)), ("y_pred", T.F2(new[,] { { 0.2f, 0.5f, 0.3f }, { 0.6f, 0.3f, 0.1f } })));
        LossResult k = LossRegistry.Default.Create("KerasCategoricalGeneralizedCrossEntropy", T.Opt(("q", 1e-300))).Evaluate(keras);
        T.Close((-Math.Log(0.2f) - Math.Log(0.1f)) / 2, k.Value.GetDouble(0), rel: 1e-6);
    }

    [Fact]
    public void Tweedie_at_a_zero_target_and_a_very_negative_log_mean_is_finite()
    {
        // y = 0: ℓ = 2μ^(2−ρ)/(2 − ρ), about 0 at log μ = −2000 (the y·μ^(1−ρ) term, e^{1000}, has a zero factor).
        LossResult r = LossRegistry.Default.Create("TweedieLoss", T.Opt(("reduction", "none"))).Evaluate(T.In(("input", T.D(-2000, 0)), ("target", T.D(0, 0))));
        Assert.Equal([0, 2 / 0.5], T.Values(r.Value));
        Assert.Equal([0, 2], T.Values(r.Gradient("input")));
    }

    [Fact]
    public void Keras_poisson_names_a_negative_rate_and_the_categorical_losses_a_group_summing_to_zero()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("KerasPoisson")
            .Evaluate(T.In(("y_true", T.D2(new[,] { { 1.0, 2.0 }, { 0.0, 1.0 } })), ("y_pred", T.D2(new[,] { { 1.0, 2.0 }, { -1.5, 1.0 } })))));
        Assert.Equal("KerasPoisson: y_pred holds -1.5 at index 2 (position [1, 0]); a Poisson rate must be > −1e-7 (Keras takes log(y_pred + 1e-7))", e.Message);
        foreach (string loss in new[] { "KerasCategoricalCrossentropy", "KerasCategoricalFocalCrossentropy" })
        {
            e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create(loss)
                .Evaluate(T.In(("y_true", T.D2(new[,] { { 1.0, 0.0 }, { 0.0, 1.0 } })), ("y_pred", T.D2(new[,] { { 0.5, 0.5 }, { 0.0, 0.0 } })))));
            Assert.Equal($"{loss}: a group of y_pred sums to 0 ([0, 0]); probabilities are divided by their sum (from_logits=false), so each group needs a nonzero one", e.Message);
        }
        e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("KerasSparseCategoricalCrossentropy")
            .Evaluate(T.In(("y_true", T.I(0, 1)), ("y_pred", T.D2(new[,] { { 0.5, 0.5 }, { 0.0, 0.0 } })))));
        Assert.Contains("a group of y_pred sums to 0", e.Message);
    }

    [Fact]
    public void A_blur_too_small_for_a_double_is_an_error()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("KernelMmdLoss", T.Opt(("blur", 1e-300))));
        Assert.Contains("the gaussian kernel needs blur ≥ 1.5e-154", e.Message);
        LossRegistry.Default.Create("KernelMmdLoss", T.Opt(("blur", 1e-300), ("kernel", "laplacian")));   // 1/blur is finite
        e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("SinkhornDivergence", T.Opt(("blur", 1e-200))));
        Assert.Contains("below double's smallest normal number", e.Message);
    }

    [Fact]
    public void Class_distance_weights_that_overflow_are_an_error()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("ClassDistanceWeightedCrossEntropy", T.Opt(("alpha", 1e9)))
            .Evaluate(T.In(("input", T.D2(new[,] { { 1.0, 2.0, 0.5 } })), ("target", T.I(0)))));
        Assert.Contains("alpha = 1000000000 makes the farthest class's weight 2^alpha overflow", e.Message);
    }

    [Fact]
    public void Lambda_loss_gains_at_labels_past_1000_are_those_of_the_same_gaps_lower_down()
    {
        // For labels far above 1, 2^t − 1 ≈ 2^t and the normalized gains depend only on the labels' differences.
        LossInputs Inputs(double shift) => T.In(
            ("logits", T.D2(new[,] { { 0.3, -0.4, 1.5, 0.2 }, { 0.1, 0.4, -2.0, -0.5 } })),
            ("labels", T.D2(new[,] { { 60 + shift, 70 + shift, 80 + shift, 60 + shift }, { 75 + shift, 65 + shift, 60 + shift, 80 + shift } })));
        ILoss loss = LossRegistry.Default.Create("LambdaLoss");
        LossResult low = loss.Evaluate(Inputs(0)), high = loss.Evaluate(Inputs(3000));
        T.Close(low.Value.GetDouble(0), high.Value.GetDouble(0), rel: 1e-12);
        T.Close(T.Values(low.Gradient("logits")), high.Gradient("logits"), rel: 1e-12, abs: 1e-15);
    }

    [Fact]
    public void A_large_p_distance_is_the_largest_difference_and_a_tiny_p_one_an_error()
    {
        LossInputs inputs = T.In(("anchor", T.D2(new[,] { { 0.0, 3.0, -1.0 } })), ("positive", T.D2(new[,] { { 1.0, 0.5, 0.0 } })), ("negative", T.D2(new[,] { { 2.0, -2.0, 1.0 } })));
        // d(a, p) = max|a − p + eps| = 2.5 + 1e-6, d(a, n) = 5 + 1e-6 (p = 1e9: every other difference's share vanishes).
        LossResult r = LossRegistry.Default.Create("TripletMarginLoss", T.Opt(("p", 1e9), ("margin", 3.0))).Evaluate(inputs);
        T.Close(3 + (2.5 + 1e-6) - (5 + 1e-6), r.Value.GetDouble(0), rel: 1e-9);
        T.Close([0, -1, 0], r.Gradient("positive"), abs: 1e-9);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("TripletMarginLoss", T.Opt(("p", 1e-300))).Evaluate(inputs));
        Assert.Contains("overflows a double", e.Message);
        // Optax's distance at q = 1e9: max(max|u|, eps^(1/q)) = 5 and 2.5.
        LossResult o = LossRegistry.Default.Create("OptaxTripletMarginLoss", T.Opt(("norm_degree", 1e9), ("margin", 3.0), ("reduction", "none")))
            .Evaluate(T.In(("anchors", inputs["anchor"]), ("positives", inputs["positive"]), ("negatives", inputs["negative"])));
        T.Close(0.5, o.Value.GetDouble(0), rel: 1e-8);
    }

    [Fact]
    public void A_labelled_class_outside_the_tempered_softmax_support_adds_no_slope()
    {
        // t2 = 0.5 has a finite support: rows 1 and 3's labelled classes lie outside it (p = 0), where the reference's
        // custom gradient gives (0 − 1)·0^(t2 − t1) = −∞ and then NaN. Their value is locally constant in them.
        var inputs = T.In(
            ("activations", T.D2(new[,] { { -2.671, 1.755, -0.5781, 0.00597, 1.753 }, { -1.704, -1.221, -0.9311, 4.074, -0.8736 }, { 1.734, -1.251, 2.815, -0.5291, 3.089 }, { 2.15, 3.656, -2.374, 1.595, -2.32 } })),
            ("labels", T.D2(new[,] { { 0.0, 1, 0, 0, 0 }, { 1, 0, 0, 0, 0 }, { 0, 0, 1, 0, 0 }, { 0, 0, 0, 1, 0 } })));
        ILoss loss = LossRegistry.Default.Create("BiTemperedLogisticLoss", T.Opt(("t2", 0.5)));
        Assert.All(T.Values(loss.Evaluate(inputs).Gradient("activations")), g => Assert.True(double.IsFinite(g)));
        Assert.Empty(FiniteDifferences.Check(loss, inputs, ["activations"]));
    }

    [Theory]
    [InlineData("KerasDice")]
    [InlineData("KerasIoU")]
    [InlineData("KerasTversky")]
    public void Keras_overlap_gradients_stay_finite_where_the_denominator_squared_overflows_float32(string loss)
    {
        // Σ of 1e30s is 4e30 in float32, its square is not: the gradients are taken as (dN − (N/D)·dD)/D.
        LossInputs inputs = T.In(("y_true", T.D2(new[,] { { 0.0, 0, 1, 1 } })), ("y_pred", T.D2(new[,] { { 1e30, 2e30, 1e30, 3e30 } })));
        LossResult wide = LossRegistry.Default.Create(loss).Evaluate(inputs), narrow = LossRegistry.Default.Create(loss).Evaluate(T.As(inputs, DType.Float32));
        foreach (string input in new[] { "y_true", "y_pred" })
            T.Close(T.Values(wide.Gradient(input)), narrow.Gradient(input), rel: 1e-5, abs: 1e-40);
    }

    [Fact]
    public void The_normalized_jensen_shannon_loss_at_a_small_beta_tends_to_kl_to_the_last_digits()
    {
        // JS_β/(−(1 − β)·log(1 − β)) → KL(q‖p) as β → 0 (Englesson & Azizpour). The normalizer is taken by log1p: with
        // log(1 − β) it was off by 1e-7 relative at β = 1e-10, and 0 (a NaN loss) at β = 1e-300.
        double[] p = [0.2, 0.5, 0.3], q = [0.7, 0.1, 0.2];
        double kl = q.Select((qi, i) => qi * Math.Log(qi / p[i])).Sum();
        LossInputs inputs = T.In(("input", T.D2(new[,] { { 0.2, 0.5, 0.3 } })), ("target", T.D2(new[,] { { 0.7, 0.1, 0.2 } })));
        foreach (double beta in new[] { 1e-10, 1e-300 })
        {
            double v = LossRegistry.Default.Create("JensenShannonDivergence", T.Opt(("beta", beta), ("normalize", true))).Evaluate(inputs).Value.GetDouble(0);
            T.Close(kl, v, rel: beta == 1e-10 ? 1e-8 : 1e-3);
        }
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("JensenShannonDivergence", T.Opt(("beta", 1e-300), ("normalize", true))).Evaluate(T.As(inputs, DType.Float32)));
        Assert.Contains("beta = 1E-300 is 0 in Single", e.Message);
    }

    [Theory]
    [InlineData("KerasBinaryFocalCrossentropy")]
    [InlineData("KerasCategoricalFocalCrossentropy")]
    public void Keras_focal_label_smoothing_outside_0_1_is_an_error_as_for_the_cross_entropies(string loss)
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create(loss, T.Opt(("label_smoothing", 1e12))));
        Assert.Equal($"{loss}: label_smoothing must be in [0, 1], got 1000000000000", e.Message);
    }

    [Theory]
    [InlineData("TverskyLoss")]
    [InlineData("SoftDiceLoss")]
    [InlineData("JaccardLoss")]
    public void Overlap_losses_name_a_probability_outside_0_1_when_not_from_logits(string loss)
    {
        // Before: focal Tversky (γ = 0.999999) on logits passed as probabilities raised a negative 1 − score to γ: NaN.
        var inputs = T.In(("input", T.Shaped(new[] { 0.2, 0.9, -1.3, 0.4 }, 1, 1, 2, 2)), ("target", T.Shaped(new[] { 0.0, 1, 1, 0 }, 1, 1, 2, 2)));
        var options = T.Opt(("mode", "binary"), ("from_logits", false));
        if (loss == "TverskyLoss") options["gamma"] = 0.999999;
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create(loss, options).Evaluate(inputs));
        Assert.Equal($"{loss}: input holds -1.3 at index 2 (position [0, 0, 1, 0]); with from_logits=false it holds probabilities in [0, 1]", e.Message);
    }

    [Fact]
    public void The_linear_cosine_loss_ignores_a_tiny_temperature_as_the_cosine_does()
    {
        LossInputs inputs = LossRegistry.Default.Get("LinearCosineSimilarityLoss").Sample!(new Random(2), Shape.Scalar);
        LossResult one = LossRegistry.Default.Create("LinearCosineSimilarityLoss").Evaluate(inputs);
        LossResult tiny = LossRegistry.Default.Create("LinearCosineSimilarityLoss", T.Opt(("temperature", 1e-300))).Evaluate(inputs);
        Assert.Equal(one.Value.GetDouble(0), tiny.Value.GetDouble(0));
    }
}
