using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
/// log(x &lt; 0) = NaN, log ∞ = ∞. On 512-bit lanes the log of x ≥ 0 (what the losses take) uses a 32-entry table
/// and a degree-5 polynomial instead, about half the operations (<see cref="LogNonNegative{TV}"/>). The log family is in
/// <c>VMath.Log.cs</c>.</para>
/// </remarks>
internal static partial class VMath
{
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
    private const float Ln2Hi32 = 0.693147123f, Ln2Lo32 = 5.76999904e-8f;   // ln2 rounded down to float, and the rest
    private const float RoundMagic = 12582912f;   // 1.5·2²³: (v + M) − M rounds v to the nearest integer

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<TV>(TV x) where TV : struct, IVec<TV>
    {
        // Common case, every lane with a normal result: no clamping, one scaling, no NaN fix-up.
        if (TV.AllInRange(x, TV.Splat(-87.33f), TV.Splat(88.37f)))   // n = round(x·log₂e) ∈ [−126, 127]
        {
            TV magic = TV.Splat(RoundMagic);
            TV n = (x * TV.Splat(Log2E) + magic) - magic;
            return TV.ScaleByPow2(Reduced(x, n), n);
        }
        return ExpWide(x);
    }

    /// <summary>
    /// e^x for finite x ≤ 0 (softmax after subtracting the row maximum) in the fewest instructions: x below −87.33
    /// is raised to −87.33, so results that would be subnormal come out as ≈1.2e−38 instead (absolute error
    /// under 1.2e−38, invisible next to the row's largest term, 1). Same polynomial and bound as <see cref="Exp{TV}"/>
    /// elsewhere. NaN gives NaN; +∞ is the caller's to exclude.
    /// </summary>
    /// <param name="x">The exponents (≤ 0).</param>
    /// <param name="cubic">On 512-bit lanes a cubic instead of a quadratic polynomial (256-bit: a quartic instead of a cubic):
    /// one more FMA, a quarter to 0.6 ulp less worst error (for callers whose own error adds to the exponential's).</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV ExpNonPositive<TV>(TV x, bool cubic = false) where TV : struct, IVec<TV>
    {
        x = TV.Max(TV.Splat(-87.33f), x);   // the bound first: a NaN x stays NaN (see IVec)
        if (typeof(TV) == typeof(V512) && Avx512F.IsSupported)
        {
            V512 r = ExpTable32(Unsafe.As<TV, V512>(ref x), cubic);
            return Unsafe.As<V512, TV>(ref r);
        }
        if (typeof(TV) == typeof(V256) && Avx2.IsSupported && Fma.IsSupported)
        {
            V256 r = ExpTable8(Unsafe.As<TV, V256>(ref x), cubic);
            return Unsafe.As<V256, TV>(ref r);
        }
        TV magic = TV.Splat(RoundMagic);
        TV n = (x * TV.Splat(Log2E) + magic) - magic;
        return TV.ScaleByPow2(Reduced(x, n), n);
    }

    /// <summary>
    /// e^x for x in [−87.33, 0] on 16 lanes with fewer operations: k = round(32x/ln2), r = x − k·ln2/32 (|r| ≤ ln2/64),
    /// e^x = 2^(k>>5) · 2^((k&amp;31)/32) · e^r, the middle factor from a 32-entry table in two registers (vpermt2ps),
    /// e^r − 1 ≈ c₁r + c₂r² (minimax for the relative error on |r| ≤ ln2/64: 0.9·2⁻²⁴), and 2^(k>>5) put into the table
    /// factor's exponent bits (<see cref="Scale32"/>). Table rounding (½ ulp), polynomial and the final rounding (½ ulp)
    /// stay within 2 ulp (tested).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static V512 ExpTable32(V512 x, bool cubic)
        // The bits of 2^(j/32) rounded to float (1, 1.0218972, …, 1.9571441), j = 0..31, each minus j·2¹⁸ (see Scale32).
        => new(ExpTable32(x.V,
            Vector512.Create(0x3F800000, 0x3F7ECD87, 0x3F7DAAC3, 0x3F7C980F, 0x3F7B95C2, 0x3F7AA43A, 0x3F79C3D3, 0x3F78F4F0,
                             0x3F7837F0, 0x3F778D3A, 0x3F76F532, 0x3F767043, 0x3F75FED7, 0x3F75A15B, 0x3F75583F, 0x3F7523F6),
            Vector512.Create(0x3F7504F3, 0x3F74FBAF, 0x3F7508A4, 0x3F752C4D, 0x3F75672A, 0x3F75B9BE, 0x3F76248C, 0x3F76A81E,
                             0x3F7744FD, 0x3F77FBB8, 0x3F78CCDF, 0x3F79B907, 0x3F7AC0C7, 0x3F7BE4BA, 0x3F7D257D, 0x3F7E83B3), cubic));

