using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Ranking;

/// <summary>
/// ORPO's odds-ratio term (Hong, Lee &amp; Thorne, EMNLP 2024), as TRL's <c>ORPOTrainer.odds_ratio_loss</c>: with the
/// odds of a response p/(1 − p) for its average token probability p = e^c, the log odds ratio between the chosen and
/// the rejected response is lo = (c − log(1 − e^c)) − (r − log(1 − e^r)), and ℓ = −β·log σ(lo).
/// </summary>
/// <remarks>
/// <para>TRL's ORPO loss is the chosen responses' cross-entropy (from the model's logits) plus the mean of this term;
/// a loss of two log-probabilities cannot see the logits, so this is the odds-ratio part (TRL's <c>−losses</c>), to be
/// added to that cross-entropy. β is the paper's λ (TRL's default 0.1).</para>
/// <para><b>Derivation:</b> d/dc (c − log(1 − e^c)) = 1 + e^c/(1 − e^c) = 1/(1 − e^c) = −1/expm1(c); dℓ/dlo = −β·σ(−lo).
/// So ∂ℓ/∂c = β·σ(−lo)/expm1(c) and ∂ℓ/∂r = −β·σ(−lo)/expm1(r).</para>
/// <para><b>Stability:</b> log(1 − e^x) is log(−expm1(x)) above −ln 2 and log1p(−e^x) below (TRL writes
/// log1p(−exp(x)), which loses every digit as x → 0⁻), and log σ is −softplus. The odds need p &lt; 1: a
/// log-probability ≥ 0 is an error naming it (at 0 the odds are infinite).</para>
/// </remarks>
public sealed class OrpoLoss : PolicyPairLoss, ILossDefinition
{
    public double Beta { get; }

    public OrpoLoss(double beta = 0.1, Reduction reduction = Reduction.Mean) : base(reduction)
    {
        Beta = beta > 0 && double.IsFinite(beta) ? beta : throw LossArgumentException.Value($"OrpoLoss: beta must be a finite number > 0, got {beta}");
    }

    /// <summary>log(1 − e^x) for x &lt; 0 without cancellation (Mächler's log1mexp).</summary>
    internal static double Log1mExp(double x) => x > -Math.Log(2) ? Math.Log(-Stable.Expm1(x)) : Stable.Log1p(-Math.Exp(x));

    protected override void Validate(double[] chosen, double[] rejected)
    {
        foreach (var (values, name) in new[] { (chosen, "policy_chosen_logps"), (rejected, "policy_rejected_logps") })
        {
            for (int i = 0; i < values.Length; i++)
            {
                if (!(values[i] < 0))
                    throw LossArgumentException.Value($"OrpoLoss: '{name}'[{i}] = {values[i]}; an average log-probability must be < 0 for its odds p/(1 − p) to be finite");
            }
        }
    }

    protected override (double Loss, double Dc, double Dr) Term(double c, double r)
    {
        double lo = c - Log1mExp(c) - (r - Log1mExp(r));
        Stable.SoftplusPair(lo, out double minusLogSigma);   // softplus(−lo) = −log σ(lo)
        Stable.SigmoidPair(lo, out double sigmaDown);         // σ(−lo)
        double g = Beta * sigmaDown;                          // −dℓ/dlo
        return (Beta * minusLogSigma, g / Stable.Expm1(c), -g / Stable.Expm1(r));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "OrpoLoss",
        Aliases = ["orpo_loss", "orpo", "odds_ratio_loss"],
        Family = LossFamily.Ranking,
        Task = LossTask.Ranking,
        Inputs = PairInputs,
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Float("beta", 0.1, "β (the paper's λ), the weight of the odds-ratio term"),
        ],
        Sample = PairSample,
        Formula = "lo = (c − log(1 − e^c)) − (r − log(1 − e^r));  ℓ = −β·log σ(lo),  c, r < 0 the average token log-probabilities",
        Gradient = "∂ℓ/∂c = β·σ(−lo)/expm1(c),  ∂ℓ/∂r = −β·σ(−lo)/expm1(r)",
        Reference = "Hong, Lee & Thorne, ORPO: Monolithic Preference Optimization without Reference Model, EMNLP 2024; TRL ORPOTrainer.odds_ratio_loss",
        Stability = "finite for every c, r < 0 (log1mexp, log σ as −softplus); c or r ≥ 0 is an error",
        Libraries = "TRL (ORPOTrainer), Liger-Kernel (LigerFusedLinearORPOLoss)",
        Factory = o => new OrpoLoss(o.Float("beta"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
