using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Regression;

/// <summary>
/// Cosine similarity over the last axis (Optax <c>cosine_similarity(predictions, targets, epsilon=0)</c>):
/// c = Σ aᵢbᵢ / (√max(‖a‖², ε)·√max(‖b‖², ε)). A similarity, not a loss: it is +1 for parallel vectors. Its
/// negation is Keras's <c>CosineSimilarity</c> loss; <see cref="CosineDistance"/> is 1 − c.
/// </summary>
/// <remarks>
/// <para>The squared norms, not the norms, are clipped at ε, so the smallest effective norm is √ε. Gradient, with
/// n_a = √max(‖a‖², ε): ∂c/∂a = b/(n_a n_b) − c·a/n_a² where ‖a‖² ≥ ε, and b/(n_a n_b) where the clip holds
/// (n_a is then a constant); the same for b with the roles swapped.</para>
/// <para>Shapes: (…, D) for both inputs; one value per leading index; default reduction <c>none</c> (Optax). <c>where</c>
/// leaves components out of the dot product and both norms (and gives them no gradient).
/// A zero row with ε = 0 makes the cosine 0/0: Optax returns NaN, LossLab names the row and asks for ε &gt; 0.</para>
/// </remarks>
public sealed class CosineSimilarity(double epsilon = 0, Reduction reduction = Reduction.None, TensorData? where = null, int[]? axes = null) : CosineRows(epsilon, reduction, where, axes, sign: 1, offset: 0), ILossDefinition
{
    protected override CosineRows OverLastAxis(TensorData? where) => new CosineSimilarity(Epsilon, Reduction, where);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "CosineSimilarity",
        Aliases = ["cosine_similarity", "optax.cosine_similarity"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = Vectors,
        Options = Options("cosine similarities"),
        Sample = Sample,
        Formula = "c = Σ a·b / (√max(‖a‖², ε)·√max(‖b‖², ε)) over the last axis (a similarity: +1 when parallel)",
        Gradient = "∂c/∂a = b/(n_a·n_b) − c·a/n_a² (the second term only where ‖a‖² ≥ ε)",
        Reference = "optax.losses.cosine_similarity",
        Stability = "finite for every finite input with a non-zero row or ε > 0 (a zero row at ε = 0 is an error)",
        Libraries = "Optax (Keras CosineSimilarity returns −c)",
        LowerBound = -1,   // a cosine
        Factory = o => new CosineSimilarity(o.Float("epsilon"), o.Reduction, o.Tensor("where"), AxisGroups.Parse(o.Tensor("axis"))),
    };

    public override LossDescriptor Descriptor => Entry;
}

/// <summary>
/// The shared row kernel of <see cref="CosineSimilarity"/> and <see cref="CosineDistance"/>: ℓ = offset + sign·c per row.
/// </summary>
public abstract class CosineRows(double epsilon, Reduction reduction, TensorData? where, int[]? axes, int sign, int offset) : Loss
{
    /// <summary>The axis or axes of each vector (Optax's <c>axis</c>); null is the last.</summary>
    public int[]? Axes { get; } = axes;

    /// <summary>The same loss over the last axis with another <c>where</c> mask (for <see cref="Axes"/>).</summary>
    protected abstract CosineRows OverLastAxis(TensorData? where);

    public double Epsilon { get; } = epsilon >= 0 && double.IsFinite(epsilon)
        ? epsilon
        : throw LossArgumentException.Value($"cosine: epsilon must be a finite number ≥ 0, got {epsilon}");

    public Reduction Reduction { get; } = reduction;

