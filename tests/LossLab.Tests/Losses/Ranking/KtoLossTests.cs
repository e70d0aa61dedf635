using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Ranking;

/// <summary>
/// KTO by hand: the detached, clamped KL reference point, unpaired groups of different sizes, the weights, the mean over
/// both groups, and the empty KL set. The torch reference (TRL's kto_loss) is in torch_diff.
/// </summary>
public sealed class KtoLossTests
{
    private static LossInputs Batch(double[] pc, double[] rc, double[] pr, double[] rr, double[] pk, double[] rk) => T.In(
        ("policy_chosen_logps", T.D(pc)), ("reference_chosen_logps", T.D(rc)), ("policy_rejected_logps", T.D(pr)),
        ("reference_rejected_logps", T.D(rr)), ("policy_KL_logps", T.D(pk)), ("reference_KL_logps", T.D(rk)));

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    [Fact]
    public void Unpaired_groups_by_hand_with_the_kl_reference_point()
    {
        // KL = mean(−9 − (−10), −10 − (−12)) = mean(1, 2) = 1.5; β = 0.5; two desirable, one undesirable.
        LossInputs b = Batch([-10, -14], [-12, -13], [-20], [-18], [-9, -10], [-10, -12]);
        LossResult r = LossRegistry.Default.Create("kto_loss", T.Opt(("beta", 0.5), ("undesirable_weight", 2.0), ("reduction", "none"))).Evaluate(b);
        double kl = 1.5;
        double[] expected = [1 - Sigmoid(0.5 * (2 - kl)), 1 - Sigmoid(0.5 * (-1 - kl)), 2 * (1 - Sigmoid(0.5 * (kl - -2)))];
        T.Close(expected, r.Value, 1e-15, 0);
        Assert.Equal(new Shape(3), r.Value.Shape);
        // The KL inputs are detached; the rejected policy's gradient is +λ_U·β·σ(x)σ(−x).
        Assert.False(r.Gradients.ContainsKey("policy_KL_logps"));
        double x = 0.5 * (kl + 2);
        T.Close(2 * 0.5 * Sigmoid(x) * Sigmoid(-x), T.Values(r.Gradient("policy_rejected_logps"))[0], 1e-15);
        // mean divides by both groups together.
        double mean = LossRegistry.Default.Create("kto_loss", T.Opt(("beta", 0.5), ("undesirable_weight", 2.0))).Evaluate(b).Scalar;
        T.Close(expected.Sum() / 3, mean, 1e-15);
    }

    [Fact]
    public void A_negative_kl_estimate_is_clamped_to_zero_and_an_empty_kl_set_is_an_error()
    {
        LossInputs b = Batch([-10], [-12], [], [], [-12], [-10]);   // KL estimate −2 → 0
        LossResult r = LossRegistry.Default.Create("kto_loss").Evaluate(b);
        T.Close(1 - Sigmoid(0.1 * 2), r.Scalar, 1e-15);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("kto_loss").Evaluate(Batch([-1], [-1], [-2], [-2], [], [])));
        Assert.Contains("'policy_KL_logps' is empty", e.Message);
    }

    [Fact]
    public void Apo_zero_unpaired_has_no_reference_point_and_needs_no_kl_completions()
    {
        // r = (2, −1) desirable, (−2) undesirable, β = 0.5: 1 − σ(1), 1 − σ(−0.5), σ(−1); the KL inputs are left out.
        LossInputs b = T.In(("policy_chosen_logps", T.D(-10, -14)), ("reference_chosen_logps", T.D(-12, -13)),
            ("policy_rejected_logps", T.D(-20)), ("reference_rejected_logps", T.D(-18)));
        LossResult r = LossRegistry.Default.Create("kto_loss", T.Opt(("beta", 0.5), ("loss_type", "apo_zero_unpaired"), ("reduction", "none"))).Evaluate(b);
        T.Close([1 - Sigmoid(1), 1 - Sigmoid(-0.5), Sigmoid(-1)], r.Value, 1e-15, 0);
        // ∂/∂π: −β·σ(x)σ(−x) for the desirable, +β·σ(βr)σ(−βr) for the undesirable.
        T.Close([-0.5 * Sigmoid(1) * Sigmoid(-1), -0.5 * Sigmoid(-0.5) * Sigmoid(0.5)], r.Gradient("policy_chosen_logps"), 1e-15, 0);
        T.Close([0.5 * Sigmoid(-1) * Sigmoid(1)], r.Gradient("policy_rejected_logps"), 1e-15, 0);
        // The default kto loss still needs them.
        Assert.Contains("missing input 'policy_KL_logps'", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("kto_loss").Evaluate(b)).Message);
    }
}
