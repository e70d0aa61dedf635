using LossLab.Numerics;

namespace LossLab.Losses.Core;

/// <summary>
/// The groups of elements that a loss reduces together over some axes (Keras's and Optax's <c>axis</c>): one group
/// per index of the kept axes, its members in row-major order over the reduced axes. <see cref="Gather"/> moves the
/// reduced axes to the end and flattens them, shape (kept…, K), so that a loss written for the last axis serves any
/// axes; <see cref="Scatter"/> puts a gradient of that shape back.
/// </summary>
public sealed class AxisGroups
{
    private readonly int[] _members;   // (groups × size): the flat element index of member k of group g

    private AxisGroups(Shape shape, Shape valueShape, int size, int[] members)
    {
        Shape = shape;
        ValueShape = valueShape;
        Size = size;
        _members = members;
    }

    /// <summary>The full shape.</summary>
    public Shape Shape { get; }

    /// <summary>The kept axes, in order: the shape of one value per group.</summary>
    public Shape ValueShape { get; }

    /// <summary>The number of groups (the kept axes' element count).</summary>
    public int Count => ValueShape.Numel;

    /// <summary>Elements per group (the reduced axes' element count).</summary>
    public int Size { get; }

    /// <summary>The flat indices of group <paramref name="g"/>'s elements.</summary>
    public ReadOnlySpan<int> Members(int g) => _members.AsSpan(g * Size, Size);

    /// <summary>Parses an <c>axis</c> option: null (the loss's default), one integer, or a list of integers.</summary>
    public static int[]? Parse(TensorData? axis) => axis is null ? null : [.. Enumerable.Range(0, axis.Length).Select(i => (int)axis.GetDouble(i))];

    /// <summary>Whether the reduced axes are exactly the last one (then gathering changes nothing).</summary>
    public bool IsLastAxis { get; private init; }

    /// <summary>
    /// The groups of <paramref name="shape"/> over <paramref name="axes"/> (negative counts from the end; null reduces
    /// every axis; an empty list none, so that each element is its own group). An axis out of range or named twice is an
    /// error naming <paramref name="loss"/>.
    /// </summary>
    public static AxisGroups Of(Shape shape, int[]? axes, string loss)
    {
        int rank = shape.Rank;
        var reduced = new bool[rank];
        if (axes is null) Array.Fill(reduced, true);
        else
        {
            foreach (int a in axes)
            {
                int axis = a < 0 ? a + rank : a;
                if (axis < 0 || axis >= rank) throw LossArgumentException.Shape($"{loss}: axis {a} is out of range for shape {shape}");
                if (reduced[axis]) throw LossArgumentException.Shape($"{loss}: axis {a} is named twice in [{string.Join(", ", axes)}]");
                reduced[axis] = true;
            }
        }
        int[] kept = [.. Enumerable.Range(0, rank).Where(d => !reduced[d])];
        var valueShape = new Shape(kept.Select(d => shape[d]).ToArray());
        int size = 1;
        for (int d = 0; d < rank; d++) if (reduced[d]) size *= shape[d];
        var members = new int[shape.Numel];
        var filled = new int[valueShape.Numel];
        var index = new int[rank];
        for (int flat = 0; flat < shape.Numel; flat++)
        {
            int g = 0;
            foreach (int d in kept) g = g * shape[d] + index[d];
            members[g * size + filled[g]++] = flat;
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < shape[d]) break;
                index[d] = 0;
            }
        }
        bool last = rank > 0 && reduced[rank - 1] && kept.Length == rank - 1;
        return new AxisGroups(shape, valueShape, size, members) { IsLastAxis = last };
    }

    /// <summary>A tensor of <see cref="Shape"/> as (kept…, K): group g's elements at row g.</summary>
    public TensorData Gather(TensorData t)
    {
        if (t.Shape != Shape) throw LossArgumentException.Shape($"a tensor of shape {t.Shape} cannot be grouped as {Shape}");
        Shape moved = ValueShape.Append(Size);
        return TensorData.Create(moved, t.DType, Permuted(t, gather: true));
    }

    /// <summary>The inverse of <see cref="Gather"/>: a (kept…, K) tensor back to <see cref="Shape"/>.</summary>
    public TensorData Scatter(TensorData moved) => TensorData.Create(Shape, moved.DType, Permuted(moved, gather: false));

    /// <summary>
    /// Evaluates <paramref name="lastAxisLoss"/>, a loss over the last axis, over these groups instead: the
    /// <paramref name="grouped"/> inputs (those of the full shape) are gathered to (kept…, K), and their gradients
    /// scattered back. Its options of the full shape (a <c>where</c> mask) must already be gathered.
    /// </summary>
    public LossResult Evaluate(ILoss lastAxisLoss, LossInputs inputs, IReadOnlyCollection<string> grouped, bool computeGradients)
    {
        var moved = new LossInputs(inputs.Tensors) { AllowNonFinite = inputs.AllowNonFinite };
        foreach (string name in grouped) if (inputs.Contains(name)) moved.Add(name, Gather(inputs[name]));
        LossResult r = lastAxisLoss.Evaluate(moved, computeGradients);
        return new LossResult(r.Value, r.Gradients.ToDictionary(kv => kv.Key, kv => grouped.Contains(kv.Key) ? Scatter(kv.Value) : kv.Value));
    }

    /// <summary>A full-shape option tensor (a mask) gathered like the inputs; null stays null.</summary>
    public TensorData? GatherOption(TensorData? option, string name, string loss) => option is null ? null
        : option.Shape == Shape ? Gather(option)
        : throw LossArgumentException.Shape($"{loss}: option '{name}' has shape {option.Shape}; expected the inputs' shape {Shape}");

    private Array Permuted(TensorData t, bool gather) => t.DType switch
    {
        DType.Float32 => Permute(t.ToArray<float>(), gather),
        DType.Float64 => Permute(t.ToArray<double>(), gather),
        DType.Int32 => Permute(t.ToArray<int>(), gather),
        _ => Permute(t.ToArray<long>(), gather),
    };

    private TValue[] Permute<TValue>(TValue[] source, bool gather)
    {
        var result = new TValue[source.Length];
        for (int i = 0; i < _members.Length; i++)
        {
            if (gather) result[i] = source[_members[i]];
            else result[_members[i]] = source[i];
        }
        return result;
    }
}
