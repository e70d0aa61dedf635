using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Ranking;

/// <summary>
/// CPO as TRL's CPOTrainer computes it: its loss types against reference-free DPO and SimPO, AlphaPO's reward by hand and
/// where 1 − p^−α cancels, the behaviour-cloning NLL term, and the inputs and options it refuses. The torch reference
/// (TRL's cpo_loss as written) is in torch_diff.
/// </summary>
public sealed class CpoLossTests
{
    private static readonly double[] Chosen = [-0.4, -1.2, -2, -0.1], Rejected = [-0.9, -1, -0.3, -3];

    private static LossInputs Pair(double[] c, double[] r) => T.In(("policy_chosen_logps", T.D(c)), ("policy_rejected_logps", T.D(r)));

    private static LossInputs WithNll(double[] c, double[] r, double nll)
        => Pair(c, r).Add("policy_nll_loss", TensorData.Create(Shape.Scalar, DType.Float64, new[] { nll }));

    [Theory]
    [InlineData("sigmoid", 0.1)]
    [InlineData("hinge", 0.0)]
    [InlineData("ipo", 0.0)]
    public void Without_AlphaPO_each_loss_type_is_reference_free_DPO(string type, double smoothing)
    {
        var options = T.Opt(("beta", 1.5), ("loss_type", type), ("label_smoothing", smoothing));
        LossResult cpo = LossRegistry.Default.Create("cpo_loss", options).Evaluate(Pair(Chosen, Rejected));
        LossResult dpo = LossRegistry.Default.Create("dpo_loss", T.Opt(("beta", 1.5), ("loss_type", type), ("label_smoothing", smoothing), ("reference_free", true)))
            .Evaluate(Pair(Chosen, Rejected));
        T.Close(dpo.Scalar, cpo.Scalar, 1e-15);
        foreach (string input in new[] { "policy_chosen_logps", "policy_rejected_logps" })
            T.Close(T.Values(dpo.Gradient(input)), cpo.Gradient(input), 1e-15, 0);
    }

    [Fact]
    public void Simpo_is_SimPoLoss_and_alphapo_drops_the_NLL_term()
    {
        LossResult simpo = LossRegistry.Default.Create("simpo_loss", T.Opt(("beta", 2.0), ("gamma", 0.6), ("label_smoothing", 0.1))).Evaluate(Pair(Chosen, Rejected));
        LossResult cpo = LossRegistry.Default.Create("cpo_loss", T.Opt(("beta", 2.0), ("loss_type", "simpo"), ("simpo_gamma", 0.6), ("label_smoothing", 0.1)))
            .Evaluate(WithNll(Chosen, Rejected, 1.25));
        T.Close(simpo.Scalar + 1.25, cpo.Scalar, 1e-15);   // cpo_alpha 1: losses.mean() + nll
        T.Close(T.Values(simpo.Gradient("policy_chosen_logps")), cpo.Gradient("policy_chosen_logps"), 1e-15, 0);
        Assert.Equal(1.0, T.Values(cpo.Gradient("policy_nll_loss"))[0]);
        // alphapo: TRL's CPOConfig turns it into simpo with cpo_alpha 0, whatever cpo_alpha was set to.
        LossResult alphapo = LossRegistry.Default.Create("cpo_loss", T.Opt(("beta", 2.0), ("loss_type", "alphapo"), ("simpo_gamma", 0.6), ("label_smoothing", 0.1), ("cpo_alpha", 3.0)))
            .Evaluate(WithNll(Chosen, Rejected, 1.25));
        T.Close(simpo.Scalar, alphapo.Scalar, 1e-15);
        Assert.Equal(0.0, T.Values(alphapo.Gradient("policy_nll_loss"))[0]);
    }

    [Fact]
    public void AlphaPO_reward_by_hand()
    {
        // α = 0.5, p_w = 0.5, p_l = 0.25: r = (1 − p^−α)/α gives 2(1 − √2) and 2(1 − 2) = −2, so z = 4 − 2√2.
        double z = 4 - 2 * Math.Sqrt(2);
        LossResult r = LossRegistry.Default.Create("cpo_loss", T.Opt(("beta", 1.0), ("alpha", 0.5))).Evaluate(Pair([Math.Log(0.5)], [Math.Log(0.25)]));
        T.Close(Math.Log(1 + Math.Exp(-z)), r.Scalar, 1e-15, 0);
        // ∂ℓ/∂c = −σ(−z)·e^{−αc} = −σ(−z)·√2;  ∂ℓ/∂r = σ(−z)·e^{−αr} = σ(−z)·2.
        double s = 1 / (1 + Math.Exp(z));
        T.Close(-s * Math.Sqrt(2), T.Values(r.Gradient("policy_chosen_logps"))[0], 1e-15);
        T.Close(2 * s, T.Values(r.Gradient("policy_rejected_logps"))[0], 1e-15);
    }

