using System.Numerics;
using LossLab.Numerics.Simd;

namespace LossLab.Losses.Core;

/// <summary>
/// The elementwise drivers of the catalog losses (<see cref="ElementwiseLoss{TKernel}"/> and Keras's mean over the last
/// axis) split between the cores for large tensors. Every element (or row) is computed by the same code wherever it
/// runs and the reduction comes after, over the whole array, so the results do not depend on the split.
/// </summary>
internal static class ElementwiseParts
{
    /// <summary>Elements (or, for row means, elements in all rows) from which the work is split between the cores.</summary>
    public const int Threshold = 1 << 15;

    /// <summary><see cref="Elementwise.Forward{T, TKernel}"/> over the arrays, in parts.</summary>
    public static void Forward<T, TKernel>(TKernel kernel, T[] x, T[] y, T[]? weight, T[]? aux, T[] loss)
        where T : struct, IFloatingPointIeee754<T>
        where TKernel : struct, IElementwiseKernel
        => Run(Job<T, TKernel>.Mode.Forward, kernel, x, y, weight, aux, loss, null, null, default, x.Length, 1);

    /// <summary><see cref="Elementwise.Backward{T, TKernel}"/> over the arrays, in parts (<paramref name="gradY"/> may be empty).</summary>
    public static void Backward<T, TKernel>(TKernel kernel, T[] x, T[] y, T[]? weight, T[]? aux, T upstream, T[] gradX, T[] gradY)
        where T : struct, IFloatingPointIeee754<T>
        where TKernel : struct, IElementwiseKernel
        => Run(Job<T, TKernel>.Mode.Backward, kernel, x, y, weight, aux, gradX, gradY, null, upstream, x.Length, 1);

    /// <summary><see cref="Elementwise.RowMeans{T, TKernel}"/> over rows of <paramref name="last"/> elements, in parts of rows.</summary>
    public static void RowMeans<T, TKernel>(TKernel kernel, T[] x, T[] y, int last, T[] means)
        where T : struct, IFloatingPointIeee754<T>
        where TKernel : struct, IElementwiseKernel
        => Run(Job<T, TKernel>.Mode.RowMeans, kernel, x, y, null, null, means, null, null, default, means.Length, last);

    /// <summary><see cref="Elementwise.RowMeansBackward{T, TKernel}"/>, in parts of rows.</summary>
    public static void RowMeansBackward<T, TKernel>(TKernel kernel, T[] x, T[] y, int last, T[] upstream, T[] gradX, T[] gradY)
        where T : struct, IFloatingPointIeee754<T>
        where TKernel : struct, IElementwiseKernel
        => Run(Job<T, TKernel>.Mode.RowMeansBackward, kernel, x, y, null, null, gradX, gradY, upstream, default, upstream.Length, last);

    private static void Run<T, TKernel>(Job<T, TKernel>.Mode mode, TKernel kernel, T[] x, T[] y, T[]? weight, T[]? aux, T[] out1, T[]? out2, T[]? rowsIn,
        T upstream, int units, int perUnit)
        where T : struct, IFloatingPointIeee754<T>
        where TKernel : struct, IElementwiseKernel
    {
        int parts = (long)units * perUnit >= Threshold ? Math.Min(Environment.ProcessorCount, Math.Max(1, units)) : 1;
        var job = Job<T, TKernel>.ForThisThread;
        (job.Work, job.Kernel, job.X, job.Y, job.Weight, job.Aux, job.Out1, job.Out2, job.RowsIn, job.Upstream, job.Units, job.PerUnit) =
            (mode, kernel, x, y, weight, aux, out1, out2, rowsIn, upstream, units, perUnit);
        try
        {
            job.Run(parts);
        }
        finally
        {
            (job.X, job.Y, job.Weight, job.Aux, job.Out1, job.Out2, job.RowsIn) = (null!, null!, null, null, null!, null, null);   // no references kept past the call
        }
    }

    private sealed class Job<T, TKernel> : RangeJob<Job<T, TKernel>>
        where T : struct, IFloatingPointIeee754<T>
        where TKernel : struct, IElementwiseKernel
    {
        public enum Mode { Forward, Backward, RowMeans, RowMeansBackward }

        public Mode Work;
        public TKernel Kernel;
        public T[] X = null!, Y = null!, Out1 = null!;
        public T[]? Weight, Aux, Out2, RowsIn;
        public T Upstream;
        public int Units, PerUnit;

        protected override double RunPart(int part)
        {
            var (from, to) = PartRange(Units, part);
            int e0 = from * PerUnit, count = (to - from) * PerUnit;
            ReadOnlySpan<T> x = X.AsSpan(e0, count), y = Y.AsSpan(e0, count);
            ReadOnlySpan<T> w = Weight is null ? default : Weight.AsSpan(e0, count), a = Aux is null ? default : Aux.AsSpan(e0, count);
            switch (Work)
            {
                case Mode.Forward:
                    Elementwise.Forward(Kernel, x, y, w, a, Out1.AsSpan(e0, count));
                    break;
                case Mode.Backward:
                    Elementwise.Backward(Kernel, x, y, w, a, Upstream, Out1.AsSpan(e0, count), Out2 is { Length: > 0 } gy ? gy.AsSpan(e0, count) : default);
                    break;
                case Mode.RowMeans:
                    Elementwise.RowMeans(Kernel, x, y, PerUnit, Out1.AsSpan(from, to - from));
                    break;
                default:
                    Elementwise.RowMeansBackward(Kernel, x, y, PerUnit, RowsIn!.AsSpan(from, to - from), Out1.AsSpan(e0, count), Out2!.AsSpan(e0, count));
                    break;
            }
            return 0;
        }
    }
}
