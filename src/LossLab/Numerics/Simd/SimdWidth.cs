using System.Runtime.Intrinsics;

namespace LossLab.Numerics.Simd;

/// <summary>The lane width a kernel runs with; tests force each one (the hardware runs the others in software).</summary>
public enum SimdWidth
{
    /// <summary>The scalar specification, also what runs when hardware intrinsics are disabled.</summary>
    Scalar,
    V128,
    V256,
    V512,
}

internal static class Simd
{
    /// <summary>The widest accelerated width (<c>DOTNET_EnableHWIntrinsic=0</c> makes this <see cref="SimdWidth.Scalar"/>).</summary>
    public static SimdWidth Best { get; } =
        Vector512.IsHardwareAccelerated ? SimdWidth.V512
        : Vector256.IsHardwareAccelerated ? SimdWidth.V256
        : Vector128.IsHardwareAccelerated ? SimdWidth.V128
        : SimdWidth.Scalar;

    /// <summary>
    /// How many threads a kernel uses: <paramref name="requested"/> when positive, otherwise every core when the
    /// work (elements touched) reaches <paramref name="threshold"/> (below it, waking a second core costs more
    /// than it saves), never more than <paramref name="maxParts"/>.
    /// </summary>
    public static int Threads(int requested, long work, long threshold, int maxParts)
    {
        if (requested < 0) throw LossArgumentException.Value($"threads must be ≥ 0 (0 = automatic), got {requested}");
        int t = requested > 0 ? requested : work >= threshold ? Environment.ProcessorCount : 1;
        return Math.Max(1, Math.Min(t, maxParts));
    }

    /// <summary>
    /// How many floats from <paramref name="p"/> to the first address aligned to <paramref name="n"/> floats (0 when
    /// p is aligned): the head that goes before aligned (non-temporal) stores of n-float vectors.
    /// </summary>
    public static unsafe int FloatsToAlignment(float* p, int n) => (int)((nuint)(n - (int)((nuint)p / sizeof(float) % (nuint)n)) % (nuint)n);
}

/// <summary>What the fused kernels run with on this machine (what <c>losslab bench</c> reports next to its timings).</summary>
public static class SimdCapabilities
{
    /// <summary>The lane width of the fused kernels: the widest accelerated one, <see cref="SimdWidth.Scalar"/> with hardware intrinsics off.</summary>
    public static SimdWidth Width => Simd.Best;

    /// <summary>
    /// Whether vector fused multiply-adds run in hardware (x86 FMA3 or ARM AdvSimd). Without them (x86 before FMA3, or
    /// <c>DOTNET_EnableAVX2=0</c>) the kernels multiply and add separately (two roundings, still within their error
    /// bounds) instead of calling a software FMA per lane, which was slower than the scalar specification.
    /// </summary>
    public static bool HardwareFma => System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported;

    /// <summary>A short description, e.g. "256-bit lanes (V256), hardware FMA".</summary>
    public static string Describe() => Width switch
    {
        SimdWidth.Scalar => "scalar (hardware intrinsics off or unavailable)",
        SimdWidth w => $"{(w == SimdWidth.V512 ? 512 : w == SimdWidth.V256 ? 256 : 128)}-bit lanes ({w}), {(HardwareFma ? "hardware FMA" : "no hardware FMA (multiply-adds round twice)")}",
    };
}
