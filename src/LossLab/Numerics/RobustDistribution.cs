namespace LossLab.Numerics;

/// <summary>
/// Barron's general robust loss ρ(x, α) at unit scale, with its derivatives in u = x² and in the shape α, and the log
/// of the partition function Z(α) = ∫ e^{−ρ(x, α)} dx that turns ρ into the density of the adaptive loss
/// (A General and Adaptive Robust Loss Function, CVPR 2019, section 2). For α ≥ 0; below 0 the integral diverges.
/// </summary>
/// <remarks>
/// <para><b>ρ.</b> With b = max(ε, |α − 2|) (ε the float32 machine epsilon, the reference's guard near 2), w = u/b + 1,
/// L = log w and t = αL/2: ρ = (b/α)·(w^{α/2} − 1) = (b/2)·L·q(t), q(t) = expm1(t)/t. The second form has no 0/0 at
/// α = 0 (q(0) = 1 gives ρ = log(1 + u/2), the Cauchy loss) and keeps the digits of small u (log1p, expm1); at α = 2
/// (b = ε) it is u/2 exactly as the reference's branch. ∂ρ/∂u = ½·w^{α/2 − 1}.</para>
/// <para><b>∂ρ/∂α.</b> With s = db/dα (−1 below 2, +1 above, 0 in the guard band) and dL/dα = −s·u/(b²w):
/// ∂ρ/∂α = −(b/α²)E + (s/α)E + (b/α)(1 + E)(L/2 + (α/2)dL/dα), E = expm1(t). Its two 1/α terms cancel near α = 0;
/// gathered, ∂ρ/∂α = b·(L²/4)·h(t) + s·(L/2)·q(t) + (b/2)·e^t·dL/dα with h(t) = (e^t(t − 1) + 1)/t², a series below
/// t = ½. At α = 0 it is L²/4 − L/2 + u/(4w). (Without the guard, ∂ρ/∂α would grow like log(1/|α − 2|) at 2: the
/// reason Barron's adaptive loss keeps α below 1.999.)</para>
/// <para><b>log Z and its slope.</b> Z(α) = 2∫₀^∞ e^{−ρ(x², α)} dx by double-exponential (exp-sinh) quadrature:
/// x = e^{(π/2)·sinh τ}, τ a trapezoid grid of step 1/64 over [−6.09, 6.09], where x runs from e^−345 to e^345 (the
/// Cauchy tail 2/x² at α = 0 included). d log Z/dα = −E_p[∂ρ/∂α], the same sum with ∂ρ/∂α weighted in. Checked
/// against mpmath's quadrature to 1e-14 over α in [0, 64] and against the closed forms at α = 0 (π√2), 1 (2e·K₁(1))
/// and 2 (√(2π)); step 1/32 was enough but for large α (7e-14 at 64, where e^−ρ drops like a step). About 780
/// evaluations of ρ per α at most (the nodes are computed once; the right tail stops where e^−ρ underflows), about
/// 25 µs on the AVX-512 host; the adaptive loss spreads distinct α over the cores. The reference interpolates a
/// precomputed spline instead.</para>
/// </remarks>
public static class RobustDistribution
{
    private const double Epsilon = 1.1920928955078125e-7;   // float32's machine epsilon, the reference's guard
    private const double Step = 1.0 / 64, TauMax = 6.09;

    /// <summary>ρ(u, α) at u = (x/c)² ≥ 0 and α ≥ 0 finite, with ∂ρ/∂u and ∂ρ/∂α.</summary>
    public static double Rho(double u, double alpha, out double dU, out double dAlpha) => Rho(u, alpha, true, out dU, out dAlpha);

    /// <summary>As <see cref="Rho(double, double, out double, out double)"/>; without <paramref name="withU"/> ∂ρ/∂u (an exponential) is left 0.</summary>
    private static double Rho(double u, double alpha, bool withU, out double dU, out double dAlpha)
    {
        double gap = alpha - 2, b = Math.Max(Epsilon, Math.Abs(gap)), s = Math.Abs(gap) > Epsilon ? Math.Sign(gap) : 0;
        double r = u / b;
        // L = log(u/b + 1), by its parts where u/b would overflow (x beyond about 1e150 near α = 2).
        double l = r < 1e300 ? Stable.Log1p(r) : Math.Log(u) - Math.Log(b), t = 0.5 * alpha * l;
        double et = Math.Exp(t), q = t == 0 ? 1 : double.IsPositiveInfinity(et) ? double.PositiveInfinity : Stable.Expm1(t) / t;
        dU = withU ? 0.5 * Math.Exp((0.5 * alpha - 1) * l) : 0;
        double dL = u == 0 ? 0 : -s / (b * (1 + b / u));   // −s·u/(b²w), without forming w
        dAlpha = b * 0.25 * l * l * H(t) + s * 0.5 * l * q + 0.5 * b * et * dL;
        return alpha == 2 ? 0.5 * u : 0.5 * b * l * q;   // at 2 the reference's branch, exactly (the formula is within 2 ulp)
    }

