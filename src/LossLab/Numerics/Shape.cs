using System.Collections.Immutable;
using System.Text;

namespace LossLab.Numerics;

/// <summary>The dimensions of a contiguous row-major tensor; rank 0 is a scalar with one element.</summary>
public readonly struct Shape : IEquatable<Shape>
{
    private readonly ImmutableArray<int> _dims;

    public Shape(params int[] dims) : this(ImmutableArray.Create(dims)) { }

    public Shape(ImmutableArray<int> dims)
    {
        foreach (int d in dims)
        {
            if (d < 0) throw new ArgumentOutOfRangeException(nameof(dims), $"dimension {d} of shape {Format(dims)} is negative");
        }
        _dims = dims;
    }

    public static Shape Scalar => new(ImmutableArray<int>.Empty);

    public ImmutableArray<int> Dims => _dims.IsDefault ? ImmutableArray<int>.Empty : _dims;

    public int Rank => Dims.Length;

    public int this[int axis] => Dims[axis < 0 ? axis + Rank : axis];

    public int this[Index axis] => Dims[axis];

    /// <summary>Number of elements (1 for a scalar). Throws when it does not fit an <see cref="int"/>.</summary>
    public int Numel
    {
        get
        {
            long n = 1;
            foreach (int d in Dims)
            {
                n *= d;
                if (n > Array.MaxLength) throw new OverflowException($"shape {this} has more than {Array.MaxLength} elements");
            }
            return (int)n;
        }
    }

    /// <summary>Product of the dimensions in [from, to).</summary>
    public int Product(int from, int to)
    {
        int n = 1;
        for (int i = from; i < to; i++) n *= Dims[i];
        return n;
    }

    public Shape WithoutAxis(int axis) => new(Dims.RemoveAt(axis));

    /// <summary>The multi-index of flat row-major index <paramref name="flat"/> (for messages naming a position).</summary>
    public int[] Unravel(int flat)
    {
        var index = new int[Rank];
        for (int a = Rank - 1; a >= 0; a--)
        {
            int d = Math.Max(1, Dims[a]);
            index[a] = flat % d;
            flat /= d;
        }
        return index;
    }

    /// <summary>" (position [i, j, ...])" for a tensor of rank &gt; 1, else "": the tail of a message naming flat index <paramref name="flat"/>.</summary>
    public string PositionText(int flat) => Rank > 1 ? $" (position [{string.Join(", ", Unravel(flat))}])" : "";

    public Shape Append(int dim) => new(Dims.Add(dim));

    public bool Equals(Shape other) => Dims.AsSpan().SequenceEqual(other.Dims.AsSpan());

    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in Dims) h.Add(d);
        return h.ToHashCode();
    }

    public static bool operator ==(Shape a, Shape b) => a.Equals(b);

    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    /// <summary>PyTorch-like text: <c>(2, 3)</c>, <c>()</c> for a scalar, <c>(5,)</c> for a vector.</summary>
    public override string ToString() => Format(Dims);

    private static string Format(ImmutableArray<int> dims)
    {
        if (dims.IsDefaultOrEmpty) return "()";
        if (dims.Length == 1) return $"({dims[0]},)";
        var sb = new StringBuilder("(");
        for (int i = 0; i < dims.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(dims[i]);
        }
        return sb.Append(')').ToString();
    }

    /// <summary>
    /// The shape two shapes broadcast to under NumPy rules (align trailing dims; a dim of 1 stretches),
    /// or null when they are incompatible.
    /// </summary>
    public static Shape? Broadcast(Shape a, Shape b)
    {
        int rank = Math.Max(a.Rank, b.Rank);
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Rank ? 1 : a.Dims[i - (rank - a.Rank)];
            int db = i < rank - b.Rank ? 1 : b.Dims[i - (rank - b.Rank)];
            if (da != db && da != 1 && db != 1) return null;
            dims[i] = da == 1 ? db : da;
        }
        return new Shape(dims);
    }
}
