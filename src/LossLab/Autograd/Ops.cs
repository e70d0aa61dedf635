using LossLab.Numerics;

namespace LossLab.Autograd;

/// <summary>
/// The primitive operations and their backward rules, all in one place. Everything else (custom losses, the
/// expression language, layers) is composed from these. Each rule maps ∂L/∂out (g) to ∂L/∂input.
/// Kinks follow PyTorch: relu' (0) = 0, |x|' (0) = 0, clamp passes the gradient on its bounds, min/max split it
/// in half at a tie, pow with exponent 0 has gradient 0.
/// Strong zero: an upstream gradient of exactly 0 contributes exactly 0, even where the local derivative is
/// infinite or NaN. So the branch a <c>where</c> did not take never leaks NaN into the gradient (the classic
/// where-NaN trap of PyTorch and JAX), and masked rows stay at 0 as PyTorch's masked_fill keeps them.
/// </summary>
public static class Ops
{
    // ================================================================ elementwise, broadcasting

    public static Tensor Add(Tensor a, Tensor b) => Binary(a, b, "add", (x, y) => x + y, (x, y, o, g) => (g, g));

    public static Tensor Sub(Tensor a, Tensor b) => Binary(a, b, "sub", (x, y) => x - y, (x, y, o, g) => (g, -g));

    public static Tensor Mul(Tensor a, Tensor b) => Binary(a, b, "mul", (x, y) => x * y, (x, y, o, g) => (g * y, g * x));

    public static Tensor Div(Tensor a, Tensor b) => Binary(a, b, "div", (x, y) => x / y, (x, y, o, g) => (g / y, -g * x / (y * y)));

    /// <summary>x^y; ∂/∂x = y·x^(y−1) (0 when y = 0), ∂/∂y = x^y·log x (0 where x = 0 and y ≥ 0... as PyTorch, 0 at x = 0).</summary>
    public static Tensor Pow(Tensor a, Tensor b) => Binary(a, b, "pow", Math.Pow,
        (x, y, o, g) => (y == 0 ? 0 : g * y * Math.Pow(x, y - 1), x == 0 ? 0 : g * o * Math.Log(x)));

    /// <summary>Elementwise minimum; at a tie each operand gets half the gradient (torch.minimum).</summary>
    public static Tensor Minimum(Tensor a, Tensor b) => Binary(a, b, "minimum", Math.Min,
        (x, y, o, g) => x < y ? (g, 0) : x > y ? (0, g) : (g / 2, g / 2));

    /// <summary>Elementwise maximum; at a tie each operand gets half the gradient (torch.maximum).</summary>
    public static Tensor Maximum(Tensor a, Tensor b) => Binary(a, b, "maximum", Math.Max,
        (x, y, o, g) => x > y ? (g, 0) : x < y ? (0, g) : (g / 2, g / 2));

    // Comparisons give 0/1 tensors and no gradient.
    public static Tensor Less(Tensor a, Tensor b) => Compare(a, b, "lt", (x, y) => x < y);

    public static Tensor LessEqual(Tensor a, Tensor b) => Compare(a, b, "le", (x, y) => x <= y);

    public static Tensor Greater(Tensor a, Tensor b) => Compare(a, b, "gt", (x, y) => x > y);

    public static Tensor GreaterEqual(Tensor a, Tensor b) => Compare(a, b, "ge", (x, y) => x >= y);

    public static Tensor Equal(Tensor a, Tensor b) => Compare(a, b, "eq", (x, y) => x == y);

    public static Tensor NotEqual(Tensor a, Tensor b) => Compare(a, b, "ne", (x, y) => x != y);

