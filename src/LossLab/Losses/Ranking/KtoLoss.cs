using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Ranking;

/// <summary>
/// KTO, Kahneman–Tversky optimization (Ethayarajh et al., ICML 2024), as TRL's <c>KTOTrainer.kto_loss</c>: it learns
/// from responses labeled good or bad one at a time, not from pairs. A desirable response's loss is
/// 1 − σ(β(r − z)) and an undesirable one's 1 − σ(β(z − r)), where r = log π(y) − log π_ref(y) is the response's log-ratio
/// and z a reference point, the batch's KL estimate: the mean of policy − reference log-probabilities of mismatched
/// (KL) completions, clamped at 0 and not differentiated.
/// </summary>
/// <remarks>
/// <para><b>Values:</b> ℓ_i = λ_D·(1 − σ(β(r_i − z))) for the desirable responses, then λ_U·(1 − σ(β(z − r_j))) for the
/// undesirable ones, concatenated (shape (N_D + N_U) for <c>none</c>); <c>mean</c> divides by N_D + N_U (TRL's
/// <c>losses.mean()</c>; an empty batch gives NaN, as TRL), <c>sum</c> adds. The two groups need not be the same size.</para>
/// <para><b>Derivation:</b> d(1 − σ(x))/dx = −σ(x)σ(−x). So ∂ℓ_i/∂(policy chosen) = −λ_D·β·σ(x)σ(−x) = −∂ℓ_i/∂(reference
/// chosen) with x = β(r_i − z), and ∂ℓ_j/∂(policy rejected) = λ_U·β·σ(x)σ(−x) = −∂ℓ_j/∂(reference rejected) with
/// x = β(z − r_j). z is detached: the KL inputs get no gradient (as TRL's <c>.detach()</c>). σ(x)σ(−x) comes from one
/// exponential without cancellation; finite for every finite input.</para>
/// <para><b>loss_type</b> <c>apo_zero_unpaired</c> (TRL; D'Oosterlinck et al., APO, 2024, Eq. 7 unpaired): no reference
/// point, 1 − σ(β·r) for desirable responses and σ(β·r) for undesirable ones, i.e. the above with z = 0; the KL inputs
/// are then not needed (TRL does not compute them).</para>
/// </remarks>
public sealed class KtoLoss : Loss, ILossDefinition
{
    private const string PolicyChosen = "policy_chosen_logps", PolicyRejected = "policy_rejected_logps", PolicyKl = "policy_KL_logps";
    private const string RefChosen = "reference_chosen_logps", RefRejected = "reference_rejected_logps", RefKl = "reference_KL_logps";

    public double Beta { get; }

    public double DesirableWeight { get; }

    public double UndesirableWeight { get; }

    public Reduction Reduction { get; }

    /// <summary>True for TRL's apo_zero_unpaired: no KL reference point (z = 0), so no KL inputs.</summary>
    public bool ApoZeroUnpaired { get; }

    public KtoLoss(double beta = 0.1, double desirableWeight = 1, double undesirableWeight = 1, Reduction reduction = Reduction.Mean, bool apoZeroUnpaired = false)
    {
        ApoZeroUnpaired = apoZeroUnpaired;
        Beta = beta > 0 && double.IsFinite(beta) ? beta : throw LossArgumentException.Value($"KtoLoss: beta must be a finite number > 0, got {beta}");
        DesirableWeight = desirableWeight >= 0 && double.IsFinite(desirableWeight) ? desirableWeight : throw LossArgumentException.Value($"KtoLoss: desirable_weight must be a finite number ≥ 0, got {desirableWeight}");
        UndesirableWeight = undesirableWeight >= 0 && double.IsFinite(undesirableWeight) ? undesirableWeight : throw LossArgumentException.Value($"KtoLoss: undesirable_weight must be a finite number ≥ 0, got {undesirableWeight}");
        Reduction = reduction;
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        const string name = "KtoLoss";
        bool kl = !ApoZeroUnpaired;
        foreach (string input in kl ? new[] { PolicyChosen, PolicyRejected, PolicyKl } : [PolicyChosen, PolicyRejected])
        {
            if (inputs[input].Shape.Rank != 1) throw LossArgumentException.Shape($"{name}: '{input}' must be one log-probability per response (N), got {inputs[input].Shape}");
        }
        RequireSameShape(inputs, PolicyChosen, RefChosen);
        RequireSameShape(inputs, PolicyRejected, RefRejected);
        double[] pc = inputs.Floating<double>(PolicyChosen), rc = inputs.Floating<double>(RefChosen);
        double[] pr = inputs.Floating<double>(PolicyRejected), rr = inputs.Floating<double>(RefRejected);
        // z: the batch's KL estimate, clamped at 0 and detached (TRL: (policy_KL − reference_KL).mean().clamp(min=0)); 0 for APO.
        double z = 0;
        if (kl)
        {
            RequireSameShape(inputs, PolicyKl, RefKl);
            double[] pk = inputs.Floating<double>(PolicyKl), rk = inputs.Floating<double>(RefKl);
            if (pk.Length == 0) throw LossArgumentException.Shape($"{name}: '{PolicyKl}' is empty; the KL reference point needs at least one completion");
            for (int i = 0; i < pk.Length; i++) z += pk[i] - rk[i];
            z = Math.Max(z / pk.Length, 0);
        }
        int nd = pc.Length, count = nd + pr.Length;
        var loss = new T[count];
        var slope = new double[count];   // ∂ℓ/∂(policy log-probability) of each response
        for (int i = 0; i < count; i++)
        {
            bool desirable = i < nd;
            double x = desirable ? Beta * (pc[i] - rc[i] - z) : Beta * (z - (pr[i - nd] - rr[i - nd]));
            double s = Stable.SigmoidPair(x, out double sDown);   // σ(x), σ(−x) = 1 − σ(x) without cancellation
            double w = desirable ? DesirableWeight : UndesirableWeight;
            loss[i] = T.CreateTruncating(w * sDown);
            slope[i] = (desirable ? -1 : 1) * w * Beta * s * sDown;
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, Reduction, count);
        TensorData value = ValueTensor(Reduction, reduced, loss, new Shape(count));
        if (!computeGradients) return Result(value);
        TensorData Grad(int from, int length, double sign, Shape shape)
        {
            var g = new T[length];
            for (int i = 0; i < length; i++) g[i] = T.CreateTruncating(sign * reduced.Scale * slope[from + i]);
            return Wrap(g, shape);
        }
        Shape cs = inputs[PolicyChosen].Shape, rs = inputs[PolicyRejected].Shape;
        return Result(value, (PolicyChosen, Grad(0, nd, 1, cs)), (RefChosen, Grad(0, nd, -1, cs)),
            (PolicyRejected, Grad(nd, pr.Length, 1, rs)), (RefRejected, Grad(nd, pr.Length, -1, rs)));
    }

