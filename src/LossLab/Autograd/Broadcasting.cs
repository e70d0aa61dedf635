using LossLab.Numerics;

namespace LossLab.Autograd;

/// <summary>NumPy broadcasting as index maps: for each element of the result, the flat index it reads in an operand.</summary>
internal static class Broadcasting
{
    /// <summary>The broadcast shape of two operands, or an error naming both shapes.</summary>
    public static Shape Shape(Shape a, Shape b, string op)
        => Numerics.Shape.Broadcast(a, b) ?? throw new LossArgumentException(LossErrorCode.InvalidShape,
            $"{op}: shapes {a} and {b} cannot be broadcast together");

    /// <summary>For every flat index of <paramref name="to"/>, the flat index of <paramref name="from"/> it reads.</summary>
    public static int[] Map(Shape from, Shape to)
    {
        var map = new int[to.Numel];
        if (from == to)
        {
            for (int i = 0; i < map.Length; i++) map[i] = i;
            return map;
        }
        int offset = to.Rank - from.Rank;
        var strides = new int[to.Rank];
        int stride = 1;
        for (int i = from.Rank - 1; i >= 0; i--)
        {
            strides[i + offset] = from[i] == 1 ? 0 : stride;
            stride *= from[i];
        }
        var index = new int[to.Rank];
        for (int flat = 0; flat < map.Length; flat++)
        {
            int s = 0;
            for (int k = 0; k < index.Length; k++) s += index[k] * strides[k];
            map[flat] = s;
            for (int k = index.Length - 1; k >= 0; k--)
            {
                if (++index[k] < to[k]) break;
                index[k] = 0;
            }
        }
        return map;
    }

    /// <summary>The backward of a broadcast: sums the result's gradient back into the operand's elements.</summary>
    public static double[] Reduce(double[] g, int[] map, int length)
    {
        var r = new double[length];
        for (int i = 0; i < g.Length; i++) r[map[i]] += g[i];
        return r;
    }

    /// <summary>Splits a shape around an axis: (outer, axis length, inner) with flat index (o·n + k)·inner + i.</summary>
    public static (int Outer, int N, int Inner) Around(Shape s, int axis) => (s.Product(0, axis), s[axis], s.Product(axis + 1, s.Rank));

    /// <summary>Normalizes a possibly negative axis, with an error naming the shape.</summary>
    public static int Axis(Shape s, int axis, string op)
    {
        int a = axis < 0 ? axis + s.Rank : axis;
        if (a < 0 || a >= Math.Max(s.Rank, 1) || (s.Rank == 0))
        {
            throw new LossArgumentException(LossErrorCode.InvalidShape, $"{op}: axis {axis} is out of range for shape {s}");
        }
        return a;
    }
}