    /// <summary>c·e^x from the two halves of a table of c·2^(j/32) in <see cref="Scale32"/>'s form, |x| &lt; 177.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ExpTable32(Vector512<float> x, Vector512<int> lo, Vector512<int> hi, bool cubic)
    {
        Vector512<float> magic = Vector512.Create(RoundMagic);
        Vector512<float> t = Vector512.FusedMultiplyAdd(x, Vector512.Create(32 * Log2E), magic);
        Vector512<float> k = t - magic;
        // Exact for |k| < 2¹³: k·Ln2Hi/32 has at most 22 significant bits (Ln2Hi has 9).
        Vector512<float> r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2Hi / 32), x);
        r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2Lo / 32), r);
        // e^r − 1; cubic: r + r²/2 + r³/6, truncation under 2⁻³⁰ (one more FMA, about 0.6 ulp less worst error).
        Vector512<float> p = cubic
            ? Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(r, Vector512.Create(1f / 6), Vector512.Create(0.5f)), r, Vector512.Create(1f)) * r
            : Vector512.FusedMultiplyAdd(r, Vector512.Create(0.50000053f), Vector512.Create(1.00001464f)) * r;
        Vector512<float> f = Scale32(t.AsInt32(), lo, hi);             // bits(t) = 0x4B400000 + k
        return Vector512.FusedMultiplyAdd(f, p, f);                     // c·2^(k/32)·e^r, one rounding
    }

    /// <summary>
    /// 2^(k/32)·c from the rounding bits of t = k + 1.5·2²³ (bits(t) = 0x4B400000 + k, |k| &lt; 2²²) and a 32-entry table
    /// of the bits of c·2^(j/32) − j·2¹⁸ in two registers: the entry at k &amp; 31 (vpermt2ps reads the low 5 bits) plus
    /// bits(t)·2¹⁸ (mod 2³²: the 0x4B4 part shifts out, k·2¹⁸ = (k &gt;&gt; 5)·2²³ + (k &amp; 31)·2¹⁸ and the second term
    /// cancels the table's offset). Exact whenever c·2^(j/32)·2^(k &gt;&gt; 5) is a normal float: one shift and one add
    /// where scaling the result's exponent takes two shifts and an add (the exponential 5.5 → 5.2 cycles per vector on
    /// the AVX-512 host, in a C loop of the same instructions).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Scale32(Vector512<int> bits, Vector512<int> lo, Vector512<int> hi)
        => (Avx512F.PermuteVar16x32x2(lo, bits, hi) + Vector512.ShiftLeft(bits, 18)).AsSingle();

    /// <summary>
    /// e^x for x in [−87.33, 0] on 8 lanes, the 256-bit form of <see cref="ExpTable32(V512, bool)"/>: k = round(8x/ln2),
    /// r = x − k·ln2/8 (|r| ≤ ln2/16), e^x = 2^(k>>3) · 2^((k&amp;7)/8) · e^r with the middle factor from an 8-entry table in
    /// one register (vpermps), e^r − 1 ≈ r + c₂r² + c₃r³ (minimax for the relative error on |r| ≤ ln2/16: 0.42·2⁻²⁴;
    /// <paramref name="cubic"/>: one more term, 0.002·2⁻²⁴). 12 operations where the Cody–Waite form takes 18: cross-entropy
    /// 12–17 % faster on an AVX2 host, and another 5 % when 2^(k>>3) went into the table factor (<see cref="Scale8"/>)
    /// instead of the result's exponent bits (one shift fewer; the same result, since both scalings are exact).
    /// k = −1008 (the 2^(k>>3) = 2⁻¹²⁶ end) only occurs with r ≥ 0, so the scaled value stays normal. Worst 1.14 ulp
    /// (cubic: 0.90) from an exhaustive check of every float in [−87.33, 0].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static V256 ExpTable8(V256 x, bool cubic)
        // The bits of 2^(j/8) rounded to float (1, 1.0905077, …, 1.8340081), j = 0..7, each minus j·2²⁰ (see Scale8).
        => new(ExpTable8(x.V, Vector256.Create(0x3F800000, 0x3F7B95C2, 0x3F7837F0, 0x3F75FED7, 0x3F7504F3, 0x3F75672A, 0x3F7744FD, 0x3F7AC0C7), cubic));

    /// <summary>c·e^x from the table of c·2^(j/8) (<see cref="Scale8"/>'s form), |x| &lt; 177.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ExpTable8(Vector256<float> x, Vector256<int> table, bool cubic)
    {
        Vector256<float> magic = Vector256.Create(RoundMagic);
        Vector256<float> t = Fma.MultiplyAdd(x, Vector256.Create(8 * Log2E), magic);
        Vector256<float> k = t - magic;
        // Exact for |k| < 2¹¹: k·Ln2Hi/8 has at most 20 significant bits, and x − k·Ln2Hi/8 (|·| ≤ 0.1) is a multiple of
        // min(ulp(x), 2⁻¹²) that fits 24 bits (ulp(x) ≥ 2⁻²⁷ for |x| ≥ 1/16; below, |k| ≤ 1 and |·| ≤ 0.05 with ulp 2⁻²⁸).
        Vector256<float> r = Fma.MultiplyAdd(k, Vector256.Create(-Ln2Hi / 8), x);
        r = Fma.MultiplyAdd(k, Vector256.Create(-Ln2Lo / 8), r);
        Vector256<float> q = cubic
            ? Fma.MultiplyAdd(Fma.MultiplyAdd(r, Vector256.Create(0.041664604f), Vector256.Create(0.16668615f)), r, Vector256.Create(0.5f))
            : Fma.MultiplyAdd(r, Vector256.Create(0.16664298f), Vector256.Create(0.50006479f));
        Vector256<float> p = Fma.MultiplyAdd(q, r * r, r);          // e^r − 1
        Vector256<float> f = Scale8(t.AsInt32(), table);            // bits(t) = 0x4B400000 + k
        return Fma.MultiplyAdd(f, p, f);                            // c·2^(k/8)·e^r, one rounding
    }

    /// <summary>
    /// The table of <see cref="ExpBelowMax{TV}"/> for a row of floats in [<paramref name="min"/>, <paramref name="max"/>]:
    /// the bits of 2^(j/8)·e^−max (256-bit lanes, in <paramref name="table"/>) or of 2^(j/32)·e^−max (512-bit lanes, j &lt; 16
    /// in <paramref name="table"/>, the rest in <paramref name="tableHi"/>), each computed in double and rounded to float
    /// once, minus j·2²⁰ or j·2¹⁸. False, and the caller takes <see cref="ExpNonPositive{TV}"/>(x − max), unless the lanes
    /// are 256-bit with AVX2 and FMA or 512-bit with AVX-512, |max| ≤ 80 and min ≥ max − 86.5: then every table entry,
    /// every partial product and every e^(x − max) is a normal float, and |x| ≤ 166.5 keeps the range reduction exact.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // once per row: optimized from the first call, not after tiering
    public static bool TryExpBelowMax<TV>(float max, float min, out TV table, out TV tableHi) where TV : struct, IVec<TV>
    {
        table = tableHi = default;
        bool wide = typeof(TV) == typeof(V512) && Avx512F.IsSupported;
        if (!wide && (typeof(TV) != typeof(V256) || !Avx2.IsSupported || !Fma.IsSupported)) return false;
        if (!(Math.Abs(max) <= 80) || !((double)min - max >= -86.5)) return false;
        double scale = Math.Exp(-(double)max);
        if (wide)
        {
            // 2^(j/32) in double, eight per register; each product rounded to float once (the current rounding mode,
            // to nearest, as a cast).
            Vector512<double> c = Vector512.Create(scale);
            Vector512<float> lo = Vector512.Create(
                Avx512F.ConvertToVector256Single(c * Vector512.Create(1.0, 1.0218971486541166, 1.0442737824274138, 1.0671404006768237, 1.0905077326652577, 1.1143867425958924, 1.1387886347566916, 1.1637248587775775)),
                Avx512F.ConvertToVector256Single(c * Vector512.Create(1.189207115002721, 1.215247359980469, 1.241857812073484, 1.2690509571917332, 1.2968395546510096, 1.3252366431597413, 1.3542555469368927, 1.383909881963832)));
            Vector512<float> hi = Vector512.Create(
                Avx512F.ConvertToVector256Single(c * Vector512.Create(1.4142135623730951, 1.4451808069770467, 1.4768261459394993, 1.5091644275934228, 1.5422108254079407, 1.5759808451078865, 1.6104903319492543, 1.645755478153965)),
                Avx512F.ConvertToVector256Single(c * Vector512.Create(1.681792830507429, 1.718619298122478, 1.7562521603732995, 1.7947090750031072, 1.8340080864093424, 1.8741676341103, 1.9152065613971474, 1.9571441241754002)));
            Vector512<int> offsets = Vector512.ShiftLeft(Vector512<int>.Indices, 18);
            V512 l = new((lo.AsInt32() - offsets).AsSingle()), h = new((hi.AsInt32() - offsets - Vector512.Create(16 << 18)).AsSingle());
            table = Unsafe.As<V512, TV>(ref l);
            tableHi = Unsafe.As<V512, TV>(ref h);
            return true;
        }
        ReadOnlySpan<double> pow2Eighths = [1, 1.0905077326652577, 1.189207115002721, 1.2968395546510096, 1.4142135623730951, 1.5422108254079407, 1.681792830507429, 1.8340080864093424];
        Vector256<int> bits = Vector256.Create(
            BitConverter.SingleToInt32Bits((float)(pow2Eighths[0] * scale)), BitConverter.SingleToInt32Bits((float)(pow2Eighths[1] * scale)) - (1 << 20),
            BitConverter.SingleToInt32Bits((float)(pow2Eighths[2] * scale)) - (2 << 20), BitConverter.SingleToInt32Bits((float)(pow2Eighths[3] * scale)) - (3 << 20),
            BitConverter.SingleToInt32Bits((float)(pow2Eighths[4] * scale)) - (4 << 20), BitConverter.SingleToInt32Bits((float)(pow2Eighths[5] * scale)) - (5 << 20),
            BitConverter.SingleToInt32Bits((float)(pow2Eighths[6] * scale)) - (6 << 20), BitConverter.SingleToInt32Bits((float)(pow2Eighths[7] * scale)) - (7 << 20));
        V256 v = new(bits.AsSingle());
        table = Unsafe.As<V256, TV>(ref v);
        return true;
    }

    /// <summary>
    /// e^(x − max) for x in a row that <see cref="TryExpBelowMax{TV}"/> accepted, without forming x − max or clamping:
    /// k = round(8x/ln2) or round(32x/ln2), r = x − k·ln2/8 or /32 as in <see cref="ExpNonPositive{TV}"/>, and e^−max
    /// folded into the table, so the result is e^(x − max) of the exact difference (≤ 2 ulp, tested by a sweep for
    /// several maxima). The softmax's two operations fewer per vector on the chain that bounds it (cross-entropy 8–11 %
    /// faster at 4096×1000 and 64×128256 on the AVX2 host; on the AVX-512 host the exponential alone 5.2 → 4.0 cycles per
    /// vector in a C loop of the same instructions).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV ExpBelowMax<TV>(TV x, TV table, TV tableHi) where TV : struct, IVec<TV>
    {
        if (typeof(TV) == typeof(V512))
        {
            Vector512<float> z = ExpTable32(Unsafe.As<TV, V512>(ref x).V, Unsafe.As<TV, V512>(ref table).V.AsInt32(),
                Unsafe.As<TV, V512>(ref tableHi).V.AsInt32(), cubic: false);
            return Unsafe.As<Vector512<float>, TV>(ref z);
        }
        if (typeof(TV) != typeof(V256)) return TV.Splat(float.NaN);   // unreachable: TryExpBelowMax returned false
        Vector256<float> y = ExpTable8(Unsafe.As<TV, V256>(ref x).V, Unsafe.As<TV, V256>(ref table).V.AsInt32(), cubic: false);
        return Unsafe.As<Vector256<float>, TV>(ref y);
    }

    /// <summary>
    /// 2^(k/8)·c from the rounding bits of t = k + 1.5·2²³ (bits(t) = 0x4B400000 + k, |k| &lt; 2²²) and a table of the
    /// bits of c·2^(j/8) − j·2²⁰: the table entry at k &amp; 7 (vpermps reads the low 3 bits) plus bits(t)·2²⁰ (mod 2³²: the
    /// 0x4B4 part shifts out, k·2²⁰ = (k &gt;&gt; 3)·2²³ + (k &amp; 7)·2²⁰ and the second term cancels the table's offset).
    /// Exact whenever c·2^(j/8)·2^(k &gt;&gt; 3) is a normal float: one shift and one add where a separate exponent
    /// scaling of the result takes two shifts and an add.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Scale8(Vector256<int> bits, Vector256<int> table)
        => (Avx2.PermuteVar8x32(table, bits) + Vector256.ShiftLeft(bits, 20)).AsSingle();

    /// <summary>Overflow, subnormal results, NaN: clamp, scale by 2ⁿ in two exact halves, restore NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]   // a call in a kernel loop would spill every vector register
    private static TV ExpWide<TV>(TV x) where TV : struct, IVec<TV>
    {
        TV xc = TV.Min(TV.Max(x, TV.Splat(-104f)), TV.Splat(89f));
        TV magic = TV.Splat(RoundMagic);
        TV n = (xc * TV.Splat(Log2E) + magic) - magic;
        // n ∈ [−150, 129]: two halves each in [−75, 65] keep both scale factors normal, so a subnormal result rounds once.
        TV n1 = (n * TV.Splat(0.5f) + magic) - magic;
        TV result = TV.ScaleByPow2(TV.ScaleByPow2(Reduced(xc, n), n1), n - n1);
        return TV.Select(TV.IsNaN(x), x, result);
    }

    /// <summary>e^r for r = x − n·ln2 (Cody–Waite), |r| ≤ ln2/2: 1 + r + r²·P(r).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Reduced<TV>(TV x, TV n) where TV : struct, IVec<TV>
    {
        TV r = TV.Fma(n, TV.Splat(-Ln2Hi), x);
        r = TV.Fma(n, TV.Splat(-Ln2Lo), r);
        TV p = TV.Splat(1.9875691500e-4f);
        p = TV.Fma(p, r, TV.Splat(1.3981999507e-3f));
        p = TV.Fma(p, r, TV.Splat(8.3334519073e-3f));
        p = TV.Fma(p, r, TV.Splat(4.1665795894e-2f));
        p = TV.Fma(p, r, TV.Splat(1.6666665459e-1f));
        p = TV.Fma(p, r, TV.Splat(5.0000001201e-1f));
        return TV.Fma(p, r * r, r) + TV.Splat(1f);
    }

    /// <summary>
    /// Everything a logistic loss needs from one exponential e = e^−|x| and one division d = 1/(1 + e):
    /// σ(x), σ(−x) and softplus(−x) = −log σ(x) = max(−x, 0) + log1p(e).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Logistic<TV>(TV x, out TV sigmoidOfMinusX, out TV softplusOfMinusX) where TV : struct, IVec<TV>
        => Logistic(x, out sigmoidOfMinusX, out softplusOfMinusX, out _, exactTails: false);

    /// <summary>
    /// The same, and log1p(e^−|x|) (softplus(x) = max(x, 0) + that). A NaN x gives NaN in every output.
    /// </summary>
    /// <param name="x">The logits.</param>
    /// <param name="sigmoidOfMinusX">σ(−x).</param>
    /// <param name="softplusOfMinusX">softplus(−x) = −log σ(x).</param>
    /// <param name="log1pOfE">log1p(e^−|x|).</param>
    /// <param name="exactTails">Whether e is exactly 0 past |x| = 87.33 rather than the exponential's floor ≈ 1.2·10⁻³⁸:
    /// two more operations, for a caller that multiplies the small σ by a term as large as |x| (the focal loss's
    /// ce·σ(x)σ(−x): with the floor its gradient was off by more than an ulp beyond |x| ≈ 10³⁰, and by a factor of 9 at
    /// float.MaxValue).</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Logistic<TV>(TV x, out TV sigmoidOfMinusX, out TV softplusOfMinusX, out TV log1pOfE, bool exactTails) where TV : struct, IVec<TV>
    {
        TV one = TV.Splat(1f), zero = TV.Splat(0f);
        TV na = -TV.Abs(x);
        // Cubic: e's error passes into σ and softplus, whose log1p adds up to 2 ulp of its own.
        TV e = ExpNonPositive(na, cubic: true);
        if (exactTails) e = TV.SelectLess(na, TV.Splat(-87.33f), zero, e);
        TV w = one + e;
        TV d = one / w;
        TV small = e * d;
        TV positive = TV.LessThanOrEqual(zero, x);
        sigmoidOfMinusX = TV.Select(positive, small, d);
        log1pOfE = Log1pUnit(e);
        softplusOfMinusX = TV.Max(zero, -x) + log1pOfE;   // zero first: a NaN x stays NaN (see IVec)
        return TV.Select(positive, d, small);
    }

    /// <summary>
    /// log1p(e) for e in [0, 1] without a log: with t = e/(2 + e) in [0, 1/3], log1p(e) = 2·atanh(t) = 2t·(1 + u·g(u)/2)
    /// where u = t² ≤ 1/9 and g(u) = (2·atanh(√u)/√u − 2)/u = 2/3 + 2u/5 + …. With T = 2t and v = T² = 4u this is
    /// T + T·v·k(v), k(v) = g(v/4)/8 fitted by a degree-4 Chebyshev polynomial (error 7.2·10⁻⁹ in g, at most 4·10⁻¹⁰
    /// of the result). The leading term T = 2e/(2 + e) carries two roundings and is normal whenever e is (t alone is
    /// subnormal for e below 2.4·10⁻³⁸); the correction is at most 4 % of it, so its rounding barely shows. 10
    /// operations where a log and the correction of 1 + e's rounding took 19 (BCE-with-logits 18 % faster, focal 15 %).
    /// Worst error 1.9 ulp for exact e, mostly the rounding of 2 + e; taking that back cost 14 % of the speed, so it
    /// stays. With the exponential's error, softplus is within 3.2 ulp at every width (tested).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Log1pUnit<TV>(TV e) where TV : struct, IVec<TV>
    {
        TV twoT = (e + e) / (TV.Splat(2f) + e);
        TV v = twoT * twoT;
        TV k = TV.Fma(TV.Fma(TV.Fma(TV.Fma(TV.Splat(0.000113400045f), v, TV.Splat(0.000423956559f)), v, TV.Splat(0.00223377797f)), v, TV.Splat(0.0124999082f)), v, TV.Splat(0.0833333342f));
        return TV.Fma(twoT, v * k, twoT);
    }
}
