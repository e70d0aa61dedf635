using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using LossLab.Numerics.Simd;

namespace LossLab.Numerics;

/// <summary>
/// Double-precision C += A·B for the pairwise losses' similarity blocks and their gradients (row-major with leading
/// dimensions; A m×k, B k×n, C m×n). Register-blocked: a 4×16 tile of C (Vector512; 4×8 on Vector256, 4×4 on Vector128
/// with hardware FMA) stays in registers while the depth runs, four broadcasts of A and two loads of B feed eight FMAs
/// per k.
/// </summary>
/// <remarks>
/// <para>The depth is cut into blocks of <see cref="KC"/>, and each KC×16 panel of B is packed into a contiguous
/// 16 KiB stack buffer that stays in L1 while every row block of A passes over it (unpacked, rows of B 2ᵏ doubles
/// apart fell into one L1 set: 13 GFLOP/s at N = 8192). A is read in place; nothing is allocated.</para>
/// <para>Each C element is summed over k in order (one FMA per term) at every width, so the widths agree to the last
/// bit with each other and with the scalar path when it uses <see cref="Math.FusedMultiplyAdd"/>; products of 2²⁵
/// multiply-adds or more run in bands of rows (or of columns, for short wide ones) on the cores, with the same bits.</para>
/// </remarks>
internal static class GemmF64
{
    private const int KC = 128, MR = 4, MC = 256;

    /// <summary>An A of at most this many doubles (256 KiB) stays in L2 whole: its products run panel by panel.</summary>
    private const long ShortA = 1L << 15;   // MC: a multiple of MR, so that only the last block has rows left over

    /// <summary>t (cols×rows) = xᵀ for x (rows×cols), both row-major: the B or Aᵀ operand a product needs.</summary>
    public static void Transpose(ReadOnlySpan<double> x, int rows, int cols, Span<double> t)
    {
        if (x.Length < (long)rows * cols || t.Length < (long)rows * cols) throw new ArgumentException($"spans too short for a {rows}×{cols} transpose: {x.Length} and {t.Length}");
        if (rows == 0 || cols == 0) return;
        // 8 × 8 tiles: eight source lines read whole and eight destination lines written whole per tile, so a line is
        // used completely while it is in L1 even when the strides are 2ᵏ bytes and every line of a tile falls into one
        // L1 set (32 × 32 tiles thrashed there: 3.2 GB/s at 1024 × 512, a 4096 × 4096 transpose in 83 ms). Tiles go
        // along the source rows in bands of 64 rows, so the destination lines of a band stay in L1/L2.
        const int Tile = 8, Band = 64;
        ref double src = ref MemoryMarshal.GetReference(x);
        ref double dst = ref MemoryMarshal.GetReference(t);
        for (int i0 = 0; i0 < rows; i0 += Band)
        {
            int i1 = Math.Min(rows, i0 + Band);
            for (int k0 = 0; k0 < cols; k0 += Tile)
            {
                int k1 = Math.Min(cols, k0 + Tile);
                for (int ii = i0; ii < i1; ii += Tile)
                {
                    int ie = Math.Min(i1, ii + Tile);
                    for (int i = ii; i < ie; i++)
                    {
                        ref double row = ref Unsafe.Add(ref src, (nint)i * cols);
                        for (int k = k0; k < k1; k++) Unsafe.Add(ref dst, (nint)k * rows + i) = Unsafe.Add(ref row, k);
                    }
                }
            }
        }
    }

    /// <summary>xᵀ (cols×rows) of x (rows×cols), row-major, as a new array.</summary>
    public static double[] Transposed(ReadOnlySpan<double> x, int rows, int cols)
    {
        var t = new double[rows * cols];
        Transpose(x, rows, cols, t);
        return t;
    }

    /// <summary>
    /// A linear layer's outputs Z (rows × v) = b + H (rows × d)·Wᵀ, W (v × d) given as its transpose
    /// <paramref name="wT"/> (d × v); an empty b is no bias.
    /// </summary>
    public static void Affine(ReadOnlySpan<double> h, ReadOnlySpan<double> wT, ReadOnlySpan<double> b, Span<double> z, int rows, int d, int v)
    {
        z = z[..(rows * v)];
        if (b.IsEmpty) z.Clear();
        else for (int r = 0; r < rows; r++) b[..v].CopyTo(z.Slice(r * v, v));
        MultiplyAdd(h, d, wT, v, z, v, rows, d, v);
    }

