using System.Runtime.CompilerServices;
using LossLab.Numerics.Simd;

namespace LossLab.Losses.Fused;

/// <summary>
/// One row in three phases: <c>Begin</c> (pass 1 and what must be read before anything is written), <c>Middle</c> (pass 2:
/// the exponentials and their sum) and <c>End</c> (the loss and pass 3). A row alone runs them in order; on 512-bit lanes
/// two rows run them interleaved (<c>TwoRows</c>), so that each row's waits — the maximum across lanes before pass 2,
/// the sum, log and division before pass 3 — fall while the other row's pass runs.
/// </summary>
public static partial class FusedCrossEntropy
{
    /// <summary>What <c>Begin</c> leaves for <c>Middle</c> and <c>End</c>.</summary>
    private struct RowState<TV> where TV : struct, IVec<TV>
    {
        public float Max, Xy;
        public double Wx, Sum;
        public TV XTail, Table, TableHi;
        public bool LongRow, BelowMax;
    }

    private sealed unsafe partial class Job
    {
        /// <summary>
        /// One row on TV lanes; NaN (and nothing written) when the row is not all finite. Pass 2 prefetches the logits
        /// <paramref name="ahead"/> floats on (the next row's; 0 for the band's last row, see <c>Exponentials</c>).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // per row: optimized from the first call, not after tiering (a short run spent its time in the unoptimized code)
        private double Row<TV>(ReadOnlySpan<float> xs, Span<float> gs, ReadOnlySpan<float> w, int y, float wy, int ahead, ref Deferred deferred) where TV : struct, IVec<TV>
        {
            RowState<TV> s = default;
            if (!Begin(xs, w, y, ref s)) return double.NaN;
            Middle(xs, gs, ahead, ref s, ref deferred);
            return End(xs, gs, w, y, wy, ahead, ref s, ref deferred);
        }

        /// <summary>
        /// Rows <paramref name="a"/> and a + 1 of a band ending at <paramref name="r1"/>, their phases interleaved, their
        /// losses added to <paramref name="total"/> in row order: the same operations on each row as <see cref="OneRow"/>,
        /// so the same bits. A pair with an ignored or non-finite row goes row by row (nothing is written before).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // per row: optimized from the first call, not after tiering (a short run spent its time in the unoptimized code)
        private void TwoRows<TV>(int a, int r1, ReadOnlySpan<float> w, ref double total) where TV : struct, IVec<TV>
        {
            int C = Classes, b = a + 1, ya = T[a], yb = T[b];
            ReadOnlySpan<float> xa = LogitsOf(a), xb = LogitsOf(b);
            RowState<TV> sa = default, sb = default;
            // An ignored row is never begun (its target indexes nothing); both rows are begun before either is written.
            if (ya == IgnoreIndex || yb == IgnoreIndex || !Begin(xa, w, ya, ref sa) | !Begin(xb, w, yb, ref sb))
            {
                Deferred none = default;
                total += OneRow<TV>(a, true, w, false, ref none);
                total += OneRow<TV>(b, b + 1 < r1, w, false, ref none);
                return;
            }
            Span<float> ga = GradientOf(a), gb = GradientOf(b);
            // Both rows are in the cache already: pass 2 of each pulls in one row of the next pair (a + 2, a + 3).
            int ahead = a + 3 < r1 ? 2 * C : 0;
            Deferred unused = default;   // 512-bit rows never defer their pass 3
            Middle(xa, ga, ahead, ref sa, ref unused);
            Middle(xb, gb, ahead, ref sb, ref unused);
            double la = Settle(a, End(xa, ga, w, ya, WeightOf(w, ya), ahead, ref sa, ref unused), xa, ga, w, ya);
            double lb = Settle(b, End(xb, gb, w, yb, WeightOf(w, yb), ahead, ref sb, ref unused), xb, gb, w, yb);
            total += la;
            total += lb;
        }

