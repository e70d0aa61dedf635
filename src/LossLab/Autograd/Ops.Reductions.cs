using LossLab.Numerics;

namespace LossLab.Autograd;

/// <summary>The reductions of <see cref="Ops"/>: sums, means, maxima and the softmax family, over one axis or all elements.</summary>
public static partial class Ops
{
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

    /// <summary>The maximum; the gradient is shared equally among tied maxima (torch.amax), or among the NaN elements when the maximum is NaN (torch.max).</summary>
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
                    // The elements equal to the maximum share its gradient; when it is NaN, the NaN elements do (torch.max).
                    double top = data[o * inner + i];
                    int ties = 0;
                    for (int k = 0; k < n; k++) if (Hit(a.Data[(o * n + k) * inner + i], top)) ties++;
                    for (int k = 0; k < n; k++)
                    {
                        int idx = (o * n + k) * inner + i;
                        if (Hit(a.Data[idx], top)) ga[idx] = g[o * inner + i] / ties;
                    }
                }
            return [ga];
        });
    }

    private static bool Hit(double v, double top) => v == top || (double.IsNaN(top) && double.IsNaN(v));

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

    private static (int Outer, int N, int Inner, Shape Shape) Reduction(Tensor a, int? axis, bool keepDim, string op)
    {
        if (axis is null) return (1, a.Length, 1, keepDim ? new Shape(Enumerable.Repeat(1, a.Shape.Rank).ToArray()) : Shape.Scalar);
        int ax = Broadcasting.Axis(a.Shape, axis.Value, op);
        var (outer, n, inner) = Broadcasting.Around(a.Shape, ax);
        int[] dims = [.. a.Shape.Dims];
        dims[ax] = 1;
        return (outer, n, inner, keepDim ? new Shape(dims) : a.Shape.WithoutAxis(ax));
    }
}
