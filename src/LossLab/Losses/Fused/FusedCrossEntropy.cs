using System.Runtime.CompilerServices;
using LossLab.Losses.Core;
using LossLab.Numerics.Simd;

namespace LossLab.Losses.Fused;

/// <summary>
/// Softmax cross-entropy of float32 logits (N, C) against class indices (N), value and gradient in one call:
/// each logit row is read from memory once, its exponentials computed once, its gradient written once.
/// PyTorch's <c>cross_entropy</c> semantics (class weights, <c>ignore_index</c>, label smoothing) plus z-loss.
/// </summary>
/// <remarks>
/// <para>Math (p = softmax(x), lse = logsumexp(x), W = Σ_c w_c, ε = label smoothing, s = z-loss scale):
/// ℓ = (1 − ε)·w_y·(lse − x_y) + (ε/C)·(W·lse − Σ_c w_c x_c) + s·lse²;
/// ∂ℓ/∂x_j = a·p_j − (ε/C)·w_j − (1 − ε)·w_y·[j = y] with a = (1 − ε)·w_y + (ε/C)·W + 2s·lse. With class weights,
/// <c>mean</c> divides the cross-entropy by Σ w_y and the (unweighted) z-loss by the counted rows, as Liger-Kernel.
/// <c>Mean</c> divides by Σ w_y over counted rows (all rows ignored: NaN value, zero gradient), as
/// <see cref="Classification.CrossEntropy"/>.</para>
/// <para>Per row, three passes over a row that stays in L1/L2: (1) maximum (and a finiteness check); (2) e_j =
/// exp(x_j − max) written into the gradient buffer and summed (rows of <see cref="BelowMaxClasses"/> or more on 256-bit
/// lanes, <see cref="BelowMaxClasses512"/> on 512, that span less than 86.5 take e^(x_j − max) with e^−max folded into
/// the exponential's table: <see cref="VMath.ExpBelowMax{TV}"/>), while the next row's logits and, out of place, its
/// gradient lines are prefetched; (3) the gradient a·e_j/Σe − (ε/C)·w_j in place (on 256-bit lanes, for those long rows,
/// inside the next row's pass 2: <c>Deferred</c>). On 512-bit lanes rows under <see cref="PairClasses"/> go two at a
/// time, pass by pass (<c>TwoRows</c>). On
/// 512-bit lanes, rows of <see cref="StreamClasses"/> or more written out of place skip the store in (2) and recompute
/// e_j in (3), which streams the gradient to memory once (<c>StreamScaled</c>). A
/// one-pass online softmax needs two exps per element and was measured 2.5–3.5× slower here. The exponential is
/// <see cref="VMath.ExpNonPositive{TV}"/> (≤ 2 ulp; terms below e^−87.33 relative to the maximum flush to ≈1.2e−38). Sums are accumulated in float lanes for at most 1024 elements, then
/// in double. A row holding NaN or ±∞ is computed by the scalar specification instead (same result as the catalog
/// loss), before anything is written.</para>
/// <para>Short rows (under one vector on 512 bits, under three on 256 and 128) go a vector of rows at a time,
/// transposed so that each lane holds a row (see <c>ShortRows</c>): ten classes would otherwise spend most of their time
/// in reductions across lanes.</para>
/// <para>The gradient may be the logits' own memory (in place, as llm.c and Liger-Kernel do) or empty (value only).
/// Nothing is allocated per call; above <see cref="ParallelThreshold"/> logits the rows are split over the
/// cores in contiguous bands.</para>
/// </remarks>
public static partial class FusedCrossEntropy
{
    /// <summary>Logit counts at least this large use every core (unless <c>threads</c> says otherwise).</summary>
    public const long ParallelThreshold = 1L << 17;

    /// <summary>
    /// Rows at least this long (64 KiB), out of place, write their gradient once with non-temporal stores
    /// (<c>StreamScaled</c>). It was 32768 until the 512-bit exponential below the maximum made the second exponential
    /// cheaper and the streaming pass took half of the next row's reads: then 512×32000 out of place went from
    /// 3.8–4.1 to 3.3 ms on 1 thread and from 2.65–2.9 to 2.2–2.35 ms on 2 (Stopwatch, alternating processes, the
    /// AVX-512 host); rows of 8000 gained on 1 thread and lost on 2, rows of 4000 lost, rows of 1000 took twice as long.
    /// 512-bit lanes only: on the AVX2 host, where the exponential costs twice as much per element, streaming made
    /// 64×128256 slower on 1 thread (21.4 ms against 15.3–16.1 ms for the cached path).
    /// </summary>
    internal const int StreamClasses = 1 << 14;

