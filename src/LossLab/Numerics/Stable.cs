using System.Numerics;

namespace LossLab.Numerics;

/// <summary>
/// Numerically stable scalar primitives, generic over float and double. These are the specification the
/// SIMD kernels are tested against; each avoids the overflow or cancellation of its naive formula.
/// </summary>
/// <remarks>
/// .NET's <c>LogP1</c>/<c>ExpM1</c> are computed as <c>Log(1 + x)</c> and <c>Exp(x) - 1</c>, which lose every
/// digit for tiny x; <see cref="Log1p{T}"/> and <see cref="Expm1{T}"/> use the Goldberg/Kahan corrections instead.
/// </remarks>
public static class Stable
{
    /// <summary>log(1 + x), accurate for tiny x: with u = fl(1 + x), log(u)·x/(u − 1) cancels the rounding of u.</summary>
    public static T Log1p<T>(T x) where T : IFloatingPointIeee754<T>
    {
        T u = T.One + x;
        if (u == T.One) return x;
        if (T.IsPositiveInfinity(u)) return T.Log(u);
        return T.Log(u) * x / (u - T.One);
    }

    /// <summary>exp(x) − 1, accurate for tiny x (Kahan): (u − 1)·x / log(u) with u = exp(x).</summary>
    public static T Expm1<T>(T x) where T : IFloatingPointIeee754<T>
    {
        T u = T.Exp(x);
        if (u == T.One) return x;
        T um1 = u - T.One;
        if (um1 == -T.One) return -T.One;
        if (T.IsPositiveInfinity(u)) return u;
        return um1 * x / T.Log(u);
    }

    /// <summary>
    /// log(eᵃ + eᵇ) = max(a, b) + log1p(e^−|a − b|), without overflow and exact when either side is −∞ (the other is
    /// returned): the log-space sum of the CTC and RNN-T lattices, ListMLE's suffixes and the metric losses' pairs.
    /// </summary>
    public static T LogAddExp<T>(T a, T b) where T : IFloatingPointIeee754<T>
    {
        if (T.IsNegativeInfinity(a)) return b;
        if (T.IsNegativeInfinity(b)) return a;
        return T.Max(a, b) + Log1p(T.Exp(-T.Abs(a - b)));
    }

    /// <summary>softplus(x) = log(1 + eˣ) = max(x, 0) + log1p(e^−|x|); finite for every finite x.</summary>
    public static T Softplus<T>(T x) where T : IFloatingPointIeee754<T>
        => T.Max(x, T.Zero) + Log1p(T.Exp(-T.Abs(x)));

    /// <summary>softplus(x), and softplus(−x) in <paramref name="negative"/>, from one exponential and one log1p.</summary>
    public static T SoftplusPair<T>(T x, out T negative) where T : IFloatingPointIeee754<T>
    {
        T l = Log1p(T.Exp(-T.Abs(x)));
        negative = T.Max(-x, T.Zero) + l;
        return T.Max(x, T.Zero) + l;
    }

    /// <summary>σ(x), and σ(−x) = 1 − σ(x) without cancellation in <paramref name="negative"/>, from one exponential.</summary>
    public static T SigmoidPair<T>(T x, out T negative) where T : IFloatingPointIeee754<T>
    {
        bool nonNegative = x >= T.Zero;
        T e = T.Exp(nonNegative ? -x : x), small = e / (T.One + e), large = T.One / (T.One + e);
        negative = nonNegative ? small : large;
        return nonNegative ? large : small;
    }

    /// <summary>log σ(x) = −softplus(−x) = min(x, 0) − log1p(e^−|x|); never −∞ for finite x.</summary>
    public static T LogSigmoid<T>(T x) where T : IFloatingPointIeee754<T>
        => T.Min(x, T.Zero) - Log1p(T.Exp(-T.Abs(x)));

    /// <summary>σ(x) without overflow: 1/(1+e^−x) for x ≥ 0, eˣ/(1+eˣ) otherwise.</summary>
    public static T Sigmoid<T>(T x) where T : IFloatingPointIeee754<T>
    {
        if (x >= T.Zero) return T.One / (T.One + T.Exp(-x));
        T e = T.Exp(x);
        return e / (T.One + e);
    }

    /// <summary>x·log(y) with the convention 0·log(y) = 0 for every y (including 0), NaN propagating from y.</summary>
    public static T Xlogy<T>(T x, T y) where T : IFloatingPointIeee754<T>
    {
        if (T.IsNaN(y)) return y;
        if (x == T.Zero) return T.Zero;
        return x * T.Log(y);
    }

