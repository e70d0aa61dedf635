using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Ranking;

/// <summary>
/// SimPO and ORPO's odds-ratio term: SimPO as reference-free DPO with the margin γ/β, ORPO by hand and near p = 1 where
/// TRL's log1p(−exp(c)) loses its digits, and the log-probabilities ORPO cannot take. The torch references (TRL's
/// formulas) are in torch_diff.
/// </summary>
public sealed class SimPoOrpoLossTests
{
    private static LossInputs Pair(double[] c, double[] r) => T.In(("policy_chosen_logps", T.D(c)), ("policy_rejected_logps", T.D(r)));

    [Fact]
    public void SimPO_is_reference_free_DPO_with_the_margin_gamma_over_beta()
    {
        double[] c = [-0.4, -1.2, -2], r = [-0.9, -1, -0.3];
        LossResult simpo = LossRegistry.Default.Create("simpo_loss", T.Opt(("beta", 2.0), ("gamma", 0.6), ("label_smoothing", 0.1))).Evaluate(Pair(c, r));
        // DPO on the policy's log-ratio shifted by γ/β = 0.3: z = c − (r + 0.3).
        LossResult dpo = LossRegistry.Default.Create("dpo_loss", T.Opt(("beta", 2.0), ("reference_free", true), ("label_smoothing", 0.1)))
            .Evaluate(Pair(c, [.. r.Select(v => v + 0.3)]));
        T.Close(dpo.Scalar, simpo.Scalar, 1e-15);
        T.Close(T.Values(dpo.Gradient("policy_chosen_logps")), simpo.Gradient("policy_chosen_logps"), 1e-14, 0);
        // By hand, the first pair alone: m = 2·0.5 − 0.6 = 0.4.
        LossResult one = LossRegistry.Default.Create("simpo_loss", T.Opt(("beta", 2.0), ("gamma", 0.6))).Evaluate(Pair([-0.4], [-0.9]));
        T.Close(Math.Log(1 + Math.Exp(-0.4)), one.Scalar, 1e-15);
    }

    [Fact]
    public void ORPO_by_hand_and_exact_where_one_minus_p_cancels()
    {
        // p_w = 0.5, p_l = 0.25: odds 1 and 1/3, log odds ratio ln 3; ℓ = −β·log σ(ln 3) = β·ln(4/3).
        LossResult r = LossRegistry.Default.Create("orpo_loss", T.Opt(("beta", 0.5))).Evaluate(Pair([Math.Log(0.5)], [Math.Log(0.25)]));
        T.Close(0.5 * Math.Log(4.0 / 3), r.Scalar, 1e-15);
        // ∂ℓ/∂c = β·σ(−lo)/expm1(c) = 0.5·0.25/(−0.5).
        T.Close(-0.25, T.Values(r.Gradient("policy_chosen_logps"))[0], 1e-15);
        // c = −1e-10 (p within 1e-10 of 1): log(1 − e^c) = log(1e-10 − 5e-21) to the last digit, where log1p(−exp(c))
        // keeps only the digits of exp(c)'s rounding (about 8 of them).
        // The reference by series: log(1 − 5e-11) = −5e-11 − 1.25e-21, and log(1 + y) = y − y²/2 for y = e^−lo ≈ 1e-10
        // (.NET's LogP1 and log(1 + y) keep only the digits of 1 + y's rounding; an absolute slack of 1e-9 hid that here).
        double c = -1e-10, logOneMinus = Math.Log(1e-10) + (-5e-11 - 1.25e-21);
        double lo = c - logOneMinus - (Math.Log(0.5) - Math.Log(0.5)), y = Math.Exp(-lo);
        LossResult near = LossRegistry.Default.Create("orpo_loss", T.Opt(("beta", 1.0))).Evaluate(Pair([c], [Math.Log(0.5)]));
        T.Close(y - y * y / 2, near.Scalar, 1e-14);
    }

    [Fact]
    public void ORPO_names_a_log_probability_that_is_not_negative()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("orpo_loss").Evaluate(Pair([-1, -2], [-0.5, 0])));
        Assert.Contains("'policy_rejected_logps'[1] = 0; an average log-probability must be < 0", e.Message);
        e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("orpo_loss").Evaluate(Pair([double.NaN], [-1])));
        Assert.Contains("'policy_chosen_logps'", e.Message);   // the shared non-finite check names it first
        Assert.Contains("label_smoothing must be in [0, 1]", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("simpo_loss", T.Opt(("label_smoothing", 2.0)))).Message);
    }
}