    /// <summary>
    /// Rows at least this long, on 256-bit lanes, take the exponential below the maximum when their span allows
    /// (<see cref="VMath.ExpBelowMax{TV}"/>: two operations fewer per vector, 8–11 % at 1000 classes and more on the AVX2
    /// host). Its per-row table and the minimum in pass 1 cost about 25 ns a row: a quarter more at 24 classes.
    /// </summary>
    internal const int BelowMaxClasses = 256;

    /// <summary>
    /// The same on 512-bit lanes, whose table has 32 entries (two registers, built from double products in a few
    /// vector operations).
    /// </summary>
    internal const int BelowMaxClasses512 = 1536;

    /// <summary>
    /// Rows shorter than this go two at a time on 512-bit lanes (<c>TwoRows</c>): 9–26 % faster from 100 to 2000 classes
    /// on 1 thread, in place or out of place (with the gradient's lines prefetched; without, pairs lost 10 % at 1000
    /// classes out of place), and no change at 4000–8000, where a row's fixed costs no longer show.
    /// </summary>
    internal const int PairClasses = 4096;

    /// <summary>
    /// Computes the loss of logits (N, C) = (<paramref name="targets"/>.Length, <paramref name="classes"/>) and,
    /// unless <paramref name="gradient"/> is empty, ∂(reduced loss)/∂logits into it (<c>None</c>: the gradient of
    /// the sum). Returns the reduced value (<c>None</c>: the sum; per-row values go to <paramref name="rowLosses"/>).
    /// </summary>
    public static double Compute(
        ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int classes, Span<float> gradient,
        Reduction reduction = Reduction.Mean, ReadOnlySpan<float> classWeights = default, int ignoreIndex = -100,
        float labelSmoothing = 0, float zLoss = 0, Span<float> rowLosses = default, int threads = 0)
        => Compute(logits, targets, classes, gradient, reduction, classWeights, ignoreIndex, labelSmoothing, zLoss, rowLosses, threads, Simd.Best);

    internal static double Compute(
        ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int classes, Span<float> gradient,
        Reduction reduction, ReadOnlySpan<float> classWeights, int ignoreIndex,
        float labelSmoothing, float zLoss, Span<float> rowLosses, int threads, SimdWidth width)
    {
        int rows = targets.Length;
        ClassRows.CheckShapes("FusedCrossEntropy", "logits", logits.Length, rows, classes, gradient.Length, reduction, classWeights.Length, rowLosses.Length);
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw LossArgumentException.Value($"FusedCrossEntropy: label_smoothing must be in [0, 1], got {labelSmoothing}");
        if (!(zLoss >= 0) || !float.IsFinite(zLoss)) throw LossArgumentException.Value($"FusedCrossEntropy: z_loss must be a finite number ≥ 0, got {zLoss}");
        double weightSum = classWeights.IsEmpty ? classes : 0;
        for (int c = 0; c < classWeights.Length; c++) weightSum += classWeights[c];
        double denominator = ClassRows.Denominator("FusedCrossEntropy", targets, classes, ignoreIndex, classWeights);
        if (rows == 0) return reduction == Reduction.Mean ? double.NaN : 0;
        double scale = reduction == Reduction.Mean ? 1 / denominator : 1;
        if (reduction == Reduction.Mean && !classWeights.IsEmpty && zLoss > 0)
        {
            // The z-loss is unweighted and its mean is over the counted rows (Liger-Kernel's rule), while the rows share
            // the 1/Σw_y scale: each row gets s·Σw_y/count.
            int counted = 0;
            foreach (int t in targets) if (t != ignoreIndex) counted++;
            if (counted > 0 && denominator != 0) zLoss = (float)(zLoss * denominator / counted);
        }
        double total = SumRows(logits, targets, classes, gradient, classWeights, weightSum, ignoreIndex, labelSmoothing, zLoss, scale, rowLosses, threads, width);
        return reduction == Reduction.Mean ? total / denominator : total;
    }

