using System.Diagnostics;
using LossLab.Data;
using LossLab.Losses.Core;
using LossLab.Nn;

namespace LossLab.Training;

/// <summary>One trained model of a comparison: which loss, activation and seed, and what it achieved.</summary>
public sealed record RunRecord(string Loss, string Activation, int Seed, IReadOnlyList<EpochRecord> History, IReadOnlyDictionary<string, double> Test, int BestEpoch, string StopReason, double Seconds);

/// <summary>Mean and sample standard deviation over seeds.</summary>
public sealed record Spread(double Mean, double Std, int Count);

/// <summary>The mean paired difference (this − reference) over seeds and its 95 % Student-t interval.</summary>
public sealed record PairedDifference(double Mean, double Low, double High)
{
    /// <summary>Number of pairs.</summary>
    public int Count { get; init; }

    /// <summary>
    /// Every pair differs by the same amount (quantized metrics, such as the accuracy on a small test split, do this):
    /// the t-interval then has no width and says nothing about the spread, so the sign test decides instead.
    /// </summary>
    public bool NoSpread { get; init; }

    /// <summary>
    /// True when the interval excludes 0; without spread, when the two-sided sign test rejects at 5 %, which takes at
    /// least 6 pairs of one sign (2·½⁶ = 0.031; 5 give 0.0625).
    /// </summary>
    public bool Significant => NoSpread ? Mean != 0 && Count >= 6 : Low > 0 || High < 0;
}

/// <summary>All runs of one (loss, activation) arm, summarized, with the paired comparison against the first arm.</summary>
public sealed record ArmSummary(string Loss, string Activation, IReadOnlyDictionary<string, Spread> Metrics, IReadOnlyDictionary<string, PairedDifference> VersusFirst, IReadOnlyList<RunRecord> Runs);

public sealed record ComparisonResult(IReadOnlyList<ArmSummary> Arms, IReadOnlyList<string> MetricNames)
{
    /// <summary>
    /// The arm with the best mean of a metric (lowest for errors, highest otherwise); null for "loss", whose values
    /// are on each loss's own scale and cannot be compared across losses. Means equal but for rounding (within 10⁻¹²
    /// relative: the same per-seed values summed in another order) are a tie, which the earlier arm wins.
    /// </summary>
    public ArmSummary? Best(string metric)
    {
        if (metric == "loss") return null;
        var candidates = Arms.Where(a => a.Metrics.TryGetValue(metric, out Spread? s) && double.IsFinite(s.Mean)).ToList();
        if (candidates.Count == 0) return null;
        double best = Comparison.LowerIsBetter(metric) ? candidates.Min(a => a.Metrics[metric].Mean) : candidates.Max(a => a.Metrics[metric].Mean);
        return candidates.First(a => Math.Abs(a.Metrics[metric].Mean - best) <= 1e-12 * Math.Max(1, Math.Abs(best)));
    }
}

/// <summary>
/// Trains one model per loss (and per activation) for every seed with the same splits, initialization seed and
/// budget, then summarizes each metric as mean ± std over seeds and compares each arm with the first one, paired by
/// seed (the same split), with a 95 % t-interval. Loss options go to the losses that take them.
/// </summary>
public static class Comparison
{
    private static readonly HashSet<string> Lower = ["loss", "log_loss", "ece", "mae", "rmse", "mape", "rank_mae"];

    public static bool LowerIsBetter(string metric) => Lower.Contains(metric);