        /// <summary>
        /// Pass 1 (the maximum, the minimum for long rows, the finiteness check) and what must be read before the
        /// gradient may overwrite the logits; false when the row is not all finite.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]   // optimized at once; never inlined into a caller, where the JIT's inlining budget would run out and leave the lane operations as calls
        private bool Begin<TV>(ReadOnlySpan<float> xs, ReadOnlySpan<float> w, int y, ref RowState<TV> s) where TV : struct, IVec<TV>
        {
            int C = xs.Length, n = TV.Count;
            // Long rows on 256-bit lanes: pass 1 also takes the minimum, for the exponential below the maximum
            // (VMath.TryExpBelowMax: a row spanning less than 86.5 takes it without the subtraction and the clamp), and
            // pass 2 goes through LongRowExponentials, the only pass 2 that does a deferred pass 3, so these rows (every
            // row of a band has the same length) are the ones that may defer theirs. 512-bit lanes take the exponential
            // below the maximum too, from BelowMaxClasses512 on (its 32-entry table costs more to build), but never
            // defer pass 3 (it did not pay there: see docs/performance.md).
            s.LongRow = typeof(TV) == typeof(V256) && C >= BelowMaxClasses;
            bool tracked = s.LongRow || (typeof(TV) == typeof(V512) && C >= BelowMaxClasses512);
            float min = float.PositiveInfinity, check;
            float max = tracked ? Extremes<TV, Tracked>(xs, out min, out check) : Extremes<TV, Untracked>(xs, out _, out check);
            if (!float.IsFinite(max) || float.IsNaN(check)) return false;
            s.Max = max;
            s.Xy = xs[y];   // read before pass 2: the gradient may overwrite the logits
            s.XTail = C % n > 0 && C >= n ? TV.Load(ref Unsafe.AsRef(in xs[0]), C - n) : TV.Splat(0);   // likewise
            s.Wx = Eps == 0 ? 0 : WeightedSum<TV>(xs, w);
            s.BelowMax = tracked && VMath.TryExpBelowMax(max, min, out s.Table, out s.TableHi);
            return true;
        }

        /// <summary>
        /// Pass 2: e = exp(x − max) into the gradient buffer when there is one, Σe in float blocks, then double. On 512
        /// bits, long rows out of place store nothing here: pass 3 recomputes e and streams the gradient.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]   // optimized at once; never inlined into a caller, where the JIT's inlining budget would run out and leave the lane operations as calls
        private void Middle<TV>(ReadOnlySpan<float> xs, Span<float> gs, int ahead, ref RowState<TV> s, ref Deferred deferred) where TV : struct, IVec<TV>
        {
            int C = xs.Length, n = TV.Count, full = C - C % n, rem = C - full;
            ref float x = ref Unsafe.AsRef(in xs[0]);
            bool grad = !gs.IsEmpty;
            bool stream = Streams<TV>(gs, C);
            bool store = grad && !stream;
            ref float g = ref grad ? ref gs[0] : ref Unsafe.NullRef<float>();
            TV mx = TV.Splat(s.Max), zero = TV.Splat(0);
            double sum = s.LongRow
                ? LongRowExponentials(ref x, ref g, full, C, ahead, store, s.BelowMax, s.Table, mx, ref deferred)
                : s.BelowMax
                    ? Exponentials<TV, BelowMax<TV>, NoPass3<TV>>(ref x, ref g, full, ahead, store, new BelowMax<TV> { Table = s.Table, TableHi = s.TableHi }, default, stream && ahead > 0)
                    : Exponentials<TV, MinusMax<TV>, NoPass3<TV>>(ref x, ref g, full, ahead, store, new MinusMax<TV> { Max = mx }, default, stream && ahead > 0);
            if (rem > 0 && C >= n)
            {
                // Tail: the last n logits again; the lanes already summed above are masked out of the sum. Re-storing them
                // writes the same values (same logits, same operations).
                TV e = s.BelowMax ? VMath.ExpBelowMax(s.XTail, s.Table, s.TableHi) : VMath.ExpNonPositive(s.XTail - mx);
                if (store) TV.Store(e, ref g, C - n);
                sum += TV.Sum(TV.Select(TV.FirstLanes(n - rem), zero, e));
            }
            else if (rem > 0)
            {
                // A row shorter than one vector: one padded vector whose padding lanes are zeroed after the exponential.
                Span<float> scratch = stackalloc float[64];
                scratch[..n].Fill(s.Max);
                xs.CopyTo(scratch);
                TV e = TV.Select(TV.FirstLanes(rem), VMath.ExpNonPositive(TV.Load(ref scratch[0], 0) - mx), zero);
                TV.Store(e, ref scratch[0], 0);
                sum += TV.Sum(e);
                if (grad) scratch[..rem].CopyTo(gs);
            }
            s.Sum = sum;
        }