    /// <summary>
    /// A row's maximum m and e = e^{x − m} into <paramref name="e"/> (which may be x itself) on vectors, with Σe and
    /// its log: log Σ e^x = m + logSum. Terms under e^−700 (10⁻³⁰⁴ of the maximum's 1) are cut to that, where the double vector
    /// exponential leaves its fast path. False, with nothing written, when m is not finite (NaN or an infinity), for the
    /// caller's scalar rules (<see cref="ShiftedLogSumExp{T}(ReadOnlySpan{T}, out T)"/>).
    /// </summary>
    public static bool TryShiftedExp(ReadOnlySpan<double> x, Span<double> e, out double max, out double sum, out double logSum)
    {
        // The maximum by its index (the first NaN's, as Max returns NaN), read before e (perhaps x) is overwritten.
        int top = System.Numerics.Tensors.TensorPrimitives.IndexOfMax<double>(x);
        max = top < 0 ? double.NegativeInfinity : x[top];
        (sum, logSum) = (0, 0);
        if (!double.IsFinite(max)) return false;
        e = e[..x.Length];
        System.Numerics.Tensors.TensorPrimitives.Subtract<double>(x, max, e);
        System.Numerics.Tensors.TensorPrimitives.Max<double>(e, -Simd.DExp.Cut, e);
        System.Numerics.Tensors.TensorPrimitives.Exp<double>(e, e);
        // log Σe as log1p of the terms other than the maximum's 1 (as ShiftedLogSumExp): a confident row's log p keeps
        // its digits. The maximum's term is exactly 1.
        e[top] = 0;
        double others = System.Numerics.Tensors.TensorPrimitives.Sum<double>(e);
        e[top] = 1;
        (sum, logSum) = (1 + others, Log1p(others));
        return true;
    }

    /// <summary>
    /// log Σ exp(xᵢ) by shifting with the maximum, accumulated in double. Empty input gives −∞; any +∞ gives +∞;
    /// NaN propagates.
    /// </summary>
    public static T LogSumExp<T>(ReadOnlySpan<T> x) where T : IFloatingPointIeee754<T>
    {
        T logSum = ShiftedLogSumExp(x, out T max);
        return max + logSum;
    }

    /// <summary>
    /// The maximum m of x (returned in <paramref name="max"/>) and log Σ exp(xᵢ − m), accumulated in double, so that
    /// log softmax is (xᵢ − m) − logSum, as PyTorch computes it. Adding m back first (xᵢ − lse) would round lse to
    /// m's precision: in float32 at m = 100 that is 3.8e-6, which shifts every log-probability by up to that much and
    /// makes a confident row's loss and gradient wrong in their leading digit. Empty input gives m = −∞ and 0; an
    /// infinite m gives 0; NaN gives m = NaN and NaN.
    /// </summary>
    public static T ShiftedLogSumExp<T>(ReadOnlySpan<T> x, out T max) where T : IFloatingPointIeee754<T>
        => ShiftedLogSumExp(x, x.Length, 1, out max);

    /// <summary><see cref="ShiftedLogSumExp{T}(ReadOnlySpan{T}, out T)"/> of x[0], x[stride], … x[(count − 1)·stride].</summary>
    public static T ShiftedLogSumExp<T>(ReadOnlySpan<T> x, int count, int stride, out T max) where T : IFloatingPointIeee754<T>
    {
        max = T.NegativeInfinity;
        int top = -1;
        for (int i = 0; i < count; i++)
        {
            T v = x[i * stride];
            if (T.IsNaN(v))
            {
                max = v;
                return v;
            }
            if (v > max) (max, top) = (v, i);
        }
        if (T.IsInfinity(max)) return T.Zero;
        // Σ exp(xᵢ − m) = 1 + (the others): log1p of the others keeps the digits that 1 + s rounds away, so that a
        // confident row's log p = −log1p(Σ e^{xⱼ − m}) is exact (at x = (40, 0, 0) it is −8.5e-18, where log(1 + s)
        // gives 0, and at (−30, 30, 0) its third digit was wrong).
        double others = 0;
        for (int i = 0; i < count; i++)
        {
            if (i != top) others += double.CreateTruncating(T.Exp(x[i * stride] - max));
        }
        return T.CreateTruncating(Log1p(others));
    }

