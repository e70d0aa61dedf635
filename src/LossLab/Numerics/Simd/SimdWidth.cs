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
