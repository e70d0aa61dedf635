using System.Runtime.CompilerServices;

namespace LossLab.Numerics.Simd;

/// <summary>
/// Vector float exp and log by range reduction and a short polynomial, written once for every lane width.
/// </summary>
/// <remarks>
/// <para><b>Why not <c>Vector512.Exp</c>:</b> on this class of machine it goes through double precision out of line
/// (~2.6 Gelem/s), which alone would cost more than reading the logits from memory; these run at 5–7 Gelem/s.</para>
/// <para><b>exp</b>: n = round(x·log₂e), r = x − n·ln2 with ln2 split in two (Cody–Waite, C1 exact in 9 bits so n·C1
/// is exact), eʳ ≈ 1 + r + r²·P(r) with the degree-5 minimax P of Cephes <c>expf</c> on |r| ≤ ln2/2, then
/// scaled by 2ⁿ as two exact powers of two so that subnormal results round once. Error ≤ 2 ulp over the whole
/// float range (test: a dense sweep against double <c>Math.Exp</c>). x &gt; 88.72 gives +∞, x &lt; −103.97 gives 0,
/// NaN gives NaN.</para>
/// <para><b>log</b>: x = m·2ᵉ with m in [√½, √2), f = m − 1 (exact), log(1 + f) ≈ f − f²/2 + f³·Q(f) with the
/// degree-8 Q of Cephes <c>logf</c>, plus e·ln2 (split). Subnormals are scaled by 2²³ first. log 0 = −∞,
/// log(x &lt; 0) = NaN, log ∞ = ∞.</para>
/// </remarks>
internal static class VMath
{
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
    private const float RoundMagic = 12582912f;   // 1.5·2²³: (v + M) − M rounds v to the nearest integer

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<TV>(TV x) where TV : struct, IVec<TV>
    {
        TV xc = TV.Min(TV.Max(x, TV.Splat(-104f)), TV.Splat(89f));
        TV magic = TV.Splat(RoundMagic);
        TV n = (xc * TV.Splat(Log2E) + magic) - magic;
        TV r = TV.Fma(n, TV.Splat(-Ln2Hi), xc);
        r = TV.Fma(n, TV.Splat(-Ln2Lo), r);
        TV p = TV.Splat(1.9875691500e-4f);
        p = TV.Fma(p, r, TV.Splat(1.3981999507e-3f));
        p = TV.Fma(p, r, TV.Splat(8.3334519073e-3f));
        p = TV.Fma(p, r, TV.Splat(4.1665795894e-2f));
        p = TV.Fma(p, r, TV.Splat(1.6666665459e-1f));
        p = TV.Fma(p, r, TV.Splat(5.0000001201e-1f));
        TV y = TV.Fma(p, r * r, r) + TV.Splat(1f);
        // n ∈ [−150, 129]: two halves each in [−75, 65] keep both scale factors normal.
        TV n1 = (n * TV.Splat(0.5f) + magic) - magic;
        TV result = TV.ScaleByPow2(TV.ScaleByPow2(y, n1), n - n1);
        return TV.Select(TV.IsNaN(x), x, result);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Log<TV>(TV x) where TV : struct, IVec<TV>
    {
        TV subnormal = TV.LessThan(x, TV.Splat(1.17549435e-38f));
        TV xs = TV.Select(subnormal, x * TV.Splat(8388608f), x);
        TV m = TV.Frexp(xs, out TV e);
        e -= TV.Select(subnormal, TV.Splat(23f), TV.Splat(0f));
        TV big = TV.LessThan(TV.Splat(1.41421356f), m);
        m = TV.Select(big, m * TV.Splat(0.5f), m);
        e = TV.Select(big, e + TV.Splat(1f), e);
        TV f = m - TV.Splat(1f);
        TV z = f * f;
        TV q = TV.Splat(7.0376836292e-2f);
        q = TV.Fma(q, f, TV.Splat(-1.1514610310e-1f));
        q = TV.Fma(q, f, TV.Splat(1.1676998740e-1f));
        q = TV.Fma(q, f, TV.Splat(-1.2420140846e-1f));
        q = TV.Fma(q, f, TV.Splat(1.4249322787e-1f));
        q = TV.Fma(q, f, TV.Splat(-1.6668057665e-1f));
        q = TV.Fma(q, f, TV.Splat(2.0000714765e-1f));
        q = TV.Fma(q, f, TV.Splat(-2.4999993993e-1f));
        q = TV.Fma(q, f, TV.Splat(3.3333331174e-1f));
        TV y = q * f * z;
        y = TV.Fma(e, TV.Splat(Ln2Lo), y);
        y = TV.Fma(z, TV.Splat(-0.5f), y);
        TV r = TV.Fma(e, TV.Splat(Ln2Hi), f + y);
        // Special values: 0 → −∞, negative or NaN → NaN, +∞ → +∞.
        r = TV.Select(TV.Equal(x, TV.Splat(0f)), TV.Splat(float.NegativeInfinity), r);
        r = TV.Select(TV.Equal(x, TV.Splat(float.PositiveInfinity)), x, r);
        TV invalid = TV.LessThan(x, TV.Splat(0f)) | TV.IsNaN(x);
        return TV.Select(invalid, TV.Splat(float.NaN), r);
    }

    /// <summary>log(1 + y) for y ≥ −1: u = 1 + y, log u + (y − (u − 1))/u corrects u's rounding (Goldberg); u = 0 gives −∞.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Log1p<TV>(TV y) where TV : struct, IVec<TV>
    {
        TV one = TV.Splat(1f);
        TV u = y + one;
        TV r = Log(u) + (y - (u - one)) / u;
        return TV.Select(TV.Equal(u, TV.Splat(0f)), TV.Splat(float.NegativeInfinity), r);
    }

    /// <summary>softplus(x) = max(x, 0) + log1p(e^−|x|), finite for every finite x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Softplus<TV>(TV x) where TV : struct, IVec<TV>
        => TV.Max(x, TV.Splat(0f)) + Log1p(Exp(-TV.Abs(x)));

    /// <summary>σ(x) = 1/(1 + e^−x): e^−x = ∞ gives exactly 0, never NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Sigmoid<TV>(TV x) where TV : struct, IVec<TV>
        => TV.Splat(1f) / (TV.Splat(1f) + Exp(-x));
}