    /// <summary>
    /// The linear layer's backward pass for the outputs' gradient G (rows × v): ∂H += G·W (rows × d), ∂W += Gᵀ·H (v × d)
    /// through <paramref name="gT"/> (v × rows scratch), ∂b += Σ_rows G; an empty span skips its gradient.
    /// </summary>
    public static void AffineBackward(ReadOnlySpan<double> g, ReadOnlySpan<double> h, ReadOnlySpan<double> w, Span<double> gh, Span<double> gw, Span<double> gb,
        Span<double> gT, int rows, int d, int v)
    {
        if (!gh.IsEmpty) MultiplyAdd(g, v, w, d, gh, d, rows, v, d);
        if (!gw.IsEmpty)
        {
            Transpose(g[..(rows * v)], rows, v, gT);
            MultiplyAdd(gT, rows, h, d, gw, d, v, rows, d);
        }
        if (!gb.IsEmpty)
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < v; j++) gb[j] += g[r * v + j];
    }

    /// <summary>C[i, j] += Σ_k A[i, k]·B[k, j] over i &lt; m, j &lt; n, k &lt; depth.</summary>
    public static unsafe void MultiplyAdd(ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, Span<double> c, int ldc,
        int m, int depth, int n, SimdWidth width = (SimdWidth)(-1))
    {
        if (m < 0 || depth < 0 || n < 0) throw new ArgumentOutOfRangeException(nameof(m), $"matrix sizes must be ≥ 0, got {m}×{depth}·{depth}×{n}");
        if (m == 0 || n == 0 || depth == 0) return;
        if (lda < depth || ldb < n || ldc < n) throw new ArgumentException($"leading dimensions {lda}, {ldb}, {ldc} too small for {m}×{depth}·{depth}×{n}");
        if (a.Length < (long)(m - 1) * lda + depth || b.Length < (long)(depth - 1) * ldb + n || c.Length < (long)(m - 1) * ldc + n)
            throw new ArgumentException($"spans too short for {m}×{depth}·{depth}×{n}: A {a.Length}, B {b.Length}, C {c.Length}");
        if ((int)width < 0) width = Simd.Simd.Best;
        // Large products run in bands on the calling thread and the thread pool: bands of rows, or of columns for short
        // wide products (a chunk of rows against every class). Each element's sum runs over k in the same order in
        // every band and at every width (the vector tiles and the scalar tails agree to the bit), so the result does not
        // depend on the split.
        int nr = 2 * (width switch { SimdWidth.V512 => 8, SimdWidth.V256 => 4, _ => 2 });
        bool byColumns = n > m && n / nr >= 2;
        int chunks = (long)m * n * depth < ParallelWork ? 1 : Math.Min(Environment.ProcessorCount, Math.Max(1, byColumns ? n / nr : m / MR));
        if (chunks == 1)
        {
            Serial(a, lda, b, ldb, c, ldc, m, depth, n, width);
            return;
        }
        int band = byColumns ? Gemm.RoundUp((n + chunks - 1) / chunks, nr) : Gemm.RoundUp((m + chunks - 1) / chunks, MR);
        fixed (double* pa = a, pb = b, pc = c)
        {
            Job job = Job.ForThisThread;
            job.A = pa;
            job.B = pb;
            job.C = pc;
            (job.ALength, job.Lda, job.BLength, job.Ldb, job.CLength, job.Ldc) = (a.Length, lda, b.Length, ldb, c.Length, ldc);
            (job.M, job.Depth, job.N, job.Band, job.ByColumns, job.Width) = (m, depth, n, band, byColumns, width);
            try
            {
                job.Run(chunks);
            }
            finally
            {
                job.A = job.B = job.C = null;
            }
        }
    }

    /// <summary>Products of at least this many multiply-adds are split between the cores (about 0.7 ms of work on one: below it, waking a second thread cost more than it saved, measured on 64-column covariance products).</summary>
    private const long ParallelWork = 1L << 25;

    /// <summary>The bands of one product for <see cref="RangeJob"/> (pinned pointers: valid only inside MultiplyAdd).</summary>
    private sealed unsafe class Job : RangeJob<Job>
    {
        public double* A, B, C;
        public int ALength, BLength, CLength, Lda, Ldb, Ldc, M, Depth, N, Band;
        public bool ByColumns;
        public SimdWidth Width;

        protected override double RunPart(int part)
        {
            var a = new ReadOnlySpan<double>(A, ALength);
            var b = new ReadOnlySpan<double>(B, BLength);
            var c = new Span<double>(C, CLength);
            int start = part * Band;
            if (ByColumns && start < N) Serial(a, Lda, b[start..], Ldb, c[start..], Ldc, M, Depth, Math.Min(Band, N - start), Width);
            else if (!ByColumns && start < M) Serial(a[(start * Lda)..], Lda, b, Ldb, c[(start * Ldc)..], Ldc, Math.Min(Band, M - start), Depth, N, Width);
            return 0;
        }
    }

    /// <summary>C += A·B on one thread (checked and with the width resolved by <see cref="MultiplyAdd"/>).</summary>
    private static void Serial(ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, Span<double> c, int ldc,
        int m, int depth, int n, SimdWidth width)
    {
        // 128-bit lanes only with FMA in hardware (ARM64): without it, Vector128.FusedMultiplyAdd is a software call per lane.
        int lanes = width switch { SimdWidth.V512 => 8, SimdWidth.V256 => 4, SimdWidth.V128 when SimdCapabilities.HardwareFma => 2, _ => 0 };
        int nr = 2 * lanes;
        int nVec = lanes == 0 ? 0 : n / nr * nr;   // columns covered by full tiles

        Span<double> panel = stackalloc double[lanes == 0 ? 0 : KC * nr];
        if (lanes != 0 && (long)m * depth <= ShortA)
        {
            // A short A (a chunk of rows) stays in L2 whole: each panel of columns runs through every depth block
            // before the next, so its C tile stays in cache instead of being read and written once per depth block
            // (64 × 512 against 100000 columns moved C's 51 MB eight times). Each element's sum still runs over k in
            // order, so the bits are those of the loop below.
            for (int j = 0; j < nVec; j += nr)
                for (int k0 = 0; k0 < depth; k0 += KC)
                {
                    int kc = Math.Min(KC, depth - k0);
                    PanelTimesRows(a, lda, b, ldb, c, ldc, 0, m, k0, kc, j, nr, lanes, panel);
                }
            if (nVec < n)
                for (int k0 = 0; k0 < depth; k0 += KC) ScalarBlock(a, lda, b, ldb, c, ldc, 0, m, k0, Math.Min(KC, depth - k0), nVec, n);
            return;
        }
        for (int k0 = 0; k0 < depth; k0 += KC)
        {
            int kc = Math.Min(KC, depth - k0);
            // Blocks of MC rows: their kc columns of A (256 KiB) stay in L2 while every panel passes over them. One pass
            // of all rows per panel streamed A from memory n/nr times per depth block: a tall product (100000 × 512
            // against 64 columns) ran at 53 GFLOP/s.
            for (int i0 = 0; i0 < m; i0 += MC)
            {
                int i1 = Math.Min(m, i0 + MC);
                for (int j = 0; j < nVec; j += nr) PanelTimesRows(a, lda, b, ldb, c, ldc, i0, i1, k0, kc, j, nr, lanes, panel);
            }
            if (nVec < n) ScalarBlock(a, lda, b, ldb, c, ldc, 0, m, k0, kc, nVec, n);
        }
    }

    /// <summary>
    /// C[i0..i1, j..j + nr) += A[i0..i1, k0..k0 + kc)·B[k0.., j..]: the panel of B packed, then 4-row tiles (the rows left
    /// over by the scalar specification).
    /// </summary>
    private static void PanelTimesRows(ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, Span<double> c, int ldc,
        int i0, int i1, int k0, int kc, int j, int nr, int lanes, Span<double> panel)
    {
        // Pack the kc×nr panel of B contiguously: B's rows are often 2ᵏ doubles apart (N = 8192 is 64 KiB), which puts
        // every row of the panel in the same L1 set.
        for (int k = 0; k < kc; k++) b.Slice((k0 + k) * ldb + j, nr).CopyTo(panel.Slice(k * nr, nr));
        ref readonly double pb = ref panel[0];
        int i = i0;
        for (; i + MR <= i1; i += MR)
        {
            ref readonly double pa = ref a[i * lda + k0];
            ref double pc = ref c[i * ldc + j];
            if (lanes == 8) Tile512(in pa, lda, in pb, nr, ref pc, ldc, kc);
            else if (lanes == 4) Tile256(in pa, lda, in pb, nr, ref pc, ldc, kc);
            else Tile128(in pa, lda, in pb, nr, ref pc, ldc, kc);
        }
        for (; i < i1; i++) ScalarBlock(a, lda, b, ldb, c, ldc, i, i + 1, k0, kc, j, j + nr);
    }

    /// <summary>The specification: rows [i0, i1), columns [j0, j1), depth [k0, k0 + kc), one FMA per term in k order.</summary>
    private static void ScalarBlock(ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, Span<double> c, int ldc,
        int i0, int i1, int k0, int kc, int j0, int j1)
    {
        for (int i = i0; i < i1; i++)
            for (int j = j0; j < j1; j++)
            {
                double s = c[i * ldc + j];
                for (int k = k0; k < k0 + kc; k++) s = Math.FusedMultiplyAdd(a[i * lda + k], b[k * ldb + j], s);
                c[i * ldc + j] = s;
            }
    }

    // 4×16 tile: rows r of A (stride lda), a KC-deep panel of B (stride ldb), C (stride ldc).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile512(ref readonly double a, int lda, ref readonly double b, int ldb, ref double c, int ldc, int kc)
    {
        ref double a0 = ref Unsafe.AsRef(in a);
        ref double a1 = ref Unsafe.Add(ref a0, lda), a2 = ref Unsafe.Add(ref a0, 2 * lda), a3 = ref Unsafe.Add(ref a0, 3 * lda);
        ref double pb = ref Unsafe.AsRef(in b);
        ref double c0 = ref c, c1 = ref Unsafe.Add(ref c, ldc), c2 = ref Unsafe.Add(ref c, 2 * ldc), c3 = ref Unsafe.Add(ref c, 3 * ldc);
        Vector512<double> x00 = Vector512.LoadUnsafe(ref c0), x01 = Vector512.LoadUnsafe(ref c0, 8);
        Vector512<double> x10 = Vector512.LoadUnsafe(ref c1), x11 = Vector512.LoadUnsafe(ref c1, 8);
        Vector512<double> x20 = Vector512.LoadUnsafe(ref c2), x21 = Vector512.LoadUnsafe(ref c2, 8);
        Vector512<double> x30 = Vector512.LoadUnsafe(ref c3), x31 = Vector512.LoadUnsafe(ref c3, 8);
        for (int k = 0; k < kc; k++)
        {
            ref double row = ref Unsafe.Add(ref pb, k * ldb);
            Vector512<double> b0 = Vector512.LoadUnsafe(ref row), b1 = Vector512.LoadUnsafe(ref row, 8);
            var s = Vector512.Create(Unsafe.Add(ref a0, k));
            x00 = Vector512.FusedMultiplyAdd(s, b0, x00); x01 = Vector512.FusedMultiplyAdd(s, b1, x01);
            s = Vector512.Create(Unsafe.Add(ref a1, k));
            x10 = Vector512.FusedMultiplyAdd(s, b0, x10); x11 = Vector512.FusedMultiplyAdd(s, b1, x11);
            s = Vector512.Create(Unsafe.Add(ref a2, k));
            x20 = Vector512.FusedMultiplyAdd(s, b0, x20); x21 = Vector512.FusedMultiplyAdd(s, b1, x21);
            s = Vector512.Create(Unsafe.Add(ref a3, k));
            x30 = Vector512.FusedMultiplyAdd(s, b0, x30); x31 = Vector512.FusedMultiplyAdd(s, b1, x31);
        }
        x00.StoreUnsafe(ref c0); x01.StoreUnsafe(ref c0, 8);
        x10.StoreUnsafe(ref c1); x11.StoreUnsafe(ref c1, 8);
        x20.StoreUnsafe(ref c2); x21.StoreUnsafe(ref c2, 8);
        x30.StoreUnsafe(ref c3); x31.StoreUnsafe(ref c3, 8);
    }

    // 4×4 tile on 128-bit lanes (ARM64): the same schedule.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile128(ref readonly double a, int lda, ref readonly double b, int ldb, ref double c, int ldc, int kc)
    {
        ref double a0 = ref Unsafe.AsRef(in a);
        ref double a1 = ref Unsafe.Add(ref a0, lda), a2 = ref Unsafe.Add(ref a0, 2 * lda), a3 = ref Unsafe.Add(ref a0, 3 * lda);
        ref double pb = ref Unsafe.AsRef(in b);
        ref double c0 = ref c, c1 = ref Unsafe.Add(ref c, ldc), c2 = ref Unsafe.Add(ref c, 2 * ldc), c3 = ref Unsafe.Add(ref c, 3 * ldc);
        Vector128<double> x00 = Vector128.LoadUnsafe(ref c0), x01 = Vector128.LoadUnsafe(ref c0, 2);
        Vector128<double> x10 = Vector128.LoadUnsafe(ref c1), x11 = Vector128.LoadUnsafe(ref c1, 2);
        Vector128<double> x20 = Vector128.LoadUnsafe(ref c2), x21 = Vector128.LoadUnsafe(ref c2, 2);
        Vector128<double> x30 = Vector128.LoadUnsafe(ref c3), x31 = Vector128.LoadUnsafe(ref c3, 2);
        for (int k = 0; k < kc; k++)
        {
            ref double row = ref Unsafe.Add(ref pb, k * ldb);
            Vector128<double> b0 = Vector128.LoadUnsafe(ref row), b1 = Vector128.LoadUnsafe(ref row, 2);
            var s = Vector128.Create(Unsafe.Add(ref a0, k));
            x00 = Vector128.FusedMultiplyAdd(s, b0, x00); x01 = Vector128.FusedMultiplyAdd(s, b1, x01);
            s = Vector128.Create(Unsafe.Add(ref a1, k));
            x10 = Vector128.FusedMultiplyAdd(s, b0, x10); x11 = Vector128.FusedMultiplyAdd(s, b1, x11);
            s = Vector128.Create(Unsafe.Add(ref a2, k));
            x20 = Vector128.FusedMultiplyAdd(s, b0, x20); x21 = Vector128.FusedMultiplyAdd(s, b1, x21);
            s = Vector128.Create(Unsafe.Add(ref a3, k));
            x30 = Vector128.FusedMultiplyAdd(s, b0, x30); x31 = Vector128.FusedMultiplyAdd(s, b1, x31);
        }
        x00.StoreUnsafe(ref c0); x01.StoreUnsafe(ref c0, 2);
        x10.StoreUnsafe(ref c1); x11.StoreUnsafe(ref c1, 2);
        x20.StoreUnsafe(ref c2); x21.StoreUnsafe(ref c2, 2);
        x30.StoreUnsafe(ref c3); x31.StoreUnsafe(ref c3, 2);
    }

    // 4×8 tile on 256-bit lanes: the same schedule.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile256(ref readonly double a, int lda, ref readonly double b, int ldb, ref double c, int ldc, int kc)
    {
        ref double a0 = ref Unsafe.AsRef(in a);
        ref double a1 = ref Unsafe.Add(ref a0, lda), a2 = ref Unsafe.Add(ref a0, 2 * lda), a3 = ref Unsafe.Add(ref a0, 3 * lda);
        ref double pb = ref Unsafe.AsRef(in b);
        ref double c0 = ref c, c1 = ref Unsafe.Add(ref c, ldc), c2 = ref Unsafe.Add(ref c, 2 * ldc), c3 = ref Unsafe.Add(ref c, 3 * ldc);
        Vector256<double> x00 = Vector256.LoadUnsafe(ref c0), x01 = Vector256.LoadUnsafe(ref c0, 4);
        Vector256<double> x10 = Vector256.LoadUnsafe(ref c1), x11 = Vector256.LoadUnsafe(ref c1, 4);
        Vector256<double> x20 = Vector256.LoadUnsafe(ref c2), x21 = Vector256.LoadUnsafe(ref c2, 4);
        Vector256<double> x30 = Vector256.LoadUnsafe(ref c3), x31 = Vector256.LoadUnsafe(ref c3, 4);
        for (int k = 0; k < kc; k++)
        {
            ref double row = ref Unsafe.Add(ref pb, k * ldb);
            Vector256<double> b0 = Vector256.LoadUnsafe(ref row), b1 = Vector256.LoadUnsafe(ref row, 4);
            var s = Vector256.Create(Unsafe.Add(ref a0, k));
            x00 = Vector256.FusedMultiplyAdd(s, b0, x00); x01 = Vector256.FusedMultiplyAdd(s, b1, x01);
            s = Vector256.Create(Unsafe.Add(ref a1, k));
            x10 = Vector256.FusedMultiplyAdd(s, b0, x10); x11 = Vector256.FusedMultiplyAdd(s, b1, x11);
            s = Vector256.Create(Unsafe.Add(ref a2, k));
            x20 = Vector256.FusedMultiplyAdd(s, b0, x20); x21 = Vector256.FusedMultiplyAdd(s, b1, x21);
            s = Vector256.Create(Unsafe.Add(ref a3, k));
            x30 = Vector256.FusedMultiplyAdd(s, b0, x30); x31 = Vector256.FusedMultiplyAdd(s, b1, x31);
        }
        x00.StoreUnsafe(ref c0); x01.StoreUnsafe(ref c0, 4);
        x10.StoreUnsafe(ref c1); x11.StoreUnsafe(ref c1, 4);
        x20.StoreUnsafe(ref c2); x21.StoreUnsafe(ref c2, 4);
        x30.StoreUnsafe(ref c3); x31.StoreUnsafe(ref c3, 4);
    }
}
