using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Probabilistic;

/// <summary>
/// Generalized (convex) KL divergence, Optax <c>convex_kl_divergence(log_predictions, targets)</c>: over the last axis,
/// ℓ = Σ [t·(log t − lp) + exp(lp) − t], the I-divergence between non-negative measures. It is ≥ 0 and convex in lp
/// even when neither side sums to 1; on normalized distributions it equals the KL divergence.
/// </summary>
/// <remarks>
/// t·log t is 0 at t = 0 (xlogy). Gradients: ∂ℓ/∂lp = exp(lp) − t; ∂ℓ/∂t = log t − lp (−∞ at t = 0, as PyTorch's
/// kl_div target gradient). Shapes: (…, K) with targets of the same shape; one value per leading index, default
/// reduction <c>none</c> (Optax). Targets must be ≥ 0.
/// </remarks>
public sealed class ConvexKLDivergence : Loss, ILossDefinition
{
    private readonly Reduction _reduction;

    public ConvexKLDivergence(Reduction reduction = Reduction.None) => _reduction = reduction;

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        Shape shape = inputs["log_predictions"].Shape;
        RequireSameShape(inputs, "log_predictions", "targets");
        T[] lp = inputs.Floating<T>("log_predictions"), t = inputs.Floating<T>("targets");
        for (int i = 0; i < t.Length; i++)
            if (!(t[i] >= T.Zero)) throw LossArgumentException.Value($"ConvexKLDivergence: targets must be ≥ 0, got {t[i]} at position {i}");
        int k = shape.Rank == 0 ? 1 : shape[shape.Rank - 1];
        int rows = k == 0 ? 0 : lp.Length / k;
        var loss = new T[rows];
        for (int r = 0; r < rows; r++)
        {
            T s = T.Zero;
            for (int j = r * k; j < (r + 1) * k; j++) s += Stable.Xlogy(t[j], t[j]) - t[j] * lp[j] + T.Exp(lp[j]) - t[j];
            loss[r] = s;
        }
        Shape rowShape = shape.Rank == 0 ? Shape.Scalar : shape.WithoutAxis(shape.Rank - 1);
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, _reduction, rows);
        TensorData value = ValueTensor(_reduction, reduced, loss, rowShape);
        if (!computeGradients) return Result(value);
        var gl = new T[lp.Length];
        var gt = new T[t.Length];
        T scale = T.CreateTruncating(reduced.Scale);
        for (int i = 0; i < lp.Length; i++)
        {
            gl[i] = scale * (T.Exp(lp[i]) - t[i]);
            gt[i] = scale * (T.Log(t[i]) - lp[i]);
        }
        return Result(value, ("log_predictions", Wrap(gl, shape)), ("targets", Wrap(gt, shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "ConvexKLDivergence",
        Aliases = ["convex_kl_divergence", "optax.convex_kl_divergence", "generalized_kl_divergence"],
        Family = LossFamily.Probabilistic,
        Task = LossTask.Distribution,
        Inputs =
        [
            new("log_predictions", InputKind.Floating, true, "log of the predicted measure (…, K)"),
            new("targets", InputKind.Floating, true, "non-negative target measure, same shape"),
        ],
        Options = [OptionSpec.Choice("reduction", "none", "none (Optax: one value per row), mean or sum", "none", "mean", "sum")],
        Sample = (r, s) => { Shape x = Samples.Or(s, 3, 4); return new LossInputs().Add("log_predictions", Samples.Normal(r, x)).Add("targets", Samples.Uniform(r, x, 0.1, 2)); },
        Formula = "ℓ = Σ_last [t(log t − lp) + exp(lp) − t]",
        Gradient = "∂ℓ/∂lp = exp(lp) − t",
        Reference = "optax.losses.convex_kl_divergence",
        Stability = "finite for lp < 709 (float64) / 88 (float32), where exp(lp) is",
        Libraries = "Optax",
        Factory = o => new ConvexKLDivergence(o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
