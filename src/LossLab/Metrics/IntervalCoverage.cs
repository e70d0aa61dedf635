namespace LossLab.Metrics;

/// <summary>
/// How well predicted variances describe the errors: the share of targets inside their Gaussian interval
/// μ ± z·√v. At z = 1.96 it is 0.95 when the variances are calibrated; less means overconfident, more underconfident.
/// </summary>
public static class IntervalCoverage
{
    /// <summary>z of the central 95 % of a standard normal.</summary>
    public const double Z95 = 1.959963984540054;

    /// <summary>The share of i with |targets[i] − means[i]| ≤ z·√variances[i]; NaN for no rows.</summary>
    public static double Of(ReadOnlySpan<double> means, ReadOnlySpan<double> variances, ReadOnlySpan<double> targets, double z = Z95)
    {
        if (means.Length != targets.Length || variances.Length != targets.Length)
        {
            throw new ArgumentException($"{means.Length} means and {variances.Length} variances for {targets.Length} targets; they must be equal", nameof(means));
        }
        if (targets.IsEmpty) return double.NaN;
        int inside = 0;
        for (int i = 0; i < targets.Length; i++) if (Math.Abs(targets[i] - means[i]) <= z * Math.Sqrt(variances[i])) inside++;
        return (double)inside / targets.Length;
    }
}
