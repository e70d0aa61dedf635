using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Ranking;

/// <summary>The loss a DPO margin goes through (TRL's <c>loss_type</c>).</summary>
public enum PreferenceLossType
{
    /// <summary>DPO (Rafailov et al., 2023): −log σ(βz), with label smoothing ε the conservative cDPO mix.</summary>
    Sigmoid,
    /// <summary>SLiC's hinge (Zhao et al., 2023): max(0, 1 − βz).</summary>
    Hinge,
    /// <summary>IPO (Azar et al., 2023): (z − 1/(2β))², a squared distance to a fixed margin instead of a logistic.</summary>
    Ipo,
    /// <summary>Robust DPO (Chowdhury et al., 2024): the unbiased loss under a label-flip rate ε.</summary>
    Robust,
    /// <summary>EXO (Ji et al., 2024, eq. 16): the reverse KL between σ(βz) and the smoothed labels (ε, 1e-3 when 0).</summary>
    ExoPair,
    /// <summary>NCA (Chen et al., 2024): −log σ(r_w) − ½·log σ(−r_w) − ½·log σ(−r_l) on the rewards r = β·(policy − reference).</summary>
    NcaPair,
    /// <summary>SPPO, hard labels (Wu et al., 2024): (a − 1/(2β))² + (b + 1/(2β))², a and b the chosen and rejected log-ratios.</summary>
    SppoHard,
    /// <summary>AOT (Melnyk et al., 2024): the sigmoid loss of the sorted policy log-ratios against the sorted reference ones.</summary>
    Aot,
    /// <summary>AOT, unpaired: the sorted chosen log-ratios against the sorted rejected ones.</summary>
    AotPair,
    /// <summary>APO-zero (D'Oosterlinck et al., 2024, eq. 7): 1 − σ(β·chosen log-ratio) + σ(β·rejected log-ratio).</summary>
    ApoZero,
    /// <summary>APO-down (eq. 8): σ(β·chosen log-ratio) + 1 − σ(β·(chosen − rejected log-ratio)).</summary>
    ApoDown,
    /// <summary>DiscoPOP (Chris Lu et al., 2024, eq. 5): the logistic and exponential losses of βz blended by σ(βz/τ).</summary>
    DiscoPop,
    /// <summary>SFT: the chosen responses' negative log-likelihood (<c>policy_nll_loss</c>) for every pair, no preference term.</summary>
    Sft,
}

/// <summary>The divergence a DPO margin is measured in (TRL's <c>f_divergence_type</c>).</summary>
public enum PreferenceDivergence
{
    /// <summary>Reverse KL: DPO's margin z itself.</summary>
    ReverseKl,
    /// <summary>Jensen–Shannon: z − (softplus(chosen log-ratio) − softplus(rejected log-ratio)).</summary>
    JsDivergence,
    /// <summary>α-divergence: (e^{−α·rejected log-ratio} − e^{−α·chosen log-ratio})/α, the exponents capped at log(max float).</summary>
    AlphaDivergence,
}