    /// <summary>
    /// Σ of the row losses, with the gradient scaled by <paramref name="scale"/> (the caller's 1/denominator). Targets must
    /// already be checked. The chunked linear + cross-entropy calls this on each chunk of rows with the global scale.
    /// </summary>
    internal static unsafe double SumRows(
        ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int classes, Span<float> gradient, ReadOnlySpan<float> classWeights, double weightSum,
        int ignoreIndex, float labelSmoothing, float zLoss, double scale, Span<float> rowLosses, int threads, SimdWidth width)
    {
        int rows = targets.Length;
        Job job = Job.ForThisThread;
        fixed (float* x = logits, g = gradient, w = classWeights, rl = rowLosses)
        fixed (int* t = targets)
        {
            job.X = x; job.G = gradient.IsEmpty ? null : g; job.W = classWeights.IsEmpty ? null : w;
            job.RowLoss = rowLosses.IsEmpty ? null : rl; job.T = t;
            job.Rows = rows; job.Classes = classes; job.IgnoreIndex = ignoreIndex;
            job.Eps = labelSmoothing; job.Z = zLoss; job.Scale = scale; job.WeightSum = weightSum; job.Width = width;
            int parts = Simd.Threads(threads, (long)rows * classes, ParallelThreshold, Math.Max(1, rows));
            double total = job.Run(parts);
            job.X = null; job.G = null; job.W = null; job.RowLoss = null; job.T = null;
            return total;
        }
    }

    /// <summary>The kernel's arguments for the worker threads (pinned pointers; valid only inside Compute).</summary>
    [SkipLocalsInit]   // the per-row scratch needs no zeroing
    private sealed unsafe partial class Job : RangeJob<Job>
    {
        public float* X, G, W, RowLoss;
        public int* T;
        public int Rows, Classes, IgnoreIndex;
        public float Eps, Z;
        public double Scale, WeightSum;
        public SimdWidth Width;
        protected override double RunPart(int part)
        {
            var (r0, r1) = PartRange(Rows, part);
            return Width switch
            {
                SimdWidth.V512 => Band<V512>(r0, r1),
                SimdWidth.V256 => Band<V256>(r0, r1),
                SimdWidth.V128 => Band<V128>(r0, r1),
                _ => Band<V128>(r0, r1, scalar: true),
            };
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]   // optimized at once; never inlined into a caller, where the JIT's inlining budget would run out and leave the lane operations as calls
        private double Band<TV>(int r0, int r1, bool scalar = false) where TV : struct, IVec<TV>
        {
            double total = 0;
            int C = Classes, n = TV.Count, r = r0;
            ReadOnlySpan<float> w = W is null ? default : new ReadOnlySpan<float>(W, C);
            Deferred deferred = default;
            if (!scalar && C < ShortRowsLimit<TV>())
            {
                // Short rows: a vector of rows at a time (a group holding NaN or ±∞ goes row by row).
                for (; r + n <= r1; r += n)
                {
                    if (ShortRows<TV>(r, w, out double part)) total += part;
                    else for (int q = r; q < r + n; q++) total += OneRow<TV>(q, q + 1 < r1, w, scalar, ref deferred);
                }
            }
            if (typeof(TV) == typeof(V512) && !scalar && C < PairClasses)
            {
                for (; r + 1 < r1; r += 2) TwoRows<TV>(r, r1, w, ref total);
            }
            for (; r < r1; r++) total += OneRow<TV>(r, r + 1 < r1, w, scalar, ref deferred);
            if (deferred.G is not null) Finish<TV>(ref deferred, C, applied: false);
            return total;
        }

        /// <summary>
        /// Row r's loss (its gradient written, its value stored when row losses are wanted). <paramref name="next"/>: the
        /// band goes on to row r + 1, whose lines pass 2 may prefetch.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // per row: optimized from the first call, not after tiering (a short run spent its time in the unoptimized code)
        private double OneRow<TV>(int r, bool next, ReadOnlySpan<float> w, bool scalar, ref Deferred deferred) where TV : struct, IVec<TV>
        {
            ReadOnlySpan<float> x = LogitsOf(r);
            Span<float> g = GradientOf(r);
            int y = T[r];
            if (y == IgnoreIndex)
            {
                g.Clear();
                return Settle(r, 0, x, g, w, y);
            }
            double loss = scalar ? double.NaN : Row<TV>(x, g, w, y, WeightOf(w, y), next ? Classes : 0, ref deferred);
            return Settle(r, loss, x, g, w, y);
        }

