using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Ranking;

/// <summary>
/// GRPO by hand: the clip on each side of the ratio, the k3 KL term, the three reductions with a mask, the on-policy
/// default (no old log-probabilities: ρ = 1, gradient −A), and errors. The torch reference (TRL's formula) is in torch_diff.
/// </summary>
public sealed class GrpoLossTests
{
    [Fact]
    public void Clipping_kl_and_the_three_reductions_by_hand()
    {
        // One completion, two tokens; ε = 0.2. Token 0: ρ = e^{0.5} > 1.2 with A = 1: clipped, loss −1.2, gradient 0.
        // Token 1: ρ = e^{−0.1} inside the range: loss −ρ, gradient −ρ. The second completion has one unmasked token.
        LossInputs inputs = T.In(("per_token_logps", T.Shaped([-1.0, -2.1, -1, -1], 2, 2)), ("old_per_token_logps", T.Shaped([-1.5, -2.0, -1, -1], 2, 2)),
            ("advantages", T.D(1, -2)), ("completion_mask", T.Shaped([1.0, 1, 1, 0], 2, 2)));
        double rho = Math.Exp(-0.1);
        double[] terms = [-1.2, -rho, 2.0];   // the second completion's first token: ρ = 1, A = −2 → −min(−2, −2) = 2
        double Value(string type) => LossRegistry.Default.Create("grpo_loss", T.Opt(("loss_type", type))).Evaluate(inputs).Scalar;
        T.Close(((terms[0] + terms[1]) / 2 + terms[2] / 1) / 2, Value("grpo"), 1e-15);
        T.Close(terms.Sum() / 3, Value("bnpo"), 1e-15);
        T.Close(terms.Sum() / 4, Value("dr_grpo"), 1e-15);
        // dr_grpo over B·max_completion_length; DAPO over the generation batch's tokens (this batch's by default: bnpo).
        double Options(params (string, object?)[] o) => LossRegistry.Default.Create("grpo_loss", T.Opt(o)).Evaluate(inputs).Scalar;
        T.Close(terms.Sum() / 10, Options(("loss_type", "dr_grpo"), ("max_completion_length", 5L)), 1e-15);
        T.Close(terms.Sum() / 3, Value("dapo"), 1e-15);
        T.Close(terms.Sum() / 12, Options(("loss_type", "dapo"), ("num_items_in_batch", 12.0)), 1e-15);
        LossResult r = LossRegistry.Default.Create("grpo_loss", T.Opt(("loss_type", "bnpo"))).Evaluate(inputs);
        T.Close([0, -rho / 3, 2.0 / 3, 0], r.Gradient("per_token_logps"), 1e-15, 0);
        // β = 0.5 adds 0.5·(e^d − d − 1) per token, d = ref − log π, and 0.5·(1 − e^d) to its gradient.
        LossInputs withRef = T.In(("per_token_logps", T.Shaped([-1.0], 1, 1)), ("ref_per_token_logps", T.Shaped([-1.3], 1, 1)), ("advantages", T.D(0.5)));
        LossResult kl = LossRegistry.Default.Create("grpo_loss", T.Opt(("beta", 0.5))).Evaluate(withRef);
        T.Close(-0.5 + 0.5 * (Math.Exp(-0.3) + 0.3 - 1), kl.Scalar, 1e-15);
        T.Close(-0.5 + 0.5 * (1 - Math.Exp(-0.3)), T.Values(kl.Gradient("per_token_logps"))[0], 1e-15);
    }

    [Fact]
    public void Missing_reference_masks_and_shapes_are_named()
    {
        LossInputs noRef = T.In(("per_token_logps", T.Shaped([-1.0, -2], 1, 2)), ("advantages", T.D(1)));
        Assert.Contains("beta = 0.1 needs 'ref_per_token_logps'", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("grpo_loss", T.Opt(("beta", 0.1))).Evaluate(noRef)).Message);
        var mask = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("grpo_loss").Evaluate(noRef.Add("completion_mask", T.Shaped([1.0, 0.5], 1, 2))));
        Assert.Contains("'completion_mask' holds 0 or 1; completion_mask[1] = 0.5", mask.Message);
        var adv = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("grpo_loss").Evaluate(T.In(("per_token_logps", T.Shaped([-1.0, -2], 1, 2)), ("advantages", T.D(1, 2)))));
        Assert.Contains("'advantages' has shape (2,); expected (1,)", adv.Message);
    }

    [Fact]
    public void Gspo_takes_one_ratio_per_completion_the_geometric_mean_of_its_tokens()
    {
        // One completion of three tokens, the last masked out; log-ratios 0.1 and −0.3 → log ρ = −0.1 for both counted
        // tokens, inside the clip range: loss −ρ·A per token, mean over the 2 tokens = −ρ·A. Each counted token gets
        // −A·ρ·(its weight ½ + ½)·(1/2) = −A·ρ/2; the masked one nothing.
        LossInputs inputs = T.In(("per_token_logps", T.Shaped([-1.0, -2.3, -0.5], 1, 3)), ("old_per_token_logps", T.Shaped([-1.1, -2.0, -3.0], 1, 3)),
            ("advantages", T.D(1.5)), ("completion_mask", T.Shaped([1.0, 1, 0], 1, 3)));
        LossResult r = LossRegistry.Default.Create("grpo_loss", T.Opt(("importance_sampling_level", "sequence"))).Evaluate(inputs);
        double rho = Math.Exp(-0.1);
        T.Close(-rho * 1.5, r.Scalar, 1e-15, 0);
        T.Close([-1.5 * rho / 2, -1.5 * rho / 2, 0], r.Gradient("per_token_logps"), 1e-15, 0);
        // Where every token has the same ratio, GSPO is GRPO.
        LossInputs equal = T.In(("per_token_logps", T.Shaped([-1.0, -2.0, -0.5, -0.7], 2, 2)), ("old_per_token_logps", T.Shaped([-1.05, -2.05, -0.9, -1.1], 2, 2)), ("advantages", T.D(1, -0.5)));
        LossResult gspo = LossRegistry.Default.Create("grpo_loss", T.Opt(("importance_sampling_level", "sequence"))).Evaluate(equal);
        LossResult grpo = LossRegistry.Default.Create("grpo_loss").Evaluate(equal);
        T.Close(grpo.Scalar, gspo.Scalar, 1e-15, 0);
        T.Close(T.Values(grpo.Gradient("per_token_logps")), gspo.Gradient("per_token_logps"), 1e-14, 1e-16);
    }
}