    /// <summary>
    /// Softmax cross-entropy of one row of logits z against class y: returns −log softmax(z)_y and, when
    /// <paramref name="slope"/> is not empty, writes slope_j = softmax(z)_j − [j = y] (length of z). Both come from
    /// log p = (z − max) − log1p(others) and p_y − 1 = expm1(log p_y), so that a confident row keeps its small loss and
    /// slope (8.5e-18 at z = (40, 0, 0), where lse − z_y and p_y − 1 give 0). <paramref name="slope"/> may be z itself.
    /// </summary>
    public static double SoftmaxCrossEntropy(ReadOnlySpan<double> z, int y, Span<double> slope)
    {
        double logSum = ShiftedLogSumExp(z, out double max), loss = -((z[y] - max) - logSum);   // before slope, which may be z
        for (int j = 0; j < slope.Length; j++)
        {
            double lp = (z[j] - max) - logSum;
            slope[j] = j == y ? Expm1(lp) : Math.Exp(lp);
        }
        return loss;
    }

    /// <summary>log softmax: destination[i] = (x[i] − max) − log Σ exp(x − max). Lengths must match.</summary>
    public static void LogSoftmax<T>(ReadOnlySpan<T> x, Span<T> destination) where T : IFloatingPointIeee754<T>
    {
        if (destination.Length != x.Length)
        {
            throw new ArgumentException($"destination has length {destination.Length}, input {x.Length}", nameof(destination));
        }
        T logSum = ShiftedLogSumExp(x, out T max);
        for (int i = 0; i < x.Length; i++) destination[i] = x[i] - max - logSum;
    }

    /// <summary>
    /// log softmax over the kept entries of a row (Optax's <c>where</c>): <paramref name="keep"/> empty keeps all,
    /// keep[i] = 0 leaves i out (log p = −∞ there). Shifted by the kept maximum, log p = (x − max) − log Σ exp(x − max)
    /// with the sum in double, as <see cref="LogSoftmax{T}"/>. False, with every log p = −∞, when nothing is kept or
    /// every kept x is −∞ (no softmax). A kept NaN makes every log p NaN (true).
    /// </summary>
    public static bool MaskedLogSoftmax<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> keep, Span<T> logp) where T : IFloatingPointIeee754<T>
    {
        bool all = keep.IsEmpty;
        T max = T.NegativeInfinity;
        int top = -1;
        for (int k = 0; k < x.Length; k++)
        {
            if (!all && keep[k] == T.Zero) continue;
            if (T.IsNaN(x[k]))
            {
                max = x[k];   // a NaN logit makes the row NaN, not "all −∞"
                break;
            }
            if (x[k] > max) (max, top) = (x[k], k);
        }
        if (T.IsNegativeInfinity(max))
        {
            logp.Fill(T.NegativeInfinity);
            return false;
        }
        // log1p of the terms other than the maximum's 1, as ShiftedLogSumExp: a confident row keeps its log p's digits.
        double others = 0;
        for (int k = 0; k < x.Length; k++) if ((all || keep[k] != T.Zero) && k != top) others += double.CreateTruncating(T.Exp(x[k] - max));
        T logSum = T.IsFinite(max) ? T.CreateTruncating(Log1p(others)) : T.NaN;   // +∞ − +∞: NaN, as the full sum gave
        for (int k = 0; k < x.Length; k++) logp[k] = all || keep[k] != T.Zero ? (x[k] - max) - logSum : T.NegativeInfinity;
        return true;
    }

    /// <summary>softmax with the maximum subtracted first (never NaN for large finite logits).</summary>
    public static void Softmax<T>(ReadOnlySpan<T> x, Span<T> destination) where T : IFloatingPointIeee754<T>
    {
        if (destination.Length != x.Length)
        {
            throw new ArgumentException($"destination has length {destination.Length}, input {x.Length}", nameof(destination));
        }
        T logSum = ShiftedLogSumExp(x, out T max);
        for (int i = 0; i < x.Length; i++) destination[i] = T.Exp(x[i] - max - logSum);
    }

    /// <summary>sign(x) with sign(0) = 0 (PyTorch's <c>sgn</c>), NaN for NaN.</summary>
    public static T Sign<T>(T x) where T : IFloatingPointIeee754<T>
        => x > T.Zero ? T.One : x < T.Zero ? -T.One : x - x;
}
