using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using LossLab.Numerics.Simd;

namespace LossLab.Numerics;

/// <summary>The register-blocked micro-kernels of <see cref="Gemm"/>: 8×32 tiles on 512- and 256-bit lanes, 128-bit lanes with FMA.</summary>
public static partial class Gemm
{
    /// <summary>
    /// 128-bit lanes with hardware FMA (ARM64, where Vector256 is not accelerated): the blocked product rather than
    /// the reference's column walk. x86 without AVX2 has no FMA units in .NET's view and keeps the reference, whose
    /// single rounding per term it would otherwise lose.
    /// </summary>
    private static bool Lanes128 => Vector128.IsHardwareAccelerated && SimdCapabilities.HardwareFma;

    /// <summary>Tests: run the 128-bit micro-kernel on this thread even where a wider one is available.</summary>
    [ThreadStatic] internal static bool Force128OnThisThread;

    /// <summary>C[8×32] += Ap (8×kc, k-major) · Bp (kc×32): 16 accumulators in registers, 16 FMAs per k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel(ref float ap, ref float bp, int kc, ref float c, int ldc)
    {
        if (Force128OnThisThread || !Vector256.IsHardwareAccelerated)
        {
            Kernel128(ref ap, ref bp, kc, ref c, ldc);
            return;
        }
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
            Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
            for (int p = 0; p < kc; p++)
            {
                Vector512<float> b0 = Vector512.LoadUnsafe(ref bp, (nuint)(p * NR));
                Vector512<float> b1 = Vector512.LoadUnsafe(ref bp, (nuint)(p * NR + 16));
                ref float ak = ref Unsafe.Add(ref ap, p * MR);
                Vector512<float> x = Vector512.Create(ak);
                c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
                x = Vector512.Create(Unsafe.Add(ref ak, 1));
                c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
                x = Vector512.Create(Unsafe.Add(ref ak, 2));
                c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
                x = Vector512.Create(Unsafe.Add(ref ak, 3));
                c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
                x = Vector512.Create(Unsafe.Add(ref ak, 4));
                c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
                x = Vector512.Create(Unsafe.Add(ref ak, 5));
                c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
                x = Vector512.Create(Unsafe.Add(ref ak, 6));
                c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
                x = Vector512.Create(Unsafe.Add(ref ak, 7));
                c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            }
            Store(ref c, 0, ldc, c00, c01); Store(ref c, 1, ldc, c10, c11); Store(ref c, 2, ldc, c20, c21); Store(ref c, 3, ldc, c30, c31);
            Store(ref c, 4, ldc, c40, c41); Store(ref c, 5, ldc, c50, c51); Store(ref c, 6, ldc, c60, c61); Store(ref c, 7, ldc, c70, c71);
            return;
        }
        // 256 bits: four rows by sixteen columns at a time (8 accumulators, 2 loads of B, 1 broadcast: 11 of the 16
        // ymm registers). Eight rows at once needed 19 and spilled four accumulators to the stack every step (67 % of
        // the FMA peak on an AVX2 host). Each element still sums its k terms in order, so results are unchanged.
        for (int half = 0; half < NR; half += 16)
        {
            for (int r0 = 0; r0 < MR; r0 += 4)
            {
                Vector256<float> d00 = default, d01 = default, d10 = default, d11 = default, d20 = default, d21 = default, d30 = default, d31 = default;
                for (int p = 0; p < kc; p++)
                {
                    Vector256<float> b0 = Vector256.LoadUnsafe(ref bp, (nuint)(p * NR + half));
                    Vector256<float> b1 = Vector256.LoadUnsafe(ref bp, (nuint)(p * NR + half + 8));
                    ref float ak = ref Unsafe.Add(ref ap, p * MR + r0);
                    Vector256<float> x = Vector256.Create(ak);
                    d00 = Vector256.FusedMultiplyAdd(x, b0, d00); d01 = Vector256.FusedMultiplyAdd(x, b1, d01);
                    x = Vector256.Create(Unsafe.Add(ref ak, 1));
                    d10 = Vector256.FusedMultiplyAdd(x, b0, d10); d11 = Vector256.FusedMultiplyAdd(x, b1, d11);
                    x = Vector256.Create(Unsafe.Add(ref ak, 2));
                    d20 = Vector256.FusedMultiplyAdd(x, b0, d20); d21 = Vector256.FusedMultiplyAdd(x, b1, d21);
                    x = Vector256.Create(Unsafe.Add(ref ak, 3));
                    d30 = Vector256.FusedMultiplyAdd(x, b0, d30); d31 = Vector256.FusedMultiplyAdd(x, b1, d31);
                }
                ref float ch = ref Unsafe.Add(ref c, half);
                Store(ref ch, r0, ldc, d00, d01); Store(ref ch, r0 + 1, ldc, d10, d11);
                Store(ref ch, r0 + 2, ldc, d20, d21); Store(ref ch, r0 + 3, ldc, d30, d31);
            }
        }
    }

    /// <summary>
    /// The 8×32 tile on 128-bit lanes as eight 4×8 tiles: 8 accumulators, 2 loads of B and a broadcast, 11 registers,
    /// which fit x86's 16 and leave ARM64 room. Each element sums its k terms in order, as the wider kernels do, so
    /// the product is the same bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void Kernel128(ref float ap, ref float bp, int kc, ref float c, int ldc)
    {
        for (int q = 0; q < NR; q += 8)
        {
            for (int r0 = 0; r0 < MR; r0 += 4)
            {
                Vector128<float> d00 = default, d01 = default, d10 = default, d11 = default, d20 = default, d21 = default, d30 = default, d31 = default;
                for (int p = 0; p < kc; p++)
                {
                    Vector128<float> b0 = Vector128.LoadUnsafe(ref bp, (nuint)(p * NR + q));
                    Vector128<float> b1 = Vector128.LoadUnsafe(ref bp, (nuint)(p * NR + q + 4));
                    ref float ak = ref Unsafe.Add(ref ap, p * MR + r0);
                    Vector128<float> x = Vector128.Create(ak);
                    d00 = Vector128.FusedMultiplyAdd(x, b0, d00); d01 = Vector128.FusedMultiplyAdd(x, b1, d01);
                    x = Vector128.Create(Unsafe.Add(ref ak, 1));
                    d10 = Vector128.FusedMultiplyAdd(x, b0, d10); d11 = Vector128.FusedMultiplyAdd(x, b1, d11);
                    x = Vector128.Create(Unsafe.Add(ref ak, 2));
                    d20 = Vector128.FusedMultiplyAdd(x, b0, d20); d21 = Vector128.FusedMultiplyAdd(x, b1, d21);
                    x = Vector128.Create(Unsafe.Add(ref ak, 3));
                    d30 = Vector128.FusedMultiplyAdd(x, b0, d30); d31 = Vector128.FusedMultiplyAdd(x, b1, d31);
                }
                ref float cq = ref Unsafe.Add(ref c, q);
                Store(ref cq, r0, ldc, d00, d01); Store(ref cq, r0 + 1, ldc, d10, d11);
                Store(ref cq, r0 + 2, ldc, d20, d21); Store(ref cq, r0 + 3, ldc, d30, d31);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref float c, int row, int ldc, Vector128<float> lo, Vector128<float> hi)
    {
        ref float r = ref Unsafe.Add(ref c, row * ldc);
        (Vector128.LoadUnsafe(ref r) + lo).StoreUnsafe(ref r);
        (Vector128.LoadUnsafe(ref r, 4) + hi).StoreUnsafe(ref r, 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref float c, int row, int ldc, Vector512<float> lo, Vector512<float> hi)
    {
        ref float r = ref Unsafe.Add(ref c, row * ldc);
        (Vector512.LoadUnsafe(ref r) + lo).StoreUnsafe(ref r);
        (Vector512.LoadUnsafe(ref r, 16) + hi).StoreUnsafe(ref r, 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref float c, int row, int ldc, Vector256<float> lo, Vector256<float> hi)
    {
        ref float r = ref Unsafe.Add(ref c, row * ldc);
        (Vector256.LoadUnsafe(ref r) + lo).StoreUnsafe(ref r);
        (Vector256.LoadUnsafe(ref r, 8) + hi).StoreUnsafe(ref r, 8);
    }
}
