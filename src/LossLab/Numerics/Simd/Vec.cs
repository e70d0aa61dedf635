using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LossLab.Numerics.Simd;

/// <summary>
/// One register of float lanes, so that a kernel is written once and the JIT specializes it for 512-, 256- and
/// 128-bit vectors (generic struct instantiation: every call below inlines to one instruction or a few).
/// <c>System.Runtime.Intrinsics.ISimdVector</c> would do this but is not public.
/// </summary>
/// <remarks>Masks are lanes of all-one or all-zero bits, as <c>Vector512.LessThan</c> returns them.
/// <see cref="Max"/>/<see cref="Min"/> are the hardware instructions. .NET leaves their NaN handling to the platform:
/// x86's maxps/minps return the second operand when either is NaN, ARM64's fmax/fmin return NaN. So Max(bound, x) keeps
/// a NaN x on both, and the kernels write the data second wherever a NaN must come through (a NaN input giving a finite
/// gradient was a bug: tested on extreme inputs at every width).</remarks>
internal interface IVec<TV> where TV : struct, IVec<TV>
{
    static abstract int Count { get; }
    static abstract bool IsHardwareAccelerated { get; }
    static abstract TV Load(ref float p, int i);
    static abstract void Store(TV x, ref float p, int i);

    /// <summary>A store that bypasses the caches (no read-for-ownership of the line); p + i must be aligned to the vector size.</summary>
    static abstract void StoreNonTemporal(TV x, ref float p, int i);
    static abstract TV Splat(float v);
    static abstract TV operator +(TV a, TV b);
    static abstract TV operator -(TV a, TV b);
    static abstract TV operator -(TV a);
    static abstract TV operator *(TV a, TV b);
    static abstract TV operator /(TV a, TV b);
    static abstract TV operator |(TV a, TV b);
    static abstract TV operator &(TV a, TV b);

    /// <summary>
    /// a·b + c, rounded once on hardware with FMA units (x86 FMA3, every ARM64). Without them (x86 before Haswell, or
    /// AVX2 disabled), <c>Vector*.FusedMultiplyAdd</c> runs in software lane by lane, which made every kernel slower
    /// than a scalar loop (cross-entropy 378 ms at 4096×1000 against 63 naive): there it is a product and a sum,
    /// two roundings, and the kernels keep their error bounds within a fraction of an ulp more (tested). Each lane type
    /// writes the FMA test out: behind one shared property (even marked for inlining) it stopped folding in the loops without
    /// FMA units (KL 14 → 102 ms at 4 M elements with AVX2 off).
    /// </summary>
    static abstract TV Fma(TV a, TV b, TV c);
    static abstract TV Max(TV a, TV b);
    static abstract TV Min(TV a, TV b);
    static abstract TV Abs(TV a);
    static abstract TV LessThan(TV a, TV b);
    static abstract TV LessThanOrEqual(TV a, TV b);
    static abstract TV Equal(TV a, TV b);
    static abstract TV IsNaN(TV a);

    /// <summary>mask ? a : b, lane by lane.</summary>
    static abstract TV Select(TV mask, TV a, TV b);

    /// <summary>
    /// a &lt; b ? x : y (a ≤ b, a = b), lane by lane. The same as Select of the comparison, but with the compare inside
    /// one expression the JIT emits a masked blend (compare into a mask register, blend): through a mask held in a
    /// lane value it materializes the mask and blends bitwise, one more instruction per select.
    /// </summary>
    static abstract TV SelectLess(TV a, TV b, TV x, TV y);

    /// <inheritdoc cref="SelectLess"/>
    static abstract TV SelectLessOrEqual(TV a, TV b, TV x, TV y);

    /// <inheritdoc cref="SelectLess"/>
    static abstract TV SelectEqual(TV a, TV b, TV x, TV y);

    /// <summary>Whether every lane is in [lo, hi] (false for any NaN lane).</summary>
    static abstract bool AllInRange(TV x, TV lo, TV hi);