    /// <summary>h(t) = (e^t(t − 1) + 1)/t² = Σ_{n≥2} (n − 1)·t^{n−2}/n! for t ≥ 0; h(0) = ½.</summary>
    internal static double H(double t)
    {
        if (t >= 0.5) return (Math.Exp(t) * (t - 1) + 1) / (t * t);
        double sum = 0, power = 1, factorial = 2;   // t^{n−2}, n!
        for (int n = 2; n < 40; n++)
        {
            double term = (n - 1) * power / factorial;
            sum += term;
            if (term < 1e-18 * sum) break;
            power *= t;
            factorial *= n + 1;
        }
        return sum;
    }

    /// <summary>
    /// Recent shapes' (log Z, slope): an evaluation loop or a frozen α asks for the same few values again (a quadrature
    /// each otherwise). Bounded: cleared when full. The same numbers either way.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<double, (double LogZ, double Slope)> Recent = new();

    /// <summary>log Z(α) for α ≥ 0 finite, and d log Z/dα in <paramref name="dAlpha"/>.</summary>
    public static double LogPartition(double alpha, out double dAlpha)
    {
        CheckShape(alpha);
        if (Recent.TryGetValue(alpha, out var known))
        {
            dAlpha = known.Slope;
            return known.LogZ;
        }
        double logZ = Integrate(alpha, out dAlpha);
        if (Recent.Count >= 4096) Recent.Clear();
        Recent[alpha] = (logZ, dAlpha);
        return logZ;
    }

    private static void CheckShape(double alpha)
    {
        if (!(alpha >= 0) || !double.IsFinite(alpha))
            throw LossArgumentException.Value($"the robust distribution needs a finite shape α ≥ 0 (its partition function diverges below 0), got {alpha}");
    }

    /// <summary>
    /// log Z and its slope for every shape in <paramref name="alpha"/> (checked as <see cref="LogPartition"/>): from 16
    /// shapes on, split between the cores (each shape's quadrature is the same wherever it runs).
    /// </summary>
    public static void LogPartitions(double[] alpha, double[] logZ, double[] slope)
    {
        if (logZ.Length != alpha.Length || slope.Length != alpha.Length)
            throw LossArgumentException.Shape($"LogPartitions: {alpha.Length} shapes but {logZ.Length} and {slope.Length} outputs");
        foreach (double a in alpha) CheckShape(a);   // here, so that the first bad shape is the one named
        PartitionJob job = PartitionJob.ForThisThread;
        (job.Alpha, job.LogZ, job.Slope) = (alpha, logZ, slope);
        try
        {
            job.Run(alpha.Length >= 16 ? Math.Min(Environment.ProcessorCount, alpha.Length) : 1);
        }
        finally
        {
            (job.Alpha, job.LogZ, job.Slope) = (null!, null!, null!);   // no references kept past the call
        }
    }

    private sealed class PartitionJob : Simd.RangeJob<PartitionJob>
    {
        public double[] Alpha = null!, LogZ = null!, Slope = null!;

        protected override double RunPart(int part)
        {
            var (from, to) = PartRange(Alpha.Length, part);
            for (int j = from; j < to; j++) LogZ[j] = LogPartition(Alpha[j], out Slope[j]);
            return 0;
        }
    }

    /// <summary>The quadrature's nodes x² and weights x·(π/2)·cosh τ, τ = i·Step for i = −k..k: the same for every α.</summary>
    private static readonly (double[] XSquared, double[] Weight) Nodes = BuildNodes();

    private static (double[] XSquared, double[] Weight) BuildNodes()
    {
        int k = (int)Math.Ceiling(TauMax / Step);
        var x2 = new double[2 * k + 1];
        var weight = new double[2 * k + 1];
        for (int i = -k; i <= k; i++)
        {
            double tau = i * Step, half = 0.5 * Math.PI;
            double x = Math.Exp(half * Math.Sinh(tau));
            x2[i + k] = x * x;
            weight[i + k] = x * half * Math.Cosh(tau);
        }
        return (x2, weight);
    }

    private static double Integrate(double alpha, out double dAlpha)
    {
        var (x2, weights) = Nodes;
        double z = 0, dz = 0;
        for (int i = 0; i < x2.Length; i++)
        {
            double rho = Rho(x2[i], alpha, false, out _, out double dRho), f = Math.Exp(-rho), weight = weights[i];
            // ρ grows with x for α ≥ 0: once e^−ρ underflows, every later node's does too (no mass, and ∂ρ/∂α·0 could
            // be ∞·0).
            if (f == 0) break;
            if (!(f > 0)) continue;
            z += weight * f;
            dz += weight * f * dRho;
        }
        dAlpha = -dz / z;
        return Math.Log(2 * Step * z);
    }
}
