using LossLab.Numerics;

namespace LossLab.Autograd;

/// <summary>The shape and indexing operations of <see cref="Ops"/>: matrix product, reshape, transpose, gather, one-hot, concatenation.</summary>
public static partial class Ops
{
    // ================================================================ shape and indexing

    /// <summary>Matrix product of (m, k)·(k, n); a 1-D operand is a row (left) or column (right) vector.</summary>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        bool va = a.Shape.Rank == 1, vb = b.Shape.Rank == 1;
        if (!(a.Shape.Rank is 1 or 2) || !(b.Shape.Rank is 1 or 2))
        {
            throw new LossArgumentException(LossErrorCode.InvalidShape, $"matmul: operands must be 1-D or 2-D, got {a.Shape} and {b.Shape}");
        }
        int m = va ? 1 : a.Shape[0], k = a.Shape[a.Shape.Rank - 1], n = vb ? 1 : b.Shape[1];
        if (b.Shape[0] != k) throw new LossArgumentException(LossErrorCode.InvalidShape, $"matmul: inner dimensions differ: {a.Shape} · {b.Shape}");
        Shape shape = va && vb ? Shape.Scalar : va ? new Shape(n) : vb ? new Shape(m) : new Shape(m, n);
        DType dtype = Promote(a, b);
        double[] data = Product(a.Data, b.Data, m, k, n, dtype);
        return Make(data, shape, dtype, [a, b], g =>
        {
            // ∂L/∂A = G·Bᵀ (m×n · n×k), ∂L/∂B = Aᵀ·G (k×m · m×n).
            double[] ga = a.RequiresGrad ? Product(g, GemmF64.Transposed(b.Data, k, n), m, n, k, dtype) : new double[a.Length];
            double[] gb = b.RequiresGrad ? Product(GemmF64.Transposed(a.Data, m, k), g, k, m, n, dtype) : new double[b.Length];
            return [ga, gb];
        });
    }

    /// <summary>(m×k)·(k×n): the cache-blocked SIMD kernel for float32, a double triple loop for float64.</summary>
    private static double[] Product(double[] x, double[] y, int m, int k, int n, DType dtype)
    {
        if (dtype == DType.Float32)
        {
            float[] xf = Array.ConvertAll(x, v => (float)v), yf = Array.ConvertAll(y, v => (float)v), cf = new float[m * n];
            Gemm.Multiply(xf, yf, cf, m, k, n, accumulate: false);
            return Array.ConvertAll(cf, v => (double)v);
        }
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++)
            {
                double v = x[i * k + p];
                for (int j = 0; j < n; j++) c[i * n + j] += v * y[p * n + j];
            }
        return c;
    }

    public static Tensor Reshape(Tensor a, params int[] shape)
    {
        int known = 1, infer = -1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1) infer = i;
            else known *= shape[i];
        }
        if (infer >= 0 && known > 0) shape[infer] = a.Length / known;
        var s = new Shape(shape);
        if (s.Numel != a.Length) throw new LossArgumentException(LossErrorCode.InvalidShape, $"reshape: cannot view {a.Shape} ({a.Length} elements) as {s}");
        return Make((double[])a.Data.Clone(), s, a.DType, [a], g => [(double[])g.Clone()]);
    }

    /// <summary>Swaps two axes (default: the last two).</summary>
    public static Tensor Transpose(Tensor a, int axis0 = -2, int axis1 = -1)
    {
        if (a.Shape.Rank < 2) return Reshape(a, [.. a.Shape.Dims]);
        int x = Broadcasting.Axis(a.Shape, axis0, "transpose"), y = Broadcasting.Axis(a.Shape, axis1, "transpose");
        int[] dims = [.. a.Shape.Dims];
        (dims[x], dims[y]) = (dims[y], dims[x]);
        var shape = new Shape(dims);
        int[] source = Permutation(a.Shape, shape, x, y);
        var data = new double[a.Length];
        for (int i = 0; i < data.Length; i++) data[i] = a.Data[source[i]];
        return Make(data, shape, a.DType, [a], g =>
        {
            var ga = new double[a.Length];
            for (int i = 0; i < g.Length; i++) ga[source[i]] = g[i];
            return [ga];
        });
    }

    /// <summary>out[..., j, ...] = x[..., index[..., j, ...], ...] along <paramref name="axis"/> (torch.gather).</summary>
    public static Tensor Gather(Tensor a, int axis, Tensor index)
    {
        int ax = Broadcasting.Axis(a.Shape, axis, "gather");
        if (index.Shape.Rank != a.Shape.Rank) throw new LossArgumentException(LossErrorCode.InvalidShape, $"gather: index {index.Shape} must have the rank of {a.Shape}");
        var (outer, n, inner) = Broadcasting.Around(index.Shape, ax);
        int an = a.Shape[ax], aInner = a.Shape.Product(ax + 1, a.Shape.Rank);
        var source = new int[index.Length];
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < n; k++)
                for (int i = 0; i < inner; i++)
                {
                    double v = index.Data[(o * n + k) * inner + i];
                    if (v < 0 || v >= an || v != Math.Floor(v)) throw new LossArgumentException(LossErrorCode.InvalidValue, $"gather: index {v} is out of range [0, {an - 1}] along axis {ax}");
                    source[(o * n + k) * inner + i] = (o * an + (int)v) * aInner + i;
                }
        var data = new double[source.Length];
        for (int i = 0; i < data.Length; i++) data[i] = a.Data[source[i]];
        return Make(data, index.Shape, a.DType, [a, index], g =>
        {
            var ga = new double[a.Length];
            for (int i = 0; i < g.Length; i++) ga[source[i]] += g[i];
            return [ga, null];
        });
    }

    /// <summary>One-hot encoding of integer classes: shape (…, C). No gradient.</summary>
    public static Tensor OneHot(Tensor index, int classes, DType dtype = DType.Float32)
    {
        var data = new double[index.Length * classes];
        for (int i = 0; i < index.Length; i++)
        {
            double v = index.Data[i];
            if (v < 0 || v >= classes || v != Math.Floor(v)) throw new LossArgumentException(LossErrorCode.InvalidValue, $"one_hot: class {v} at position {i} is out of range [0, {classes - 1}]");
            data[i * classes + (int)v] = 1;
        }
        return new Tensor(data, index.Shape.Append(classes), dtype, false, null);
    }

    /// <summary>Joins tensors along an axis; all other dims must agree.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> parts, int axis = 0)
    {
        if (parts.Count == 0) throw new LossArgumentException(LossErrorCode.InvalidShape, "concat: nothing to join");
        Shape first = parts[0].Shape;
        int ax = Broadcasting.Axis(first, axis, "concat");
        int total = 0;
        foreach (Tensor p in parts)
        {
            if (p.Shape.Rank != first.Rank || Enumerable.Range(0, first.Rank).Any(d => d != ax && p.Shape[d] != first[d]))
            {
                throw new LossArgumentException(LossErrorCode.InvalidShape, $"concat: shape {p.Shape} does not match {first} outside axis {ax}");
            }
            total += p.Shape[ax];
        }
        int[] dims = [.. first.Dims];
        dims[ax] = total;
        var shape = new Shape(dims);
        var (outer, _, inner) = Broadcasting.Around(shape, ax);
        var data = new double[shape.Numel];
        var offsets = new int[parts.Count];
        int start = 0;
        for (int p = 0; p < parts.Count; p++)
        {
            offsets[p] = start;
            int n = parts[p].Shape[ax];
            for (int o = 0; o < outer; o++) Array.Copy(parts[p].Data, o * n * inner, data, (o * total + start) * inner, n * inner);
            start += n;
        }
        return Make(data, shape, parts.Any(p => p.DType == DType.Float64) ? DType.Float64 : DType.Float32, [.. parts], g =>
        {
            var grads = new double[]?[parts.Count];
            for (int p = 0; p < parts.Count; p++)
            {
                int n = parts[p].Shape[ax];
                var gp = new double[parts[p].Length];
                for (int o = 0; o < outer; o++) Array.Copy(g, (o * total + offsets[p]) * inner, gp, o * n * inner, n * inner);
                grads[p] = gp;
            }
            return grads;
        });
    }

    private static int[] Permutation(Shape from, Shape to, int x, int y)
    {
        var fromStrides = new int[from.Rank];
        for (int i = from.Rank - 1, s = 1; i >= 0; s *= from[i], i--) fromStrides[i] = s;
        (fromStrides[x], fromStrides[y]) = (fromStrides[y], fromStrides[x]);
        var source = new int[to.Numel];
        var index = new int[to.Rank];
        for (int flat = 0; flat < source.Length; flat++)
        {
            int s = 0;
            for (int k = 0; k < index.Length; k++) s += index[k] * fromStrides[k];
            source[flat] = s;
            for (int k = index.Length - 1; k >= 0; k--)
            {
                if (++index[k] < to[k]) break;
                index[k] = 0;
            }
        }
        return source;
    }
}
