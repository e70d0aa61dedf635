using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Ranking;

/// <summary>How GRPO's per-token losses become one number (TRL's <c>loss_type</c>).</summary>
public enum GrpoLossType
{
    /// <summary>Each completion's masked mean over its tokens, then the mean over completions (DeepSeekMath's GRPO).</summary>
    Grpo,
    /// <summary>The masked mean over every token of the batch.</summary>
    Bnpo,
    /// <summary>Dr. GRPO (Liu et al., 2025): the masked sum over B·T, with no length normalization per completion.</summary>
    DrGrpo,
    /// <summary>DAPO (Yu et al., 2025): the masked sum over the tokens of the whole generation batch (num_items_in_batch).</summary>
    Dapo,
}

/// <summary>
/// The GRPO policy loss (Shao et al., DeepSeekMath 2024), as TRL's <c>GRPOTrainer._compute_loss</c>: PPO's clipped
/// surrogate per token, −min(ρ·A, clip(ρ, 1 − ε_low, 1 + ε_high)·A) with ρ = e^{log π − log π_old} and A the
/// completion's group-relative advantage, plus β times the k3 estimate of KL to the reference,
/// e^{ref − log π} − (ref − log π) − 1; the masked per-token losses reduced as <c>loss_type</c> says.
/// </summary>
/// <remarks>
/// <para><b>Inputs:</b> per_token_logps (B, T), the policy's log-probabilities of the generated tokens, differentiated;
/// advantages (B); optional old_per_token_logps (B, T) (absent: the current ones detached, so ρ = 1 with gradient ρ, as
/// TRL with one iteration per generation), ref_per_token_logps (B, T) (needed when β ≠ 0) and completion_mask (B, T) of
/// 0/1 (absent: all tokens count).</para>
/// <para><b>Derivation:</b> dρ/d log π = ρ. Where ρ·A ≤ clip(ρ)·A the unclipped term is the min and ∂ℓ/∂log π = −A·ρ;
/// where the clipped term is smaller it is constant in log π and the surrogate's gradient is 0 (inside the clip range
/// both terms are equal, and either gives −A·ρ). The KL term adds β(1 − e^{ref − log π}). The reduction's weights
/// (m_t / max(Σ_t m, 1) / B for grpo, m_t / max(Σ m, 1) for bnpo, m_t / (B·T) for dr_grpo) multiply each token.
/// dr_grpo divides by B·max_completion_length (TRL's configured length; default T, the width of the inputs), dapo the
/// masked sum by num_items_in_batch, the completion tokens of the whole generation batch across gradient accumulation
/// (default this batch's, as Liger-Kernel: then it is bnpo).</para>
/// <para><b>GSPO</b> (Zheng et al., 2025; TRL's <c>importance_sampling_level="sequence"</c>): one ratio per completion,
/// ρ_i = exp(Σ_t m_it(log π − log π_old)_it / max(Σ_t m_it, 1)), the geometric mean of its tokens' ratios, clipped and
/// applied to every token of the completion. Its gradient reaches each counted token as the row's surrogate slope
/// (−A·ρ_i where unclipped, else 0) times the row's total token weight times m_it / max(Σ_t m_it, 1).</para>
/// </remarks>
public sealed class GrpoLoss : Loss, ILossDefinition
{
    private const string Logps = "per_token_logps", Old = "old_per_token_logps", Ref = "ref_per_token_logps", Advantages = "advantages", Mask = "completion_mask";

    public double Beta { get; }

    public double EpsilonLow { get; }

    public double EpsilonHigh { get; }

    public GrpoLossType LossType { get; }

    /// <summary>True for GSPO's one importance ratio per completion (TRL's importance_sampling_level "sequence"); false per token.</summary>
    public bool SequenceLevel { get; }

    /// <summary>dr_grpo's max_completion_length (null: T); dapo's num_items_in_batch (null: this batch's completion tokens).</summary>
    public long? MaxCompletionLength { get; init; }

    public double? NumItemsInBatch { get; init; }

