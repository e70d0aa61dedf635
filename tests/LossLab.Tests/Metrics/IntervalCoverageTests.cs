using LossLab.Metrics;

namespace LossLab.Tests.Metrics;

public sealed class IntervalCoverageTests
{
    [Fact]
    public void Counts_the_targets_inside_their_interval_edges_included()
    {
        // σ = 1, 2, 0.5, 1: intervals ±1.96, ±3.92, ±0.98, ±1.96; errors 1.96 (edge, inside), 4, 0.5, −3.
        double[] means = [0, 0, 0, 0], variances = [1, 4, 0.25, 1], targets = [IntervalCoverage.Z95, 4, 0.5, -3];
        Assert.Equal(0.5, IntervalCoverage.Of(means, variances, targets));
        Assert.Equal(0.25, IntervalCoverage.Of(means, variances, targets, z: 1));   // only 0.5 ≤ 1·0.5, the edge
        Assert.True(double.IsNaN(IntervalCoverage.Of([], [], [])));
    }

    [Fact]
    public void Calibrated_gaussian_errors_cover_about_95_percent()
    {
        var r = new Random(5);
        int n = 20000;
        double[] means = new double[n], variances = new double[n], targets = new double[n];
        for (int i = 0; i < n; i++)
        {
            double sigma = 0.1 + 3 * r.NextDouble();
            double gauss = Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
            (means[i], variances[i], targets[i]) = (i, sigma * sigma, i + sigma * gauss);
        }
        Assert.InRange(IntervalCoverage.Of(means, variances, targets), 0.94, 0.96);
        // Halving every variance makes the intervals too narrow: coverage drops to P(|Z| ≤ 1.96/√2) ≈ 0.834.
        Assert.InRange(IntervalCoverage.Of(means, [.. variances.Select(v => v / 2)], targets), 0.82, 0.85);
    }

    [Fact]
    public void Mismatched_lengths_are_named()
    {
        var e = Assert.Throws<ArgumentException>(() => IntervalCoverage.Of([0, 0], [1], [0, 0]));
        Assert.Contains("2 means and 1 variances for 2 targets", e.Message, StringComparison.Ordinal);
    }
}