        /// <summary>Whether a row's gradient streams to memory (long rows out of place on 512-bit lanes).</summary>
        private bool Streams<TV>(Span<float> gs, int C) where TV : struct, IVec<TV>
            => !gs.IsEmpty && C >= StreamClasses && G != X && typeof(TV) == typeof(V512);

        /// <summary>The row's loss, and pass 3: g = a·e/Σe − (ε/C)·w, in place over e (or streamed, or deferred).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]   // optimized at once; never inlined into a caller, where the JIT's inlining budget would run out and leave the lane operations as calls
        private unsafe double End<TV>(ReadOnlySpan<float> xs, Span<float> gs, ReadOnlySpan<float> w, int y, float wy, int ahead, ref RowState<TV> s, ref Deferred deferred) where TV : struct, IVec<TV>
        {
            int C = xs.Length, n = TV.Count, full = C - C % n;
            bool overlapTail = C % n > 0 && C >= n;
            double sum = s.Sum, lse = s.Max + Math.Log(sum);
            double eps = Eps, oneMinusEps = 1 - eps, epsOverC = eps / C;
            double loss = oneMinusEps * wy * (lse - s.Xy) + epsOverC * (WeightSum * lse - s.Wx) + Z * lse * lse;
            if (gs.IsEmpty) return loss;

            float coef = (float)(Scale * (oneMinusEps * wy + epsOverC * WeightSum + 2 * Z * lse) / sum);
            float k = (float)(Scale * epsOverC);
            ref float g = ref gs[0];
            if (Streams<TV>(gs, C))
            {
                StreamScaled(xs, gs, w, in s, coef, k, ahead);
            }
            else if ((w.IsEmpty || k == 0) && s.LongRow)
            {
                // Deferred: the next row's pass 2 (or the band's end) does it (see Deferred). Class weights only enter
                // pass 3 through (ε/C)·w, which is 0 without label smoothing.
                deferred = new Deferred { G = (float*)Unsafe.AsPointer(ref g), Coef = coef, K = k, Y = y, Adjust = (float)(Scale * oneMinusEps * wy) };
                return loss;
            }
            else if (w.IsEmpty)
            {
                ScaleRow<TV>(gs, coef, k);
            }
            else
            {
                // The overlapping tail vector is computed from e before the main loop transforms its first lanes.
                TV cv = TV.Splat(coef), kv = TV.Splat(-k);
                ref float wr = ref Unsafe.AsRef(in w[0]);
                TV tail = overlapTail ? TV.Fma(TV.Load(ref g, C - n), cv, kv * TV.Load(ref wr, C - n)) : TV.Splat(0);
                int i = 0;
                for (; i < full; i += n) TV.Store(TV.Fma(TV.Load(ref g, i), cv, kv * TV.Load(ref wr, i)), ref g, i);
                if (overlapTail) TV.Store(tail, ref g, C - n);
                else for (; i < C; i++) gs[i] = MathF.FusedMultiplyAdd(gs[i], coef, -k * w[i]);
            }
            gs[y] -= (float)(Scale * oneMinusEps * wy);
            return loss;
        }
    }
}
