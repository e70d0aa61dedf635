using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Probabilistic;

/// <summary>
/// Optax <c>kl_divergence(log_predictions, targets, where=None)</c>: KL(t ‖ q) per row, ℓ = Σ_last t·(log t − lp) with
/// 0·log 0 = 0. The same terms as PyTorch's <see cref="KLDivergence"/>, summed per distribution instead of reduced
/// over every element (so <c>mean</c> here is PyTorch's <c>batchmean</c> for (N, K) inputs).
/// </summary>
/// <remarks>
/// ∂ℓ/∂lp = −t; ∂ℓ/∂t = log t + 1 − lp, whose limit at t = 0 is −∞ (JAX's autograd gives −lp there, an artifact of
/// Optax's <c>where(t == 0, 0, log t)</c>). Targets must be ≥ 0. Rows, mask and reduction: <see cref="OptaxRowDivergence"/>.
/// </remarks>
public sealed class OptaxKLDivergence(Reduction reduction = Reduction.None, TensorData? where = null, int[]? axes = null) : OptaxRowDivergence(reduction, where, axes), ILossDefinition
{
    protected override OptaxRowDivergence OverLastAxis(TensorData? where) => new OptaxKLDivergence(Reduction, where);

    protected override T Term<T>(T lp, T t) => Stable.Xlogy(t, t) - t * lp;

    protected override (T Dlp, T Dt) TermDerivative<T>(T lp, T t) => (-t, t == T.Zero ? T.NegativeInfinity : T.Log(t) + T.One - lp);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "OptaxKLDivergence",
        Aliases = ["optax.kl_divergence"],
        Family = LossFamily.Probabilistic,
        Task = LossTask.Distribution,
        Inputs = RowInputs("targets", "target probabilities (≥ 0), same shape"),
        Options = RowOptions,
        Sample = (r, s) => { Shape x = Samples.Or(s, 3, 4); return new LossInputs().Add("log_predictions", Samples.Simplex(r, x, log: true)).Add("targets", Samples.Simplex(r, x)); },
        Formula = "ℓ = Σ_last t·(log t − lp),  0·log 0 = 0",
        Gradient = "∂ℓ/∂lp = −t;  ∂ℓ/∂t = log t + 1 − lp",
        Reference = "optax.losses.kl_divergence (Kullback & Leibler, 1951)",
        Stability = "finite for every finite input (the target gradient is −∞ at t = 0, its limit)",
        Libraries = "Optax (PyTorch kl_div with reduction batchmean sums the same terms)",
        LowerBound = double.NegativeInfinity,   // ≥ 0 over whole distributions; a masked or unnormalized row can go below
        Factory = o => new OptaxKLDivergence(o.Reduction, o.Tensor("where"), AxisGroups.Parse(o.Tensor("axis"))),
    };

    public override LossDescriptor Descriptor => Entry;
}