    /// <summary>
    /// c of one row pair and its norms n_a, n_b (after the clip) and whether each clip held; <paramref name="keep"/>
    /// (empty: all) leaves elements out of the dot product and both norms (Optax's <c>where</c>).
    /// </summary>
    internal static (double C, double Na, double Nb, bool ClipA, bool ClipB) Row<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> keep, double epsilon)
        where T : struct, IFloatingPointIeee754<T>
    {
        double dot = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (!keep.IsEmpty && keep[i] == T.Zero) continue;
            double x = double.CreateTruncating(a[i]), y = double.CreateTruncating(b[i]);
            dot += x * y;
            aa += x * x;
            bb += y * y;
        }
        bool clipA = aa < epsilon, clipB = bb < epsilon;
        double na = Math.Sqrt(clipA ? epsilon : aa), nb = Math.Sqrt(clipB ? epsilon : bb);
        return (dot / (na * nb), na, nb, clipA, clipB);
    }

    protected sealed override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        string name = Descriptor.Name;
        if (OverAxes(Axes, inputs, "predictions", "targets", where, OverLastAxis, computeGradients) is { } moved) return moved;
        RequireSameShape(inputs, "predictions", "targets");
        Shape shape = inputs["predictions"].Shape;
        if (shape.Rank == 0) throw LossArgumentException.Shape($"{name}: 'predictions' must have a last axis of vector components (…, D), got a scalar");
        int d = shape[shape.Rank - 1];
        int rows = d == 0 ? (int)shape.WithoutAxis(shape.Rank - 1).Numel : (int)(shape.Numel / d);
        T[] a = inputs.Floating<T>("predictions"), b = inputs.Floating<T>("targets");
        T[] keep = ExactOption<T>(where, "where", shape, "predictions", mask: true) ?? [];
        ReadOnlySpan<T> Keep(int r) => keep.Length == 0 ? default : keep.AsSpan(r * d, d);
        var loss = new T[rows];
        var rowsOut = new (double C, double Na, double Nb, bool ClipA, bool ClipB)[rows];
        for (int r = 0; r < rows; r++)
        {
            var row = Row<T>(a.AsSpan(r * d, d), b.AsSpan(r * d, d), Keep(r), Epsilon);
            if (row.Na == 0 || row.Nb == 0)
            {
                string which = row.Na == 0 ? "predictions" : "targets";
                throw LossArgumentException.Value($"{name}: row {r} of '{which}' is zero, so its cosine is 0/0 at epsilon = 0; set epsilon > 0 (the norm is then at least √epsilon)");
            }
            rowsOut[r] = row;
            loss[r] = T.CreateTruncating(offset + sign * row.C);
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, Reduction, rows);
        TensorData value = ValueTensor(Reduction, reduced, loss, shape.WithoutAxis(shape.Rank - 1));
        if (!computeGradients) return Result(value);
        var ga = new T[a.Length];
        var gb = new T[b.Length];
        for (int r = 0; r < rows; r++)
        {
            var (c, na, nb, clipA, clipB) = rowsOut[r];
            double s = sign * reduced.Scale, inv = 1 / (na * nb);
            double ka = clipA ? 0 : c / (na * na), kb = clipB ? 0 : c / (nb * nb);
            for (int i = r * d; i < (r + 1) * d; i++)
            {
                if (keep.Length != 0 && keep[i] == T.Zero) continue;
                double x = double.CreateTruncating(a[i]), y = double.CreateTruncating(b[i]);
                ga[i] = T.CreateTruncating(s * (y * inv - ka * x));
                gb[i] = T.CreateTruncating(s * (x * inv - kb * y));
            }
        }
        return Result(value, ("predictions", Wrap(ga, shape)), ("targets", Wrap(gb, shape)));
    }

    internal static readonly InputSpec[] Vectors =
    [
        new("predictions", InputKind.Floating, true, "vectors (…, D)"),
        new("targets", InputKind.Floating, true, "vectors, same shape"),
    ];

    internal static OptionSpec[] Options(string what) =>
    [
        OptionSpec.Choice("reduction", "none", $"none (Optax: one value per row), mean or sum of the {what}", "none", "mean", "sum"),
        OptionSpec.Float("epsilon", 0, "lower clip of each squared norm (Optax: 0; a zero row then is an error)"),
        OptionSpec.Tensor("where", "1 for the components to include, 0 for those to leave out (the inputs' shape)"),
        AxisOption,
    ];

    internal static LossInputs Sample(Random r, Shape s)
    {
        Shape x = Samples.Or(s, 3, 4);
        return new LossInputs().Add("predictions", Samples.Normal(r, x)).Add("targets", Samples.Normal(r, x));
    }
}
