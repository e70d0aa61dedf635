using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Ranking;

/// <summary>
/// SimPO (Meng, Xia &amp; Chen, NeurIPS 2024), as TRL's <c>CPOTrainer(loss_type="simpo")</c> computes it: DPO without a
/// reference model, on length-normalized log-probabilities, with a target reward margin γ. The implicit reward of a
/// response is β times its average token log-probability, and the chosen one must beat the rejected one by γ:
/// ℓ = −(1 − ε)·log σ(β(c − r) − γ) − ε·log σ(−(β(c − r) − γ)).
/// </summary>
/// <remarks>
/// <para><b>Derivation:</b> with m = β(c − r) − γ, dℓ/dm = −(1 − ε)σ(−m) + εσ(m) (d/dm log σ(m) = σ(−m)), ∂m/∂c = β,
/// ∂m/∂r = −β. TRL writes the margin as β·(c − r − γ/β), the same number. log σ is −softplus, finite for every
/// finite input. TRL's CPO adds a cross-entropy term on the chosen tokens (<c>cpo_alpha</c>) from the model's logits,
/// which a loss of two log-probabilities cannot see: <see cref="CpoLoss"/> with <c>loss_type</c> simpo takes it as an input.</para>
/// </remarks>
public sealed class SimPoLoss : PolicyPairLoss, ILossDefinition
{
    public double Beta { get; }

    public double Gamma { get; }

    public double LabelSmoothing { get; }

    public SimPoLoss(double beta = 0.1, double gamma = 0.5, double labelSmoothing = 0, Reduction reduction = Reduction.Mean) : base(reduction)
    {
        Beta = beta > 0 && double.IsFinite(beta) ? beta : throw LossArgumentException.Value($"SimPoLoss: beta must be a finite number > 0, got {beta}");
        Gamma = double.IsFinite(gamma) ? gamma : throw LossArgumentException.Value($"SimPoLoss: gamma must be finite, got {gamma}");
        LabelSmoothing = labelSmoothing is >= 0 and <= 1 ? labelSmoothing : throw LossArgumentException.Value($"SimPoLoss: label_smoothing must be in [0, 1], got {labelSmoothing}");
    }

    protected override (double Loss, double Dc, double Dr) Term(double c, double r)
    {
        var (loss, dm) = DpoLoss.SmoothedLogistic(Beta * (c - r) - Gamma, LabelSmoothing);
        return (loss, Beta * dm, -Beta * dm);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "SimPoLoss",
        Aliases = ["simpo_loss", "simpo"],
        Family = LossFamily.Ranking,
        Task = LossTask.Ranking,
        Inputs = PairInputs,
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Float("beta", 0.1, "β, the reward scale (TRL's CPOConfig default; the paper uses 2 to 2.5)"),
            OptionSpec.Float("gamma", 0.5, "γ, the target reward margin (TRL's simpo_gamma)"),
            OptionSpec.Float("label_smoothing", 0, "ε: the assumed share of flipped preferences, in [0, 1]"),
        ],
        Sample = PairSample,
        Formula = "m = β(c − r) − γ;  ℓ = −(1 − ε)·log σ(m) − ε·log σ(−m),  c, r the average token log-probabilities",
        Gradient = "∂ℓ/∂c = β(−(1 − ε)σ(−m) + εσ(m)) = −∂ℓ/∂r",
        Reference = "Meng, Xia & Chen, SimPO: Simple Preference Optimization with a Reference-Free Reward, NeurIPS 2024; TRL CPOTrainer (loss_type simpo)",
        Stability = "finite for every finite input (log σ as −softplus)",
        Libraries = "TRL (CPOTrainer), Liger-Kernel (LigerFusedLinearSimPOLoss)",
        Factory = o => new SimPoLoss(o.Float("beta"), o.Float("gamma"), o.Float("label_smoothing"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
