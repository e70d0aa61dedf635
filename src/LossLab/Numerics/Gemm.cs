using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using LossLab.Numerics.Simd;

namespace LossLab.Numerics;

/// <summary>
/// Single-precision matrix multiply C = A·B (row-major; A m×k, B k×n, C m×n), cache-blocked with packed panels and
/// an 8×32 register-blocked Vector512 FMA micro-kernel (4×16 Vector256 tiles on machines without AVX-512; scalar fallback).
/// </summary>
/// <remarks>
/// Blocking (BLIS order): for each NC columns and KC depth, B is packed into KC×32 micro-panels (one stays in L1);
/// for each MC rows, A is packed into 8×KC micro-panels (the block stays in L2); the micro-kernel keeps a 8×32 tile of
/// C in 16 zmm registers and does 16 FMAs per k. Edges are zero-padded in the packed panels. Packing buffers come
/// from the shared array pool (fresh memory costs a page fault per 4 KiB here). Each C element is accumulated in the
/// same order whatever the thread count, so results are deterministic. Above m·n·k = 2²¹ every core takes a band
/// of rows. The micro-kernels are in <c>Gemm.Kernels.cs</c>.
/// </remarks>
public static partial class Gemm
{
    private const int MR = 8, NR = 32, KC = 256, MC = 128, NC = 2048;

    /// <summary>Products at least this large (m·n·k) use every core.</summary>
    public const long ParallelThreshold = 1L << 21;

    /// <summary>C = A·B, or C += A·B with <paramref name="accumulate"/>.</summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate = false, int? threads = null)
        => Multiply(a, false, b, false, c, m, k, n, accumulate, threads);

    /// <summary>The array form: C (+)= A·B.</summary>
    public static void Multiply(float[] aArr, float[] bArr, float[] cArr, int m, int k, int n, bool accumulate, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(aArr);
        ArgumentNullException.ThrowIfNull(bArr);
        ArgumentNullException.ThrowIfNull(cArr);
        Multiply(aArr, false, bArr, false, cArr, m, k, n, accumulate, threads);
    }

    /// <summary>
    /// C (+)= op(A)·op(B) with op(X) = Xᵀ when its flag is set: A is stored m×k (k×m when transposed), B k×n (n×k when
    /// transposed), C m×n, all row-major and compact. Transposition is absorbed by the packing, so A·Bᵀ (a linear
    /// layer's logits H·Wᵀ) and Aᵀ·B (its weight gradient Gᵀ·H) cost the same as A·B.
    /// </summary>
    public static unsafe void Multiply(ReadOnlySpan<float> a, bool transposeA, ReadOnlySpan<float> b, bool transposeB, Span<float> c, int m, int k, int n, bool accumulate = false, int? threads = null)
    {
        if (m < 0 || k < 0 || n < 0) throw new ArgumentOutOfRangeException(nameof(m), $"matrix sizes must be ≥ 0, got {m}×{k}·{k}×{n}");
        if (a.Length < (long)m * k || b.Length < (long)k * n || c.Length < (long)m * n)
        {
            throw new ArgumentException($"spans too short for {m}×{k} · {k}×{n}: A {a.Length}, B {b.Length}, C {c.Length}");
        }
        if (!accumulate) c[..(m * n)].Clear();
        if (m == 0 || n == 0 || k == 0) return;
        fixed (float* pa = a, pb = b, pc = c)
        {
            var A = new Operand(pa, transposeA ? m : k, transposeA);
            var B = new Operand(pb, transposeB ? k : n, transposeB);
            if (!Vector512.IsHardwareAccelerated && !Vector256.IsHardwareAccelerated && !Lanes128)
            {
                Reference(A, B, pc, m, k, n);
                return;
            }
            int workers = Math.Max(1, threads ?? ((long)m * n * k >= ParallelThreshold ? Environment.ProcessorCount : 1));
            // Split the larger side: bands of rows (each thread packs its own B panels), or, for short wide products
            // such as a chunk of a linear layer's logits (m ≪ n), bands of columns, so that no thread packs all of B.
            bool byColumns = n > m && n / NR >= 2;
            int chunks = Math.Min(workers, Math.Max(1, byColumns ? n / NR : m / MR));
            if (chunks == 1)
            {
                Serial(A, B, pc, n, 0, m, 0, n, k);
                return;
            }
            int band = byColumns ? RoundUp((n + chunks - 1) / chunks, NR) : RoundUp((m + chunks - 1) / chunks, MR);
            // The bands run on the calling thread and the thread pool through a cached job: no allocation per call.
            Job job = Job.ForThisThread;
            job.A = A;
            job.B = B;
            job.C = pc;
            (job.M, job.N, job.K, job.Band, job.ByColumns) = (m, n, k, band, byColumns);
            try
            {
                job.Run(chunks);
            }
            finally
            {
                job.C = null;
                job.A = job.B = default;
            }
        }
    }