        /// <summary>w_y, 1 without class weights.</summary>
        private static float WeightOf(ReadOnlySpan<float> w, int y) => w.IsEmpty ? 1 : w[y];

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private ReadOnlySpan<float> LogitsOf(int r) => new(X + (long)r * Classes, Classes);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Span<float> GradientOf(int r) => G is null ? default : new Span<float>(G + (long)r * Classes, Classes);

        /// <summary>
        /// Row r's loss as the lanes gave it, or the specification's where they gave NaN (a row holding NaN or ±∞, of which
        /// they wrote nothing), stored when row losses are wanted.
        /// </summary>
        private double Settle(int r, double loss, ReadOnlySpan<float> x, Span<float> g, ReadOnlySpan<float> w, int y)
        {
            if (double.IsNaN(loss)) loss = RowScalar(x, g, w, y, WeightOf(w, y), Eps, Z, Scale, WeightSum);
            if (RowLoss is not null) RowLoss[r] = (float)loss;
            return loss;
        }

        /// <summary>Σ_c w_c·x_c (Σ x_c without weights), float lanes per 1024 values, then double.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]   // optimized at once; never inlined into a caller, where the JIT's inlining budget would run out and leave the lane operations as calls
        private static double WeightedSum<TV>(ReadOnlySpan<float> xs, ReadOnlySpan<float> w) where TV : struct, IVec<TV>
        {
            int C = xs.Length, n = TV.Count, full = C - C % n, i = 0;
            ref float x = ref Unsafe.AsRef(in xs[0]);
            double sum = 0;
            while (i < full)
            {
                int end = Math.Min(full, i + 1024);
                // Two accumulators: one alone is a chain of dependent adds (or FMAs) that bounds the loop.
                TV s = TV.Splat(0), t = s;
                if (w.IsEmpty)
                {
                    for (; i + 2 * n <= end; i += 2 * n)
                    {
                        s += TV.Load(ref x, i);
                        t += TV.Load(ref x, i + n);
                    }
                    for (; i < end; i += n) s += TV.Load(ref x, i);
                }
                else
                {
                    ref float wr = ref Unsafe.AsRef(in w[0]);
                    for (; i + 2 * n <= end; i += 2 * n)
                    {
                        s = TV.Fma(TV.Load(ref wr, i), TV.Load(ref x, i), s);
                        t = TV.Fma(TV.Load(ref wr, i + n), TV.Load(ref x, i + n), t);
                    }
                    for (; i < end; i += n) s = TV.Fma(TV.Load(ref wr, i), TV.Load(ref x, i), s);
                }
                sum += TV.Sum(s + t);
            }
            for (; i < C; i++) sum += (w.IsEmpty ? 1.0 : w[i]) * xs[i];
            return sum;
        }
    }

    /// <summary>
    /// The scalar specification of one row, in double: lse by max shift, every p_j = exp(x_j − lse), the value and
    /// gradient formulas of the class summary, rounded to float once at the end.
    /// </summary>
    internal static double RowScalar(ReadOnlySpan<float> x, Span<float> g, ReadOnlySpan<float> w, int y, float wy, float eps, float z, double scale, double weightSum)
    {
        int C = x.Length;
        double max = double.NegativeInfinity;
        bool nan = false;
        foreach (float v in x)
        {
            nan |= float.IsNaN(v);
            max = Math.Max(max, v);
        }
        double lse;
        if (nan) lse = double.NaN;
        else if (double.IsInfinity(max)) lse = max;
        else
        {
            double s = 0;
            foreach (float v in x) s += Math.Exp(v - max);
            lse = max + Math.Log(s);
        }
        double xy = x[y], wx = 0;
        for (int c = 0; c < C; c++) wx += (w.IsEmpty ? 1.0 : w[c]) * x[c];
        double oneMinusEps = 1 - (double)eps, epsOverC = (double)eps / C;
        double loss = oneMinusEps * wy * (lse - xy) + (eps == 0 ? 0 : epsOverC * (weightSum * lse - wx)) + (z == 0 ? 0 : z * lse * lse);
        if (g.IsEmpty) return loss;
        for (int c = 0; c < C; c++)
        {
            double p = Math.Exp(x[c] - lse);
            double d = oneMinusEps * wy * (c == y ? p - 1 : p);
            if (eps != 0) d += epsOverC * (weightSum * p - (w.IsEmpty ? 1.0 : w[c]));
            if (z != 0) d += 2.0 * z * lse * p;
            g[c] = (float)(scale * d);
        }
        return loss;
    }
}
