using System.Buffers;
using System.Runtime.CompilerServices;
using LossLab.Numerics.Simd;

namespace LossLab.Losses.Probabilistic;

/// <summary>
/// The kernel sums of <see cref="KernelMmdLoss"/> a point at a time: one point u against a cloud v held by coordinate,
/// each row on double lanes and the rows split between the cores.
/// </summary>
public sealed partial class KernelMmdLoss
{
    /// <summary>Below this many kernel evaluations in one side a call stays on the calling thread.</summary>
    private const long ParallelPairs = 1 << 14;

    /// <summary>
    /// The kernel's constants: the gaussian's e^{−h·|x − y|²} with h = 1/(2σ²) and slope −g·k with g = 1/σ²; the
    /// laplacian's e^{−r·|x − y|} with r = 1/σ and slope −r·k/|x − y|. Kernel values under e^−700 ≈ 10⁻³⁰⁴ count as 0
    /// (<see cref="DExp"/>): such a term cannot move a sum that also holds k(x_i, x_i) = 1 by a representable amount.
    /// </summary>
    internal readonly struct PairKernel(MmdKernel kernel, double blur)
    {
        public readonly MmdKernel Kernel = kernel;
        public readonly double G = 1 / (blur * blur), H = 0.5 / (blur * blur), R = 1 / blur;

        /// <summary>k and κ = (dk/d|x − y|)/|x − y| from the squared distance (κ = 0 where the points coincide, but for the gaussian's −g).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (double Value, double Slope) Scalar(double sq)
        {
            switch (Kernel)
            {
                case MmdKernel.Gaussian:
                {
                    double k = DExp.Negative(H * sq);
                    return (k, -G * k);
                }
                case MmdKernel.Laplacian:
                {
                    double dist = Math.Sqrt(sq), k = DExp.Negative(R * dist);
                    return (k, dist > 0 ? -R * k / dist : 0);
                }
                default:
                {
                    double dist = Math.Sqrt(sq);
                    return (-dist, dist > 0 ? -1 / dist : 0);
                }
            }
        }

        /// <summary>The same on lanes, the same operations in the same order (the exponential within 3 ulp of Math.Exp).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Lanes<TV>(TV sq, out TV slope) where TV : struct, IDVec<TV>
        {
            TV zero = TV.Splat(0);
            if (Kernel == MmdKernel.Gaussian)
            {
                TV k = DExp.Negative(TV.Splat(H) * sq);
                slope = TV.Splat(-G) * k;
                return k;
            }
            TV dist = TV.Sqrt(sq);
            TV positive = TV.LessThan(zero, dist);
            if (Kernel == MmdKernel.Laplacian)
            {
                TV k = DExp.Negative(TV.Splat(R) * dist);
                slope = TV.Select(positive, TV.Splat(-R) * k / dist, zero);
                return k;
            }
            slope = TV.Select(positive, TV.Splat(-1) / dist, zero);
            return -dist;
        }
    }

    /// <summary>
    /// One point u (D) against the cloud v held by coordinate (vt: D rows of M = w.Length): returns Σ_j w_j k(u, v_j)
    /// and, when <paramref name="grad"/> is not empty, sets grad_k = Σ_j w_j κ_j (u_k − v_jk) (a term with w_j κ_j = 0
    /// is 0 even where u_k − v_jk is not finite), using <paramref name="slopes"/> (at least M) for the w_j κ_j. The
    /// scalar loop is the specification; the lanes are tested against it at every length 0..300.
    /// </summary>
    internal static double Row(PairKernel shape, ReadOnlySpan<double> u, ReadOnlySpan<double> vt, ReadOnlySpan<double> w, Span<double> grad, Span<double> slopes,
        SimdWidth width = (SimdWidth)(-1))
    {
        if ((int)width < 0) width = Simd.Best;
        return width switch
        {
            SimdWidth.V512 => RowVector<D512>(shape, u, vt, w, grad, slopes),
            SimdWidth.V256 => RowVector<D256>(shape, u, vt, w, grad, slopes),
            SimdWidth.V128 => RowVector<D128>(shape, u, vt, w, grad, slopes),
            _ => RowScalar(shape, u, vt, w, Cleared(grad), slopes, 0, 0),
        };

        static Span<double> Cleared(Span<double> grad)
        {
            grad.Clear();
            return grad;
        }
    }

