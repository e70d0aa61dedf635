using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LossLab.Numerics.Simd;

/// <summary>
/// One register of double lanes, so that a double-precision kernel is written once for 512-, 256- and 128-bit vectors
/// (the float kernels' <see cref="IVec{TV}"/>, for the few losses whose pair terms are worth vectorizing in double).
/// </summary>
/// <remarks>
/// <see cref="Exp"/> and <see cref="Log"/> are .NET's vector double exponential and logarithm, within 3 ulp of
/// <c>Math.Exp</c>/<c>Math.Log</c> (measured: a million random arguments, exp on [−700, 0], log on [1, 2]). Exp leaves
/// its vector path for arguments below about −709 (40× slower per element, measured): callers clamp first.
/// <see cref="Max"/>/<see cref="Min"/> are the hardware instructions: on x86 they return the second operand when either
/// is NaN, so kernels put the data second wherever a NaN must come through.
/// </remarks>
internal interface IDVec<TV> where TV : struct, IDVec<TV>
{
    static abstract int Count { get; }
    static abstract TV Load(ReadOnlySpan<double> p, int i);
    static abstract void Store(TV x, Span<double> p, int i);
    static abstract TV Splat(double v);
    static abstract TV operator +(TV a, TV b);
    static abstract TV operator -(TV a, TV b);
    static abstract TV operator -(TV a);
    static abstract TV operator *(TV a, TV b);
    static abstract TV operator /(TV a, TV b);
    static abstract TV operator |(TV a, TV b);
    static abstract TV Max(TV a, TV b);
    static abstract TV Min(TV a, TV b);
    static abstract TV Abs(TV a);
    static abstract TV Sqrt(TV a);
    static abstract TV Exp(TV a);
    static abstract TV Log(TV a);
    static abstract TV LessThan(TV a, TV b);
    static abstract TV Equal(TV a, TV b);

    /// <summary>mask ? a : b, lane by lane.</summary>
    static abstract TV Select(TV mask, TV a, TV b);
    static abstract double Sum(TV a);
}

/// <summary>
/// e^−a for a ≥ 0 on double lanes, and the scalar specification beside them: 0 past a = <see cref="Cut"/>
/// (e^−700 ≈ 10⁻³⁰⁴), where .NET's vector double exponential leaves its fast path (40× slower per element, measured);
/// a NaN stays NaN (the cut goes first in the max: see <see cref="IDVec{TV}"/>). With u = 1 + e, log1p(e) for e in
/// [0, 1] is log u + (e − (u − 1))/u: u − 1 and e − (u − 1) are exact there, so a tiny e keeps its digits.
/// </summary>
internal static class DExp
{
    /// <summary>e^−a is taken as 0 past this.</summary>
    public const double Cut = 700;

