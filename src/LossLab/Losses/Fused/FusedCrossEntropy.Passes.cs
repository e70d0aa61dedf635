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
        /// Pass 2 of a long row on 256-bit lanes: by <see cref="VMath.ExpBelowMax{TV}"/> when the row allows it, with the
        /// deferred pass 3 of the band's previous row alongside when there is one (then finished here). Out of line: four
        /// specializations of the loop would outgrow the JIT's inlining room in <c>Row</c>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
        private static double LongRowExponentials<TV>(ref float x, ref float g, int full, int C, int ahead, bool store, bool belowMax, TV table, TV mx, ref Deferred deferred)
            where TV : struct, IVec<TV>
        {
            if (deferred.G is null)
            {
                return belowMax
                    ? Exponentials<TV, BelowMax<TV>, NoPass3<TV>>(ref x, ref g, full, ahead, store, new BelowMax<TV> { Table = table }, default)
                    : Exponentials<TV, MinusMax<TV>, NoPass3<TV>>(ref x, ref g, full, ahead, store, new MinusMax<TV> { Max = mx }, default);
            }
            // The deferred row's overlapping tail vector from its e, before the loop transforms the lanes it shares.
            int n = TV.Count;
            bool tail = C % n > 0;
            ref float gd = ref Unsafe.AsRef<float>(deferred.G);
            var pass3 = new Pass3<TV> { G = deferred.G, Cv = TV.Splat(deferred.Coef), Kv = TV.Splat(-deferred.K) };
            TV tailVector = tail ? TV.Fma(TV.Load(ref gd, C - n), pass3.Cv, pass3.Kv) : default;
            double sum = belowMax
                ? Exponentials<TV, BelowMax<TV>, Pass3<TV>>(ref x, ref g, full, ahead, store, new BelowMax<TV> { Table = table }, pass3)
                : Exponentials<TV, MinusMax<TV>, Pass3<TV>>(ref x, ref g, full, ahead, store, new MinusMax<TV> { Max = mx }, pass3);
            if (tail) TV.Store(tailVector, ref gd, C - n);
            Finish<TV>(ref deferred, C, applied: true);
            return sum;
        }

        /// <summary>
        /// Completes a deferred pass 3: the full vectors unless <paramref name="applied"/> (they rode along with a pass 2),
        /// the tail, and the target entry's −(1 − ε)·w_y·scale.
        /// </summary>
        private static void Finish<TV>(ref Deferred d, int C, bool applied) where TV : struct, IVec<TV>
        {
            if (!applied) ScaleRow<TV>(new Span<float>(d.G, C), d.Coef, d.K);
            d.G[d.Y] -= d.Adjust;
            d = default;
        }

        /// <summary>
        /// Pass 3 without class weights, in place over e: g = e·coef − k. The overlapping tail vector is computed from e
        /// before the main loop transforms the lanes it shares; a row shorter than one vector goes element by element.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ScaleRow<TV>(Span<float> gs, float coef, float k) where TV : struct, IVec<TV>
        {
            int C = gs.Length, n = TV.Count, full = C - C % n, i = 0;
            ref float g = ref gs[0];
            TV cv = TV.Splat(coef), kv = TV.Splat(-k);
            bool overlapTail = C % n > 0 && C >= n;
            TV tail = overlapTail ? TV.Fma(TV.Load(ref g, C - n), cv, kv) : default;
            for (; i < full; i += n) TV.Store(TV.Fma(TV.Load(ref g, i), cv, kv), ref g, i);
            if (overlapTail) TV.Store(tail, ref g, C - n);
            else for (; i < C; i++) gs[i] = MathF.FusedMultiplyAdd(gs[i], coef, -k);
        }

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
        private static unsafe double Exponentials<TV, TE, TP>(ref float x, ref float g, int full, int ahead, bool store, TE exp, TP pass3, bool halfAhead = false)
            where TV : struct, IVec<TV> where TE : struct, IRowExp<TV> where TP : struct, IPass3<TV>
        {
            int n = TV.Count, i = 0;
            double sum = 0;
            // Out of place, the next row's gradient lines too: pass 2's stores then find them in the cache instead of
            // each waiting for its line from memory (the read-for-ownership), which filled the store queue. On the
            // AVX-512 host 5–25 % at 500–4000 classes on 1 thread, and what made two rows at a time pay out of place.
            bool pfg = store && ahead > 0 && !Unsafe.AreSame(ref x, ref g);
            while (i < full)
            {
                int end = Math.Min(full, i + 1024);
                TV s0 = TV.Splat(0), s1 = s0;
                for (; i + 2 * n <= end; i += 2 * n)
                {
                    // Pull the next row toward L1 while the exponentials keep the core busy; pass 1 of the next row then
                    // hits the cache. The band's last row (ahead = 0) prefetches its own lines instead: a prefetch never
                    // faults, but past the end of the logits it may find no page, and under nested paging each such
                    // prefetch walked the page tables in vain (~50 ns): 4×32000 in place took 2.5 ns per logit, not 1.
                    if (Sse.IsSupported)
                    {
                        if (halfAhead)
                        {
                            // A streamed row: the first half of the next row here, one line per iteration; the streaming
                            // pass 3 fetches the other half while it writes (see StreamScaled).
                            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref x, ahead + (i >> 1))));
                        }
                        else
                        {
                            // One prefetch per 64-byte line: an iteration covers two lines on 512 bits, one below.
                            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref x, ahead + i)));
                            if (n == 16) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref x, ahead + i + 16)));
                            if (pfg)
                            {
                                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref g, ahead + i)));
                                if (n == 16) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref g, ahead + i + 16)));
                            }
                        }
                    }
                    TV e0 = exp.Exp(TV.Load(ref x, i)), e1 = exp.Exp(TV.Load(ref x, i + n));
                    if (store)
                    {
                        TV.Store(e0, ref g, i);
                        TV.Store(e1, ref g, i + n);
                    }
                    s0 += e0;
                    s1 += e1;
                    pass3.Apply(i);
                    pass3.Apply(i + n);
                }
                for (; i < end; i += n)
                {
                    TV e0 = exp.Exp(TV.Load(ref x, i));
                    if (store) TV.Store(e0, ref g, i);
                    s0 += e0;
                    pass3.Apply(i);
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

    /// <summary>
    /// A row's pass 3 put off until the next row's pass 2, which does it along the way (on the AVX2 host pass 2 is bound by
    /// the exponential's latency, and the load, multiply-add and store of pass 3 fit in beside it): G's full vectors
    /// become g·Coef − K, then g[Y] −= Adjust.
    /// </summary>
    private unsafe struct Deferred
    {
        public float* G;
        public float Coef, K, Adjust;
        public int Y;
    }

    /// <summary>What pass 2 does beside each vector of exponentials.</summary>
    private interface IPass3<TV> where TV : struct, IVec<TV>
    {
        void Apply(int i);
    }

    private struct NoPass3<TV> : IPass3<TV> where TV : struct, IVec<TV>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public readonly void Apply(int i) { }
    }

    private unsafe struct Pass3<TV> : IPass3<TV> where TV : struct, IVec<TV>
    {
        public float* G;
        public TV Cv, Kv;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Apply(int i)
        {
            ref float g = ref Unsafe.AsRef<float>(G);
            TV.Store(TV.Fma(TV.Load(ref g, i), Cv, Kv), ref g, i);
        }
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
        public TV Table, TableHi;   // TableHi: the second half of the 512-bit lanes' 32 entries
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public readonly TV Exp(TV x) => VMath.ExpBelowMax(x, Table, TableHi);
    }
}