    [Fact]
    public void AlphaPO_reward_keeps_its_digits_where_one_minus_p_to_the_minus_alpha_cancels()
    {
        // α·x = 1e-12: (1 − e^{−αx})/α = x·(1 − αx/2 + …), where 1 − Math.Exp(−αx) keeps only about 4 digits. IPO at
        // β = 1e9 puts its target 1/(2β) = 5e-10 beside the margin of 1e-9, so the loss sees every digit of the rewards.
        double alpha = 1e-3, beta = 1e9, c = -1e-9, r = -2e-9;
        LossResult result = LossRegistry.Default.Create("cpo_loss", T.Opt(("beta", beta), ("alpha", alpha), ("loss_type", "ipo"))).Evaluate(Pair([c], [r]));
        double Reward(double x) => x * (1 - alpha * x / 2 + alpha * alpha * x * x / 6);
        double d = Reward(c) - Reward(r) - 1 / (2 * beta);
        T.Close(d * d, result.Scalar, 1e-14, 0);
        T.Close(2 * d * Math.Exp(-alpha * c), T.Values(result.Gradient("policy_chosen_logps"))[0], 1e-14, 0);
    }

    [Fact]
    public void Every_pair_carries_the_batch_NLL_term_so_the_mean_is_TRLs()
    {
        LossResult mean = LossRegistry.Default.Create("cpo_loss", T.Opt(("cpo_alpha", 0.5))).Evaluate(WithNll(Chosen, Rejected, 2));
        LossResult sum = LossRegistry.Default.Create("cpo_loss", T.Opt(("cpo_alpha", 0.5), ("reduction", "sum"))).Evaluate(WithNll(Chosen, Rejected, 2));
        LossResult none = LossRegistry.Default.Create("cpo_loss", T.Opt(("cpo_alpha", 0.5), ("reduction", "none"))).Evaluate(WithNll(Chosen, Rejected, 2));
        LossResult bare = LossRegistry.Default.Create("cpo_loss", T.Opt(("reduction", "none"))).Evaluate(Pair(Chosen, Rejected));
        double[] per = T.Values(bare.Value);
        Assert.Equal(4, per.Length);
        // By hand, the first pair: z = −0.4 + 0.9 = 0.5, ℓ = softplus(−0.05).
        T.Close(Math.Log(1 + Math.Exp(-0.05)), per[0], 1e-15, 0);
        T.Close([.. per.Select(v => v + 1)], none.Value, 1e-15, 0);
        T.Close(per.Average() + 1, mean.Scalar, 1e-15, 0);             // TRL: losses.mean() + cpo_alpha·nll
        T.Close(per.Sum() + 4, sum.Scalar, 1e-15, 0);                  // the sum of the none values
        Assert.Equal(0.5, T.Values(mean.Gradient("policy_nll_loss"))[0]);
        Assert.Equal(2.0, T.Values(sum.Gradient("policy_nll_loss"))[0]);
        // An empty batch: the mean is NaN (0/0) and the NLL's slope still cpo_alpha, as TRL's mean + term.
        LossResult empty = LossRegistry.Default.Create("cpo_loss", T.Opt(("cpo_alpha", 0.5))).Evaluate(WithNll([], [], 2));
        Assert.True(double.IsNaN(empty.Scalar));
        Assert.Equal(0.5, T.Values(empty.Gradient("policy_nll_loss"))[0]);
    }

    [Fact]
    public void Refuses_what_it_cannot_compute_and_names_it()
    {
        var shaped = Pair(Chosen, Rejected).Add("policy_nll_loss", T.D(1, 2));
        Assert.Contains("'policy_nll_loss' is one number for the batch (shape ()), got shape (2,)",
            Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("cpo_loss").Evaluate(shaped)).Message);
        // AlphaPO's p^−α overflows double past −αx = 709: the pair is named.
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("cpo_loss", T.Opt(("alpha", 1.0))).Evaluate(Pair([-1, -2], [-5, -800])));
        Assert.Contains("'policy_rejected_logps'[1] = -800", e.Message);
        Assert.Contains("overflows", e.Message);
        Assert.Contains("label_smoothing applies to the sigmoid, simpo and alphapo losses, not to hinge",
            Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("cpo_loss", T.Opt(("loss_type", "hinge"), ("label_smoothing", 0.1)))).Message);
        Assert.Contains("beta must be a finite number > 0", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("cpo_loss", T.Opt(("beta", 0.0)))).Message);
        Assert.Contains("shape", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("cpo_loss").Evaluate(Pair([-1, -2], [-1]))).Message);
    }
}
