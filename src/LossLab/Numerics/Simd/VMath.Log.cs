using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LossLab.Numerics.Simd;

/// <summary>The vector logarithms: the general one, the non-negative one the losses take, and its fast path for normal floats.</summary>
internal static partial class VMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Log<TV>(TV x) where TV : struct, IVec<TV>
    {
        // Common case, every lane positive, normal and finite: no subnormal scaling, no special values.
        if (TV.AllInRange(x, TV.Splat(MinNormal), TV.Splat(float.MaxValue)))
        {
            TV m = TV.Frexp(x, out TV e);
            return LogReduced(m, e);
        }
        return LogWide(x);
    }

    /// <summary><see cref="LogNonNegative{TV}"/> (subnormals, 0 → −∞) plus the rest: negative or NaN → NaN, +∞ → +∞.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]   // a call in a kernel loop would spill every vector register
    private static TV LogWide<TV>(TV x) where TV : struct, IVec<TV>
    {
        TV r = TV.SelectEqual(x, TV.Splat(float.PositiveInfinity), x, LogNonNegative(x));
        TV invalid = TV.LessThan(x, TV.Splat(0f)) | TV.IsNaN(x);
        return TV.Select(invalid, TV.Splat(float.NaN), r);
    }

    /// <summary>log(m·2ᵉ) for m in [1, 2): fold m into [√½, √2), then <see cref="LogFolded{TV}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV LogReduced<TV>(TV m, TV e) where TV : struct, IVec<TV>
    {
        TV big = TV.LessThan(TV.Splat(1.41421356f), m);
        m = TV.Select(big, m * TV.Splat(0.5f), m);
        e = TV.Select(big, e + TV.Splat(1f), e);
        return LogFolded(m, e);
    }

    /// <summary>log(m·2ᵉ) for m in [√½, √2) (an ulp beyond either end is harmless): f = m − 1, f − f²/2 + f³·Q(f) + e·ln2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV LogFolded<TV>(TV m, TV e) where TV : struct, IVec<TV>
    {
        TV f = m - TV.Splat(1f);
        TV z = f * f, z2 = z * z;
        // Q(f) = c₀ + c₁f + … + c₈f⁸ by Estrin's scheme (pairs, then pairs of pairs): 4 dependent steps where Horner's
        // takes 9. Without 512-bit lanes the log is bound by that chain's latency, not by the operation count (on the
        // AVX2 host the out-of-order window holds only two or three iterations of double-pumped 256-bit operations):
        // KL 13.0 → 12.1 ms and BCE 16.6 → 15.8 ms at 4 M elements there. Worst 0.84 ulp over every non-negative float
        // (exhaustive, 256 bits).
        TV p01 = TV.Fma(TV.Splat(-2.4999993993e-1f), f, TV.Splat(3.3333331174e-1f));
        TV p23 = TV.Fma(TV.Splat(-1.6668057665e-1f), f, TV.Splat(2.0000714765e-1f));
        TV p45 = TV.Fma(TV.Splat(-1.2420140846e-1f), f, TV.Splat(1.4249322787e-1f));
        TV p67 = TV.Fma(TV.Splat(-1.1514610310e-1f), f, TV.Splat(1.1676998740e-1f));
        TV p03 = TV.Fma(p23, z, p01), p47 = TV.Fma(p67, z, p45);
        TV q = TV.Fma(TV.Fma(TV.Splat(7.0376836292e-2f), z2, p47), z2, p03);
        TV y = q * f * z;
        y = TV.Fma(e, TV.Splat(Ln2Lo), y);
        y = TV.Fma(z, TV.Splat(-0.5f), y);
        return TV.Fma(e, TV.Splat(Ln2Hi), f + y);
    }

    /// <summary>
    /// log x for x in [0, ∞) finite (probabilities, counts), branch-free and without most of the special-value handling
    /// of <see cref="Log{TV}"/>, so that kernels stay small enough for the JIT to inline everything: subnormals are
    /// scaled by 2²³ first, ±0 gives −∞, x &lt; 0 and NaN give NaN (kernels detect bad input by it). Same polynomial as
    /// <see cref="Log{TV}"/>, its argument folded into [√½, √2) by integer arithmetic (<c>FrexpFolded</c>: five operations
    /// off the dependency chain, BCE 9 % and KL 12 % faster on the AVX2 host; worst 0.84 ulp over every non-negative
    /// float, exhaustive, 256 bits); on AVX-512, <see cref="LogTable32"/> (getmant/getexp handle subnormals;
    /// worst 0.99 ulp).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV LogNonNegative<TV>(TV x) where TV : struct, IVec<TV>
    {
        if (typeof(TV) == typeof(V512) && Avx512F.IsSupported)
        {
            V512 y = LogTable32(Unsafe.As<TV, V512>(ref x));
            return Unsafe.As<V512, TV>(ref y);
        }
        TV subnormal = TV.LessThan(x, TV.Splat(MinNormal));
        TV m = TV.FrexpFolded(TV.Select(subnormal, x * TV.Splat(8388608f), x), out TV e);
        TV r = LogFolded(m, e - TV.Select(subnormal, TV.Splat(23f), TV.Splat(0f)));
        r = TV.SelectLessOrEqual(TV.Splat(0f), x, r, TV.Splat(float.NaN));   // x < 0 and NaN: NaN, which callers detect
        return TV.SelectEqual(x, TV.Splat(0f), TV.Splat(float.NegativeInfinity), r);
    }

    /// <summary>
    /// log x for positive normal x (2⁻¹²⁶ ≤ x &lt; ∞), the caller having checked it: <see cref="LogNonNegative{TV}"/>
    /// without its subnormal scaling and special values, so bit for bit its result on those x. Kernels test a whole
    /// vector with one range check off the dependency chain, take this path, and keep the general one for vectors
    /// holding zeros, subnormals or bad input.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV LogNormal<TV>(TV x) where TV : struct, IVec<TV>
    {
        if (typeof(TV) == typeof(V512) && Avx512F.IsSupported)
        {
            V512 y = LogTable32(Unsafe.As<TV, V512>(ref x));
            return Unsafe.As<V512, TV>(ref y);
        }
        TV m = TV.FrexpFolded(x, out TV e);
        return LogFolded(m, e);
    }

    /// <summary>The smallest normal float, 2⁻¹²⁶: the lower end of <see cref="LogNormal{TV}"/>'s domain.</summary>
    public const float MinNormal = 1.17549435e-38f;

    /// <summary>
    /// log x on 16 lanes for x in [0, ∞) by a 32-entry table: x = m·2ᵏ with m = getmant(x) in [¾, 3/2) (subnormals
    /// included), j = the top five mantissa bits of m, c_j ≈ the centre of j's interval (c = 1 in the two intervals
    /// next to 1, so that log x near 1 keeps its relative accuracy), r = m·(1/c_j) − 1 in [−1/64, 1/32),
    /// log x = k·ln2 − log(1/c_j) + log1p(r) with log1p(r) ≈ r − r²/2 + r³/3 − r⁴/4 + r⁵/5 (truncation under
    /// 2·10⁻¹⁰ relative). Each 1/c_j is the float near 1/c_j whose −log rounds to float with almost no error
    /// (under 0.001 ulp), so the table adds no rounding. k = getexp(x) + [m &lt; 1] (getexp is of x, m &lt; 1 means
    /// the mantissa was halved). The small terms are summed first, ln2's high part last: worst 0.99 ulp, from an
    /// exhaustive check of every non-negative float. ±0 give k = −∞ and −∞; +∞ gives +∞; x &lt; 0 and NaN give NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static V512 LogTable32(V512 x)
    {
        Vector512<float> m = Avx512F.GetMantissa(x.V, 0b1011);   // interval [0.75, 1.5); NaN for x < 0 (getmant(±0) = ±1)
        Vector512<int> j = Vector512.ShiftRightLogical(m.AsInt32(), 18);   // vpermt2ps reads the low 5 bits: the top mantissa bits
        // 1/c_j and −log(1/c_j): j < 16 holds m in [1, 1.5) in steps of 1/32, j ≥ 16 holds m in [0.75, 1) in steps of 1/64.
        Vector512<float> invLo = Vector512.Create(
            1f, 0.9552043f, 0.9275087f, 0.9015071f, 0.8768798f, 0.8534205f, 0.8311185f, 0.8100589f,
            0.7902937f, 0.77118164f, 0.7530798f, 0.7354064f, 0.719033f, 0.7031499f, 0.68825334f, 0.6738138f);
        Vector512<float> invHi = Vector512.Create(
            1.3199116f, 1.292993f, 1.2670481f, 1.2427001f, 1.219414f, 1.1963296f, 1.1746466f, 1.1531721f,
            1.1331172f, 1.1134409f, 1.0941396f, 1.0756179f, 1.0575074f, 1.041103f, 1.0244112f, 1f);
        Vector512<float> logLo = Vector512.Create(
            0f, 0.045830026f, 0.07525309f, 0.10368738f, 0.13138534f, 0.15850289f, 0.18498287f, 0.21064833f,
            0.23535064f, 0.25983134f, 0.28358412f, 0.307332f, 0.32984802f, 0.35218516f, 0.37359828f, 0.39480144f);
        Vector512<float> logHi = Vector512.Create(
            -0.27756476f, -0.25695965f, -0.23668988f, -0.21728651f, -0.19837041f, -0.1792582f, -0.16096735f, -0.14251652f,
            -0.12497242f, -0.107455105f, -0.08996828f, -0.072895296f, -0.055914626f, -0.040280733f, -0.02411801f, 0f);
        Vector512<float> k = Avx512F.GetExponent(x.V) + Avx512F.PermuteVar16x32x2(Vector512<float>.Zero, j, Vector512.Create(1f));   // + [j ≥ 16]
        Vector512<float> r = Vector512.FusedMultiplyAdd(m, Avx512F.PermuteVar16x32x2(invLo, j, invHi), Vector512.Create(-1f));
        Vector512<float> q = Vector512.FusedMultiplyAdd(r, Vector512.Create(0.2f), Vector512.Create(-0.25f));
        q = Vector512.FusedMultiplyAdd(q, r, Vector512.Create(1f / 3));
        q = Vector512.FusedMultiplyAdd(q, r, Vector512.Create(-0.5f));
        Vector512<float> p = Vector512.FusedMultiplyAdd(q, r * r, r);   // log1p(r)
        // ln2 = Ln2Hi32 + Ln2Lo32 with Ln2Lo32 > 0, so that k = −∞ (x = 0) gives −∞ in both terms, never ∞ − ∞.
        Vector512<float> s = Avx512F.PermuteVar16x32x2(logLo, j, logHi) + Vector512.FusedMultiplyAdd(k, Vector512.Create(Ln2Lo32), p);
        return new(Vector512.FusedMultiplyAdd(k, Vector512.Create(Ln2Hi32), s));
    }
}
