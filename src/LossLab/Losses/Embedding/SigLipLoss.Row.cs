using System.Runtime.CompilerServices;
using LossLab.Numerics.Simd;

namespace LossLab.Losses.Embedding;

/// <summary>SigLIP's pair terms a row at a time, on double lanes.</summary>
public sealed partial class SigLipLoss
{
    /// <summary>
    /// Σ_j softplus(−m_j) over similarities s_j of one sign z (+1 matched, −1 unmatched), m_j = z·(scale·s_j + bias);
    /// when <paramref name="grad"/> is not empty (it may be <paramref name="s"/> itself), grad_j = −z·r·σ(−m_j), and
    /// gs += Σ grad_j·s_j, gb += Σ grad_j. Both logistic functions come from one exponential: with x = −m, a = |x|,
    /// e = e^−a and u = 1 + e, softplus(x) = max(x, 0) + log1p(e) and σ(x) = (x ≥ 0 ? 1 : e)/u, log1p(e) = log u +
    /// (e − (u − 1))/u (u − 1 and e − (u − 1) exact for e in [0, 1], so a tiny e keeps its digits). The scalar loop is
    /// the specification; the lanes are tested against it at every length 0..300 and every width.
    /// </summary>
    internal static double Row(ReadOnlySpan<double> s, double z, double scale, double bias, double r, Span<double> grad, ref double gs, ref double gb,
        SimdWidth width = (SimdWidth)(-1))
    {
        if ((int)width < 0) width = Simd.Best;
        return width switch
        {
            SimdWidth.V512 => RowVector<D512>(s, z, scale, bias, r, grad, ref gs, ref gb),
            SimdWidth.V256 => RowVector<D256>(s, z, scale, bias, r, grad, ref gs, ref gb),
            SimdWidth.V128 => RowVector<D128>(s, z, scale, bias, r, grad, ref gs, ref gb),
            _ => RowScalar(0, s, z, scale, bias, r, grad, ref gs, ref gb),
        };
    }

    private static double RowScalar(int from, ReadOnlySpan<double> s, double z, double scale, double bias, double r, Span<double> grad, ref double gs, ref double gb)
    {
        double sum = 0;
        for (int j = from; j < s.Length; j++)
        {
            double sj = s[j], x = -z * (scale * sj + bias), a = Math.Abs(x);
            double e = DExp.Negative(a), u = 1 + e;
            sum += Math.Max(x, 0) + DExp.Log1p(e, u);
            if (grad.IsEmpty) continue;
            double g = -z * r * ((x >= 0 ? 1 : e) / u);
            gs += g * sj;
            gb += g;
            grad[j] = g;
        }
        return sum;
    }

    /// <summary>
    /// <see cref="RowScalar"/> on TV.Count entries at a time, the tail by the scalar loop: lane for lane the same
    /// operations (the hardware max takes the data second, so a NaN comes through), with .NET's vector exponential and
    /// logarithm (within 3 ulp of Math.Exp and Math.Log) and the sums in lanes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double RowVector<TV>(ReadOnlySpan<double> s, double z, double scale, double bias, double r, Span<double> grad, ref double gs, ref double gb)
        where TV : struct, IDVec<TV>
    {
        TV nz = TV.Splat(-z), sc = TV.Splat(scale), b = TV.Splat(bias), zero = TV.Splat(0), one = TV.Splat(1);
        TV gz = TV.Splat(-z * r), sum = zero, sumGs = zero, sumGb = zero;
        int j = 0;
        for (; j <= s.Length - TV.Count; j += TV.Count)
        {
            TV sj = TV.Load(s, j);
            TV x = nz * (sc * sj + b), a = TV.Abs(x);
            TV e = DExp.Negative(a);
            TV u = one + e;
            sum += TV.Max(zero, x) + DExp.Log1p(e, u);
            if (grad.IsEmpty) continue;
            TV g = gz * (TV.Select(TV.LessThan(x, zero), e, one) / u);
            sumGs += g * sj;
            sumGb += g;
            TV.Store(g, grad, j);
        }
        gs += TV.Sum(sumGs);
        gb += TV.Sum(sumGb);
        return TV.Sum(sum) + RowScalar(j, s, z, scale, bias, r, grad, ref gs, ref gb);
    }
}
