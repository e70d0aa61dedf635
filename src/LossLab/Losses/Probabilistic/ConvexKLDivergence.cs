using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Probabilistic;

/// <summary>
/// Generalized (convex) KL divergence, Optax <c>generalized_kl_divergence(log_predictions, targets, where=None)</c>
/// (formerly <c>convex_kl_divergence</c>): over the last axis, ℓ = Σ [t·(log t − lp) + exp(lp) − t], the I-divergence
/// between non-negative measures (the Bregman divergence of x log x − x). It is ≥ 0 and convex in lp even when neither
/// side sums to 1; on normalized distributions it equals the KL divergence.
/// </summary>
/// <remarks>
/// t·log t is 0 at t = 0 (xlogy). Gradients: ∂ℓ/∂lp = exp(lp) − t; ∂ℓ/∂t = log t − lp (−∞ at t = 0, as PyTorch's
/// kl_div target gradient). Targets must be ≥ 0. Rows, mask and reduction: <see cref="OptaxRowDivergence"/>.
/// </remarks>
public sealed class ConvexKLDivergence(Reduction reduction = Reduction.None, TensorData? where = null, int[]? axes = null) : OptaxRowDivergence(reduction, where, axes), ILossDefinition
{
    protected override OptaxRowDivergence OverLastAxis(TensorData? where) => new ConvexKLDivergence(Reduction, where);

    protected override T Term<T>(T lp, T t) => Stable.Xlogy(t, t) - t * lp + T.Exp(lp) - t;

    protected override (T Dlp, T Dt) TermDerivative<T>(T lp, T t) => (T.Exp(lp) - t, T.Log(t) - lp);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "ConvexKLDivergence",
        Aliases = ["convex_kl_divergence", "optax.convex_kl_divergence", "generalized_kl_divergence", "optax.generalized_kl_divergence"],
        Family = LossFamily.Probabilistic,
        Task = LossTask.Distribution,
        Inputs = RowInputs("targets", "non-negative target measure, same shape"),
        Options = RowOptions,
        Sample = (r, s) => { Shape x = Samples.Or(s, 3, 4); return new LossInputs().Add("log_predictions", Samples.Normal(r, x)).Add("targets", Samples.Uniform(r, x, 0.1, 2)); },
        Formula = "ℓ = Σ_last [t(log t − lp) + exp(lp) − t]",
        Gradient = "∂ℓ/∂lp = exp(lp) − t",
        Reference = "optax.losses.generalized_kl_divergence",
        Stability = "finite for lp < 709 (float64) / 88 (float32), where exp(lp) is",
        Libraries = "Optax",
        Factory = o => new ConvexKLDivergence(o.Reduction, o.Tensor("where"), AxisGroups.Parse(o.Tensor("axis"))),
    };

    public override LossDescriptor Descriptor => Entry;
}
