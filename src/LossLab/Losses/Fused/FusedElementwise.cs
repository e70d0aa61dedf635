using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Losses.Regression;
using LossLab.Numerics.Simd;

namespace LossLab.Losses.Fused;

/// <summary>
/// Elementwise losses on float32 spans, value and input gradient in one pass over memory (read x and y once,
/// write the gradient once), on 512/256/128-bit lanes with the catalog kernel as scalar specification.
/// </summary>
/// <remarks>
/// <para>Every method returns the reduced value (<c>Mean</c> = Σℓ/n, <c>Sum</c>; <c>None</c> returns Σℓ and writes
/// each ℓᵢ to <c>losses</c>) and, unless <c>gradient</c> is empty, writes ∂(reduced)/∂input (for <c>None</c>: of the
/// sum). The gradient may share memory with the input. Sums are accumulated in float lanes over blocks of 1024
/// elements, then in double. Nothing is allocated; above <see cref="ParallelThreshold"/> elements the span is split
/// over the cores. The semantics are the catalog losses' (<see cref="Regression.MseLoss"/>,
/// <see cref="Classification.BinaryCrossEntropyWithLogits"/>...) without their per-element weights;
/// KL's batchmean is Sum divided by the batch size.</para>
/// </remarks>
public static class FusedElementwise
{
    /// <summary>Element counts at least this large use every core.</summary>
    public const long ParallelThreshold = 1L << 18;

    /// <summary>Gradients at least this long (4 MiB) are written with non-temporal stores, past the caches; smaller ones stay cached for their consumer.</summary>
    public const int NonTemporalThreshold = 1 << 20;

    public static double Mse(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> gradient, Reduction reduction = Reduction.Mean, Span<float> losses = default, int threads = 0)
        => Run<MseFused, MseLoss.Kernel>(new MseFused(), "Mse", input, target, default, gradient, reduction, losses, threads, Simd.Best);

    public static double L1(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> gradient, Reduction reduction = Reduction.Mean, Span<float> losses = default, int threads = 0)
        => Run<L1Fused, L1Loss.Kernel>(new L1Fused(), "L1", input, target, default, gradient, reduction, losses, threads, Simd.Best);

    public static double Huber(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> gradient, float delta = 1, Reduction reduction = Reduction.Mean, Span<float> losses = default, int threads = 0)
    {
        if (!(delta > 0) || !float.IsFinite(delta)) throw LossArgumentException.Value($"Huber: delta must be a finite number > 0, got {delta}");
        return Run<HuberFused, HuberLoss.Kernel>(new HuberFused(delta), "Huber", input, target, default, gradient, reduction, losses, threads, Simd.Best);
    }

    public static double SmoothL1(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> gradient, float beta = 1, Reduction reduction = Reduction.Mean, Span<float> losses = default, int threads = 0)
    {
        if (!(beta >= 0) || !float.IsFinite(beta)) throw LossArgumentException.Value($"SmoothL1: beta must be a finite number ≥ 0, got {beta}");
        return Run<SmoothL1Fused, SmoothL1Loss.Kernel>(new SmoothL1Fused(beta), "SmoothL1", input, target, default, gradient, reduction, losses, threads, Simd.Best);
    }

    /// <summary>
    /// BCE on probabilities in [0, 1] (checked: the first value outside is named). Valid input is read once: a value
    /// outside [0, 1] or NaN makes a log, and with it the sum, NaN, and only then is the offender looked for. When the
    /// gradient or the losses overlap the input, the kernel would overwrite the evidence, so the check comes first. On
    /// error the outputs' contents are unspecified.
    /// </summary>
    public static double BinaryCrossEntropy(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> gradient, Reduction reduction = Reduction.Mean, Span<float> losses = default, int threads = 0)
        => BinaryCrossEntropy(input, target, gradient, reduction, losses, threads, Simd.Best);

    internal static double BinaryCrossEntropy(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> gradient, Reduction reduction, Span<float> losses, int threads, SimdWidth width)
    {
        bool overwrites = Overlap(input, gradient, losses);
        if (overwrites) CheckProbabilities(input);
        double value = Run<BceFused, Classification.BinaryCrossEntropy.Kernel>(new BceFused(), "BinaryCrossEntropy", input, target, default, gradient, reduction, losses, threads, width);
        if (double.IsNaN(value) && !overwrites) CheckProbabilities(input);
        return value;
    }

