using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Ranking;

/// <summary>
/// DPO and its variants (TRL's loss_type): golden values and margin gradients from the definitions in mpmath at 40
/// digits, the gradient's (1, −1, −1, 1) split, reference-free margins, finiteness at huge margins and errors.
/// </summary>
public sealed class DpoLossTests
{
    // Margins z = (π_w − π_l) − (ref_w − ref_l) = 1.5, −3.5, 0.25 (all exact in binary).
    private static readonly LossInputs Pairs = T.In(("policy_chosen_logps", T.D(-20, -35.5, -12.25)), ("policy_rejected_logps", T.D(-22, -30, -12)),
        ("reference_chosen_logps", T.D(-21, -33, -13)), ("reference_rejected_logps", T.D(-21.5, -31, -12.5)));

    private static LossResult Run(LossInputs inputs, params (string, object?)[] options)
        => LossRegistry.Default.Create("dpo_loss", T.Opt([("reduction", "none"), .. options])).Evaluate(inputs);

    [Theory]
    [InlineData("sigmoid", 0.0, new[] { 0.62095704778953208, 0.88338215541877703, 0.68072530352552487 }, new[] { -0.046257015465625045, -0.058661757891733006, -0.049375032550048957 })]
    [InlineData("sigmoid", 0.1, new[] { 0.63595704778953208, 0.84838215541877703, 0.68322530352552487 }, new[] { -0.036257015465625045, -0.048661757891733006, -0.039375032550048957 })]
    [InlineData("robust", 0.1, new[] { 0.60220704778953208, 0.92713215541877703, 0.67760030352552487 }, new[] { -0.058757015465625045, -0.071161757891733006, -0.061875032550048957 })]
    [InlineData("hinge", 0.0, new[] { 0.85, 1.35, 0.975 }, new[] { -0.1, -0.1, -0.1 })]
    [InlineData("ipo", 0.0, new[] { 12.25, 72.25, 22.5625 }, new[] { -7.0, -17.0, -9.5 })]
    public void Each_loss_type_matches_its_definition(string type, double smoothing, double[] values, double[] dz)
    {
        LossResult r = Run(Pairs, ("loss_type", type), ("label_smoothing", smoothing));
        T.Close(values, r.Value, 1e-14);
        // ∂z/∂(policy chosen, policy rejected, reference chosen, reference rejected) = (1, −1, −1, 1).
        T.Close(dz, r.Gradient("policy_chosen_logps"), 1e-13);
        T.Close([.. dz.Select(d => -d)], r.Gradient("policy_rejected_logps"), 1e-13);
        T.Close([.. dz.Select(d => -d)], r.Gradient("reference_chosen_logps"), 1e-13);
        T.Close(dz, r.Gradient("reference_rejected_logps"), 1e-13);
    }

    [Fact]
    public void Dpo_is_the_logistic_loss_of_the_scaled_margin_and_stays_finite()
    {
        // −log σ(βz) = BCE-with-logits of βz against 1. TRL's mean reduction.
        LossResult dpo = LossRegistry.Default.Create("dpo").Evaluate(Pairs);
        LossResult bce = LossRegistry.Default.Create("binary_cross_entropy_with_logits").Evaluate(T.In(("input", T.D(0.15, -0.35, 0.025)), ("target", T.D(1, 1, 1))));
        T.Close(bce.Scalar, dpo.Scalar, 1e-14);
        // A margin of −10⁵ (β = 0.1): ℓ = 10⁴ and ∂ℓ/∂z = −β, where log(σ(βz)) would be −∞.
        LossResult far = Run(T.In(("policy_chosen_logps", T.D(-1e5)), ("policy_rejected_logps", T.D(0)), ("reference_chosen_logps", T.D(0)), ("reference_rejected_logps", T.D(0))));
        T.Close(1e4, far.Value.GetDouble(0), 1e-15);
        T.Close(-0.1, far.Gradient("policy_chosen_logps").GetDouble(0), 1e-15);
    }

