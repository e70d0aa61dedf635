using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Probabilistic;

/// <summary>
/// Optax's divergences between log-predictions and targets, summed over the last axis (one value per row):
/// <see cref="OptaxKLDivergence"/>, <see cref="OptaxKLDivergenceWithLogTargets"/> and <see cref="ConvexKLDivergence"/>.
/// A subclass gives one element's term and its two partial derivatives; this class sums rows, applies Optax's
/// <c>where</c> mask (masked elements add nothing and get no gradient), checks the targets and reduces.
/// </summary>
/// <remarks>Shapes: (…, K) for both inputs and the mask; a 0-dim input is one row of one element. Default reduction
/// <c>none</c> (Optax). Optax's <c>axis</c> (other axes, or several) regroups the inputs so that each row runs over them
/// (<see cref="AxisGroups"/>).</remarks>
public abstract class OptaxRowDivergence(Reduction reduction, TensorData? where, int[]? axes) : Loss
{
    public Reduction Reduction { get; } = reduction;

    /// <summary>The axis or axes of each distribution (Optax's <c>axis</c>); null is the last.</summary>
    public int[]? Axes { get; } = axes;

    /// <summary>The same loss over the last axis with another <c>where</c> mask (for <see cref="Axes"/>).</summary>
    protected abstract OptaxRowDivergence OverLastAxis(TensorData? where);

    /// <summary>The second input's name: <c>targets</c>, or <c>log_targets</c>.</summary>
    protected virtual string TargetName => "targets";

    /// <summary>Whether the targets are probabilities (checked ≥ 0) rather than log-probabilities.</summary>
    protected virtual bool ProbabilityTargets => true;

    /// <summary>One element's term ℓ(lp, t).</summary>
    protected abstract T Term<T>(T lp, T t) where T : struct, IFloatingPointIeee754<T>;

    /// <summary>(∂ℓ/∂lp, ∂ℓ/∂t) of one element.</summary>
    protected abstract (T Dlp, T Dt) TermDerivative<T>(T lp, T t) where T : struct, IFloatingPointIeee754<T>;

    protected sealed override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        string name = Descriptor.Name, tName = TargetName;
        if (OverAxes(Axes, inputs, "log_predictions", tName, where, OverLastAxis, computeGradients) is { } moved) return moved;
        RequireSameShape(inputs, "log_predictions", tName);
        Shape shape = inputs["log_predictions"].Shape;
        T[] lp = inputs.Floating<T>("log_predictions"), t = inputs.Floating<T>(tName);
        if (ProbabilityTargets)
        {
            for (int i = 0; i < t.Length; i++)
                if (!(t[i] >= T.Zero)) throw LossArgumentException.Value($"{name}: targets must be ≥ 0, got {t[i]} at position {i}");
        }
        T[]? mask = ExactOption<T>(where, "where", shape, "log_predictions", mask: true);
        int k = shape.Rank == 0 ? 1 : shape[-1];
        int rows = k == 0 ? (shape.Rank == 0 ? 1 : shape.WithoutAxis(shape.Rank - 1).Numel) : lp.Length / k;
        var loss = new T[rows];
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int j = r * k; j < (r + 1) * k; j++)
                if (mask is null || mask[j] != T.Zero) s += double.CreateTruncating(Term(lp[j], t[j]));
            loss[r] = T.CreateTruncating(s);
        }
        Shape rowShape = shape.Rank == 0 ? Shape.Scalar : shape.WithoutAxis(shape.Rank - 1);
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, Reduction, rows);
        TensorData value = ValueTensor(Reduction, reduced, loss, rowShape);
        if (!computeGradients) return Result(value);
        var glp = new T[lp.Length];
        var gt = new T[t.Length];
        T scale = T.CreateTruncating(reduced.Scale);
        for (int i = 0; i < lp.Length; i++)
        {
            if (mask is not null && mask[i] == T.Zero) continue;
            var (dlp, dt) = TermDerivative(lp[i], t[i]);
            glp[i] = scale * dlp;
            gt[i] = scale * dt;
        }
        return Result(value, ("log_predictions", Wrap(glp, shape)), (tName, Wrap(gt, shape)));
    }

    internal static OptionSpec[] RowOptions =>
    [
        OptionSpec.Choice("reduction", "none", "none (Optax: one value per row), mean or sum", "none", "mean", "sum"),
        OptionSpec.Tensor("where", "1 for the elements to include, 0 for those to leave out (the inputs' shape)"),
        AxisOption,
    ];

    internal static InputSpec[] RowInputs(string target, string description) =>
    [
        new("log_predictions", InputKind.Floating, true, "log of the predicted distribution (…, K)"),
        new(target, InputKind.Floating, true, description),
    ];
}
