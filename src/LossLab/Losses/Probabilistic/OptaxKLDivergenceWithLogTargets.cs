using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Probabilistic;

/// <summary>
/// Optax <c>kl_divergence_with_log_targets(log_predictions, log_targets, where=None)</c>: KL per row with both sides in
/// log space, ℓ = Σ_last e^lt·(lt − lp). Targets far below zero in log space (tiny probabilities) stay exact.
/// </summary>
/// <remarks>
/// ∂ℓ/∂lp = −e^lt; ∂ℓ/∂lt = e^lt·(lt − lp + 1). Rows, mask and reduction: <see cref="OptaxRowDivergence"/>.
/// </remarks>
public sealed class OptaxKLDivergenceWithLogTargets(Reduction reduction = Reduction.None, TensorData? where = null, int[]? axes = null) : OptaxRowDivergence(reduction, where, axes), ILossDefinition
{
    protected override OptaxRowDivergence OverLastAxis(TensorData? where) => new OptaxKLDivergenceWithLogTargets(Reduction, where);

    protected override string TargetName => "log_targets";

    protected override bool ProbabilityTargets => false;

    protected override T Term<T>(T lp, T lt) => T.Exp(lt) * (lt - lp);

    protected override (T Dlp, T Dt) TermDerivative<T>(T lp, T lt)
    {
        T e = T.Exp(lt);
        return (-e, e * (lt - lp + T.One));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "OptaxKLDivergenceWithLogTargets",
        Aliases = ["optax.kl_divergence_with_log_targets", "kl_divergence_with_log_targets"],
        Family = LossFamily.Probabilistic,
        Task = LossTask.Distribution,
        Inputs = RowInputs("log_targets", "log of the target distribution, same shape"),
        Options = RowOptions,
        Sample = (r, s) => { Shape x = Samples.Or(s, 3, 4); return new LossInputs().Add("log_predictions", Samples.Simplex(r, x, log: true)).Add("log_targets", Samples.Simplex(r, x, log: true)); },
        Formula = "ℓ = Σ_last e^lt·(lt − lp)",
        Gradient = "∂ℓ/∂lp = −e^lt;  ∂ℓ/∂lt = e^lt·(lt − lp + 1)",
        Reference = "optax.losses.kl_divergence_with_log_targets",
        Stability = "finite for lt < 88 (float32) / 709 (float64), where e^lt is",
        Libraries = "Optax (PyTorch kl_div with log_target=True has the same terms)",
        LowerBound = double.NegativeInfinity,   // ≥ 0 over whole distributions; a masked or unnormalized row can go below
        Factory = o => new OptaxKLDivergenceWithLogTargets(o.Reduction, o.Tensor("where"), AxisGroups.Parse(o.Tensor("axis"))),
    };

    public override LossDescriptor Descriptor => Entry;
}
