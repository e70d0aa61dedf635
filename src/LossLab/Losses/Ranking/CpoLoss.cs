using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Ranking;

/// <summary>The preference loss of <see cref="CpoLoss"/> (TRL's <c>CPOConfig.loss_type</c>).</summary>
public enum CpoLossType
{
    /// <summary>CPO (Xu et al., 2024, eq. 3): −(1 − ε)·log σ(βz) − ε·log σ(−βz), reference-free DPO.</summary>
    Sigmoid,
    /// <summary>SLiC's hinge: max(0, 1 − βz).</summary>
    Hinge,
    /// <summary>IPO: (z − 1/(2β))².</summary>
    Ipo,
    /// <summary>SimPO: the sigmoid loss of βz − γ.</summary>
    SimPo,
    /// <summary>AlphaPO: SimPO with the behaviour-cloning weight forced to 0 (TRL's shorthand; set <c>alpha</c> for the reward shape).</summary>
    AlphaPo,
}

/// <summary>
/// Contrastive preference optimization (CPO; Xu et al., ICML 2024) as TRL's <c>CPOTrainer</c> computes it: DPO without a
/// reference model, z = r(c) − r(r) between the rewards of the policy's chosen and rejected responses, through a
/// logistic, hinge, IPO or SimPO loss, plus <c>cpo_alpha</c> times the behaviour-cloning term (the cross-entropy of the
/// chosen responses' tokens, <c>policy_nll_loss</c>). With <c>alpha</c> ≠ 0 the reward is AlphaPO's (Gupta et al., 2025)
/// r(c) = (1 − p^−α)/α, p = e^c; else r(c) = c.
/// </summary>
/// <remarks>
/// <para><b>Definitions</b> (ε = <c>label_smoothing</c>, γ = <c>simpo_gamma</c>): sigmoid ℓ = −(1 − ε)·log σ(βz) −
/// ε·log σ(−βz); simpo the same at βz − γ (TRL: β(z − γ/β)); hinge max(0, 1 − βz); ipo (z − 1/(2β))². The NLL is one
/// number for the batch (a token-level mean), and every pair's loss carries it: ℓ_i + cpo_alpha·nll, so that the mean
/// is TRL's <c>losses.mean() + cpo_alpha * policy_nll_loss</c> and, as for every loss here, the sum is the sum of the
/// <c>none</c> values (B times the NLL term).</para>
/// <para><b>Derivation:</b> with (ℓ, dℓ/dz) of the loss type (see <see cref="DpoLoss"/>; simpo's dℓ/dz = β·dℓ/dm),
/// ∂ℓ/∂c = dℓ/dz·r'(c) and ∂ℓ/∂r = −dℓ/dz·r'(r), r'(x) = e^{−αx} (1 at α = 0); ∂/∂nll = cpo_alpha for the mean
/// (B·cpo_alpha for the sum). The AlphaPO reward
/// is −expm1(−αx)/α, exact near α·x = 0 where 1 − p^−α cancels; it overflows double once −αx exceeds about 709, which
/// is an error naming the pair (TRL's float32 p^−α is ∞ there and its margin NaN).</para>
/// <para>Inputs: the policy's log-probabilities of each chosen and each rejected response (B): TRL passes sums of token
/// log-probabilities for sigmoid and hinge and per-token averages for ipo and simpo; the caller chooses. Default
/// reduction mean, as TRL's.</para>
/// </remarks>
public sealed class CpoLoss : Loss, ILossDefinition
{
    private const string Chosen = "policy_chosen_logps", Rejected = "policy_rejected_logps", Nll = PolicyPairLoss.Nll;

    public CpoLoss() : this(new Options()) { }