/// <summary>
/// Direct preference optimization (DPO; Rafailov et al., 2023) and its variants, as TRL's <c>DPOTrainer</c> computes them:
/// for each preference pair, the margin z = (log π(y_w) − log π(y_l)) − (log π_ref(y_w) − log π_ref(y_l)) between how much
/// the policy and the reference model prefer the chosen response y_w over the rejected y_l, through a logistic
/// (DPO), a hinge (SLiC), a square (IPO), a noise-corrected logistic (robust DPO) or EXO's reverse KL; and TRL's other
/// loss types (NCA, SPPO, AOT, APO, DiscoPOP) and margin divergences (JS, α), in DpoLoss.Variants.cs.
/// </summary>
/// <remarks>
/// <para><b>Definitions</b> (ε = <c>label_smoothing</c>): sigmoid ℓ = −(1 − ε)·log σ(βz) − ε·log σ(−βz); robust
/// ℓ = (−(1 − ε)·log σ(βz) + ε·log σ(−βz))/(1 − 2ε); hinge ℓ = max(0, 1 − βz); IPO ℓ = (z − 1/(2β))².
/// With <c>reference_free</c> the reference terms are 0 (z is the policy's log-ratio alone).</para>
/// <para><b>Derivation:</b> each is a function of z, and ∂z/∂(policy chosen, policy rejected, reference chosen,
/// reference rejected) = (1, −1, −1, 1). With d/dz log σ(βz) = βσ(−βz): sigmoid ∂ℓ/∂z = −(1 − ε)βσ(−βz) + εβσ(βz);
/// robust (−(1 − ε)βσ(−βz) − εβσ(βz))/(1 − 2ε); hinge −β where 1 − βz &gt; 0, else 0 (0 at the kink, as PyTorch's
/// relu); IPO 2(z − 1/(2β)). All four inputs get their gradient (in training the reference's are not used).</para>
/// <para>log σ is computed as −softplus(−x): finite for every finite margin, where the naive log(σ(βz)) is −∞ once
/// σ underflows. Inputs: four tensors of one shape, (B) per pair usually (sums of token log-probabilities); the
/// default reduction is the mean, as TRL's.</para>
/// <para><b>The chosen responses' NLL</b> (<c>policy_nll_loss</c>, one number for the batch: the cross-entropy of their
/// tokens, which a loss of sequence log-probabilities cannot form): TRL adds <c>rpo_alpha</c> times it to every pair's
/// loss (RPO, Pang et al., 2024) and the sft type is it alone, so each pair carries it; the mean is then TRL's
/// <c>losses.mean()</c>, and ∂/∂nll is the weight (B times it for the sum). TRL's bco_pair keeps a running mean of the
/// rewards across calls, and its lists of loss types with weights (MPO) are sums of these: left out.</para>
/// </remarks>
public sealed partial class DpoLoss : Loss, ILossDefinition
{
    private static readonly string[] Names = ["policy_chosen_logps", "policy_rejected_logps", "reference_chosen_logps", "reference_rejected_logps"];

    public DpoLoss() : this(new Options()) { }