    private static void CheckProbabilities(ReadOnlySpan<float> input)
    {
        int bad = FirstOutside(input, 0, 1);
        if (bad >= 0) throw Classification.BinaryCrossEntropy.NotAProbability(bad, input[bad]);
    }

    private static bool Overlap(ReadOnlySpan<float> checkedValues, Span<float> gradient, Span<float> losses)
        => checkedValues.Overlaps(gradient) || checkedValues.Overlaps(losses);

    /// <summary>BCE on logits; <paramref name="posWeight"/> is empty or one weight per class of the last dimension (its length divides the input's).</summary>
    public static double BinaryCrossEntropyWithLogits(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> gradient, ReadOnlySpan<float> posWeight = default, Reduction reduction = Reduction.Mean, Span<float> losses = default, int threads = 0)
        => Run<BceWithLogitsFused, Classification.BinaryCrossEntropyWithLogits.Kernel>(new BceWithLogitsFused(), "BinaryCrossEntropyWithLogits", input, target, posWeight, gradient, reduction, losses, threads, Simd.Best);

    public static double SigmoidFocal(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> gradient, float alpha = 0.25f, float gamma = 2, Reduction reduction = Reduction.Mean, Span<float> losses = default, int threads = 0)
    {
        if (!(gamma >= 0) || !float.IsFinite(gamma)) throw LossArgumentException.Value($"SigmoidFocal: gamma must be a finite number ≥ 0, got {gamma}");
        if (alpha > 1 || float.IsNaN(alpha)) throw LossArgumentException.Value($"SigmoidFocal: alpha must be in [0, 1] (or < 0 to disable), got {alpha}");
        return Run<SigmoidFocalFused, SigmoidFocalLoss.Kernel>(new SigmoidFocalFused(alpha, gamma), "SigmoidFocal", input, target, default, gradient, reduction, losses, threads, Simd.Best);
    }

    /// <summary>
    /// PyTorch kl_div: input holds log-probabilities; target probabilities (or log-probabilities with
    /// <paramref name="logTarget"/>). Probabilities must be ≥ 0 (checked as in <c>BinaryCrossEntropy</c>: a
    /// negative or NaN target makes its log and the sum NaN, and only then is the first one named).
    /// </summary>
    public static double KLDivergence(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> gradient, bool logTarget = false, Reduction reduction = Reduction.Mean, Span<float> losses = default, int threads = 0)
        => KLDivergence(input, target, gradient, logTarget, reduction, losses, threads, Simd.Best);

    internal static double KLDivergence(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> gradient, bool logTarget, Reduction reduction, Span<float> losses, int threads, SimdWidth width)
    {
        bool overwrites = !logTarget && Overlap(target, gradient, losses);
        if (overwrites) CheckTargets(target);
        double value = Run<KLDivergenceFused, Probabilistic.KLDivergence.Kernel>(new KLDivergenceFused(logTarget), "KLDivergence", input, target, default, gradient, reduction, losses, threads, width);
        if (double.IsNaN(value) && !logTarget && !overwrites) CheckTargets(target);
        return value;
    }

    private static void CheckTargets(ReadOnlySpan<float> target)
    {
        int bad = FirstOutside(target, 0, float.PositiveInfinity);
        if (bad >= 0) throw Probabilistic.KLDivergence.NotAProbability(bad, target[bad]);
    }