    public CpoLoss(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.Beta > 0) || !double.IsFinite(options.Beta)) throw LossArgumentException.Value($"CpoLoss: beta must be a finite number > 0, got {options.Beta}");
        if (!(options.LabelSmoothing is >= 0 and <= 1)) throw LossArgumentException.Value($"CpoLoss: label_smoothing must be in [0, 1], got {options.LabelSmoothing}");
        if (options.LabelSmoothing != 0 && options.LossType is CpoLossType.Hinge or CpoLossType.Ipo)
            throw LossArgumentException.Value($"CpoLoss: label_smoothing applies to the sigmoid, simpo and alphapo losses, not to {options.LossType.ToString().ToLowerInvariant()} (TRL ignores it there), got {options.LabelSmoothing}");
        if (!double.IsFinite(options.SimPoGamma)) throw LossArgumentException.Value($"CpoLoss: simpo_gamma must be finite, got {options.SimPoGamma}");
        if (!double.IsFinite(options.Alpha)) throw LossArgumentException.Value($"CpoLoss: alpha must be finite, got {options.Alpha}");
        if (!double.IsFinite(options.CpoAlpha)) throw LossArgumentException.Value($"CpoLoss: cpo_alpha must be finite, got {options.CpoAlpha}");
        Settings = options;
    }

    public Options Settings { get; }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>β, the reward scale (TRL's default 0.1; for ipo the regularization τ).</summary>
        public double Beta { get; init; } = 0.1;

        /// <summary>ε, the assumed share of flipped preferences (sigmoid, simpo, alphapo).</summary>
        public double LabelSmoothing { get; init; }

        public CpoLossType LossType { get; init; } = CpoLossType.Sigmoid;

        /// <summary>γ, SimPO's target reward margin (TRL's simpo_gamma, 0.5).</summary>
        public double SimPoGamma { get; init; } = 0.5;

        /// <summary>AlphaPO's reward shape α (0: the log-probability itself).</summary>
        public double Alpha { get; init; }

        /// <summary>The weight of the behaviour-cloning NLL (TRL's cpo_alpha, 1; alphapo forces 0).</summary>
        public double CpoAlpha { get; init; } = 1;
    }

    /// <summary>The NLL's weight in effect: AlphaPO is SimPO without behaviour cloning, whatever cpo_alpha says (as TRL's CPOConfig).</summary>
    public double EffectiveCpoAlpha => Settings.LossType == CpoLossType.AlphaPo ? 0 : Settings.CpoAlpha;

    /// <summary>The reward of a log-probability x and its slope: x and 1, or AlphaPO's −expm1(−αx)/α and e^{−αx}.</summary>
    internal (double Reward, double Slope) Reward(double x)
    {
        double a = Settings.Alpha;
        return a == 0 ? (x, 1) : (-Stable.Expm1(-a * x) / a, Math.Exp(-a * x));
    }

    /// <summary>(ℓ, dℓ/dz) at the reward margin z.</summary>
    internal (double Loss, double Dz) OfMargin(double z)
    {
        double beta = Settings.Beta;
        switch (Settings.LossType)
        {
            case CpoLossType.Hinge:
                return DpoLoss.Hinge(z, beta);
            case CpoLossType.Ipo:
                return DpoLoss.Ipo(z, beta);
            default:
                // sigmoid at βz; simpo and alphapo at βz − γ.
                double gamma = Settings.LossType is CpoLossType.SimPo or CpoLossType.AlphaPo ? Settings.SimPoGamma : 0;
                var (loss, dm) = DpoLoss.SmoothedLogistic(beta * z - gamma, Settings.LabelSmoothing);
                return (loss, beta * dm);
        }
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        RequireSameShape(inputs, Chosen, Rejected);
        Shape shape = inputs[Chosen].Shape;
        double[] c = inputs.Floating<double>(Chosen), r = inputs.Floating<double>(Rejected);
        double weight = EffectiveCpoAlpha;
        double nll = weight * (PolicyPairLoss.BatchNll(inputs, "CpoLoss") ?? 0);
        if (Settings.Alpha != 0) CheckRewards(c, r);
        int count = shape.Numel;
        var loss = new T[count];
        var dc = new double[count];
        var dr = new double[count];
        for (int i = 0; i < count; i++)
        {
            var (rc, sc) = Reward(c[i]);
            var (rr, sr) = Reward(r[i]);
            var (l, dz) = OfMargin(rc - rr);
            loss[i] = T.CreateTruncating(l + nll);
            dc[i] = dz * sc;
            dr[i] = -dz * sr;
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, Settings.Reduction, count);
        TensorData value = ValueTensor(Settings.Reduction, reduced, loss, shape);
        if (!computeGradients) return Result(value);
        var gc = new T[count];
        var gr = new T[count];
        for (int i = 0; i < count; i++)
        {
            gc[i] = T.CreateTruncating(reduced.Scale * dc[i]);
            gr[i] = T.CreateTruncating(reduced.Scale * dr[i]);
        }
        if (!inputs.Contains(Nll)) return Result(value, (Chosen, Wrap(gc, shape)), (Rejected, Wrap(gr, shape)));
        // Every pair carries the term: the mean's slope is cpo_alpha (also for an empty batch, as TRL's mean + term), the sum's B·cpo_alpha.
        double dNll = PolicyPairLoss.NllSlope(Settings.Reduction, count, weight);
        return Result(value, (Chosen, Wrap(gc, shape)), (Rejected, Wrap(gr, shape)), (Nll, Wrap(new[] { T.CreateTruncating(dNll) }, Shape.Scalar)));
    }

    /// <summary>AlphaPO's p^−α = e^{−αx} must be finite in double: names the first log-probability past it.</summary>
    private void CheckRewards(double[] chosen, double[] rejected)
    {
        const double MaxExponent = 709;   // e^709 < double.MaxValue < e^710
        foreach (var (values, name) in new[] { (chosen, Chosen), (rejected, Rejected) })
        {
            for (int i = 0; i < values.Length; i++)
            {
                if (-Settings.Alpha * values[i] > MaxExponent)
                {
                    throw LossArgumentException.Value(
                        $"CpoLoss: '{name}'[{i}] = {values[i]}: its AlphaPO reward (1 − p^−α)/α with α = {Settings.Alpha} overflows (−α·log p = {-Settings.Alpha * values[i]} > {MaxExponent}); use average token log-probabilities or a smaller |α|");
                }
            }
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "CpoLoss",
        Aliases = ["cpo_loss", "cpo", "alphapo_loss"],
        Family = LossFamily.Ranking,
        Task = LossTask.Ranking,
        Inputs =
        [
            new(Chosen, InputKind.Floating, true, "the policy's log-probability of each chosen response (B): TRL sums the tokens' for sigmoid and hinge, averages them for ipo and simpo"),
            new(Rejected, InputKind.Floating, true, "the same for each rejected response, same shape"),
            PolicyPairLoss.NllInput("the behaviour-cloning term, weighted by cpo_alpha"),
        ],
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Float("beta", 0.1, "β, the reward scale (for ipo, its τ)"),
            OptionSpec.Float("label_smoothing", 0, "ε: the assumed share of flipped preferences, in [0, 1] (sigmoid, simpo, alphapo)"),
            OptionSpec.Choice("loss_type", "sigmoid", "TRL's loss_type: sigmoid (CPO), hinge (SLiC), ipo (IPO), simpo (SimPO), alphapo (simpo with cpo_alpha 0)",
                "sigmoid", "hinge", "ipo", "simpo", "alphapo"),
            OptionSpec.Float("simpo_gamma", 0.5, "γ, the target reward margin of simpo and alphapo"),
            OptionSpec.Float("alpha", 0, "AlphaPO's reward shape α: r = (1 − p^−α)/α, p = e^logp; 0 keeps r = logp"),
            OptionSpec.Float("cpo_alpha", 1, "the weight of policy_nll_loss (alphapo: 0)"),
        ],
        Sample = (r, s) => PolicyPairLoss.PairSample(r, s).Add(Nll, TensorData.Create(Shape.Scalar, DType.Float64, new[] { 0.5 + 1.5 * r.NextDouble() })),
        Formula = "z = r(c) − r(r), r(x) = x or (1 − e^{−αx})/α;  ℓ = −(1 − ε)·log σ(βz) − ε·log σ(−βz) (sigmoid; simpo at βz − γ), max(0, 1 − βz) (hinge), (z − 1/(2β))² (ipo);  each + cpo_alpha·nll",
        Gradient = "∂ℓ/∂c = ℓ'(z)·e^{−αc},  ∂ℓ/∂r = −ℓ'(z)·e^{−αr},  ∂ℓ/∂nll = cpo_alpha",
        Reference = "Xu et al., Contrastive Preference Optimization, ICML 2024; Gupta et al., AlphaPO, 2025; TRL CPOTrainer.cpo_loss",
        Stability = "finite for every finite margin (log σ as −softplus); the AlphaPO reward as −expm1(−αx)/α; −αx > 709 is an error",
        Libraries = "TRL (CPOTrainer), Liger-Kernel (LigerFusedLinearCPOLoss)",
        Factory = o => new CpoLoss(new Options
        {
            Reduction = o.Reduction, Beta = o.Float("beta"), LabelSmoothing = o.Float("label_smoothing"),
            LossType = Enum.Parse<CpoLossType>(o.Choice("loss_type"), ignoreCase: true),
            SimPoGamma = o.Float("simpo_gamma"), Alpha = o.Float("alpha"), CpoAlpha = o.Float("cpo_alpha"),
        }),
    };

    public override LossDescriptor Descriptor => Entry;
}