    public static double Negative(double a) => a > Cut ? 0 : Math.Exp(-a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Negative<TV>(TV a) where TV : struct, IDVec<TV>
        => TV.Select(TV.LessThan(TV.Splat(Cut), a), TV.Splat(0), TV.Exp(TV.Max(TV.Splat(-Cut), -a)));

    /// <summary>log1p(e) from e in [0, 1] and u = 1 + e.</summary>
    public static double Log1p(double e, double u) => Math.Log(u) + (e - (u - 1)) / u;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Log1p<TV>(TV e, TV u) where TV : struct, IDVec<TV> => TV.Log(u) + (e - (u - TV.Splat(1))) / u;
}

internal readonly struct D512(Vector512<double> v) : IDVec<D512>
{
    private readonly Vector512<double> _v = v;
    public static int Count => Vector512<double>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D512 Load(ReadOnlySpan<double> p, int i) => new(Vector512.Create(p.Slice(i, Vector512<double>.Count)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(D512 x, Span<double> p, int i) => x._v.CopyTo(p.Slice(i, Vector512<double>.Count));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D512 Splat(double v) => new(Vector512.Create(v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D512 operator +(D512 a, D512 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D512 operator -(D512 a, D512 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D512 operator -(D512 a) => new(-a._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D512 operator *(D512 a, D512 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D512 operator /(D512 a, D512 b) => new(a._v / b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D512 operator |(D512 a, D512 b) => new(a._v | b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D512 Max(D512 a, D512 b) => new(Vector512.MaxNative(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D512 Min(D512 a, D512 b) => new(Vector512.MinNative(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D512 Abs(D512 a) => new(Vector512.Abs(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D512 Sqrt(D512 a) => new(Vector512.Sqrt(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D512 Exp(D512 a) => new(Vector512.Exp(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D512 Log(D512 a) => new(Vector512.Log(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D512 LessThan(D512 a, D512 b) => new(Vector512.LessThan(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D512 Equal(D512 a, D512 b) => new(Vector512.Equals(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D512 Select(D512 mask, D512 a, D512 b) => new(Vector512.ConditionalSelect(mask._v, a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(D512 a) => Vector512.Sum(a._v);
}

internal readonly struct D256(Vector256<double> v) : IDVec<D256>
{
    private readonly Vector256<double> _v = v;
    public static int Count => Vector256<double>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D256 Load(ReadOnlySpan<double> p, int i) => new(Vector256.Create(p.Slice(i, Vector256<double>.Count)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(D256 x, Span<double> p, int i) => x._v.CopyTo(p.Slice(i, Vector256<double>.Count));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D256 Splat(double v) => new(Vector256.Create(v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D256 operator +(D256 a, D256 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D256 operator -(D256 a, D256 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D256 operator -(D256 a) => new(-a._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D256 operator *(D256 a, D256 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D256 operator /(D256 a, D256 b) => new(a._v / b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D256 operator |(D256 a, D256 b) => new(a._v | b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D256 Max(D256 a, D256 b) => new(Vector256.MaxNative(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D256 Min(D256 a, D256 b) => new(Vector256.MinNative(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D256 Abs(D256 a) => new(Vector256.Abs(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D256 Sqrt(D256 a) => new(Vector256.Sqrt(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D256 Exp(D256 a) => new(Vector256.Exp(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D256 Log(D256 a) => new(Vector256.Log(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D256 LessThan(D256 a, D256 b) => new(Vector256.LessThan(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D256 Equal(D256 a, D256 b) => new(Vector256.Equals(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D256 Select(D256 mask, D256 a, D256 b) => new(Vector256.ConditionalSelect(mask._v, a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(D256 a) => Vector256.Sum(a._v);
}

internal readonly struct D128(Vector128<double> v) : IDVec<D128>
{
    private readonly Vector128<double> _v = v;
    public static int Count => Vector128<double>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D128 Load(ReadOnlySpan<double> p, int i) => new(Vector128.Create(p.Slice(i, Vector128<double>.Count)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(D128 x, Span<double> p, int i) => x._v.CopyTo(p.Slice(i, Vector128<double>.Count));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D128 Splat(double v) => new(Vector128.Create(v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D128 operator +(D128 a, D128 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D128 operator -(D128 a, D128 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D128 operator -(D128 a) => new(-a._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D128 operator *(D128 a, D128 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D128 operator /(D128 a, D128 b) => new(a._v / b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D128 operator |(D128 a, D128 b) => new(a._v | b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D128 Max(D128 a, D128 b) => new(Vector128.MaxNative(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D128 Min(D128 a, D128 b) => new(Vector128.MinNative(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D128 Abs(D128 a) => new(Vector128.Abs(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D128 Sqrt(D128 a) => new(Vector128.Sqrt(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D128 Exp(D128 a) => new(Vector128.Exp(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D128 Log(D128 a) => new(Vector128.Log(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D128 LessThan(D128 a, D128 b) => new(Vector128.LessThan(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D128 Equal(D128 a, D128 b) => new(Vector128.Equals(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static D128 Select(D128 mask, D128 a, D128 b) => new(Vector128.ConditionalSelect(mask._v, a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(D128 a) => Vector128.Sum(a._v);
}