    /// <summary>apo_zero_unpaired goes without the KL completions.</summary>
    protected override bool IsOptionalInput(string name) => ApoZeroUnpaired && name is PolicyKl or RefKl;

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KtoLoss",
        Aliases = ["kto_loss", "kto"],
        Family = LossFamily.Ranking,
        Task = LossTask.Ranking,
        Inputs =
        [
            new(PolicyChosen, InputKind.Floating, true, "the policy's log-probability of each desirable response (N_D)"),
            new(PolicyRejected, InputKind.Floating, true, "the policy's log-probability of each undesirable response (N_U)"),
            new(PolicyKl, InputKind.Floating, false, "the policy's log-probabilities of the mismatched KL completions (M); detached"),
            new(RefChosen, InputKind.Floating, true, "the reference model's log-probability of each desirable response (N_D)"),
            new(RefRejected, InputKind.Floating, true, "the reference model's log-probability of each undesirable response (N_U)"),
            new(RefKl, InputKind.Floating, false, "the reference model's log-probabilities of the KL completions (M)"),
        ],
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Float("beta", 0.1, "β, the scale of the implicit reward"),
            OptionSpec.Float("desirable_weight", 1, "λ_D, the weight of the desirable responses' losses"),
            OptionSpec.Float("undesirable_weight", 1, "λ_U, the weight of the undesirable responses' losses (loss aversion: λ_U > λ_D)"),
            OptionSpec.Choice("loss_type", "kto", "kto (the KL reference point) or apo_zero_unpaired (none: z = 0, no KL inputs)", "kto", "apo_zero_unpaired"),
        ],
        Sample = (r, s) =>
        {
            int nd = s.Rank == 1 ? s[0] : 4, nu = Math.Max(1, nd - 1), m = nd + nu;
            // Sequence log-probabilities (sums of token log-probabilities), the reference near the policy.
            TensorData Logps(int n, double center) => TensorData.Create(new Shape(n), DType.Float64, Enumerable.Range(0, n).Select(_ => center - 5 * r.NextDouble()).ToArray());
            return new LossInputs().Add(PolicyChosen, Logps(nd, -20)).Add(PolicyRejected, Logps(nu, -23)).Add(PolicyKl, Logps(m, -19))
                .Add(RefChosen, Logps(nd, -21)).Add(RefRejected, Logps(nu, -21)).Add(RefKl, Logps(m, -21));
        },
        Formula = "z = max(0, mean(π_KL − ref_KL)) (detached);  ℓ = λ_D(1 − σ(β(r_D − z))) ⊕ λ_U(1 − σ(β(z − r_U))),  r = π − ref",
        Gradient = "∂ℓ/∂π_D = −λ_D·β·σ(x)σ(−x) = −∂ℓ/∂ref_D;  ∂ℓ/∂π_U = λ_U·β·σ(x)σ(−x) = −∂ℓ/∂ref_U;  KL inputs none",
        Reference = "Ethayarajh et al., KTO: Model Alignment as Prospect Theoretic Optimization, ICML 2024; D'Oosterlinck et al., Anchored Preference Optimization, 2024 (apo_zero_unpaired); TRL KTOTrainer.kto_loss",
        Stability = "finite for every finite input (σ(x)σ(−x) from one exponential); an empty batch's mean is NaN, as TRL",
        Libraries = "TRL (KTOTrainer), Liger-Kernel (LigerFusedLinearKTOLoss)",
        Factory = o => new KtoLoss(o.Float("beta"), o.Float("desirable_weight"), o.Float("undesirable_weight"), o.Reduction, o.Choice("loss_type") == "apo_zero_unpaired"),
    };

    public override LossDescriptor Descriptor => Entry;
}