    public static ComparisonResult Run(Dataset data, IReadOnlyList<string> losses, IReadOnlyList<Activation> activations, int seeds, TrainingOptions options,
        LossRegistry? registry = null, IProgress<RunRecord>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(losses);
        ArgumentNullException.ThrowIfNull(activations);
        ArgumentNullException.ThrowIfNull(options);
        if (losses.Count == 0) throw new ArgumentException("give at least one loss to compare", nameof(losses));
        if (seeds < 1) throw new ArgumentOutOfRangeException(nameof(seeds), $"seeds must be at least 1, got {seeds}");
        registry ??= LossRegistry.Default;
        // Each loss gets the options it takes; an option that no loss takes is a mistake, reported before any training.
        var perLoss = new Dictionary<string, IReadOnlyDictionary<string, object?>>(StringComparer.Ordinal);
        foreach (string loss in losses)
        {
            LossDescriptor d = registry.Get(loss);
            var own = options.LossOptions.Where(kv => d.Options.Any(o => o.Name == kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
            new LossBinding(d, own, data.Task, data.Classes, null).RequireUnlabeledRows(options.LabeledFraction);   // checks, before any training
            perLoss[loss] = own;
        }
        string? orphan = options.LossOptions.Keys.FirstOrDefault(k => !perLoss.Values.Any(o => o.ContainsKey(k)));
        if (orphan is not null)
        {
            throw new LossArgumentException(LossErrorCode.UnsupportedOption, $"no loss in the comparison takes the option '{orphan}'");
        }
        var arms = new List<(string Loss, Activation Activation, List<RunRecord> Runs)>();
        foreach (Activation activation in activations)
        {
            foreach (string loss in losses) arms.Add((loss, activation, []));
        }
        for (int seed = 0; seed < seeds; seed++)
        {
            foreach (var arm in arms)
            {
                cancel.ThrowIfCancellationRequested();
                var clock = Stopwatch.StartNew();
                TrainingResult r = Trainer.Train(data, options with { Loss = arm.Loss, LossOptions = perLoss[arm.Loss], Activation = arm.Activation, Seed = options.Seed + seed }, registry, cancel: cancel);
                var record = new RunRecord(arm.Loss, arm.Activation.ToString().ToLowerInvariant(), options.Seed + seed, r.History, r.Test, r.BestEpoch, r.StopReason, clock.Elapsed.TotalSeconds);
                arm.Runs.Add(record);
                progress?.Report(record);
            }
        }
        return Summarize([.. arms.Select(a => (a.Loss, a.Activation.ToString().ToLowerInvariant(), (IReadOnlyList<RunRecord>)a.Runs))]);
    }

    /// <summary>Summaries of arms whose runs are paired by position (run i of every arm used seed i).</summary>
    public static ComparisonResult Summarize(IReadOnlyList<(string Loss, string Activation, IReadOnlyList<RunRecord> Runs)> arms)
    {
        ArgumentNullException.ThrowIfNull(arms);
        string[] metrics = [.. arms.SelectMany(a => a.Runs.SelectMany(r => r.Test.Keys)).Distinct().Order(StringComparer.Ordinal)];
        var first = arms[0].Runs;
        var summaries = arms.Select(a =>
        {
            var spreads = new Dictionary<string, Spread>();
            var versus = new Dictionary<string, PairedDifference>();
            foreach (string m in metrics)
            {
                // A metric an arm does not report (log_loss of a metric-learning model's uncalibrated scores) stays
                // out of its summary, rather than showing as NaN; so does its difference from a reference without it.
                if (!a.Runs.Any(r => r.Test.ContainsKey(m))) continue;
                double[] values = [.. a.Runs.Select(r => r.Test.GetValueOrDefault(m, double.NaN))];
                spreads[m] = Describe(values);
                double[] reference = [.. first.Select(r => r.Test.GetValueOrDefault(m, double.NaN))];
                if (first.Any(r => r.Test.ContainsKey(m))) versus[m] = Paired(values, reference);
            }
            return new ArmSummary(a.Loss, a.Activation, spreads, versus, a.Runs);
        }).ToList();
        return new ComparisonResult(summaries, metrics);
    }

    public static Spread Describe(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var v = values.Where(double.IsFinite).ToArray();
        if (v.Length == 0) return new Spread(double.NaN, double.NaN, 0);
        double mean = v.Average();
        double std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
        return new Spread(mean, std, v.Length);
    }

    /// <summary>Mean of (a − b) per pair with a 95 % t-interval; NaN bounds with fewer than two pairs; see <see cref="PairedDifference.NoSpread"/>.</summary>
    public static PairedDifference Paired(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        double[] d = [.. a.Zip(b, (x, y) => x - y).Where(double.IsFinite)];
        if (d.Length == 0) return new PairedDifference(double.NaN, double.NaN, double.NaN);
        Spread s = Describe(d);
        if (d.Length < 2) return new PairedDifference(s.Mean, double.NaN, double.NaN) { Count = d.Length };
        double half = TCritical95(d.Length - 1) * s.Std / Math.Sqrt(d.Length);
        // "No spread" up to round-off: accuracies k/n differ by amounts equal in exact arithmetic but not in the last bits.
        bool noSpread = s.Std <= 1e-9 * Math.Abs(s.Mean);
        return new PairedDifference(s.Mean, s.Mean - half, s.Mean + half) { Count = d.Length, NoSpread = noSpread };
    }

    /// <summary>
    /// Two-sided 95 % critical value of Student's t with <paramref name="df"/> degrees of freedom: the table to
    /// df = 30, then the Cornish–Fisher expansion around z = 1.959964 (within 2e-4 of the exact value from df = 30).
    /// </summary>
    public static double TCritical95(int df)
    {
        double[] table = [double.NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
            2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042];
        if (df < 1) return double.NaN;
        if (df < table.Length) return table[df];
        const double z = 1.959963984540054;
        double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z, n = df;
        return z + (z3 + z) / (4 * n) + (5 * z5 + 16 * z3 + 3 * z) / (96 * n * n) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * n * n * n);
    }
}