    /// <summary>Whether every lane of <paramref name="a"/> equals that of <paramref name="b"/> (−0 = +0; false for any NaN lane).</summary>
    static abstract bool AllEqual(TV a, TV b);
    static abstract TV CopySign(TV magnitude, TV sign);

    /// <summary>x·2ⁿ for integral n in [−126, 127] (exact: a multiplication by a power of two).</summary>
    static abstract TV ScaleByPow2(TV x, TV n);

    /// <summary>For positive normal x: mantissa in [1, 2) and the unbiased exponent, x = m·2^e.</summary>
    static abstract TV Frexp(TV x, out TV exponent);

    /// <summary>
    /// For positive normal x: m in [√½, √2) and e with x = m·2^e, in four integer operations and a conversion: with
    /// t = bits(x) − bits(√½), e = t &gt;&gt; 23 (arithmetic) and bits(m) = bits(x) − (e &lt;&lt; 23). The log's argument reduction
    /// without a compare and two blends after <see cref="Frexp"/>.
    /// </summary>
    static abstract TV FrexpFolded(TV x, out TV exponent);
    static abstract float Sum(TV a);
    /// <summary>The largest lane, by the hardware max at every step (NaN handling is the caller's, as for <see cref="Max"/>).</summary>
    static abstract float MaxAcross(TV a);

    /// <summary>A mask of the first <paramref name="count"/> lanes.</summary>
    static abstract TV FirstLanes(int count);
}

