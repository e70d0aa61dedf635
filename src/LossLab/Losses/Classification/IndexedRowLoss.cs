using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// A multi-class loss of one row of scores and its integer label: input (N, C) with target (N), or (C) with a 0-dim
/// target, then the shared reduction (none, mean over N, sum). Subclasses give the row's value and gradient.
/// </summary>
public abstract class IndexedRowLoss(Reduction reduction) : Loss
{
    public Reduction Reduction { get; } = reduction;

    /// <summary>The names of the two inputs (Optax's losses call them scores and labels).</summary>
    protected virtual (string Scores, string Labels) Names => ("input", "target");

    /// <summary>ℓ of one row x (C) with label y.</summary>
    protected abstract T RowValue<T>(ReadOnlySpan<T> x, int y) where T : struct, IFloatingPointIeee754<T>;

    /// <summary>g = scale·∂ℓ/∂x for one row (g starts at zero).</summary>
    protected abstract void RowGradient<T>(ReadOnlySpan<T> x, int y, T scale, Span<T> g) where T : struct, IFloatingPointIeee754<T>;

    protected sealed override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        string name = Descriptor.Name;
        var (xName, yName) = Names;
        Shape shape = inputs[xName].Shape;
        if (!(shape.Rank is 1 or 2)) throw LossArgumentException.Shape($"{name}: '{xName}' must be (N, C) or (C), got {shape}");
        var layout = ClassLayout.Of(name, shape);
        layout.RequireIndexTarget(name, shape, inputs[yName].Shape, xName, yName);
        T[] x = inputs.Floating<T>(xName);
        long[] target = inputs.Indices(yName);
        var loss = new T[layout.N];
        for (int n = 0; n < layout.N; n++)
        {
            layout.CheckIndex(name, target[n], long.MinValue, n, yName);
            loss[n] = RowValue<T>(x.AsSpan(n * layout.C, layout.C), (int)target[n]);
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, Reduction, layout.N);
        TensorData value = ValueTensor(Reduction, reduced, loss, layout.RowShape);
        if (!computeGradients) return Result(value);
        var grad = new T[x.Length];
        T scale = T.CreateTruncating(reduced.Scale);
        for (int n = 0; n < layout.N; n++)
            RowGradient<T>(x.AsSpan(n * layout.C, layout.C), (int)target[n], scale, grad.AsSpan(n * layout.C, layout.C));
        return Result(value, (xName, Wrap(grad, shape)));
    }

    internal static readonly InputSpec[] ScoresAndLabels =
    [
        new("input", InputKind.Floating, true, "logits or scores (N, C) or (C)"),
        new("target", InputKind.Indices, false, "class indices (N) or ()"),
    ];

    internal static readonly InputSpec[] OptaxScoresAndLabels =
    [
        new("scores", InputKind.Floating, true, "scores (N, C) or (C)"),
        new("labels", InputKind.Indices, false, "class indices (N) or ()"),
    ];

    internal static LossInputs Sample(Random r, Shape s) => Sample(r, s, "input", "target");

    internal static LossInputs OptaxSample(Random r, Shape s) => Sample(r, s, "scores", "labels");

    private static LossInputs Sample(Random r, Shape s, string xName, string yName)
    {
        Shape x = Samples.Or(s, 4, 5);
        return new LossInputs().Add(xName, Samples.Normal(r, x, 2)).Add(yName, Samples.Classes(r, x.Rank == 2 ? new Shape(x[0]) : Shape.Scalar, x[x.Rank - 1]));
    }

    /// <summary>log softmax(x) and softmax(x) = e^{log softmax} of one row, in double (Stable.LogSoftmax).</summary>
    protected static (double[] Lp, double[] P) RowSoftmax<T>(ReadOnlySpan<T> x) where T : struct, IFloatingPointIeee754<T>
    {
        var lp = new double[x.Length];
        for (int j = 0; j < x.Length; j++) lp[j] = double.CreateTruncating(x[j]);
        Stable.LogSoftmax<double>(lp, lp);
        return (lp, [.. lp.Select(Math.Exp)]);
    }

    /// <summary>Index of the first maximum of a row.</summary>
    protected static int ArgMax<T>(ReadOnlySpan<T> x) where T : struct, IFloatingPointIeee754<T>
    {
        int best = 0;
        for (int j = 1; j < x.Length; j++) if (x[j] > x[best]) best = j;
        return best;
    }
}
