using System.Runtime.CompilerServices;
using LossLab.Numerics.Simd;

namespace LossLab.Losses.Ranking;

/// <summary>
/// The pair terms of <see cref="LambdaLoss"/> and RankNet, one document against a row of partners: for each partner j,
/// with d_j = clamp(s_i − s_j, ±10⁸) and z_j = σ_s·d_j,
/// term_j = max(w_j·max(log σ(z_j), log ε), log ε) and slope_j = ∂term_j/∂d_j = w_j·σ_s·σ(−z_j), 0 where either clamp
/// holds, |s_i − s_j| &gt; 10⁸ or w_j = 0. The scalar <see cref="Term"/> is the specification; the vector path is
/// tested against it at every length 0..300 and every width.
/// </summary>
/// <remarks>
/// <para>Both logistic functions come from one exponential: with a = |z| and e = e^−a (0 for a &gt; 700, where it is
/// below 10⁻³⁰⁴ and the vector exponential would leave its fast path), u = 1 + e,
/// log σ(z) = min(z, 0) − log1p(e) and σ(−z) = (z ≥ 0 ? e : 1)/u. log1p(e) = log u + (e − (u − 1))/u: u − 1 and
/// e − (u − 1) are exact for e in [0, 1], and the quotient is log(1 + δ/u) to first order (δ/u ≤ 2⁻⁵³), so the
/// rounding of u costs nothing at tiny e.</para>
/// <para>Why vectorized: a query of 4096 documents has 16.8 million ordered pairs. RankNet's 201 million selected pairs
/// in 32 such queries take 0.35 s on two cores of the AVX-512 host (about 3.5 ns a pair per core, everything included;
/// .NET's vector double exponential and log alone measured 1.2 ns per lane there, Math.Exp and Math.Log 10 ns):
/// docs/performance.md.</para>
/// </remarks>
internal static class PairwiseLogistic
{
    /// <summary>|s_i − s_j| past this is clamped (and has no gradient), as sentence-transformers' clamp does.</summary>
    private const double DiffClamp = 1e8;

    /// <summary>
    /// Σ_j term_j over the partners <paramref name="partners"/> of a document scored <paramref name="score"/>; adds
    /// slope_j to <paramref name="slopes"/>[j] and returns Σ_j slope_j in <paramref name="rowSlope"/> when
    /// <paramref name="gradients"/>. Weights: <paramref name="weights"/>[j], or <paramref name="weight"/> for every pair
    /// when that span is empty.
    /// </summary>
    public static double Row(double score, ReadOnlySpan<double> partners, ReadOnlySpan<double> weights, double weight,
        double sigma, double logEps, bool gradients, Span<double> slopes, out double rowSlope, SimdWidth width = (SimdWidth)(-1))
    {
        if ((int)width < 0) width = Simd.Best;
        return width switch
        {
            SimdWidth.V512 => RowVector<D512>(score, partners, weights, weight, sigma, logEps, gradients, slopes, out rowSlope),
            SimdWidth.V256 => RowVector<D256>(score, partners, weights, weight, sigma, logEps, gradients, slopes, out rowSlope),
            SimdWidth.V128 => RowVector<D128>(score, partners, weights, weight, sigma, logEps, gradients, slopes, out rowSlope),
            _ => RowScalar(0, score, partners, weights, weight, sigma, logEps, gradients, slopes, out rowSlope),
        };
    }

    /// <summary>One pair: term_j, and slope_j in <paramref name="slope"/> (the specification).</summary>
    public static double Term(double diff, double w, double sigma, double logEps, out double slope)
    {
        bool clamped = Math.Abs(diff) > DiffClamp;
        double z = sigma * Math.Clamp(diff, -DiffClamp, DiffClamp);
        double a = Math.Abs(z);
        double e = DExp.Negative(a);
        double u = 1 + e;
        double logU = Math.Min(z, 0) - DExp.Log1p(e, u);
        double logV = w * Math.Max(logU, logEps);
        slope = logU < logEps || logV < logEps || clamped || w == 0 ? 0 : w * sigma * ((z >= 0 ? e : 1) / u);
        return Math.Max(logV, logEps);
    }

    private static double RowScalar(int from, double score, ReadOnlySpan<double> partners, ReadOnlySpan<double> weights, double weight,
        double sigma, double logEps, bool gradients, Span<double> slopes, out double rowSlope)
    {
        double sum = 0, slopeSum = 0;
        for (int j = from; j < partners.Length; j++)
        {
            sum += Term(score - partners[j], weights.IsEmpty ? weight : weights[j], sigma, logEps, out double slope);
            if (!gradients) continue;
            slopes[j] += slope;
            slopeSum += slope;
        }
        rowSlope = slopeSum;
        return sum;
    }

    /// <summary>
    /// <see cref="Term"/> on TV.Count partners at a time, the tail by the scalar term. Lane for lane the same operations
    /// (the hardware max and min take the data second, so a NaN comes through as in Math.Max and Math.Min), with .NET's
    /// vector exponential and logarithm (within 3 ulp of Math.Exp and Math.Log) and the sums in lanes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double RowVector<TV>(double score, ReadOnlySpan<double> partners, ReadOnlySpan<double> weights, double weight,
        double sigma, double logEps, bool gradients, Span<double> slopes, out double rowSlope) where TV : struct, IDVec<TV>
    {
        TV s = TV.Splat(score), sg = TV.Splat(sigma), le = TV.Splat(logEps), zero = TV.Splat(0), one = TV.Splat(1);
        TV hi = TV.Splat(DiffClamp), lo = TV.Splat(-DiffClamp);
        TV w = TV.Splat(weight), sum = zero, slopeSum = zero;
        int j = 0;
        for (; j <= partners.Length - TV.Count; j += TV.Count)
        {
            TV diff = s - TV.Load(partners, j);
            TV z = sg * TV.Min(hi, TV.Max(lo, diff));
            TV a = TV.Abs(z);
            TV e = DExp.Negative(a);
            TV u = one + e;
            TV logU = TV.Min(zero, z) - DExp.Log1p(e, u);
            if (!weights.IsEmpty) w = TV.Load(weights, j);
            TV logV = w * TV.Max(le, logU);
            sum += TV.Max(le, logV);
            if (!gradients) continue;
            TV held = TV.LessThan(logU, le) | TV.LessThan(logV, le) | TV.LessThan(hi, TV.Abs(diff)) | TV.Equal(w, zero);
            TV slope = TV.Select(held, zero, w * sg * (TV.Select(TV.LessThan(z, zero), one, e) / u));
            TV.Store(TV.Load(slopes, j) + slope, slopes, j);
            slopeSum += slope;
        }
        double total = TV.Sum(sum) + RowScalar(j, score, partners, weights, weight, sigma, logEps, gradients, slopes, out double tail);
        rowSlope = TV.Sum(slopeSum) + tail;
        return total;
    }
}
