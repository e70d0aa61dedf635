using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using LossLab.Numerics.Simd;

namespace LossLab.Losses.Fused;

public static partial class FusedCrossEntropy
{
    private sealed unsafe partial class Job
    {
        /// <summary>
        /// Pass 3 for a long row out of place: e = exp(x − max) is computed again from the row, which pass 2 left in
        /// the L2 because it wrote nothing, and the gradient a·e/Σe − (ε/C)·w goes to memory once, with non-temporal
        /// stores: no read-for-ownership of the gradient's lines and no second pass over them. That trades one more
        /// exponential per logit for a third of the row's memory traffic. The exponential is pass 2's (below the maximum
        /// when the row's state says so), the same operations on the same floats as the cached path, so the results
        /// are bit for bit the same. The partial lines at the row's ends take ordinary stores; the caller adjusts g[y]
        /// afterwards, which the fence orders after the streamed lines.
        /// </summary>
        private static void StreamScaled<TV>(ReadOnlySpan<float> xs, Span<float> gs, ReadOnlySpan<float> w, in RowState<TV> s, float coef, float k, int ahead)
            where TV : struct, IVec<TV>
        {
            if (s.BelowMax) StreamScaled<TV, BelowMax<TV>>(xs, gs, w, coef, k, ahead, new BelowMax<TV> { Table = s.Table, TableHi = s.TableHi });
            else StreamScaled<TV, MinusMax<TV>>(xs, gs, w, coef, k, ahead, new MinusMax<TV> { Max = TV.Splat(s.Max) });
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
        private static void StreamScaled<TV, TE>(ReadOnlySpan<float> xs, Span<float> gs, ReadOnlySpan<float> w, float coef, float k, int ahead, TE exp)
            where TV : struct, IVec<TV> where TE : struct, IRowExp<TV>
        {
            int C = xs.Length, n = TV.Count;
            ref float x = ref Unsafe.AsRef(in xs[0]);
            ref float g = ref gs[0];
            ref float wr = ref w.IsEmpty ? ref Unsafe.NullRef<float>() : ref Unsafe.AsRef(in w[0]);
            bool weighted = !w.IsEmpty;
            TV cv = TV.Splat(coef), kv = TV.Splat(-k);
            // Elements before the first vector-aligned address of the gradient row.
            int head = Simd.FloatsToAlignment((float*)Unsafe.AsPointer(ref g), n);
            int i = head;
            if (ahead > 0 && Sse.IsSupported)
            {
                // The second half of the next row, one line per two vectors (pass 2 fetched the first half): reads
                // beside the streamed writes, as the copy floor does them, instead of all of them in pass 2.
                ref float rest = ref Unsafe.Add(ref x, ahead + (C - n) / 2 + 1);
                for (; i + n <= C; i += n)
                {
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref rest, i >> 1)));
                    TV.StoreNonTemporal(Gradient(ref x, ref wr, weighted, i, exp, cv, kv), ref g, i);
                }
            }
            for (; i + n <= C; i += n) TV.StoreNonTemporal(Gradient(ref x, ref wr, weighted, i, exp, cv, kv), ref g, i);
            // The partial lines at either end from a whole vector each, copied element by element so that no ordinary
            // store lands in a line just streamed (that would fetch the line back).
            Span<float> ends = stackalloc float[2 * 64];
            TV.Store(Gradient(ref x, ref wr, weighted, 0, exp, cv, kv), ref ends[0], 0);
            TV.Store(Gradient(ref x, ref wr, weighted, C - n, exp, cv, kv), ref ends[0], n);
            for (int j = 0; j < head; j++) gs[j] = ends[j];
            for (int j = i; j < C; j++) gs[j] = ends[n + j - (C - n)];
            Interlocked.MemoryBarrier();   // the streamed lines before anything the caller or another thread does next
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static TV Gradient<TV, TE>(ref float x, ref float w, bool weighted, int i, TE exp, TV cv, TV kv)
            where TV : struct, IVec<TV> where TE : struct, IRowExp<TV>
        {
            TV e = exp.Exp(TV.Load(ref x, i));
            return weighted ? TV.Fma(e, cv, kv * TV.Load(ref w, i)) : TV.Fma(e, cv, kv);
        }
    }
}
