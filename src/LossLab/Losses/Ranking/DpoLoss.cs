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
}

/// <summary>
/// Direct preference optimization (DPO; Rafailov et al., 2023) and its variants, as TRL's <c>DPOTrainer</c> computes them:
/// for each preference pair, the margin z = (log π(y_w) − log π(y_l)) − (log π_ref(y_w) − log π_ref(y_l)) between how much
/// the policy and the reference model prefer the chosen response y_w over the rejected y_l, through a logistic
/// (DPO), a hinge (SLiC), a square (IPO) or a noise-corrected logistic (robust DPO).
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
/// </remarks>
public sealed class DpoLoss : Loss, ILossDefinition
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
    }

    protected override bool IsOptionalInput(string name) => Settings.ReferenceFree && name.StartsWith("reference_", StringComparison.Ordinal);

    /// <summary>(ℓ, ∂ℓ/∂z) at margin z.</summary>
    internal (double Loss, double Dz) OfMargin(double z)
    {
        double beta = Settings.Beta, eps = Settings.LabelSmoothing, bz = beta * z;
        switch (Settings.LossType)
        {
            case PreferenceLossType.Hinge:
                return (Math.Max(0, 1 - bz), 1 - bz > 0 ? -beta : 0);
            case PreferenceLossType.Ipo:
                double d = z - 1 / (2 * beta);
                return (d * d, 2 * d);
            case PreferenceLossType.Robust:
                double softplusUp = Stable.SoftplusPair(bz, out double softplusDown);   // softplus(±βz) from one exp and one log1p
                double up = -softplusDown, down = -softplusUp;                          // log σ(βz), log σ(−βz)
                double sUp = Stable.SigmoidPair(bz, out double sDown);               // σ(βz), σ(−βz)
                double k = 1 / (1 - 2 * eps);
                return (k * (-(1 - eps) * up + eps * down), k * (-(1 - eps) * beta * sDown - eps * beta * sUp));
            default:
                var (loss, dm) = SmoothedLogistic(bz, eps);
                return (loss, beta * dm);
        }
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
        bool reference = !Settings.ReferenceFree;   // reference_free: z is the policy's log-ratio; reference inputs, if given, are unused
        double[] pc = inputs.Floating<double>(Names[0]), pr = inputs.Floating<double>(Names[1]);
        double[]? rc = reference ? inputs.Floating<double>(Names[2]) : null, rr = reference ? inputs.Floating<double>(Names[3]) : null;
        int count = shape.Numel;
        var loss = new T[count];
        var dz = new double[count];
        for (int i = 0; i < count; i++)
        {
            double z = pc[i] - pr[i] - (reference ? rc![i] - rr![i] : 0);
            (double l, dz[i]) = OfMargin(z);
            loss[i] = T.CreateTruncating(l);
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, Settings.Reduction, count);
        TensorData value = ValueTensor(Settings.Reduction, reduced, loss, shape);
        if (!computeGradients) return Result(value);
        double[] signs = [1, -1, -1, 1];
        var grads = new List<(string, TensorData?)>();
        for (int k = 0; k < Names.Length; k++)
        {
            if (!inputs.Contains(Names[k])) continue;
            bool counted = k < 2 || reference;
            var g = new T[count];
            if (counted) for (int i = 0; i < count; i++) g[i] = T.CreateTruncating(reduced.Scale * signs[k] * dz[i]);
            grads.Add((Names[k], Wrap(g, shape)));
        }
        return Result(value, [.. grads]);
    }

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
        ],
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Float("beta", 0.1, "β: the strength of the implicit KL penalty toward the reference"),
            OptionSpec.Float("label_smoothing", 0, "ε: the assumed share of flipped preferences (cDPO for sigmoid; robust: < 0.5)"),
            OptionSpec.Choice("loss_type", "sigmoid", "sigmoid (DPO), hinge (SLiC), ipo (IPO) or robust (robust DPO), as TRL's loss_type", "sigmoid", "hinge", "ipo", "robust"),
            OptionSpec.Bool("reference_free", false, "leave the reference model out (its inputs become optional)"),
        ],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 6);
            // Sequence log-probabilities: sums of a few dozen token log-probabilities, the reference near the policy.
            TensorData Logps(double center) => TensorData.Create(x, DType.Float64, Enumerable.Range(0, x.Numel).Select(_ => center - 5 * r.NextDouble()).ToArray());
            return new LossInputs().Add(Names[0], Logps(-20)).Add(Names[1], Logps(-22)).Add(Names[2], Logps(-21)).Add(Names[3], Logps(-21));
        },
        Formula = "z = (π_w − π_l) − (ref_w − ref_l);  ℓ = −(1 − ε)·log σ(βz) − ε·log σ(−βz) (sigmoid), max(0, 1 − βz) (hinge), (z − 1/(2β))² (ipo)",
        Gradient = "∂ℓ/∂z · (1, −1, −1, 1) for (policy chosen, policy rejected, reference chosen, reference rejected)",
        Reference = "Rafailov et al., Direct Preference Optimization, NeurIPS 2023; TRL DPOTrainer (loss_type sigmoid, hinge, ipo, robust)",
        Stability = "finite for every finite margin (log σ as −softplus)",
        Libraries = "TRL (DPOTrainer), OpenRLHF, torchtune",
        Factory = o => new DpoLoss(new Options
        {
            Reduction = o.Reduction, Beta = o.Float("beta"), LabelSmoothing = o.Float("label_smoothing"),
            LossType = Enum.Parse<PreferenceLossType>(o.Choice("loss_type"), ignoreCase: true), ReferenceFree = o.Bool("reference_free"),
        }),
    };

    public override LossDescriptor Descriptor => Entry;
}