    public GrpoLoss(double beta = 0, double epsilon = 0.2, double? epsilonHigh = null, GrpoLossType lossType = GrpoLossType.Grpo, bool sequenceLevel = false)
    {
        SequenceLevel = sequenceLevel;
        Beta = beta >= 0 && double.IsFinite(beta) ? beta : throw LossArgumentException.Value($"GrpoLoss: beta must be a finite number ≥ 0, got {beta}");
        EpsilonLow = epsilon is >= 0 and < 1 ? epsilon : throw LossArgumentException.Value($"GrpoLoss: epsilon must be in [0, 1), got {epsilon}");
        double high = epsilonHigh ?? epsilon;
        EpsilonHigh = high >= 0 && double.IsFinite(high) ? high : throw LossArgumentException.Value($"GrpoLoss: epsilon_high must be a finite number ≥ 0, got {high}");
        LossType = lossType;
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        const string name = "GrpoLoss";
        Shape shape = inputs[Logps].Shape;
        if (shape.Rank != 2) throw LossArgumentException.Shape($"{name}: '{Logps}' must be (B, T), got {shape}");
        int b = shape[0], t = shape[1];
        foreach (string other in new[] { Old, Ref, Mask }.Where(inputs.Contains)) RequireSameShape(inputs, Logps, other);
        if (inputs[Advantages].Shape != new Shape(b)) throw LossArgumentException.Shape($"{name}: '{Advantages}' has shape {inputs[Advantages].Shape}; expected {new Shape(b)}, one per completion of '{Logps}' {shape}");
        if (Beta != 0 && !inputs.Contains(Ref)) throw LossArgumentException.Value($"{name}: beta = {Beta} needs '{Ref}' for the KL term (or beta = 0)");
        double[] logp = inputs.Floating<double>(Logps), adv = inputs.Floating<double>(Advantages);
        double[] old = inputs.Contains(Old) ? inputs.Floating<double>(Old) : logp;
        double[]? reference = Beta != 0 ? inputs.Floating<double>(Ref) : null;
        double[] mask = inputs.Contains(Mask) ? inputs.Floating<double>(Mask) : [.. Enumerable.Repeat(1.0, b * t)];
        for (int i = 0; i < mask.Length; i++)
            if (mask[i] is not (0 or 1)) throw LossArgumentException.Value($"{name}: '{Mask}' holds 0 or 1; {Mask}[{i}] = {mask[i]}");
        // The weight of each token in the reduced loss.
        var weight = new double[b * t];
        double total = mask.Sum();
        for (int i = 0; i < b; i++)
        {
            double rowTokens = 0;
            for (int k = 0; k < t; k++) rowTokens += mask[i * t + k];
            for (int k = 0; k < t; k++)
            {
                weight[i * t + k] = mask[i * t + k] * LossType switch
                {
                    GrpoLossType.Grpo => 1 / (Math.Max(rowTokens, 1) * b),
                    GrpoLossType.Bnpo => 1 / Math.Max(total, 1),
                    GrpoLossType.Dapo => 1 / (NumItemsInBatch ?? Math.Max(total, 1)),
                    _ => 1.0 / ((double)b * (MaxCompletionLength ?? t)),
                };
            }
        }
        double loss = 0;
        var g = computeGradients ? new double[b * t] : null;
        for (int i = 0; i < b; i++)
        {
            double a = adv[i];
            // GSPO: the completion's mean log-ratio over its counted tokens, shared by all of them.
            double rowTokens = 0, rowLogRatio = 0, rowWeight = 0;
            if (SequenceLevel)
            {
                for (int k = i * t; k < i * t + t; k++) { rowTokens += mask[k]; rowLogRatio += mask[k] * (logp[k] - old[k]); rowWeight += weight[k]; }
                rowLogRatio /= Math.Max(rowTokens, 1);
            }
            double rowSlope = 0;   // ∂(Σ_k weight_k·surrogate_k)/∂ log ρ_i, for GSPO
            for (int k = i * t; k < i * t + t; k++)
            {
                if (weight[k] == 0) continue;
                double ratio = Math.Exp(SequenceLevel ? rowLogRatio : logp[k] - old[k]);
                double unclipped = ratio * a, clipped = Math.Clamp(ratio, 1 - EpsilonLow, 1 + EpsilonHigh) * a;
                double value = -Math.Min(unclipped, clipped), slope = unclipped <= clipped ? -a * ratio : 0;
                if (SequenceLevel)
                {
                    rowSlope = slope;   // the same for every token of the completion
                    slope = 0;
                }
                if (reference is not null)
                {
                    double d = reference[k] - logp[k], e = Math.Exp(d);
                    value += Beta * (e - d - 1);
                    slope += Beta * (1 - e);
                }
                loss += weight[k] * value;
                if (g is not null) g[k] = weight[k] * slope;
            }
            if (g is not null && SequenceLevel && rowSlope != 0)
            {
                for (int k = i * t; k < i * t + t; k++) g[k] += rowSlope * rowWeight * mask[k] / Math.Max(rowTokens, 1);
            }
        }
        TensorData result = FromDoubles<T>([loss], Shape.Scalar);
        return g is null ? Result(result) : Result(result, (Logps, FromDoubles<T>(g, shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "GrpoLoss",
        Aliases = ["grpo_loss", "grpo"],
        Family = LossFamily.Ranking,
        Task = LossTask.Ranking,
        Inputs =
        [
            new(Logps, InputKind.Floating, true, "the policy's log-probability of each generated token (B, T)"),
            new(Advantages, InputKind.Floating, false, "each completion's group-relative advantage (B)"),
            new(Old, InputKind.Floating, false, "optional: the generating policy's token log-probabilities (B, T); absent, the current ones detached") { Optional = true },
            new(Ref, InputKind.Floating, false, "optional: the reference model's token log-probabilities (B, T); needed when beta ≠ 0") { Optional = true },
            new(Mask, InputKind.Floating, false, "optional: 1 for the completion's tokens, 0 for padding (B, T)") { Optional = true },
        ],
        Options =
        [
            OptionSpec.Float("beta", 0, "β, the weight of the KL term to the reference (TRL's default 0)"),
            OptionSpec.Float("epsilon", 0.2, "ε_low, the lower clip: ρ ≥ 1 − ε"),
            OptionSpec.OptionalFloat("epsilon_high", "ε_high, the upper clip: ρ ≤ 1 + ε_high (default ε; DAPO raises it)"),
            OptionSpec.Choice("loss_type", "grpo", "grpo (per-completion token mean, then mean), bnpo (mean over all tokens), dr_grpo (sum over B·max_completion_length) or dapo (sum over num_items_in_batch)", "grpo", "bnpo", "dr_grpo", "dapo"),
            OptionSpec.OptionalInt("max_completion_length", "dr_grpo's divisor per completion (TRL's max_completion_length); None: T, the inputs' width"),
            OptionSpec.OptionalFloat("num_items_in_batch", "dapo's divisor: the generation batch's completion tokens across gradient accumulation; None: this batch's"),
            OptionSpec.Choice("importance_sampling_level", "token", "token (GRPO's ratio per token) or sequence (GSPO: one ratio per completion, the geometric mean of its tokens')", "token", "sequence"),
        ],
        Sample = (r, s) =>
        {
            int b = 3, t = 4;
            TensorData Tokens(double center, double spread) => TensorData.Create(new Shape(b, t), DType.Float64, Enumerable.Range(0, b * t).Select(_ => center + spread * (r.NextDouble() - 0.5)).ToArray());
            return new LossInputs().Add(Logps, Tokens(-1.5, 1)).Add(Advantages, TensorData.Create(new Shape(b), DType.Float64, Enumerable.Range(0, b).Select(_ => 2 * r.NextDouble() - 1).ToArray()))
                .Add(Old, Tokens(-1.5, 1)).Add(Ref, Tokens(-1.5, 1)).Add(Mask, TensorData.Create(new Shape(b, t), DType.Float64, new double[] { 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0 }));
        },
        Formula = "ρ = e^{log π − log π_old};  ℓ_t = −min(ρA, clip(ρ, 1 − ε, 1 + ε_high)A) + β(e^{ref − log π} − (ref − log π) − 1);  masked mean per loss_type",
        Gradient = "∂ℓ_t/∂log π = −A·ρ where the unclipped term is the min (else 0) + β(1 − e^{ref − log π}), times the token's weight",
        Reference = "Shao et al., DeepSeekMath (GRPO), 2024; Liu et al., Understanding R1-Zero-Like Training (Dr. GRPO), 2025; Zheng et al., Group Sequence Policy Optimization (GSPO), 2025; TRL GRPOTrainer._compute_loss",
        LowerBound = double.NegativeInfinity,   // −ρ·A is negative for a positive advantage: the surrogate is maximized, not a distance
        Stability = "finite while log π − log π_old and ref − log π stay within the exponential's range (the ratios themselves)",
        Libraries = "TRL (GRPOTrainer), Liger-Kernel (LigerFusedLinearGRPOLoss), verl, OpenRLHF",
        Factory = o => new GrpoLoss(o.Float("beta"), o.Float("epsilon"), o.NullableFloat("epsilon_high"),
            o.Choice("loss_type") switch { "bnpo" => GrpoLossType.Bnpo, "dr_grpo" => GrpoLossType.DrGrpo, "dapo" => GrpoLossType.Dapo, _ => GrpoLossType.Grpo },
            o.Choice("importance_sampling_level") == "sequence")
        {
            MaxCompletionLength = o.NullableInt("max_completion_length") is long l ? (l > 0 ? l : throw LossArgumentException.Value($"GrpoLoss: max_completion_length must be > 0, got {l}")) : null,
            NumItemsInBatch = o.NullableFloat("num_items_in_batch") is double items ? (items > 0 && double.IsFinite(items) ? items : throw LossArgumentException.Value($"GrpoLoss: num_items_in_batch must be a finite count > 0, got {items}")) : null,
        },
    };

    public override LossDescriptor Descriptor => Entry;
}