    /// <summary>cond ≠ 0 ? a : b, broadcasting all three; the gradient goes to the branch taken.</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        Shape shape = Broadcasting.Shape(Broadcasting.Shape(condition.Shape, a.Shape, "where"), b.Shape, "where");
        int[] mc = Broadcasting.Map(condition.Shape, shape), ma = Broadcasting.Map(a.Shape, shape), mb = Broadcasting.Map(b.Shape, shape);
        var data = new double[shape.Numel];
        for (int i = 0; i < data.Length; i++) data[i] = condition.Data[mc[i]] != 0 ? a.Data[ma[i]] : b.Data[mb[i]];
        return Make(data, shape, Promote(a, b), [condition, a, b], g =>
        {
            var ga = new double[a.Length];
            var gb = new double[b.Length];
            for (int i = 0; i < g.Length; i++)
            {
                if (condition.Data[mc[i]] != 0) ga[ma[i]] += g[i];
                else gb[mb[i]] += g[i];
            }
            return [null, ga, gb];
        });
    }

    // ================================================================ elementwise, unary

    public static Tensor Neg(Tensor a) => Unary(a, x => -x, (x, o, g) => -g);

    public static Tensor Exp(Tensor a) => Unary(a, Math.Exp, (x, o, g) => g * o);

    public static Tensor Log(Tensor a) => Unary(a, Math.Log, (x, o, g) => g / x);

    public static Tensor Sqrt(Tensor a) => Unary(a, Math.Sqrt, (x, o, g) => g / (2 * o));

    /// <summary>|x|, with gradient sgn(x) (0 at 0).</summary>
    public static Tensor Abs(Tensor a) => Unary(a, Math.Abs, (x, o, g) => g * Numerics.Stable.Sign(x));

    /// <summary>max(x, 0), with gradient 0 at x = 0 (tinygrad's note: maximum(x, 0) would pass half).</summary>
    public static Tensor Relu(Tensor a) => Unary(a, x => x > 0 ? x : 0, (x, o, g) => x > 0 ? g : 0);

    public static Tensor Sigmoid(Tensor a) => Unary(a, Stable.Sigmoid, (x, o, g) => g * o * (1 - o));

    public static Tensor Tanh(Tensor a) => Unary(a, Math.Tanh, (x, o, g) => g * (1 - o * o));

    /// <summary>log(1 + eˣ) without overflow; gradient σ(x).</summary>
    public static Tensor Softplus(Tensor a) => Unary(a, Stable.Softplus, (x, o, g) => g * Stable.Sigmoid(x));

    /// <summary>x^p for a constant p (0 gradient when p = 0).</summary>
    public static Tensor Pow(Tensor a, double p) => Unary(a, x => p == 2 ? x * x : Math.Pow(x, p), (x, o, g) => p == 0 ? 0 : g * p * Math.Pow(x, p - 1));

    /// <summary>min(max(x, lo), hi); the gradient passes where lo ≤ x ≤ hi (PyTorch's clamp).</summary>
    public static Tensor Clamp(Tensor a, double lo = double.NegativeInfinity, double hi = double.PositiveInfinity)
        => Unary(a, x => Math.Min(Math.Max(x, lo), hi), (x, o, g) => x >= lo && x <= hi ? g : 0);

    // ================================================================ reductions over an axis (null = all elements)

    public static Tensor Sum(Tensor a, int? axis = null, bool keepDim = false)
    {
        var (outer, n, inner, shape) = Reduction(a, axis, keepDim, "sum");
        var data = new double[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < n; k++)
                for (int i = 0; i < inner; i++) data[o * inner + i] += a.Data[(o * n + k) * inner + i];
        return Make(data, shape, a.DType, [a], g =>
        {
            var ga = new double[a.Length];
            for (int o = 0; o < outer; o++)
                for (int k = 0; k < n; k++)
                    for (int i = 0; i < inner; i++) ga[(o * n + k) * inner + i] = g[o * inner + i];
            return [ga];
        });
    }

    public static Tensor Mean(Tensor a, int? axis = null, bool keepDim = false)
    {
        int count = axis is null ? a.Length : a.Shape[Broadcasting.Axis(a.Shape, axis.Value, "mean")];
        return Div(Sum(a, axis, keepDim), a.Constant(count));
    }

    /// <summary>The maximum; the gradient is shared equally among tied maxima (torch.amax).</summary>
    public static Tensor Max(Tensor a, int? axis = null, bool keepDim = false)
    {
        var (outer, n, inner, shape) = Reduction(a, axis, keepDim, "max");
        if (n == 0) throw new LossArgumentException(LossErrorCode.InvalidShape, $"max: cannot reduce an empty axis of shape {a.Shape}");
        var data = new double[outer * inner];
        Array.Fill(data, double.NegativeInfinity);
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < n; k++)
                for (int i = 0; i < inner; i++) data[o * inner + i] = Math.Max(data[o * inner + i], a.Data[(o * n + k) * inner + i]);
        return Make(data, shape, a.DType, [a], g =>
        {
            var ga = new double[a.Length];
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    int ties = 0;
                    for (int k = 0; k < n; k++) if (a.Data[(o * n + k) * inner + i] == data[o * inner + i]) ties++;
                    for (int k = 0; k < n; k++)
                    {
                        int idx = (o * n + k) * inner + i;
                        if (a.Data[idx] == data[o * inner + i]) ga[idx] = g[o * inner + i] / ties;
                    }
                }
            return [ga];
        });
    }

    /// <summary>log Σ exp over an axis, max-shifted; gradient softmax.</summary>
    public static Tensor LogSumExp(Tensor a, int? axis = null, bool keepDim = false)
    {
        var (outer, n, inner, shape) = Reduction(a, axis, keepDim, "logsumexp");
        var data = new double[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double logSum = SliceLogSum(a.Data, o, i, n, inner, out double m);
                data[o * inner + i] = m + logSum;
            }
        return Make(data, shape, a.DType, [a], g =>
        {
            var ga = new double[a.Length];
            for (int o = 0; o < outer; o++)
                for (int k = 0; k < n; k++)
                    for (int i = 0; i < inner; i++)
                    {
                        int idx = (o * n + k) * inner + i;
                        ga[idx] = g[o * inner + i] * Math.Exp(a.Data[idx] - data[o * inner + i]);
                    }
            return [ga];
        });
    }

    /// <summary>
    /// x − logsumexp(x) over an axis (default: the class axis, 1, or 0 for rank ≤ 1), as (x − max) − log Σ exp(x − max)
    /// rounded once. Subtracting a float32-rounded logsumexp instead would shift every log-probability by up to half
    /// its ulp (3.8e-6 at 100). Gradient: g − softmax·Σg over the axis.
    /// </summary>
    public static Tensor LogSoftmax(Tensor a, int? axis = null) => LogSoftmax(a, axis, "log_softmax");

    private static Tensor LogSoftmax(Tensor a, int? axis, string op)
    {
        var (outer, n, inner, _) = Reduction(a, axis ?? ClassAxis(a), keepDim: true, op);
        var data = new double[a.Length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double logSum = SliceLogSum(a.Data, o, i, n, inner, out double m);
                for (int k = 0; k < n; k++) data[(o * n + k) * inner + i] = a.Data[(o * n + k) * inner + i] - m - logSum;
            }
        return Make(data, a.Shape, a.DType, [a], g =>
        {
            var ga = new double[a.Length];
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    double gSum = 0;
                    for (int k = 0; k < n; k++) gSum += g[(o * n + k) * inner + i];
                    for (int k = 0; k < n; k++)
                    {
                        int idx = (o * n + k) * inner + i;
                        ga[idx] = g[idx] - Math.Exp(data[idx]) * gSum;
                    }
                }
            return [ga];
        });
    }

    /// <summary>The slice (o, ·, i) of an (outer, n, inner) layout: its max and log Σ exp(x − max) (−∞ and 0 when n = 0).</summary>
    private static double SliceLogSum(double[] x, int o, int i, int n, int inner, out double max)
        => Stable.ShiftedLogSumExp<double>(x.AsSpan(Math.Min(o * n * inner + i, x.Length)), n, inner, out max);

    /// <summary>exp(log_softmax(x)): max-shifted, so never NaN for large logits.</summary>
    public static Tensor Softmax(Tensor a, int? axis = null) => Exp(LogSoftmax(a, axis, "softmax"));

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
            double[] ga = a.RequiresGrad ? Product(g, Transposed(b.Data, k, n), m, n, k, dtype) : new double[a.Length];
            double[] gb = b.RequiresGrad ? Product(Transposed(a.Data, m, k), g, k, m, n, dtype) : new double[b.Length];
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

    private static double[] Transposed(double[] x, int rows, int cols)
    {
        var t = new double[x.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
        return t;
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

    // ================================================================ machinery

    /// <summary>Creates an operation's result; the node is kept only when some input requires gradients.</summary>
    internal static Tensor Make(double[] data, Shape shape, DType dtype, Tensor[] inputs, Func<double[], double[]?[]> backward)
        => new(data, shape, dtype, false, inputs.Any(t => t.RequiresGrad) ? new Node(inputs, backward) : null);

    internal static DType Promote(Tensor a, Tensor b) => a.DType == DType.Float64 || b.DType == DType.Float64 ? DType.Float64 : DType.Float32;

    internal static int ClassAxis(Tensor a) => a.Shape.Rank >= 2 ? 1 : 0;

    private static Tensor Unary(Tensor a, Func<double, double> f, Func<double, double, double, double> df)
    {
        var data = new double[a.Length];
        for (int i = 0; i < data.Length; i++) data[i] = f(a.Data[i]);
        Tensor result = Make(data, a.Shape, a.DType, [a], null!);
        if (result.Node is null) return result;
        double[] output = result.Data;
        return new Tensor(output, a.Shape, a.DType, false, new Node([a], g =>
        {
            var ga = new double[a.Length];
            for (int i = 0; i < ga.Length; i++) ga[i] = g[i] == 0 ? 0 : df(a.Data[i], output[i], g[i]);
            return [ga];
        }));
    }

    private static Tensor Binary(Tensor a, Tensor b, string op, Func<double, double, double> f, Func<double, double, double, double, (double, double)> df)
    {
        Shape shape = Broadcasting.Shape(a.Shape, b.Shape, op);
        int[] ma = Broadcasting.Map(a.Shape, shape), mb = Broadcasting.Map(b.Shape, shape);
        var data = new double[shape.Numel];
        for (int i = 0; i < data.Length; i++) data[i] = f(a.Data[ma[i]], b.Data[mb[i]]);
        DType dtype = Promote(a, b);
        if (!a.RequiresGrad && !b.RequiresGrad) return new Tensor(data, shape, dtype, false, null);
        var result = new Tensor(data, shape, dtype, false, null);
        double[] output = result.Data;
        return new Tensor(output, shape, dtype, false, new Node([a, b], g =>
        {
            var ga = new double[a.Length];
            var gb = new double[b.Length];
            for (int i = 0; i < g.Length; i++)
            {
                if (g[i] == 0) continue;   // strong zero
                var (da, db) = df(a.Data[ma[i]], b.Data[mb[i]], output[i], g[i]);
                ga[ma[i]] += da;
                gb[mb[i]] += db;
            }
            return [ga, gb];
        }));
    }

    private static Tensor Compare(Tensor a, Tensor b, string op, Func<double, double, bool> f)
    {
        Shape shape = Broadcasting.Shape(a.Shape, b.Shape, op);
        int[] ma = Broadcasting.Map(a.Shape, shape), mb = Broadcasting.Map(b.Shape, shape);
        var data = new double[shape.Numel];
        for (int i = 0; i < data.Length; i++) data[i] = f(a.Data[ma[i]], b.Data[mb[i]]) ? 1 : 0;
        return new Tensor(data, shape, Promote(a, b), false, null);
    }

    private static (int Outer, int N, int Inner, Shape Shape) Reduction(Tensor a, int? axis, bool keepDim, string op)
    {
        if (axis is null) return (1, a.Length, 1, keepDim ? new Shape(Enumerable.Repeat(1, a.Shape.Rank).ToArray()) : Shape.Scalar);
        int ax = Broadcasting.Axis(a.Shape, axis.Value, op);
        var (outer, n, inner) = Broadcasting.Around(a.Shape, ax);
        int[] dims = [.. a.Shape.Dims];
        dims[ax] = 1;
        return (outer, n, inner, keepDim ? new Shape(dims) : a.Shape.WithoutAxis(ax));
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
