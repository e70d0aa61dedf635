using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Probabilistic;

/// <summary>
/// Skewed Jensen–Shannon divergence between a predicted distribution p (<c>input</c>) and a target q, over the last
/// axis: with m = βq + (1 − β)p, JS_β = β·KL(q‖m) + (1 − β)·KL(p‖m). β = ½ is the symmetric JS divergence (bounded by
/// log 2); the generalized JS loss for noisy labels (Englesson &amp; Azizpour, 2021) uses β = π and divides by
/// −(1 − π)·log(1 − π), which <c>normalize</c> applies.
/// </summary>
/// <remarks>
/// Derivation: the m-terms cancel in the derivative because Σ(βq + (1 − β)p)/m = Σ1, giving ∂JS/∂p_i =
/// (1 − β)(log p_i − log m_i) and ∂JS/∂q_i = β(log q_i − log m_i). 0·log 0 = 0 in the value; the gradient at p_i = 0
/// is −∞ (the divergence is not differentiable there), like KL. Inputs must be ≥ 0; rows need not be normalized.
/// Reduction over rows: mean (default), sum or none.
/// </remarks>
public sealed class JensenShannonDivergence : Loss, ILossDefinition
{
    private readonly double _beta;
    private readonly bool _normalize;
    private readonly Reduction _reduction;

    public JensenShannonDivergence(double beta = 0.5, bool normalize = false, Reduction reduction = Reduction.Mean)
    {
        if (!(beta > 0 && beta < 1)) throw LossArgumentException.Value($"JensenShannonDivergence: beta must be in (0, 1), got {beta}");
        (_beta, _normalize, _reduction) = (beta, normalize, reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        Shape shape = inputs["input"].Shape;
        RequireSameShape(inputs, "input", "target");
        T[] p = inputs.Floating<T>("input"), q = inputs.Floating<T>("target");
        for (int i = 0; i < p.Length; i++)
        {
            if (!(p[i] >= T.Zero)) throw LossArgumentException.Value($"JensenShannonDivergence: input {p[i]} at position {i} must be ≥ 0 (probabilities)");
            if (!(q[i] >= T.Zero)) throw LossArgumentException.Value($"JensenShannonDivergence: target {q[i]} at position {i} must be ≥ 0 (probabilities)");
        }
        T b = T.CreateTruncating(_beta), a = T.One - b;
        // −(1 − β)·log(1 − β) by log1p: log(1 − β) keeps only the digits of β that survive 1 − β (none at β < 1e-16).
        T z = _normalize ? T.CreateTruncating(-(1 - _beta) * Stable.Log1p(-_beta)) : T.One;
        if (z == T.Zero || b == T.Zero)
            throw LossArgumentException.Value($"JensenShannonDivergence: beta = {_beta} is 0 in {typeof(T).Name} (or its normalizer −(1 − β)·log(1 − β) is); take a larger beta or float64");
        Shape rowShape = shape.Rank == 0 ? Shape.Scalar : shape.WithoutAxis(shape.Rank - 1);
        int k = shape.Rank == 0 ? 1 : shape[shape.Rank - 1], rows = rowShape.Numel;   // no classes: each row's sum is 0
        var loss = new T[rows];
        for (int r = 0; r < rows; r++)
        {
            T s = T.Zero;
            for (int i = r * k; i < (r + 1) * k; i++)
            {
                T m = b * q[i] + a * p[i];
                s += b * (Stable.Xlogy(q[i], q[i]) - Stable.Xlogy(q[i], m)) + a * (Stable.Xlogy(p[i], p[i]) - Stable.Xlogy(p[i], m));
            }
            loss[r] = s / z;
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, _reduction, rows);
        TensorData value = ValueTensor(_reduction, reduced, loss, rowShape);
        if (!computeGradients) return Result(value);
        var gp = new T[p.Length];
        var gq = new T[q.Length];
        T scale = T.CreateTruncating(reduced.Scale) / z;
        for (int i = 0; i < p.Length; i++)
        {
            T logM = T.Log(b * q[i] + a * p[i]);
            gp[i] = scale * a * (T.Log(p[i]) - logM);
            gq[i] = scale * b * (T.Log(q[i]) - logM);
        }
        return Result(value, ("input", Wrap(gp, shape)), ("target", Wrap(gq, shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "JensenShannonDivergence",
        Aliases = ["js_divergence", "jensen_shannon_divergence", "jsd"],
        Family = LossFamily.Probabilistic,
        Task = LossTask.Distribution,
        Inputs =
        [
            new("input", InputKind.Floating, true, "predicted probabilities (…, K)"),
            new("target", InputKind.Floating, true, "target probabilities, same shape"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("beta", 0.5, "weight of the target in the mixture m = βq + (1 − β)p, in (0, 1)"),
            OptionSpec.Bool("normalize", false, "divide by −(1 − β)·log(1 − β) (generalized JS loss)"),
        ],
        Sample = (r, s) => { Shape x = Samples.Or(s, 3, 4); return new LossInputs().Add("input", Samples.Simplex(r, x)).Add("target", Samples.Simplex(r, x)); },
        Formula = "ℓ = β·KL(q‖m) + (1 − β)·KL(p‖m),  m = βq + (1 − β)p, over the last axis",
        Gradient = "∂ℓ/∂p = (1 − β)(log p − log m); ∂ℓ/∂q = β(log q − log m)",
        Reference = "Lin, Divergence measures based on the Shannon entropy, 1991; Englesson & Azizpour, Generalized Jensen-Shannon Divergence Loss for Learning with Noisy Labels, NeurIPS 2021",
        Stability = "finite value for every input ≥ 0 (xlogy); gradient −∞ only where a probability is exactly 0",
        Libraries = "SciPy (jensenshannon, as a distance), noisy-label reference code",
        Factory = o => new JensenShannonDivergence(o.Float("beta"), o.Bool("normalize"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
