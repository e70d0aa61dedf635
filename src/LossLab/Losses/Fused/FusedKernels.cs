using System.Runtime.CompilerServices;
using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Losses.Probabilistic;
using LossLab.Losses.Regression;
using LossLab.Numerics.Simd;

namespace LossLab.Losses.Fused;

/// <summary>
/// An elementwise loss on lanes: ℓ(x, y; a) and ∂ℓ/∂x in one evaluation, plus the catalog kernel that is its
/// scalar specification (used for tails, for the scalar path, and by the tests every SIMD width is checked against).
/// </summary>
internal interface IFusedKernel<TSpec> where TSpec : struct, IElementwiseKernel
{
    TSpec Spec { get; }

    TV Eval<TV>(TV x, TV y, TV a, out TV dx) where TV : struct, IVec<TV>;
}

/// <summary>The test that lets the binary kernels take their shorter paths for a vector of 0/1 labels.</summary>
internal static class HardLabels
{
    /// <summary>
    /// Whether every lane of <paramref name="y"/> is 0 or 1: y − y² is exactly 0 only for y ∈ {0, 1} (the fused
    /// multiply-add rounds once), and NaN for a NaN label.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool All<TV>(TV y) where TV : struct, IVec<TV> => TV.AllEqual(TV.Fma(-y, y, y), TV.Splat(0));

    /// <summary>The same, and every lane of <paramref name="also"/> is ±0 (x·0 is, for finite x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool All<TV>(TV y, TV also) where TV : struct, IVec<TV> => TV.AllEqual(TV.Fma(-y, y, y) + also, TV.Splat(0));
}

/// <summary>(x − y)², 2(x − y).</summary>
internal readonly struct MseFused : IFusedKernel<MseLoss.Kernel>
{
    public MseLoss.Kernel Spec => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Eval<TV>(TV x, TV y, TV a, out TV dx) where TV : struct, IVec<TV>
    {
        TV d = x - y;
        dx = d + d;
        return d * d;
    }
}

/// <summary>|x − y|, sign(x − y) with sign(0) = 0.</summary>
internal readonly struct L1Fused : IFusedKernel<L1Loss.Kernel>
{
    public L1Loss.Kernel Spec => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Eval<TV>(TV x, TV y, TV a, out TV dx) where TV : struct, IVec<TV>
    {
        TV d = x - y;
        dx = Sign(d);
        return TV.Abs(d);
    }

    /// <summary>
    /// The specification's sign (±1, +0 for ±0, NaN for NaN) in four operations instead of eight: d·2¹²⁷·2²² is at
    /// least 1 in magnitude for every non-zero d (the smallest subnormal is 2⁻¹⁴⁹; large d overflow to ±∞), and the
    /// clamp to [−1, 1] keeps the sign. The first product adds +0 (a fused multiply-add, or a product and a sum), which
    /// turns −0 into +0 and changes nothing else. The bounds go first so that a NaN stays NaN (see IVec). L1 3.0 → 2.8 ms
    /// at 4 M elements on 1 thread of the AVX2 host.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Sign<TV>(TV d) where TV : struct, IVec<TV>
    {
        TV one = TV.Splat(1);
        TV big = TV.Fma(d, TV.Splat(1.7014118e38f), TV.Splat(0)) * TV.Splat(4194304f);   // 2¹²⁷, 2²²
        return TV.Min(one, TV.Max(-one, big));
    }
}