    /// <summary>The bands of one product for <see cref="RangeJob"/> (pinned pointers: valid only inside Multiply).</summary>
    private sealed unsafe class Job : RangeJob<Job>
    {
        public Operand A, B;
        public float* C;
        public int M, N, K, Band;
        public bool ByColumns;

        protected override double RunPart(int part)
        {
            int start = part * Band;
            if (ByColumns && start < N) Serial(A, B, C, N, 0, M, start, Math.Min(Band, N - start), K);
            else if (!ByColumns && start < M) Serial(A, B, C, N, start, Math.Min(Band, M - start), 0, N, K);
            return 0;
        }
    }

    /// <summary>A stored matrix: element (i, j) of the logical matrix is P[i·Ld + j], or P[j·Ld + i] when transposed.</summary>
    private readonly unsafe struct Operand(float* p, int ld, bool transposed)
    {
        public readonly float* P = p;
        public readonly int Ld = ld;
        public readonly bool Transposed = transposed;

        public float this[int i, int j] => Transposed ? P[(long)j * Ld + i] : P[(long)i * Ld + j];
    }

    private static unsafe void Reference(Operand a, Operand b, float* c, int m, int k, int n)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float s = c[(long)i * n + j];
                for (int p = 0; p < k; p++) s = MathF.FusedMultiplyAdd(a[i, p], b[p, j], s);
                c[(long)i * n + j] = s;
            }
    }

    /// <summary>
    /// C[row0.., col0..] += A·B for a band of rows × columns on one thread (C's row stride <paramref name="ldc"/>), with
    /// pooled packing buffers (no page faults per call). Each element's sum runs over k in the same order whatever the band.
    /// </summary>
    private static unsafe void Serial(Operand a, Operand b, float* c, int ldc, int row0, int rows, int col0, int cols, int k)
    {
        float[] packedB = System.Buffers.ArrayPool<float>.Shared.Rent(KC * RoundUp(Math.Min(NC, cols), NR));
        float[] packedA = System.Buffers.ArrayPool<float>.Shared.Rent(MC * KC);
        try
        {
            for (int jc = col0; jc < col0 + cols; jc += NC)
            {
                int nc = Math.Min(NC, col0 + cols - jc);
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kc = Math.Min(KC, k - pc);
                    PackB(b, pc, jc, kc, nc, packedB);
                    for (int ic = 0; ic < rows; ic += MC) Block(a, c, packedA, packedB, ldc, row0 + ic, jc, pc, Math.Min(MC, rows - ic), kc, nc);
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(packedA);
            System.Buffers.ArrayPool<float>.Shared.Return(packedB);
        }
    }

    /// <summary>The scalar specification: C (+)= A·B, accumulating each element over k in order.</summary>
    public static void MultiplyReference(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate = false)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float s = accumulate ? c[i * n + j] : 0;
                for (int p = 0; p < k; p++) s = MathF.FusedMultiplyAdd(a[i * k + p], b[p * n + j], s);
                c[i * n + j] = s;
            }
    }

    /// <summary>v rounded up to a multiple of <paramref name="multiple"/> (band and panel sizes; GemmF64 uses it too).</summary>
    internal static int RoundUp(int v, int multiple) => (v + multiple - 1) / multiple * multiple;

    /// <summary>B[pc..pc+kc, jc..jc+nc] into micro-panels of NR columns: panel j holds kc rows of NR values, zero-padded.</summary>
    private static unsafe void PackB(Operand b, int pc, int jc, int kc, int nc, float[] packed)
    {
        for (int jr = 0; jr < nc; jr += NR)
        {
            int cols = Math.Min(NR, nc - jr);
            int panel = jr * kc;
            if (!b.Transposed)
            {
                for (int p = 0; p < kc; p++)
                {
                    int dst = panel + p * NR;
                    new ReadOnlySpan<float>(b.P + (long)(pc + p) * b.Ld + jc + jr, cols).CopyTo(packed.AsSpan(dst, cols));
                    if (cols < NR) packed.AsSpan(dst + cols, NR - cols).Clear();
                }
            }
            else
            {
                // Bᵀ stored: column j of B is a contiguous row of the storage. Blocks of 8 columns × 8 k are transposed in
                // registers (8 row loads, 24 shuffles, 8 stores: an element-by-element strided copy made the packing
                // cost a quarter of a short product's time); the ragged edges go element by element.
                if (cols < NR) packed.AsSpan(panel, kc * NR).Clear();
                int j8 = Avx.IsSupported ? cols & ~7 : 0, p8 = kc & ~7;
                fixed (float* dst = &packed[panel])
                {
                    for (int j = 0; j < cols; j++)
                    {
                        float* src = b.P + (long)(jc + jr + j) * b.Ld + pc;
                        if (j < j8 && (j & 7) == 0)
                        {
                            for (int p = 0; p < p8; p += 8) Transpose8x8(src + p, b.Ld, dst + p * NR + j, NR);
                        }
                        for (int p = j < j8 ? p8 : 0; p < kc; p++) dst[p * NR + j] = src[p];
                    }
                }
            }
        }
    }

    /// <summary>dst[p·ldd + i] = src[i·lds + p] for i, p in 0..7 (the classic unpack / shuffle / permute transpose).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Transpose8x8(float* src, int lds, float* dst, int ldd)
    {
        Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + lds), r2 = Avx.LoadVector256(src + 2L * lds), r3 = Avx.LoadVector256(src + 3L * lds);
        Vector256<float> r4 = Avx.LoadVector256(src + 4L * lds), r5 = Avx.LoadVector256(src + 5L * lds), r6 = Avx.LoadVector256(src + 6L * lds), r7 = Avx.LoadVector256(src + 7L * lds);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2L * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3L * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4L * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5L * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6L * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7L * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>A[ic..ic+mc, pc..pc+kc] into micro-panels of MR rows stored k-major (MR values per k), zero-padded.</summary>
    private static unsafe void PackA(Operand a, int ic, int pc, int mc, int kc, float[] packed)
    {
        fixed (float* pk = packed)
        {
            for (int ir = 0; ir < mc; ir += MR)
            {
                int rows = Math.Min(MR, mc - ir);
                float* panel = pk + ir * kc;
                if (!a.Transposed)
                {
                    // Read each row of A contiguously, write it with stride MR (k-major panel): a full panel is a run of
                    // 8×8 transposes in registers, the ragged ones go element by element.
                    int p8 = Avx.IsSupported && rows == MR ? kc & ~7 : 0;
                    float* src0 = a.P + (long)(ic + ir) * a.Ld + pc;
                    for (int p = 0; p < p8; p += 8) Transpose8x8(src0 + p, a.Ld, panel + p * MR, MR);
                    for (int r = 0; r < MR; r++)
                    {
                        float* src = src0 + (long)r * a.Ld;
                        if (r < rows) for (int p = p8; p < kc; p++) panel[p * MR + r] = src[p];
                        else for (int p = p8; p < kc; p++) panel[p * MR + r] = 0;
                    }
                }
                else
                {
                    // Aᵀ stored: for each k the MR row values are contiguous in the storage, already the panel's order.
                    for (int p = 0; p < kc; p++)
                    {
                        float* src = a.P + (long)(pc + p) * a.Ld + ic + ir;
                        float* dst = panel + p * MR;
                        if (rows == MR && MR == 8)
                        {
                            Vector256.Store(Vector256.Load(src), dst);
                            continue;
                        }
                        for (int r = 0; r < rows; r++) dst[r] = src[r];
                        for (int r = rows; r < MR; r++) dst[r] = 0;
                    }
                }
            }
        }
    }

    private static unsafe void Block(Operand a, float* c, float[] packedA, float[] packedB, int n, int ic, int jc, int pc, int mc, int kc, int nc)
    {
        PackA(a, ic, pc, mc, kc, packedA);
        Span<float> tile = stackalloc float[MR * NR];
        for (int jr = 0; jr < nc; jr += NR)
        {
            int cols = Math.Min(NR, nc - jr);
            for (int ir = 0; ir < mc; ir += MR)
            {
                int rows = Math.Min(MR, mc - ir);
                ref float ap = ref packedA[ir * kc];
                ref float bp = ref packedB[jr * kc];
                float* ct = c + (long)(ic + ir) * n + jc + jr;
                if (rows == MR && cols == NR)
                {
                    Kernel(ref ap, ref bp, kc, ref *ct, n);
                }
                else
                {
                    // Edge tile: compute into a zeroed scratch tile, then add the valid part.
                    tile.Clear();
                    Kernel(ref ap, ref bp, kc, ref tile[0], NR);
                    for (int r = 0; r < rows; r++)
                        for (int j = 0; j < cols; j++) ct[(long)r * n + j] += tile[r * NR + j];
                }
            }
        }
    }
}