    /// <summary>
    /// The first index whose value is outside [lo, hi] (NaN included), or −1: one vectorized read that stops at the first
    /// offending vector, whose elements the scalar loop then names.
    /// </summary>
    private static int FirstOutside(ReadOnlySpan<float> x, float lo, float hi)
    {
        ref float p = ref MemoryMarshal.GetReference(x);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> low = Vector512.Create(lo), high = Vector512.Create(hi);
            for (; i + 16 <= x.Length; i += 16)
            {
                Vector512<float> v = Vector512.LoadUnsafe(ref p, (nuint)i);
                if (!(Vector512.GreaterThanOrEqualAll(v, low) && Vector512.LessThanOrEqualAll(v, high))) break;
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> low = Vector256.Create(lo), high = Vector256.Create(hi);
            for (; i + 8 <= x.Length; i += 8)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref p, (nuint)i);
                if (!(Vector256.GreaterThanOrEqualAll(v, low) && Vector256.LessThanOrEqualAll(v, high))) break;
            }
        }
        for (; i < x.Length; i++)
        {
            if (!(x[i] >= lo && x[i] <= hi)) return i;
        }
        return -1;
    }

    internal static unsafe double Run<TK, TSpec>(TK kernel, string name, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> aux,
        Span<float> gradient, Reduction reduction, Span<float> losses, int threads, SimdWidth width)
        where TK : struct, IFusedKernel<TSpec>
        where TSpec : struct, IElementwiseKernel
    {
        int n = x.Length;
        if (y.Length != n) throw LossArgumentException.Shape($"{name}: target has {y.Length} values but input has {n}; they must be equal");
        if (gradient.Length != 0 && gradient.Length != n) throw LossArgumentException.Shape($"{name}: gradient has {gradient.Length} values; it must be empty or match the input ({n})");
        if (losses.Length != 0 && losses.Length != n) throw LossArgumentException.Shape($"{name}: losses has {losses.Length} values; expected {n}");
        if (reduction == Reduction.None && losses.IsEmpty && n > 0) throw LossArgumentException.Shape($"{name}: reduction none needs a losses span of one value per element");
        if (reduction is not (Reduction.Mean or Reduction.Sum or Reduction.None)) throw LossArgumentException.Value($"{name}: reduction {reduction} is not supported (none, mean or sum)");
        if (!aux.IsEmpty && (n % aux.Length != 0))
        {
            throw LossArgumentException.Shape($"{name}: pos_weight has {aux.Length} values, which does not divide the input's {n} (one weight per class of the last dimension)");
        }
        if (n == 0) return reduction == Reduction.Mean ? double.NaN : 0;
        float scale = reduction == Reduction.Mean ? 1f / n : 1f;

        var job = Job<TK, TSpec>.ForThisThread;
        fixed (float* px = x, py = y, pa = aux, pg = gradient, pl = losses)
        {
            job.Kernel = kernel; job.X = px; job.Y = py; job.A = aux.IsEmpty ? null : pa; job.Columns = aux.Length;
            job.G = gradient.IsEmpty ? null : pg; job.L = losses.IsEmpty ? null : pl; job.N = n; job.Scale = scale; job.Width = width;
            job.Streaming = n >= NonTemporalThreshold;
            // Parts are whole rows of pos_weight's period so that every part starts at column 0.
            int period = Math.Max(1, aux.Length), units = n / period;
            int parts = Simd.Threads(threads, n, ParallelThreshold, units);
            double total = job.Run(parts);
            job.X = job.Y = job.A = job.G = job.L = null;
            return reduction == Reduction.Mean ? total / n : total;
        }
    }

    private sealed unsafe class Job<TK, TSpec> : RangeJob<Job<TK, TSpec>>
        where TK : struct, IFusedKernel<TSpec>
        where TSpec : struct, IElementwiseKernel
    {
        public TK Kernel;
        public float* X, Y, A, G, L;
        public int N, Columns;
        public float Scale;
        public bool Streaming;
        public SimdWidth Width;
        protected override double RunPart(int part)
        {
            int period = Math.Max(1, Columns);
            var (u0, u1) = PartRange(N / period, part);   // whole periods (rows of pos_weight's classes) per part
            int i0 = u0 * period, i1 = u1 * period;
            double total = 0;
            if (Columns == 0)
            {
                total = Segment(i0, i1, null);
            }
            else
            {
                for (int row = i0; row < i1; row += Columns) total += Segment(row, row + Columns, A);
            }
            return total;
        }

        /// <summary>Elements [i0, i1); aux (when present) is indexed from i0.</summary>
        private double Segment(int i0, int i1, float* aux) => Width switch
        {
            SimdWidth.V512 => Lanes<V512>(i0, i1, aux),
            SimdWidth.V256 => Lanes<V256>(i0, i1, aux),
            SimdWidth.V128 => Lanes<V128>(i0, i1, aux),
            _ => Scalar(i0, i1, aux),
        };

        [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]   // optimized at once; never inlined into a caller, where the JIT's inlining budget would run out and leave the lane operations as calls
        private double Lanes<TV>(int i0, int i1, float* aux) where TV : struct, IVec<TV>
        {
            int n = TV.Count;
            double sum = 0;
            // Large outputs are written with non-temporal stores: no read-for-ownership of the gradient's lines, so the
            // traffic is the floor's (read x and y, write g). They need aligned addresses: a short head goes scalar.
            bool stream = Streaming && G != X && G != Y;
            int start = i0;
            if (stream)
            {
                int head = Math.Min(Simd.FloatsToAlignment(G + i0, n), i1 - i0);
                sum += Scalar(i0, i0 + head, aux);
                start = i0 + head;
            }
            int full = start + (i1 - start) / n * n;
            ref float x = ref Unsafe.AsRef<float>(X), y = ref Unsafe.AsRef<float>(Y);
            ref float g = ref G is null ? ref Unsafe.NullRef<float>() : ref Unsafe.AsRef<float>(G);
            ref float l = ref L is null ? ref Unsafe.NullRef<float>() : ref Unsafe.AsRef<float>(L);
            ref float a = ref aux is null ? ref Unsafe.NullRef<float>() : ref Unsafe.AsRef<float>(aux);
            TV one = TV.Splat(1), scale = TV.Splat(Scale);
            TK k = Kernel;
            // The outputs' presence in locals: as fields they were reloaded after every store (which might alias them).
            bool store = !stream && G is not null, keep = L is not null;
            int i = start;
            while (i < full)
            {
                int end = Math.Min(full, i + 1024);
                TV acc = TV.Splat(0);
                // Two vectors per iteration: 3–15 % faster in cache. Not for the focal kernel, which is too large to be
                // inlined twice: the JIT's inlining budget ran out and left its lane operations as calls (2.7 → 20 ms).
                // Below 512 bits (where the generic log and exponential are longer than the 512-bit table ones) only the
                // short kernels (MSE, L1, Huber, smooth L1) and, on 256 bits, BCE with logits (no log): on AVX2 the same
                // failure left BCE at 9 ns per element, its kernel called per vector and running unoptimized. The typeof tests fold at import, so the branch is
                // never imported for the others (written out here: behind a property they fold too late).
                TV acc1 = TV.Splat(0);
                for (; (typeof(TV) == typeof(V512) && typeof(TK) != typeof(SigmoidFocalFused)
                        || typeof(TK) == typeof(MseFused) || typeof(TK) == typeof(L1Fused)
                        || typeof(TK) == typeof(HuberFused) || typeof(TK) == typeof(SmoothL1Fused)
                        || typeof(TV) == typeof(V256) && typeof(TK) == typeof(BceWithLogitsFused))
                       && i + 2 * n <= end; i += 2 * n)
                {
                    TV av0 = aux is null ? one : TV.Load(ref a, i - i0), av1 = aux is null ? one : TV.Load(ref a, i + n - i0);
                    TV v0 = k.Eval(TV.Load(ref x, i), TV.Load(ref y, i), av0, out TV dx0);
                    TV v1 = k.Eval(TV.Load(ref x, i + n), TV.Load(ref y, i + n), av1, out TV dx1);
                    if (stream)
                    {
                        TV.StoreNonTemporal(dx0 * scale, ref g, i);
                        TV.StoreNonTemporal(dx1 * scale, ref g, i + n);
                    }
                    else if (store)
                    {
                        TV.Store(dx0 * scale, ref g, i);
                        TV.Store(dx1 * scale, ref g, i + n);
                    }
                    if (keep)
                    {
                        TV.Store(v0, ref l, i);
                        TV.Store(v1, ref l, i + n);
                    }
                    acc += v0;
                    acc1 += v1;
                }
                acc += acc1;
                for (; i < end; i += n)
                {
                    TV av = aux is null ? one : TV.Load(ref a, i - i0);
                    TV v = k.Eval(TV.Load(ref x, i), TV.Load(ref y, i), av, out TV dx);
                    if (stream) TV.StoreNonTemporal(dx * scale, ref g, i);
                    else if (store) TV.Store(dx * scale, ref g, i);
                    if (keep) TV.Store(v, ref l, i);
                    acc += v;
                }
                sum += TV.Sum(acc);
            }
            if (stream) Interlocked.MemoryBarrier();   // order the weakly ordered streaming stores before returning
            return sum + Scalar(full, i1, aux is null ? null : aux + (full - i0));
        }

        /// <summary>The specification: the catalog kernel, element by element.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]   // optimized at once; never inlined into a caller, where the JIT's inlining budget would run out and leave the lane operations as calls
        private double Scalar(int i0, int i1, float* aux)
        {
            TSpec spec = Kernel.Spec;
            double sum = 0;
            for (int i = i0; i < i1; i++)
            {
                float a = aux is null ? 1f : aux[i - i0];
                float v = spec.Value(X[i], Y[i], a);
                if (G is not null) G[i] = Scale * spec.Derivative(X[i], Y[i], a).Dx;
                if (L is not null) L[i] = v;
                sum += v;
            }
            return sum;
        }
    }
}