/// <summary>The 512-bit lane set (16 floats).</summary>
internal readonly struct V512 : IVec<V512>
{
    public readonly Vector512<float> V;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public V512(Vector512<float> v) => V = v;

    public static int Count => Vector512<float>.Count;
    public static bool IsHardwareAccelerated => Vector512.IsHardwareAccelerated;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Load(ref float p, int i) => new(Vector512.LoadUnsafe(ref p, (nuint)i));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(V512 x, ref float p, int i) => x.V.StoreUnsafe(ref p, (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void StoreNonTemporal(V512 x, ref float p, int i) => Vector512.StoreAlignedNonTemporal(x.V, (float*)Unsafe.AsPointer(ref Unsafe.Add(ref p, i)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Splat(float v) => new(Vector512.Create(v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 operator +(V512 a, V512 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 operator -(V512 a, V512 b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 operator -(V512 a) => new(-a.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 operator *(V512 a, V512 b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 operator /(V512 a, V512 b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 operator |(V512 a, V512 b) => new(a.V | b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 operator &(V512 a, V512 b) => new(a.V & b.V);
    /// <summary>a·b + c rounded once where the hardware fuses it; without FMA units, a product and a sum (see <see cref="IVec{TV}.Fma"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Fma(V512 a, V512 b, V512 c)
        => new(System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported ? Vector512.FusedMultiplyAdd(a.V, b.V, c.V) : a.V * b.V + c.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Max(V512 a, V512 b) => new(Vector512.MaxNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Min(V512 a, V512 b) => new(Vector512.MinNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Abs(V512 a) => new(Vector512.Abs(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 LessThan(V512 a, V512 b) => new(Vector512.LessThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 LessThanOrEqual(V512 a, V512 b) => new(Vector512.LessThanOrEqual(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Equal(V512 a, V512 b) => new(Vector512.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 IsNaN(V512 a) => new(~Vector512.Equals(a.V, a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Select(V512 mask, V512 a, V512 b) => new(Vector512.ConditionalSelect(mask.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 SelectLess(V512 a, V512 b, V512 x, V512 y) => new(Vector512.ConditionalSelect(Vector512.LessThan(a.V, b.V), x.V, y.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 SelectLessOrEqual(V512 a, V512 b, V512 x, V512 y) => new(Vector512.ConditionalSelect(Vector512.LessThanOrEqual(a.V, b.V), x.V, y.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 SelectEqual(V512 a, V512 b, V512 x, V512 y) => new(Vector512.ConditionalSelect(Vector512.Equals(a.V, b.V), x.V, y.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllEqual(V512 a, V512 b) => Vector512.EqualsAll(a.V, b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllInRange(V512 x, V512 lo, V512 hi) => Vector512.GreaterThanOrEqualAll(x.V, lo.V) && Vector512.LessThanOrEqualAll(x.V, hi.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 CopySign(V512 magnitude, V512 sign) => new(Vector512.CopySign(magnitude.V, sign.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 ScaleByPow2(V512 x, V512 n)
    {
        // 2ⁿ from exponent bits without a float→int conversion (saturating, so several instructions since .NET 9):
        // n + 1.5·2²³ + 127 holds n + 127 in its low mantissa bits, which the shift moves into the exponent field.
        Vector512<int> bits = Vector512.ShiftLeft((n.V + Vector512.Create(12583039f)).AsInt32(), 23);
        return new(x.V * bits.AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 FrexpFolded(V512 x, out V512 exponent)
    {
        Vector512<int> bits = x.V.AsInt32();
        Vector512<int> e = Vector512.ShiftRightArithmetic(bits - Vector512.Create(0x3F3504F3), 23);
        exponent = new(Vector512.ConvertToSingle(e));
        return new((bits - Vector512.ShiftLeft(e, 23)).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Frexp(V512 x, out V512 exponent)
    {
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
        {
            exponent = new(System.Runtime.Intrinsics.X86.Avx512F.GetExponent(x.V));   // floor(log₂ x), one instruction
            return new(System.Runtime.Intrinsics.X86.Avx512F.GetMantissa(x.V, 0));     // in [1, 2), sign of x
        }
        Vector512<int> bits = x.V.AsInt32();
        exponent = new(Vector512.ConvertToSingle(Vector512.ShiftRightLogical(bits, 23) - Vector512.Create(127)));
        return new(((bits & Vector512.Create(0x007FFFFF)) | Vector512.Create(0x3F800000)).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(V512 a) => Vector512.Sum(a.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(V512 a) => V256.MaxAcross(new(Vector256.MaxNative(a.V.GetLower(), a.V.GetUpper())));   // hardware max, as V128's

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 FirstLanes(int count) => new(Vector512.LessThan(Vector512<float>.Indices, Vector512.Create((float)count)));
}

/// <summary>The 256-bit lane set (8 floats).</summary>
internal readonly struct V256 : IVec<V256>
{
    public readonly Vector256<float> V;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public V256(Vector256<float> v) => V = v;

    public static int Count => Vector256<float>.Count;
    public static bool IsHardwareAccelerated => Vector256.IsHardwareAccelerated;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Load(ref float p, int i) => new(Vector256.LoadUnsafe(ref p, (nuint)i));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(V256 x, ref float p, int i) => x.V.StoreUnsafe(ref p, (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void StoreNonTemporal(V256 x, ref float p, int i) => Vector256.StoreAlignedNonTemporal(x.V, (float*)Unsafe.AsPointer(ref Unsafe.Add(ref p, i)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Splat(float v) => new(Vector256.Create(v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 operator +(V256 a, V256 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 operator -(V256 a, V256 b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 operator -(V256 a) => new(-a.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 operator *(V256 a, V256 b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 operator /(V256 a, V256 b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 operator |(V256 a, V256 b) => new(a.V | b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 operator &(V256 a, V256 b) => new(a.V & b.V);
    /// <summary>a·b + c rounded once where the hardware fuses it; without FMA units, a product and a sum (see <see cref="IVec{TV}.Fma"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Fma(V256 a, V256 b, V256 c)
        => new(System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported ? Vector256.FusedMultiplyAdd(a.V, b.V, c.V) : a.V * b.V + c.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Max(V256 a, V256 b) => new(Vector256.MaxNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Min(V256 a, V256 b) => new(Vector256.MinNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Abs(V256 a) => new(Vector256.Abs(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 LessThan(V256 a, V256 b) => new(Vector256.LessThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 LessThanOrEqual(V256 a, V256 b) => new(Vector256.LessThanOrEqual(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Equal(V256 a, V256 b) => new(Vector256.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 IsNaN(V256 a) => new(~Vector256.Equals(a.V, a.V));
    /// <summary>
    /// mask ? a : b by lanes. With AVX one <c>vblendvps</c> (it reads each mask lane's sign bit, which for a lane of all
    /// ones or all zeros is the whole mask): the JIT turned <c>ConditionalSelect</c> of a mask held in a local into
    /// and, andnot and or, three operations where one does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Select(V256 mask, V256 a, V256 b)
        => new(System.Runtime.Intrinsics.X86.Avx.IsSupported ? System.Runtime.Intrinsics.X86.Avx.BlendVariable(b.V, a.V, mask.V) : Vector256.ConditionalSelect(mask.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 SelectLess(V256 a, V256 b, V256 x, V256 y) => Select(new(Vector256.LessThan(a.V, b.V)), x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 SelectLessOrEqual(V256 a, V256 b, V256 x, V256 y) => Select(new(Vector256.LessThanOrEqual(a.V, b.V)), x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 SelectEqual(V256 a, V256 b, V256 x, V256 y) => Select(new(Vector256.Equals(a.V, b.V)), x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllEqual(V256 a, V256 b) => Vector256.EqualsAll(a.V, b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllInRange(V256 x, V256 lo, V256 hi) => Vector256.GreaterThanOrEqualAll(x.V, lo.V) && Vector256.LessThanOrEqualAll(x.V, hi.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 CopySign(V256 magnitude, V256 sign) => new(Vector256.CopySign(magnitude.V, sign.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 ScaleByPow2(V256 x, V256 n)
    {
        // 2ⁿ from exponent bits without a float→int conversion (saturating, so several instructions since .NET 9):
        // n + 1.5·2²³ + 127 holds n + 127 in its low mantissa bits, which the shift moves into the exponent field.
        Vector256<int> bits = Vector256.ShiftLeft((n.V + Vector256.Create(12583039f)).AsInt32(), 23);
        return new(x.V * bits.AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 FrexpFolded(V256 x, out V256 exponent)
    {
        Vector256<int> bits = x.V.AsInt32();
        Vector256<int> e = Vector256.ShiftRightArithmetic(bits - Vector256.Create(0x3F3504F3), 23);
        exponent = new(Vector256.ConvertToSingle(e));
        return new((bits - Vector256.ShiftLeft(e, 23)).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Frexp(V256 x, out V256 exponent)
    {
        Vector256<int> bits = x.V.AsInt32();
        exponent = new(Vector256.ConvertToSingle(Vector256.ShiftRightLogical(bits, 23) - Vector256.Create(127)));
        return new(((bits & Vector256.Create(0x007FFFFF)) | Vector256.Create(0x3F800000)).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(V256 a) => Vector256.Sum(a.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(V256 a) => V128.MaxAcross(new(Vector128.MaxNative(a.V.GetLower(), a.V.GetUpper())));   // hardware max, as V128's

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 FirstLanes(int count) => new(Vector256.LessThan(Vector256<float>.Indices, Vector256.Create((float)count)));
}

/// <summary>The 128-bit lane set (4 floats).</summary>
internal readonly struct V128 : IVec<V128>
{
    public readonly Vector128<float> V;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public V128(Vector128<float> v) => V = v;

    public static int Count => Vector128<float>.Count;
    public static bool IsHardwareAccelerated => Vector128.IsHardwareAccelerated;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Load(ref float p, int i) => new(Vector128.LoadUnsafe(ref p, (nuint)i));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(V128 x, ref float p, int i) => x.V.StoreUnsafe(ref p, (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void StoreNonTemporal(V128 x, ref float p, int i) => Vector128.StoreAlignedNonTemporal(x.V, (float*)Unsafe.AsPointer(ref Unsafe.Add(ref p, i)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Splat(float v) => new(Vector128.Create(v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 operator +(V128 a, V128 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 operator -(V128 a, V128 b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 operator -(V128 a) => new(-a.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 operator *(V128 a, V128 b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 operator /(V128 a, V128 b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 operator |(V128 a, V128 b) => new(a.V | b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 operator &(V128 a, V128 b) => new(a.V & b.V);
    /// <summary>a·b + c rounded once where the hardware fuses it; without FMA units, a product and a sum (see <see cref="IVec{TV}.Fma"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Fma(V128 a, V128 b, V128 c)
        => new(System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported ? Vector128.FusedMultiplyAdd(a.V, b.V, c.V) : a.V * b.V + c.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Max(V128 a, V128 b) => new(Vector128.MaxNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Min(V128 a, V128 b) => new(Vector128.MinNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Abs(V128 a) => new(Vector128.Abs(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 LessThan(V128 a, V128 b) => new(Vector128.LessThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 LessThanOrEqual(V128 a, V128 b) => new(Vector128.LessThanOrEqual(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Equal(V128 a, V128 b) => new(Vector128.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 IsNaN(V128 a) => new(~Vector128.Equals(a.V, a.V));
    /// <summary>mask ? a : b by lanes: one <c>blendvps</c> with SSE4.1 (see <see cref="V256.Select"/>); ARM64's bit select is one instruction already.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Select(V128 mask, V128 a, V128 b)
        => new(System.Runtime.Intrinsics.X86.Sse41.IsSupported ? System.Runtime.Intrinsics.X86.Sse41.BlendVariable(b.V, a.V, mask.V) : Vector128.ConditionalSelect(mask.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 SelectLess(V128 a, V128 b, V128 x, V128 y) => Select(new(Vector128.LessThan(a.V, b.V)), x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 SelectLessOrEqual(V128 a, V128 b, V128 x, V128 y) => Select(new(Vector128.LessThanOrEqual(a.V, b.V)), x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 SelectEqual(V128 a, V128 b, V128 x, V128 y) => Select(new(Vector128.Equals(a.V, b.V)), x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllEqual(V128 a, V128 b) => Vector128.EqualsAll(a.V, b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllInRange(V128 x, V128 lo, V128 hi) => Vector128.GreaterThanOrEqualAll(x.V, lo.V) && Vector128.LessThanOrEqualAll(x.V, hi.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 CopySign(V128 magnitude, V128 sign) => new(Vector128.CopySign(magnitude.V, sign.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 ScaleByPow2(V128 x, V128 n)
    {
        // 2ⁿ from exponent bits without a float→int conversion (saturating, so several instructions since .NET 9):
        // n + 1.5·2²³ + 127 holds n + 127 in its low mantissa bits, which the shift moves into the exponent field.
        Vector128<int> bits = Vector128.ShiftLeft((n.V + Vector128.Create(12583039f)).AsInt32(), 23);
        return new(x.V * bits.AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 FrexpFolded(V128 x, out V128 exponent)
    {
        Vector128<int> bits = x.V.AsInt32();
        Vector128<int> e = Vector128.ShiftRightArithmetic(bits - Vector128.Create(0x3F3504F3), 23);
        exponent = new(Vector128.ConvertToSingle(e));
        return new((bits - Vector128.ShiftLeft(e, 23)).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Frexp(V128 x, out V128 exponent)
    {
        Vector128<int> bits = x.V.AsInt32();
        exponent = new(Vector128.ConvertToSingle(Vector128.ShiftRightLogical(bits, 23) - Vector128.Create(127)));
        return new(((bits & Vector128.Create(0x007FFFFF)) | Vector128.Create(0x3F800000)).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(V128 a) => Vector128.Sum(a.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(V128 a)
    {
        // Two shuffle-and-max steps (hardware max: NaN handling is the caller's, as for Max).
        Vector128<float> m = Max(a, new(Vector128.Shuffle(a.V, Vector128.Create(2, 3, 0, 1)))).V;
        return Max(new(m), new(Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)))).V.ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 FirstLanes(int count) => new(Vector128.LessThan(Vector128<float>.Indices, Vector128.Create((float)count)));
}