/// <summary>Huber with threshold δ: ½d² inside, δ(|d| − ½δ) outside; clamp(d, −δ, δ).</summary>
internal readonly struct HuberFused(float delta) : IFusedKernel<HuberLoss.Kernel>
{
    /// <summary>Whether ½δ is exact (δ ≥ 2⁻¹²⁵), which <see cref="Clamped"/> needs to be the specification bit for bit.</summary>
    private readonly bool halfExact = delta >= 2.3509887e-38f;

    public HuberLoss.Kernel Spec => new(delta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Eval<TV>(TV x, TV y, TV a, out TV dx) where TV : struct, IVec<TV>
    {
        TV dl = TV.Splat(delta), half = TV.Splat(0.5f);
        TV d = x - y;
        dx = TV.Min(dl, TV.Max(-dl, d));   // bounds first: a NaN d stays NaN (see IVec)
        if (halfExact) return Clamped(d, dx);
        TV ad = TV.Abs(d);
        return TV.SelectLess(ad, dl, half * d * d, dl * (ad - half * dl));
    }

    /// <summary>
    /// The Huber value from the clamped difference c = clamp(d, −δ, δ) in two operations: c·(d − ½c). Inside, c = d and
    /// d − ½d rounds to ½d rounded, so the product is the specification's (½d)·d; outside, c = ±δ and (d ∓ ½δ)·(±δ) =
    /// (|d| − ½δ)·δ with the same two roundings, as long as ½δ is exact. The fused d − ½c rounds once, as does the
    /// specification's subtraction of an exact ½δ; without FMA units ½c rounds first, exactly so. The product adds +0,
    /// which makes d = −0's value +0 as the specification's. Ten operations became five: 3.13 → 2.79 ms at 4 M elements
    /// on 1 thread of the AVX2 host (alternating runs; MSE 2.6).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Clamped<TV>(TV d, TV c) where TV : struct, IVec<TV>
    {
        TV u = TV.Fma(TV.Splat(-0.5f), c, d);
        return TV.Fma(u, c, TV.Splat(0));
    }
}

/// <summary>Smooth L1 with threshold β: ½d²/β inside, |d| − ½β outside; d/β or sign(d) (β = 0: L1).</summary>
internal readonly struct SmoothL1Fused(float beta) : IFusedKernel<SmoothL1Loss.Kernel>
{
    /// <summary>
    /// 1/β when β is a power of two (PyTorch's default 1 among them), else 0. Then v·(1/β) is v/β bit for bit (both are
    /// the exact quotient rounded once, underflow and overflow included), and the two divisions per vector become
    /// multiplications: 4.97 → 4.31 ms at 4 M elements on the AVX2 host.
    /// </summary>
    private readonly float reciprocal = beta > 0 && float.IsNormal(beta) && (BitConverter.SingleToInt32Bits(beta) & 0x7FFFFF) == 0 ? 1 / beta : 0;

    /// <summary>
    /// β a power of two in [2⁻⁶², 1] (the default 1 among them): smooth L1 is Huber with δ = β divided by β, and
    /// <see cref="HuberFused.Clamped"/> gives it bit for bit. Inside, ½d²/β is the same product times 1/β; outside, (|d| −
    /// ½β)·β·(1/β) scales by powers of two that neither overflow (β ≤ 1) nor underflow (the product is at least ½β² ≥
    /// 2⁻¹²⁵). clamp(d, −β, β)·(1/β) is d/β inside and ±1 outside. 3.72 → 2.82 ms at 4 M elements on 1 thread of the
    /// AVX2 host.
    /// </summary>
    private readonly bool huberScaled = beta >= 2.1684043e-19f && beta <= 1 && float.IsNormal(beta) && (BitConverter.SingleToInt32Bits(beta) & 0x7FFFFF) == 0;

    public SmoothL1Loss.Kernel Spec => new(beta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Eval<TV>(TV x, TV y, TV a, out TV dx) where TV : struct, IVec<TV>
    {
        TV d = x - y;
        if (huberScaled)
        {
            TV bv = TV.Splat(beta);
            TV c = TV.Min(bv, TV.Max(-bv, d));   // bounds first: a NaN d stays NaN (see IVec)
            TV v = HuberFused.Clamped(d, c);
            if (beta == 1)
            {
                dx = c;
                return v;
            }
            TV rv = TV.Splat(reciprocal);
            dx = c * rv;
            return v * rv;
        }
        TV ad = TV.Abs(d);
        if (beta == 0)
        {
            dx = L1Fused.Sign(d);
            return ad;
        }
        TV b = TV.Splat(beta), half = TV.Splat(0.5f);
        // The outer zone as β ≤ |d|, so that a NaN d (in neither zone) takes d/β and stays NaN, not ±1.
        TV outside = TV.LessThanOrEqual(b, ad);
        TV hdd = half * d * d;
        if (reciprocal != 0)
        {
            TV r = TV.Splat(reciprocal);
            dx = TV.Select(outside, TV.CopySign(TV.Splat(1), d), d * r);
            return TV.Select(outside, ad - half * b, hdd * r);
        }
        dx = TV.Select(outside, TV.CopySign(TV.Splat(1), d), d / b);
        return TV.Select(outside, ad - half * b, hdd / b);
    }
}

/// <summary>BCE on probabilities: −(y·max(log x, −100) + (1 − y)·max(log(1 − x), −100)); (x − y)/max(x(1 − x), 1e−12).</summary>
internal readonly struct BceFused : IFusedKernel<BinaryCrossEntropy.Kernel>
{
    public BinaryCrossEntropy.Kernel Spec => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Eval<TV>(TV x, TV y, TV a, out TV dx) where TV : struct, IVec<TV>
    {
        TV one = TV.Splat(1), zero = TV.Splat(0);
        TV u = one - x, ux = u * x;
        dx = (x - y) / TV.Max(ux, TV.Splat(1e-12f));
        // Hard labels need one log: of x where y = 1, of 1 − x where y = 0. The other term's weight is 0, so the value is
        // the general formula's bit for bit.
        if (HardLabels.All(y))
        {
            TV isOne = TV.Equal(y, one);
            TV p = TV.Select(isOne, x, u), correction = TV.Select(isOne, zero, Log1mxCorrection(x, u));
            // Every x in [0, 1] and every log argument normal (log ≥ −87.4): no NaN to make, no clamp at −100, no
            // subnormal or zero inside the log. The range checks are off the dependency chain; the general path below
            // gives the same floats on such vectors.
            if (TV.AllInRange(x, zero, one) && TV.AllInRange(p, TV.Splat(VMath.MinNormal), one)) return -(VMath.LogNormal(p) + correction);
            TV l = VMath.LogNonNegative(p) + correction;
            // One log no longer turns every x outside [0, 1] into NaN (x > 1 where y = 1 has a finite log). Exactly those
            // x have x(1 − x) < 0 or NaN, so that is what makes the value NaN for the caller's check.
            return -ClampLog(TV.SelectLessOrEqual(zero, ux, l, TV.Splat(float.NaN)));
        }
        // In [0, 1], log x and log(1 − x) need no special-value handling (0 → −∞ → −100). Outside, or NaN, one of the
        // logs is NaN and the clamp keeps it (a compare, where a hardware max might drop it): the caller checks the
        // input only when the sum comes out NaN.
        TV logX, log1mX;
        if (TV.AllInRange(x, TV.Splat(VMath.MinNormal), TV.Splat(OneBelowOne)))
        {
            // x and 1 − x normal (the largest float below 1 leaves 1 − x ≥ 2⁻²⁴): as below without the special values.
            logX = VMath.LogNormal(x);
            log1mX = VMath.LogNormal(u) + Log1mxCorrection(x, u);
        }
        else
        {
            logX = ClampLog(VMath.LogNonNegative(x));
            log1mX = ClampLog(VMath.LogNonNegative(u) + Log1mxCorrection(x, u));
        }
        return -(y * logX + (one - y) * log1mX);
    }

    /// <summary>The largest float below 1, 1 − 2⁻²⁴.</summary>
    private const float OneBelowOne = 0.99999994f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV ClampLog<TV>(TV l) where TV : struct, IVec<TV>
    {
        TV floor = TV.Splat(-100);
        return TV.SelectLess(l, floor, floor, l);
    }

    /// <summary>
    /// log(1 − x) = log u + δ/u to first order, where u = 1 − x rounded and δ = (1 − x) − u exactly: u is exact for
    /// x ≥ ½ (Sterbenz), and below ½ this corrects its rounding.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Log1mxCorrection<TV>(TV x, TV u) where TV : struct, IVec<TV>
    {
        // At x = 1, u = δ = 0: dividing by max(u, ε) makes that 0 rather than 0/0, without a select (every other u in
        // (0, 1] is at least 2⁻²⁴, so the max leaves it alone).
        return (-x - (u - TV.Splat(1f))) / TV.Max(u, TV.Splat(float.Epsilon));
    }
}

/// <summary>BCE on logits with pos_weight p (lane a): (1 − y)·softplus(x) + p·y·softplus(−x); (1 + (p − 1)y)σ(x) − p·y.</summary>
internal readonly struct BceWithLogitsFused : IFusedKernel<BinaryCrossEntropyWithLogits.Kernel>
{
    public BinaryCrossEntropyWithLogits.Kernel Spec => new(0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Eval<TV>(TV x, TV y, TV a, out TV dx) where TV : struct, IVec<TV>
    {
        TV one = TV.Splat(1), ay = a * y, omy = one - y;
        TV p = VMath.Logistic(x, out _, out TV softplusMinusX, out TV log1pE, exactTails: false);
        dx = (omy + ay) * p - ay;
        // Both softplus terms, as the specification, rather than (1 − y)x + c·softplus(−x): the same function for finite
        // x without its cancellation at very negative x, and at x = −∞, y = 1 the specification's ∞ where 0·(−∞) gave
        // NaN. Two more operations; softplus(x) = max(x, 0) + log1p(e^−|x|).
        return TV.Fma(ay, softplusMinusX, omy * (TV.Max(TV.Splat(0), x) + log1pE));
    }
}

/// <summary>torchvision sigmoid focal loss α_t·ce·q^γ with q = 1 − p_t computed without cancellation.</summary>
internal readonly struct SigmoidFocalFused(float alpha, float gamma) : IFusedKernel<SigmoidFocalLoss.Kernel>
{
    public SigmoidFocalLoss.Kernel Spec => new(alpha, gamma);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Eval<TV>(TV x, TV y, TV a, out TV dx) where TV : struct, IVec<TV>
    {
        TV one = TV.Splat(1), zero = TV.Splat(0);
        // γ = 2 (the default) with hard labels and finite logits (x·0 = 0, NaN for ±∞ and NaN): see OnHardLabels.
        if (gamma == 2 && HardLabels.All(y, x * zero)) return OnHardLabels(x, y, out dx);
        TV p = VMath.Logistic(x, out TV omp, out TV softplusMinusX, out TV log1pE, exactTails: true);
        // ce = (1 − y)·softplus(x) + y·softplus(−x), as the specification: two non-negative terms, where (1 − y)x +
        // softplus(−x) cancels at very negative x and is NaN at x = −∞ (0·∞ for y = 1, ∞ − ∞ otherwise).
        TV omy = one - y;
        TV ce = TV.Fma(y, softplusMinusX, omy * (TV.Max(zero, x) + log1pE));
        TV q = p * omy + omp * y;
        TV focus, qgm1;   // q^γ and q^(γ−1)
        if (gamma == 2)
        {
            focus = q * q;
            qgm1 = q;
        }
        else if (gamma == 0)
        {
            focus = one;
            qgm1 = zero;
        }
        else
        {
            focus = Powers(q, out qgm1);
        }
        // γ·ce·q^(γ−1), its limit 0 where q = 0 or ce = 0 (as the specification).
        TV vanish = TV.Equal(q, zero) | TV.Equal(ce, zero);
        // ce times σ(x)σ(−x) before γ and q^(γ−1): at |x| near float.MaxValue γ·ce overflowed, and ∞·0 made the gradient NaN.
        // γ = 0: no such term (cross-entropy times α_t), also where ce = ∞ and σ(x)σ(−x) = 0 would make 0·∞.
        TV ceDFocusPq = gamma == 0 ? zero : TV.Select(vanish, zero, TV.Splat(gamma) * qgm1 * (ce * (p * omp)));
        TV alphaT = alpha >= 0 ? TV.Splat(alpha) * y + TV.Splat(1 - alpha) * omy : one;
        dx = alphaT * ((p - y) * focus + ceDFocusPq * (one - (y + y)));
        return alphaT * ce * focus;
    }

    /// <summary>
    /// q^γ and q^(γ−1) for γ other than 0 and 2: one log and two exponentials, out of line. Inlined with the rest of
    /// the kernel they left the loop too large for the JIT to inline its lane operations below 512 bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private TV Powers<TV>(TV q, out TV qgm1) where TV : struct, IVec<TV>
    {
        TV lq = VMath.LogNonNegative(q);   // q in [0, 1]: log q ≤ 0, so both powers take the non-positive exponential
        qgm1 = gamma >= 1 ? VMath.ExpNonPositive(TV.Splat(gamma - 1) * lq) : VMath.Exp(TV.Splat(gamma - 1) * lq);
        return VMath.ExpNonPositive(TV.Splat(gamma) * lq);
    }

    /// <summary>
    /// γ = 2 and y ∈ {0, 1}, in terms of the margin s = ±x (+ for y = 1): p_t = σ(s), q = 1 − p_t = σ(−s), ce = softplus(−s),
    /// ℓ = α_t·q²·ce. With dq/ds = −q·p_t and dce/ds = −q, dℓ/ds = −α_t·q²·(2·p_t·ce + q), and dx = ±ds. The same
    /// function as the general path (whose terms reduce to these) without its blends of p and 1 − p, its guard on
    /// γ·ce·q^(γ−1) and its (1 − 2y) factor: 18 % faster per element, the logistic itself being most of the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TV OnHardLabels<TV>(TV x, TV y, out TV dx) where TV : struct, IVec<TV>
    {
        TV isOne = TV.Equal(y, TV.Splat(1));
        TV s = TV.Select(isOne, x, -x);
        TV pt = VMath.Logistic(s, out TV q, out TV ce, out _, exactTails: true);
        TV alphaT = alpha >= 0 ? TV.Select(isOne, TV.Splat(alpha), TV.Splat(1 - alpha)) : TV.Splat(1);
        TV aq2 = alphaT * (q * q);
        TV d = aq2 * TV.Fma(pt + pt, ce, q);
        dx = TV.Select(isOne, -d, d);
        return aq2 * ce;
    }
}

/// <summary>PyTorch kl_div on log-probabilities x: t(log t − x) with 0·log 0 = 0, ∂/∂x = −t; log_target: eᵗ(t − x), −eᵗ.</summary>
internal readonly struct KLDivergenceFused(bool logTarget) : IFusedKernel<KLDivergence.Kernel>
{
    public KLDivergence.Kernel Spec => new(logTarget);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Eval<TV>(TV x, TV t, TV a, out TV dx) where TV : struct, IVec<TV>
    {
        if (logTarget)
        {
            TV e = VMath.Exp(t);
            dx = -e;
            return e * (t - x);
        }
        dx = -t;
        // Targets all positive normal floats: no 0·log 0 to define, no subnormal, no bad input to turn into NaN.
        if (TV.AllInRange(t, TV.Splat(VMath.MinNormal), TV.Splat(float.MaxValue))) return t * VMath.LogNormal(t) - t * x;
        TV zero = TV.Splat(0);
        return TV.SelectEqual(t, zero, zero, t * VMath.LogNonNegative(t)) - t * x;
    }
}