    public DpoLoss(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.Beta > 0) || !double.IsFinite(options.Beta)) throw LossArgumentException.Value($"DpoLoss: beta must be a finite number > 0, got {options.Beta}");
        double maxSmoothing = options.LossType == PreferenceLossType.Robust ? 0.5 : 1;
        if (!(options.LabelSmoothing >= 0 && (options.LabelSmoothing < maxSmoothing || maxSmoothing == 1 && options.LabelSmoothing == 1)))
        {
            throw LossArgumentException.Value($"DpoLoss: label_smoothing must be in [0, {(maxSmoothing == 1 ? "1]" : "0.5) for the robust loss")}, got {options.LabelSmoothing}");
        }
        if (options.LossType == PreferenceLossType.ExoPair && options.LabelSmoothing == 1)
            throw LossArgumentException.Value("DpoLoss: exo_pair needs label_smoothing in [0, 1) (its log(1 − ε) is −∞ at 1; 0 means 1e-3)");
        if (!(options.AlphaDivergenceCoef != 0 && double.IsFinite(options.AlphaDivergenceCoef)))
            throw LossArgumentException.Value($"DpoLoss: alpha_divergence_coef must be a finite number ≠ 0, got {options.AlphaDivergenceCoef}");
        if (!(options.DiscopopTau > 0 && double.IsFinite(options.DiscopopTau)))
            throw LossArgumentException.Value($"DpoLoss: discopop_tau must be a finite number > 0, got {options.DiscopopTau}");
        if (!double.IsFinite(options.RpoAlpha)) throw LossArgumentException.Value($"DpoLoss: rpo_alpha must be finite, got {options.RpoAlpha}");
        Settings = options;
    }

    public Options Settings { get; }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>β, the strength of the implicit KL penalty toward the reference (TRL's default 0.1).</summary>
        public double Beta { get; init; } = 0.1;

        /// <summary>ε, the assumed share of flipped preference labels (sigmoid: cDPO; robust: in [0, ½)).</summary>
        public double LabelSmoothing { get; init; }

        public PreferenceLossType LossType { get; init; } = PreferenceLossType.Sigmoid;

        /// <summary>Leave the reference model out: z is the policy's log-ratio (the reference inputs are then optional).</summary>
        public bool ReferenceFree { get; init; }

        /// <summary>The divergence of the margin (sigmoid, robust, exo_pair, hinge and ipo; TRL's f_divergence_type).</summary>
        public PreferenceDivergence Divergence { get; init; } = PreferenceDivergence.ReverseKl;

        /// <summary>α of the α-divergence (TRL's f_divergence_params alpha_divergence_coef, default 1).</summary>
        public double AlphaDivergenceCoef { get; init; } = 1;

        /// <summary>τ of DiscoPOP's blend σ(βz/τ) (TRL's discopop_tau, default 0.05).</summary>
        public double DiscopopTau { get; init; } = 0.05;

        /// <summary>RPO (Pang et al., 2024): this times <c>policy_nll_loss</c> added to every pair's loss (TRL's rpo_alpha; 0 off).</summary>
        public double RpoAlpha { get; init; }
    }

    /// <summary>The references go unused without a reference model and by the sft type (the chosen responses' NLL alone).</summary>
    protected override bool IsOptionalInput(string name)
        => (Settings.ReferenceFree || Settings.LossType == PreferenceLossType.Sft) && name.StartsWith("reference_", StringComparison.Ordinal);

    /// <summary>(ℓ, ∂ℓ/∂z) at margin z.</summary>
    internal (double Loss, double Dz) OfMargin(double z)
    {
        double beta = Settings.Beta, eps = Settings.LabelSmoothing, bz = beta * z;
        switch (Settings.LossType)
        {
            case PreferenceLossType.Hinge:
                return Hinge(z, beta);
            case PreferenceLossType.Ipo:
                return Ipo(z, beta);
            case PreferenceLossType.Robust:
                double softplusUp = Stable.SoftplusPair(bz, out double softplusDown);   // softplus(±βz) from one exp and one log1p
                double up = -softplusDown, down = -softplusUp;                          // log σ(βz), log σ(−βz)
                double sUp = Stable.SigmoidPair(bz, out double sDown);               // σ(βz), σ(−βz)
                double k = 1 / (1 - 2 * eps);
                return (k * (-(1 - eps) * up + eps * down), k * (-(1 - eps) * beta * sDown - eps * beta * sUp));
            case PreferenceLossType.ExoPair:
                // σ(m)(log σ(m) − log(1 − ε)) + σ(−m)(log σ(−m) − log ε), m = βz; its slope σ(m)σ(−m)(m − log((1 − ε)/ε)).
                double e = eps == 0 ? 1e-3 : eps;
                double spUp = Stable.SoftplusPair(bz, out double spDown);     // −log σ(−m), −log σ(m)
                double sigUp = Stable.SigmoidPair(bz, out double sigDown);   // σ(m), σ(−m)
                return (sigUp * (-spDown - Math.Log(1 - e)) + sigDown * (-spUp - Math.Log(e)), beta * sigUp * sigDown * (bz - Math.Log((1 - e) / e)));
            default:
                var (loss, dm) = SmoothedLogistic(bz, eps);
                return (loss, beta * dm);
        }
    }

    /// <summary>SLiC's hinge max(0, 1 − βz) and its slope in z (0 at the kink, as PyTorch's relu).</summary>
    internal static (double Loss, double Dz) Hinge(double z, double beta)
    {
        double bz = beta * z;
        return (Math.Max(0, 1 - bz), 1 - bz > 0 ? -beta : 0);
    }

    /// <summary>IPO's (z − 1/(2β))² and its slope in z.</summary>
    internal static (double Loss, double Dz) Ipo(double z, double beta)
    {
        double d = z - 1 / (2 * beta);
        return (d * d, 2 * d);
    }

    /// <summary>
    /// −(1 − ε)·log σ(m) − ε·log σ(−m) and its derivative −(1 − ε)σ(−m) + εσ(m): the label-smoothed logistic loss of a
    /// preference margin m (DPO's sigmoid type at m = βz, SimPO's at m = β(c − r) − γ), log σ as −softplus.
    /// </summary>
    internal static (double Loss, double Dm) SmoothedLogistic(double m, double eps)
    {
        double softplusUp = Stable.SoftplusPair(m, out double softplusDown);   // −log σ(−m), −log σ(m)
        double sUp = Stable.SigmoidPair(m, out double sDown);                 // σ(m), σ(−m)
        return ((1 - eps) * softplusDown + eps * softplusUp, -(1 - eps) * sDown + eps * sUp);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        foreach (string other in Names.Skip(1).Where(inputs.Contains)) RequireSameShape(inputs, Names[0], other);
        Shape shape = inputs[Names[0]].Shape;
        // Absent reference inputs (reference_free) count as 0; whether a given reference counts is the loss type's (Pair).
        double[][] x = [.. Names.Select(n => inputs.Contains(n) ? inputs.Floating<double>(n) : new double[shape.Numel])];
        int count = shape.Numel;
        // The batch's NLL of the chosen tokens (one number): sft's loss for every pair, and RPO's term added to every pair.
        bool sft = Settings.LossType == PreferenceLossType.Sft;
        double nllWeight = (sft ? 1 : 0) + Settings.RpoAlpha;
        double? given = PolicyPairLoss.BatchNll(inputs, "DpoLoss");
        if (given is null && nllWeight != 0)
            throw LossArgumentException.Value($"DpoLoss: {(sft ? "loss_type sft is" : $"rpo_alpha = {Settings.RpoAlpha} weighs")} the chosen responses' negative log-likelihood: give it as '{Nll}'");
        double nll = given ?? 0;
        var loss = new T[count];
        var d = new double[4][];
        for (int k = 0; k < 4; k++) d[k] = new double[count];
        if (sft)
        {
            for (int i = 0; i < count; i++) loss[i] = T.CreateTruncating(nllWeight * nll);
        }
        else if (Settings.LossType is PreferenceLossType.Aot or PreferenceLossType.AotPair)
        {
            if (shape.Rank != 1) throw LossArgumentException.Shape($"DpoLoss: aot and aot_pair sort the batch, so the inputs must be one value per pair (B), got shape {shape}");
            double[] values = Sorted(x, d);
            for (int i = 0; i < count; i++) loss[i] = T.CreateTruncating(values[i] + nllWeight * nll);
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                (double l, d[0][i], d[1][i], d[2][i], d[3][i]) = Pair(x[0][i], x[1][i], x[2][i], x[3][i]);
                loss[i] = T.CreateTruncating(l + nllWeight * nll);
            }
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, Settings.Reduction, count);
        TensorData value = ValueTensor(Settings.Reduction, reduced, loss, shape);
        if (!computeGradients) return Result(value);
        var grads = new List<(string, TensorData?)>();
        for (int k = 0; k < Names.Length; k++)
        {
            if (!inputs.Contains(Names[k])) continue;
            var g = new T[count];
            for (int i = 0; i < count; i++) g[i] = T.CreateTruncating(reduced.Scale * d[k][i]);
            grads.Add((Names[k], Wrap(g, shape)));
        }
        // Every pair carries the term: the mean's slope is its weight, the sum's B times it (an empty batch's 0, as TRL's
        // losses + rpo_alpha·nll broadcast over no pair).
        double dNll = count == 0 ? 0 : PolicyPairLoss.NllSlope(Settings.Reduction, count, nllWeight);
        if (inputs.Contains(Nll)) grads.Add((Nll, Wrap(new[] { T.CreateTruncating(dNll) }, Shape.Scalar)));
        return Result(value, [.. grads]);
    }

    private const string Nll = PolicyPairLoss.Nll;

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "DpoLoss",
        Aliases = ["dpo_loss", "dpo", "preference_loss"],
        Family = LossFamily.Ranking,
        Task = LossTask.Ranking,
        Inputs =
        [
            new("policy_chosen_logps", InputKind.Floating, true, "the policy's log-probability of each chosen response (B)"),
            new("policy_rejected_logps", InputKind.Floating, true, "the policy's log-probability of each rejected response, same shape"),
            new("reference_chosen_logps", InputKind.Floating, true, "the reference model's log-probability of each chosen response, same shape"),
            new("reference_rejected_logps", InputKind.Floating, true, "the reference model's log-probability of each rejected response, same shape"),
            PolicyPairLoss.NllInput("sft's loss; RPO's term with rpo_alpha"),
        ],
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Float("beta", 0.1, "β: the strength of the implicit KL penalty toward the reference"),
            OptionSpec.Float("label_smoothing", 0, "ε: the assumed share of flipped preferences (cDPO for sigmoid; robust: < 0.5)"),
            OptionSpec.Choice("loss_type", "sigmoid", "TRL's loss_type: sigmoid (DPO), hinge (SLiC), ipo (IPO), robust, exo_pair (EXO), nca_pair (NCA), sppo_hard (SPPO), aot, aot_pair (AOT), apo_zero, apo_down (APO), discopop (DiscoPOP), sft (policy_nll_loss alone)",
                "sigmoid", "hinge", "ipo", "robust", "exo_pair", "nca_pair", "sppo_hard", "aot", "aot_pair", "apo_zero", "apo_down", "discopop", "sft"),
            OptionSpec.Bool("reference_free", false, "leave the reference model out (its inputs become optional)"),
            OptionSpec.Choice("f_divergence_type", "reverse_kl", "the margin's divergence (sigmoid, robust, exo_pair, hinge, ipo): reverse_kl, js_divergence or alpha_divergence", "reverse_kl", "js_divergence", "alpha_divergence"),
            OptionSpec.Float("alpha_divergence_coef", 1, "α of alpha_divergence"),
            OptionSpec.Float("discopop_tau", 0.05, "τ of discopop's blend σ(βz/τ)"),
            OptionSpec.Float("rpo_alpha", 0, "RPO: this times policy_nll_loss added to every pair (TRL's rpo_alpha; 0 off)"),
        ],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 6);
            // Sequence log-probabilities: sums of a few dozen token log-probabilities, the reference near the policy.
            TensorData Logps(double center) => TensorData.Create(x, DType.Float64, Enumerable.Range(0, x.Numel).Select(_ => center - 5 * r.NextDouble()).ToArray());
            return new LossInputs().Add(Names[0], Logps(-20)).Add(Names[1], Logps(-22)).Add(Names[2], Logps(-21)).Add(Names[3], Logps(-21));
        },
        Formula = "z = (π_w − π_l) − (ref_w − ref_l);  ℓ = −(1 − ε)·log σ(βz) − ε·log σ(−βz) (sigmoid), max(0, 1 − βz) (hinge), (z − 1/(2β))² (ipo);  + rpo_alpha·nll (RPO);  nll alone (sft)",
        Gradient = "∂ℓ/∂z · (1, −1, −1, 1) for (policy chosen, policy rejected, reference chosen, reference rejected)",
        Reference = "Rafailov et al., Direct Preference Optimization, NeurIPS 2023; TRL DPOTrainer (its loss_type and f_divergence_type)",
        Stability = "finite for every finite margin (log σ as −softplus)",
        Libraries = "TRL (DPOTrainer), OpenRLHF, torchtune",
        Factory = o => new DpoLoss(new Options
        {
            Reduction = o.Reduction, Beta = o.Float("beta"), LabelSmoothing = o.Float("label_smoothing"),
            LossType = Enum.Parse<PreferenceLossType>(o.Choice("loss_type").Replace("_", ""), ignoreCase: true), ReferenceFree = o.Bool("reference_free"),
            Divergence = Enum.Parse<PreferenceDivergence>(o.Choice("f_divergence_type").Replace("_", ""), ignoreCase: true),
            AlphaDivergenceCoef = o.Float("alpha_divergence_coef"), DiscopopTau = o.Float("discopop_tau"), RpoAlpha = o.Float("rpo_alpha"),
        }),
    };

    public override LossDescriptor Descriptor => Entry;
}
