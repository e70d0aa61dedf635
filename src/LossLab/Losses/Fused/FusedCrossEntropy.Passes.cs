using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using LossLab.Numerics.Simd;

namespace LossLab.Losses.Fused;

/// <summary>The first two passes over a row, each generic over what it computes so that the JIT writes one loop per case.</summary>
public static partial class FusedCrossEntropy
{
    private sealed unsafe partial class Job
    {
        /// <summary>
        /// Pass 1: the row's maximum (returned), its minimum when <typeparamref name="TMin"/> says so (else +∞), and the sum of
        /// every x·0: ±0 for finite x, NaN exactly when some x is NaN or ±∞ (OR-ed into a register: its one-cycle latency
        /// keeps the check off the loop's critical path). Rows of at least one vector end with one more vector that overlaps
        /// the last full one (max, min and the check are idempotent); shorter rows go element by element.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float Extremes<TV, TMin>(ReadOnlySpan<float> xs, out float min, out float check) where TV : struct, IVec<TV> where TMin : struct, IFlag
        {
            int C = xs.Length, n = TV.Count, full = C - C % n, i = 0;
            ref float x = ref Unsafe.AsRef(in xs[0]);
            TV m0 = TV.Splat(float.NegativeInfinity), m1 = m0, zero = TV.Splat(0), chk = zero;
            TV n0 = TV.Splat(float.PositiveInfinity), n1 = n0;
            for (; i + 2 * n <= full; i += 2 * n)
            {
                TV a = TV.Load(ref x, i), b = TV.Load(ref x, i + n);
                m0 = TV.Max(m0, a);
                m1 = TV.Max(m1, b);
                if (TMin.On)
                {
                    n0 = TV.Min(n0, a);
                    n1 = TV.Min(n1, b);
                }
                chk |= (a * zero) | (b * zero);
            }
            for (; i < full; i += n)
            {
                TV a = TV.Load(ref x, i);
                m0 = TV.Max(m0, a);
                if (TMin.On) n0 = TV.Min(n0, a);
                chk |= a * zero;
            }
            if (C % n > 0 && C >= n)
            {
                TV a = TV.Load(ref x, C - n);
                m0 = TV.Max(m0, a);
                if (TMin.On) n0 = TV.Min(n0, a);
                chk |= a * zero;
            }
            float max = TV.MaxAcross(TV.Max(m0, m1));
            min = TMin.On ? -TV.MaxAcross(-TV.Min(n0, n1)) : float.PositiveInfinity;
            check = TV.Sum(chk);
            if (C < n)
            {
                for (i = 0; i < C; i++)
                {
                    max = MathF.Max(max, xs[i]);
                    check += xs[i] - xs[i];
                }
            }
            return max;
        }

        /// <summary>Pass 2 over the full vectors of a row: e = exp(x − max) (stored when <paramref name="store"/>), Σe.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe double Exponentials<TV, TE>(ref float x, ref float g, int full, int C, bool store, TE exp)
            where TV : struct, IVec<TV> where TE : struct, IRowExp<TV>
        {
            int n = TV.Count, i = 0;
            double sum = 0;
            while (i < full)
            {
                int end = Math.Min(full, i + 1024);
                TV s0 = TV.Splat(0), s1 = s0;
                for (; i + 2 * n <= end; i += 2 * n)
                {
                    // Pull the next row toward L1 while the exponentials keep the core busy (prefetches never fault,
                    // so running past the last row is harmless); pass 1 of the next row then hits the cache.
                    if (Sse.IsSupported)
                    {
                        // One prefetch per 64-byte line: an iteration covers two lines on 512 bits, one below.
                        Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref x, C + i)));
                        if (n == 16) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref x, C + i + 16)));
                    }
                    TV e0 = exp.Exp(TV.Load(ref x, i)), e1 = exp.Exp(TV.Load(ref x, i + n));
                    if (store)
                    {
                        TV.Store(e0, ref g, i);
                        TV.Store(e1, ref g, i + n);
                    }
                    s0 += e0;
                    s1 += e1;
                }
                for (; i < end; i += n)
                {
                    TV e0 = exp.Exp(TV.Load(ref x, i));
                    if (store) TV.Store(e0, ref g, i);
                    s0 += e0;
                }
                sum += TV.Sum(s0 + s1);
            }
            return sum;
        }
    }

    /// <summary>A compile-time switch for a generic kernel (a struct type argument, so that the JIT drops the other branch).</summary>
    private interface IFlag
    {
        static abstract bool On { get; }
    }

    private struct Tracked : IFlag
    {
        public static bool On => true;
    }

    private struct Untracked : IFlag
    {
        public static bool On => false;
    }

    /// <summary>How pass 2 takes e^(x − max) of a vector of logits (a struct, so that the JIT specializes the loop for each).</summary>
    private interface IRowExp<TV> where TV : struct, IVec<TV>
    {
        TV Exp(TV x);
    }

    /// <summary>exp(x − max), terms below e^−87.33 raised to about 1.2e−38 (<see cref="VMath.ExpNonPositive{TV}"/>).</summary>
    private struct MinusMax<TV> : IRowExp<TV> where TV : struct, IVec<TV>
    {
        public TV Max;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public readonly TV Exp(TV x) => VMath.ExpNonPositive(x - Max);
    }

    /// <summary>e^(x − max) with e^−max in a per-row table (<see cref="VMath.ExpBelowMax{TV}"/>): no subtraction, no clamp.</summary>
    private struct BelowMax<TV> : IRowExp<TV> where TV : struct, IVec<TV>
    {
        public TV Table;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public readonly TV Exp(TV x) => VMath.ExpBelowMax(x, Table);
    }
}