    /// <summary>Columns [from, M) added to <paramref name="sum"/>, and to grad, which holds the pulls of the columns before them.</summary>
    private static double RowScalar(PairKernel shape, ReadOnlySpan<double> u, ReadOnlySpan<double> vt, ReadOnlySpan<double> w, Span<double> grad, Span<double> slopes,
        int from, double sum)
    {
        int m = w.Length, d = u.Length;
        for (int j = from; j < m; j++)
        {
            double sq = 0;
            for (int k = 0; k < d; k++)
            {
                double diff = u[k] - vt[k * m + j];
                sq += diff * diff;
            }
            var (value, slope) = shape.Scalar(sq);
            sum += w[j] * value;
            if (!grad.IsEmpty) slopes[j] = w[j] * slope;
        }
        for (int k = 0; k < grad.Length; k++)
        {
            double pull = grad[k];
            for (int j = from; j < m; j++)
            {
                if (slopes[j] != 0) pull += slopes[j] * (u[k] - vt[k * m + j]);
            }
            grad[k] = pull;
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double RowVector<TV>(PairKernel shape, ReadOnlySpan<double> u, ReadOnlySpan<double> vt, ReadOnlySpan<double> w, Span<double> grad, Span<double> slopes)
        where TV : struct, IDVec<TV>
    {
        int m = w.Length, d = u.Length, full = m - m % TV.Count;
        TV zero = TV.Splat(0), sum = zero;
        for (int j = 0; j < full; j += TV.Count)
        {
            TV sq = zero;
            for (int k = 0; k < d; k++)
            {
                TV diff = TV.Splat(u[k]) - TV.Load(vt, k * m + j);
                sq += diff * diff;
            }
            TV wj = TV.Load(w, j);
            sum += wj * shape.Lanes(sq, out TV slope);
            if (!grad.IsEmpty) TV.Store(wj * slope, slopes, j);
        }
        // The vector columns' pulls per coordinate, then the tail's columns by the specification.
        for (int k = 0; k < grad.Length; k++)
        {
            TV uk = TV.Splat(u[k]), pull = zero;
            ReadOnlySpan<double> row = vt.Slice(k * m, m);
            for (int j = 0; j < full; j += TV.Count)
            {
                TV s = TV.Load(slopes, j);
                pull += TV.Select(TV.Equal(s, zero), zero, s * (uk - TV.Load(row, j)));
            }
            grad[k] = TV.Sum(pull);
        }
        return RowScalar(shape, u, vt, w, grad, slopes, full, TV.Sum(sum));
    }

    /// <summary>
    /// One side of the sums over the rows of u (rows, D) against v held by coordinate (vt, D × M) with weights w (M):
    /// sums_i = Σ_j w_j k(u_i, v_j) and, when <paramref name="grad"/> is given, grad_i += coef·wu_i·Σ_j w_j κ_ij (u_i − v_j).
    /// Each row's arithmetic is the same wherever it runs, so the result does not depend on the split between the cores.
    /// </summary>
    private void Side(double[] u, int rows, int d, double[] vt, double[] w, double[] sums, double[]? wu, double coef, double[]? grad)
    {
        var job = SideJob.ForThisThread;
        (job.Shape, job.U, job.Rows, job.D, job.Vt, job.W, job.Sums, job.Wu, job.Coef, job.Grad) = (new PairKernel(Kernel, Blur), u, rows, d, vt, w, sums, wu, coef, grad);
        job.Run((long)rows * w.Length >= ParallelPairs ? Math.Min(Environment.ProcessorCount, rows) : 1);
        (job.U, job.Vt, job.W, job.Sums, job.Wu, job.Grad) = (null!, null!, null!, null!, null, null);   // no references kept past the call
    }

    /// <summary>A band of one side's rows, with its own slopes and gradient buffers.</summary>
    private sealed class SideJob : RangeJob<SideJob>
    {
        public PairKernel Shape;
        public double[] U = null!, Vt = null!, W = null!, Sums = null!;
        public double[]? Wu, Grad;
        public int Rows, D;
        public double Coef;

        protected override double RunPart(int part)
        {
            var (from, to) = PartRange(Rows, part);
            int m = W.Length;
            double[] slopes = ArrayPool<double>.Shared.Rent(Grad is null ? 0 : m), pull = ArrayPool<double>.Shared.Rent(Grad is null ? 0 : D);
            Span<double> g = Grad is null ? default : pull.AsSpan(0, D);
            for (int i = from; i < to; i++)
            {
                Sums[i] = Row(Shape, U.AsSpan(i * D, D), Vt, W, g, slopes);
                if (Grad is null) continue;
                double scale = Coef * Wu![i];
                for (int k = 0; k < D; k++) Grad[i * D + k] += scale * g[k];
            }
            ArrayPool<double>.Shared.Return(slopes);
            ArrayPool<double>.Shared.Return(pull);
            return 0;
        }
    }

    /// <summary>The points (count, D) by coordinate (D, count).</summary>
    private static double[] ByCoordinate(double[] points, int count, int d)
    {
        var t = new double[points.Length];
        for (int i = 0; i < count; i++)
            for (int k = 0; k < d; k++) t[k * count + i] = points[i * d + k];
        return t;
    }
}