    [Fact]
    public void Reference_free_uses_the_policys_log_ratio_alone()
    {
        LossInputs policy = T.In(("policy_chosen_logps", T.D(-20, -35.5)), ("policy_rejected_logps", T.D(-22, -30)));
        LossResult free = Run(policy, ("reference_free", true));
        T.Close([-Stable.LogSigmoid(0.2), -Stable.LogSigmoid(-0.55)], free.Value, 1e-15);
        Assert.False(free.Gradients.ContainsKey("reference_chosen_logps"));
        var missing = Assert.Throws<LossArgumentException>(() => Run(policy));
        Assert.Contains("missing input 'reference_chosen_logps'", missing.Message);
    }

    [Fact]
    public void Bad_options_and_shapes_are_errors()
    {
        Assert.Contains("beta must be", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("dpo", T.Opt(("beta", 0.0)))).Message);
        Assert.Contains("0.5) for the robust loss", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("dpo", T.Opt(("loss_type", "robust"), ("label_smoothing", 0.5)))).Message);
        var shape = Assert.Throws<LossArgumentException>(() => Run(T.In(("policy_chosen_logps", T.D(-1, -2)), ("policy_rejected_logps", T.D(-1)),
            ("reference_chosen_logps", T.D(-1, -2)), ("reference_rejected_logps", T.D(-1, -2)))));
        Assert.Equal(LossErrorCode.InvalidShape, shape.Code);
    }

    /// <summary>w = −1, l = −3, w′ = l′ = −2: log-ratios c = 1, r = −1, margin z = 2 (β = 1).</summary>
    private static LossInputs One => T.In(("policy_chosen_logps", T.D(-1)), ("policy_rejected_logps", T.D(-3)), ("reference_chosen_logps", T.D(-2)), ("reference_rejected_logps", T.D(-2)));

    private static double Sig(double x) => 1 / (1 + Math.Exp(-x));

    private static double Softplus(double x) => Math.Log(1 + Math.Exp(x));

    [Theory]
    [InlineData("exo_pair")]
    [InlineData("nca_pair")]
    [InlineData("sppo_hard")]
    [InlineData("apo_zero")]
    [InlineData("apo_down")]
    [InlineData("discopop")]
    public void TRLs_other_loss_types_by_hand(string type)
    {
        double expected = type switch
        {
            // EXO with ε = 0 → 1e-3: σ(m)(log σ(m) − log(1 − ε)) + σ(−m)(log σ(−m) − log ε) at m = 2.
            "exo_pair" => Sig(2) * (Math.Log(Sig(2)) - Math.Log(0.999)) + Sig(-2) * (Math.Log(Sig(-2)) - Math.Log(1e-3)),
            // NCA on the rewards a = β(w − w′) = 1, b = β(l − l′) = −1.
            "nca_pair" => Softplus(-1) + 0.5 * Softplus(1) + 0.5 * Softplus(-1),
            // SPPO: (1 − ½)² + (−1 + ½)².
            "sppo_hard" => 0.5,
            // APO: zero 1 − σ(1) + σ(−1); down σ(1) + 1 − σ(2).
            "apo_zero" => 2 * Sig(-1),
            "apo_down" => Sig(1) + 1 - Sig(2),
            // DiscoPOP at m = 2, τ = 0.05: softplus(−2)(1 − σ(40)) + e^{−2}σ(40).
            _ => Softplus(-2) * (1 - Sig(40)) + Math.Exp(-2) * Sig(40),
        };
        T.Close(expected, Run(One, ("loss_type", type), ("beta", 1.0)).Scalar, 1e-14);
    }

    [Fact]
    public void The_divergences_change_the_margin()
    {
        // JS: z = c − r − (softplus(c) − softplus(r)) = 2 − 1 = 1 (softplus(x) − softplus(−x) = x); α = 1: z = e^{1} − e^{−1}.
        T.Close(Softplus(-1), Run(One, ("beta", 1.0), ("f_divergence_type", "js_divergence")).Scalar, 1e-14);
        T.Close(Softplus(-2 * Math.Sinh(1)), Run(One, ("beta", 1.0), ("f_divergence_type", "alpha_divergence")).Scalar, 1e-14);
    }

    [Fact]
    public void AOT_compares_the_batchs_sorted_log_ratios()
    {
        // w − l = (2, −3) and w′ − l′ = (0, 2), sorted (−3, 2) and (0, 2): position by position δ = (−3, 0).
        LossInputs two = T.In(("policy_chosen_logps", T.D(-1, -5)), ("policy_rejected_logps", T.D(-3, -2)), ("reference_chosen_logps", T.D(-2, -2)), ("reference_rejected_logps", T.D(-2, -4)));
        LossResult r = Run(two, ("loss_type", "aot"), ("beta", 1.0));
        T.Close([Softplus(3), Math.Log(2)], r.Value, 1e-14);
        // Position 0 holds pair 1's policy log-ratio (−3) and pair 0's reference one (0): ∂ℓ_0/∂δ = −σ(3).
        T.Close([-0.5, -Sig(3)], r.Gradient("policy_chosen_logps"), 1e-14);
        var e = Assert.Throws<LossArgumentException>(() => Run(T.In(("policy_chosen_logps", T.Shaped(new double[4], 2, 2)), ("policy_rejected_logps", T.Shaped(new double[4], 2, 2)),
            ("reference_chosen_logps", T.Shaped(new double[4], 2, 2)), ("reference_rejected_logps", T.Shaped(new double[4], 2, 2))), ("loss_type", "aot")));
        Assert.Equal("DpoLoss: aot and aot_pair sort the batch, so the inputs must be one value per pair (B), got shape (2, 2)", e.Message);
    }

    [Fact]
    public void Rpo_adds_the_chosen_nll_to_every_pair_and_sft_is_that_term_alone()
    {
        LossInputs WithNll(double nll) => new LossInputs(Pairs.Tensors).Add("policy_nll_loss", TensorData.Create(Shape.Scalar, DType.Float64, new[] { nll }));
        double[] dpo = T.Values(Run(Pairs).Value);
        LossResult rpo = Run(WithNll(2.5), ("rpo_alpha", 0.4));
        T.Close([.. dpo.Select(v => v + 1.0)], rpo.Value, 1e-15, 0);   // TRL: losses + rpo_alpha·nll_loss, then the mean
        LossResult mean = LossRegistry.Default.Create("dpo_loss", T.Opt(("rpo_alpha", 0.4))).Evaluate(WithNll(2.5));
        T.Close(dpo.Average() + 1.0, mean.Scalar, 1e-15, 0);
        Assert.Equal(0.4, T.Values(mean.Gradient("policy_nll_loss"))[0], 15);
        T.Close(T.Values(Run(Pairs).Gradient("policy_chosen_logps")), rpo.Gradient("policy_chosen_logps"), 1e-15, 0);
        // sft: the NLL for every pair, the log-probabilities without a gradient, the references not needed.
        LossInputs policyOnly = T.In(("policy_chosen_logps", T.D(-20, -35.5, -12.25)), ("policy_rejected_logps", T.D(-22, -30, -12)))
            .Add("policy_nll_loss", TensorData.Create(Shape.Scalar, DType.Float64, new[] { 1.75 }));
        LossResult sft = LossRegistry.Default.Create("dpo_loss", T.Opt(("loss_type", "sft"), ("reduction", "sum"))).Evaluate(policyOnly);
        Assert.Equal(3 * 1.75, sft.Scalar, 15);
        Assert.Equal(3.0, T.Values(sft.Gradient("policy_nll_loss"))[0]);
        Assert.All(T.Values(sft.Gradient("policy_chosen_logps")), g => Assert.Equal(0.0, g));
        // Without the NLL, both say what they need.
        Assert.Contains("loss_type sft is the chosen responses' negative log-likelihood: give it as 'policy_nll_loss'",
            Assert.Throws<LossArgumentException>(() => Run(Pairs, ("loss_type", "sft"))).Message);
        Assert.Contains("rpo_alpha = 0.4 weighs the chosen responses' negative log-likelihood",
            Assert.Throws<LossArgumentException>(() => Run(Pairs, ("rpo_alpha", 0.4))).Message);
    }
}
