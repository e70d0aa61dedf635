using System.Numerics;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// A distance between two embeddings of one row, with its gradient: the building block of triplet losses.
/// Implementations must be thread-safe (they are called concurrently on separate rows).
/// </summary>
public interface IEmbeddingDistance
{
    /// <summary>d(x, y) for vectors of equal length, computed in double.</summary>
    double Distance(ReadOnlySpan<double> x, ReadOnlySpan<double> y);

    /// <summary>Adds g·∂d/∂x to <paramref name="gx"/> and g·∂d/∂y to <paramref name="gy"/>.</summary>
    void Backward(ReadOnlySpan<double> x, ReadOnlySpan<double> y, double g, Span<double> gx, Span<double> gy);
}

/// <summary>
/// PyTorch's <c>pairwise_distance(x, y, p, eps)</c> = ‖x − y + eps‖_p over the last dim.
/// ∂d/∂x_i = sgn(u_i)|u_i|^(p−1) / d^(p−1) with u = x − y + eps (0 when d = 0, as PyTorch's norm backward).
/// </summary>
public sealed class LpDistance : IEmbeddingDistance
{
    public LpDistance(double p = 2, double eps = 1e-6)
    {
        if (!(p > 0) || double.IsInfinity(p)) throw new LossArgumentException(LossErrorCode.InvalidValue, $"pairwise distance: p must be a positive finite number, got {p}");
        P = p;
        Eps = eps;
    }

    public double P { get; }

    public double Eps { get; }

    public double Distance(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        double d;
        if (P == 1)
        {
            d = 0;
            for (int i = 0; i < x.Length; i++) d += Math.Abs(x[i] - y[i] + Eps);
        }
        else if (P == 2)
        {
            double s = 0;
            for (int i = 0; i < x.Length; i++)
            {
                double u = x[i] - y[i] + Eps;
                s += u * u;
            }
            // √Σu² as PyTorch; where Σu² overflows or underflows (|u| past 1e154 or below 1e-140) while the distance
            // itself is a double, the root of Σ(u/m)² times m = max |u| instead.
            d = double.IsFinite(s) && s >= 1e-280 ? Math.Sqrt(s) : ScaledNorm(x, y, Eps, 2);
        }
        else d = ScaledNorm(x, y, Eps, P);
        return d;
    }

    /// <summary>
    /// (Σ|u_i|^p)^(1/p), u = x − y + eps, as e^{lse(p·log|u_i|)/p}: no power of an element overflows or underflows,
    /// so a large p gives max |u| and a small one its true (perhaps infinite) size.
    /// </summary>
    internal static double ScaledNorm(ReadOnlySpan<double> x, ReadOnlySpan<double> y, double eps, double p)
    {
        double top = double.NegativeInfinity;
        for (int i = 0; i < x.Length; i++) top = Math.Max(top, Math.Abs(x[i] - y[i] + eps));
        if (top == 0 || double.IsNegativeInfinity(top)) return 0;
        if (!double.IsFinite(top)) return top;   // ∞ or NaN inputs (allow_nonfinite): PyTorch's ∞ or NaN
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double r = Math.Abs(x[i] - y[i] + eps) / top;
            if (r > 0) sum += Math.Exp(p * Math.Log(r));
        }
        double d = top * Math.Exp(Math.Log(sum) / p);
        // Finite points whose p-"norm" is past a double: only p < 1 gets there (it can reach D^(1/p)·max|u|).
        return double.IsInfinity(d)
            ? throw LossArgumentException.Value($"pairwise distance: ‖x − y + eps‖_p with p = {p} overflows a double (it can reach D^(1/p)·max|x − y|); take a larger p")
            : d;
    }

    public void Backward(ReadOnlySpan<double> x, ReadOnlySpan<double> y, double g, Span<double> gx, Span<double> gy)
    {
        double d = Distance(x, y);
        if (d == 0 || g == 0) return;
        for (int i = 0; i < x.Length; i++)
        {
            double u = x[i] - y[i] + Eps;
            // sgn(u)·(|u|/d)^(p−1): |u| ≤ d for p ≥ 1, so no power overflows (|u|^(p−1)/d^(p−1) did at large p).
            double du = P == 1 ? Stable.Sign(u) : P == 2 ? u / d : Stable.Sign(u) * Math.Pow(Math.Abs(u) / d, P - 1);
            gx[i] += g * du;
            gy[i] -= g * du;
        }
    }
}

/// <summary>
/// 1 − cos(x, y) with PyTorch's <c>cosine_similarity</c>: cos = x·y / (max(‖x‖, eps)·max(‖y‖, eps)), eps = 1e-8.
/// ∂cos/∂x = y/(‖x‖'‖y‖') − cos·x/‖x‖² where ‖x‖ > eps, and y/(‖x‖'‖y‖') where the clamp holds.
/// </summary>
public sealed class CosineDistance : IEmbeddingDistance
{
    private const double Eps = 1e-8;

    public double Distance(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        var (dot, nx, ny) = Dots(x, y);
        return 1 - dot / (Math.Max(nx, Eps) * Math.Max(ny, Eps));
    }

    public void Backward(ReadOnlySpan<double> x, ReadOnlySpan<double> y, double g, Span<double> gx, Span<double> gy)
    {
        var (dot, nx, ny) = Dots(x, y);
        double cx = Math.Max(nx, Eps), cy = Math.Max(ny, Eps), cos = dot / (cx * cy);
        for (int i = 0; i < x.Length; i++)
        {
            double dx = y[i] / (cx * cy) - (nx > Eps ? cos * x[i] / (nx * nx) : 0);
            double dy = x[i] / (cx * cy) - (ny > Eps ? cos * y[i] / (ny * ny) : 0);
            gx[i] -= g * dx;
            gy[i] -= g * dy;
        }
    }

    private static (double Dot, double Nx, double Ny) Dots(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        double dot = 0, xx = 0, yy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            dot += x[i] * y[i];
            xx += x[i] * x[i];
            yy += y[i] * y[i];
        }
        return (dot, Math.Sqrt(xx), Math.Sqrt(yy));
    }
}

/// <summary>‖x − y‖², the squared Euclidean distance; ∂/∂x = 2(x − y).</summary>
public sealed class SquaredEuclideanDistance : IEmbeddingDistance
{
    public double Distance(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += (x[i] - y[i]) * (x[i] - y[i]);
        return s;
    }

    public void Backward(ReadOnlySpan<double> x, ReadOnlySpan<double> y, double g, Span<double> gx, Span<double> gy)
    {
        for (int i = 0; i < x.Length; i++)
        {
            double d = 2 * g * (x[i] - y[i]);
            gx[i] += d;
            gy[i] -= d;
        }
    }
}

/// <summary>A user-supplied distance from two delegates (value, and gradient into the two spans).</summary>
public sealed class DelegateDistance(
    Func<double[], double[], double> distance,
    Action<double[], double[], double, double[], double[]> backward) : IEmbeddingDistance
{
    public double Distance(ReadOnlySpan<double> x, ReadOnlySpan<double> y) => distance(x.ToArray(), y.ToArray());

    public void Backward(ReadOnlySpan<double> x, ReadOnlySpan<double> y, double g, Span<double> gx, Span<double> gy)
    {
        double[] ax = new double[x.Length], ay = new double[y.Length];
        backward(x.ToArray(), y.ToArray(), g, ax, ay);
        for (int i = 0; i < x.Length; i++)
        {
            gx[i] += ax[i];
            gy[i] += ay[i];
        }
    }
}
