using System.Runtime.CompilerServices;
using LossLab.Numerics.Simd;

namespace LossLab.Losses.Fused;

public static partial class FusedCrossEntropy
{
    /// <summary>
    /// Rows of fewer classes than this go <see cref="Job.ShortRows{TV}"/>, a vector of rows at a time. A row alone pays
    /// ~200 cycles of latency (max across lanes → exponentials → sum across lanes → log → division) that nothing
    /// overlaps when it is only a vector or two long. On the AVX2 host (4096 rows, one thread) the transposed path took
    /// 228 / 252 / 324 / 352 / 407 µs at 8 / 10 / 16 / 20 / 24 classes where a row at a time took 413 / 458 / 349 / 411 /
    /// 386: it wins below three vectors. On 512 bits it is kept to rows shorter than one vector, where it was measured.
    /// </summary>
    internal static int ShortRowsLimit<TV>() where TV : struct, IVec<TV> => TV.Count == 16 ? 16 : 3 * TV.Count;

    private sealed unsafe partial class Job
    {
        /// <summary>
        /// TV.Count rows of fewer than <see cref="ShortRowsLimit{TV}"/> classes at once, transposed so that lane j holds
        /// row r0 + j: the maximum, the exponentials, the sums and the gradient are lane-wise, with no reduction across
        /// lanes (which dominated such rows one at a time). Each row's value and coefficient use the double formulas of <see cref="Row{TV}"/>.
        /// Returns false, with nothing written, when a row of the group holds NaN or ±∞.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]   // optimized at once; never inlined into a caller, where the JIT's inlining budget would run out and leave the lane operations as calls
        private bool ShortRows<TV>(int r0, ReadOnlySpan<float> w, out double total) where TV : struct, IVec<TV>
        {
            int C = Classes, n = TV.Count;
            float* tp = stackalloc float[C * n];             // column c of the group at [c·n, c·n + n): x, then e, then g
            var t = new Span<float>(tp, C * n);   // C < ShortRowsLimit: at most 15·16 = 240 floats
            Span<float> lanes = stackalloc float[7 * 16];       // per row: y, max, Σe, x_y, Σ w·x, coefficient, d_y
            Span<float> yl = lanes[..n], ml = lanes.Slice(n, n), sl = lanes.Slice(2 * n, n), xyl = lanes.Slice(3 * n, n);
            Span<float> wxl = lanes.Slice(4 * n, n), cl = lanes.Slice(5 * n, n), dl = lanes.Slice(6 * n, n);
            float* x0 = X + (long)r0 * C;
            for (int j = 0; j < n; j++)
            {
                // Walk both sides by pointer (the span version measured the same; this states the stride once).
                float* src = x0 + j * C, dst = tp + j;
                for (int c = 0; c < C; c++, dst += n) *dst = src[c];
                yl[j] = T[r0 + j];
            }
            ref float tr = ref t[0];
            TV zero = TV.Splat(0), m = TV.Splat(float.NegativeInfinity), chk = zero;
            for (int c = 0; c < C; c++)
            {
                TV a = TV.Load(ref tr, c * n);
                m = TV.Max(m, a);
                chk |= a * zero;   // as in pass 1 of Row: NaN exactly when some x is NaN or ±∞
            }
            total = 0;
            if (float.IsNaN(TV.Sum(chk))) return false;
            // Pass 2 by columns: e = exp(x − max) over x, Σe, x_y and Σ w_c·x_c per row.
            TV yv = TV.Load(ref yl[0], 0), sum = zero, xy = zero, wx = zero;
            for (int c = 0; c < C; c++)
            {
                TV a = TV.Load(ref tr, c * n), e = VMath.ExpNonPositive(a - m);
                TV.Store(e, ref tr, c * n);
                sum += e;
                xy = TV.SelectEqual(yv, TV.Splat(c), a, xy);
                if (Eps != 0) wx = TV.Fma(TV.Splat(WeightOf(w, c)), a, wx);
            }
            TV.Store(m, ref ml[0], 0);
            TV.Store(sum, ref sl[0], 0);
            TV.Store(xy, ref xyl[0], 0);
            TV.Store(wx, ref wxl[0], 0);
            double eps = Eps, oneMinusEps = 1 - eps, epsOverC = eps / C;
            float k = (float)(Scale * epsOverC);
            for (int j = 0; j < n; j++)
            {
                int y = T[r0 + j];
                double loss = 0;
                cl[j] = dl[j] = 0;
                if (y != IgnoreIndex)
                {
                    float wy = WeightOf(w, y);
                    double lse = ml[j] + Math.Log(sl[j]);   // in double, as Row: the value stays within float rounding
                    loss = oneMinusEps * wy * (lse - xyl[j]) + epsOverC * (WeightSum * lse - wxl[j]) + Z * lse * lse;
                    cl[j] = (float)(Scale * (oneMinusEps * wy + epsOverC * WeightSum + 2 * Z * lse) / sl[j]);
                    dl[j] = (float)(Scale * oneMinusEps * wy);
                }
                if (RowLoss is not null) RowLoss[r0 + j] = (float)loss;
                total += loss;
            }
            if (G is null) return true;
            // Pass 3 by columns: g = coef·e − k·w_c, minus d_y in row y's lane; ignored rows have coef = d = k = 0 → +0.
            TV cv = TV.Load(ref cl[0], 0), dv = TV.Load(ref dl[0], 0);
            for (int j = 0; j < n; j++) cl[j] = T[r0 + j] == IgnoreIndex ? 0 : -k;
            TV kv = TV.Load(ref cl[0], 0);
            for (int c = 0; c < C; c++)
            {
                TV g = TV.Fma(TV.Load(ref tr, c * n), cv, w.IsEmpty ? kv : kv * TV.Splat(w[c]));
                TV.Store(g - TV.SelectEqual(yv, TV.Splat(c), dv, zero), ref tr, c * n);
            }
            float* g0 = G + (long)r0 * C;
            for (int j = 0; j < n; j++)
            {
                float* src = tp + j, dst = g0 + j * C;
                for (int c = 0; c < C; c++, src += n) dst[c] = *src;
            }
            return true;
        }
    }
}
