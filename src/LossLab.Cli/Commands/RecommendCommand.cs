using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LossLab.Cli.Lab;
using LossLab.Data;
using LossLab.Training;

namespace LossLab.Cli.Commands;

/// <summary>
/// <c>losslab recommend --data FILE.csv [--target COL] [--verify] [--format table|json]</c>: profiles the data, ranks
/// losses with a reason each quoting the measured statistic, and with <c>--verify</c> trains the top three on
/// repeated seeded splits to say whether the measurement agrees with the ranking.
/// </summary>
internal static class RecommendCommand
{
    /// <summary>The options of one <c>recommend</c> command tree.</summary>
    private sealed class Arguments
    {
        public readonly TrainArguments Train = new();
        public readonly Option<bool> Verify = new("--verify") { Description = "train the top three on repeated splits and check the ranking" };
        public readonly Option<int> Seeds = new("--seeds") { Description = "splits for --verify", DefaultValueFactory = _ => 3 };
        public readonly Option<int> Epochs = new("--epochs") { Description = "epochs per run for --verify", DefaultValueFactory = _ => 40 };
    }

    public static Command Create(CliConsole console)
    {
        var a = new Arguments();
        var command = new Command("recommend", "Inspect a data set and rank losses for it, with the measured reason for each.")
        {
            a.Train.Data, a.Train.Target, a.Train.Task, a.Train.Bins, a.Train.DropMissing, a.Verify, a.Seeds, a.Epochs, a.Train.Format,
        };
        command.SetAction((p, cancel) => Task.FromResult(CommandErrors.Guard(console, "recommend", () => Run(console, a, p, cancel))));
        return command;
    }

    internal sealed record Verification(string Metric, IReadOnlyList<(Recommendation Rec, Spread Score, PairedDifference VersusTop)> Arms, bool Agrees, string Verdict);

    private static int Run(CliConsole console, Arguments a, ParseResult p, CancellationToken cancel)
    {
        Dataset data = a.Train.LoadData(p, console.Error);
        DataProfile profile = DataProfile.Of(data);
        IReadOnlyList<Recommendation> ranking = Recommender.Rank(profile);
        Verification? verification = p.GetValue(a.Verify) ? Verify(console, data, profile, ranking, p.GetValue(a.Seeds), p.GetValue(a.Epochs), cancel) : null;
        if (p.GetValue(a.Train.Format) == "json")
        {
            console.Out.WriteLine(Json(profile, ranking, verification).ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            return ExitCodes.Ok;
        }
        TextWriter o = console.Out;
        o.WriteLine($"{data.TargetName}: {data.Task}, {data.Rows} rows, {data.Columns} features");
        foreach (Recommendation r in ranking)
        {
            o.WriteLine($"  {r.Rank}. {Describe(r)}");
            o.WriteLine($"     {r.Reason}");
        }
        if (verification is not null)
        {
            o.WriteLine($"verification ({verification.Metric}, mean ± std over {p.GetValue(a.Seeds)} splits):");
            foreach (var (rec, score, versus) in verification.Arms)
            {
                o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {rec.Rank}. {Describe(rec),-60} {score.Mean:F4} ± {score.Std:F4}   Δ vs #1 {Signed.Of(versus.Mean)} [{Signed.Of(versus.Low)}, {Signed.Of(versus.High)}]"));
            }
            o.WriteLine(verification.Verdict);
        }
        return ExitCodes.Ok;
    }

    internal static string Describe(Recommendation r)
    {
        string options = r.LossOptions.Count == 0 ? "" : " " + string.Join(" ", r.LossOptions.Select(kv => $"--loss-option {kv.Key}={Format(kv.Value)}"));
        string weights = r.ClassWeights == ClassWeighting.None ? "" : $" --class-weights {r.ClassWeights.ToString().ToLowerInvariant()}";
        return $"--loss {(r.Loss.Contains(' ', StringComparison.Ordinal) ? $"'{r.Loss}'" : r.Loss)}{options}{weights}";
    }

    private static string Format(object? v) => v switch
    {
        string s => $"\"{s}\"",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "null",
    };

    /// <summary>The top three trained on the same seeded splits; the ranking "agrees" when #1 is not significantly worse than the best.</summary>
    internal static Verification Verify(CliConsole console, Dataset data, DataProfile profile, IReadOnlyList<Recommendation> ranking, int seeds, int epochs, CancellationToken cancel)
    {
        string metric = data.Task switch
        {
            TaskKind.Regression => "r2",
            TaskKind.Ordinal => "rank_mae",
            _ => profile.ImbalanceRatio >= 3 ? "balanced_accuracy" : "accuracy",
        };
        double better = Comparison.LowerIsBetter(metric) ? -1 : 1;   // the sign that makes a difference an improvement
        var top = ranking.Take(3).ToList();
        var arms = new List<(string, string, IReadOnlyList<RunRecord>)>();
        foreach (Recommendation rec in top)
        {
            var runs = new List<RunRecord>();
            for (int seed = 0; seed < seeds; seed++)
            {
                cancel.ThrowIfCancellationRequested();
                var options = new TrainingOptions { Loss = rec.Loss, LossOptions = rec.LossOptions, ClassWeights = rec.ClassWeights, Epochs = epochs, Hidden = [32], LearningRate = 0.003, Seed = seed };
                TrainingResult r = Trainer.Train(data, options, console.Registry, cancel: cancel);
                runs.Add(new RunRecord(rec.Loss, "relu", seed, r.History, r.Test, r.BestEpoch, r.StopReason, 0));
            }
            arms.Add((Describe(rec), "relu", runs));
        }
        ComparisonResult result = Comparison.Summarize(arms);
        var rows = top.Select((rec, i) => (rec, result.Arms[i].Metrics[metric], result.Arms[i].VersusFirst[metric])).ToList();
        int best = Enumerable.Range(0, rows.Count).MaxBy(i => better * rows[i].Item2.Mean);
        bool agrees = best == 0 || !(rows[best].Item3.Significant && better * rows[best].Item3.Mean > 0);
        string direction = better > 0 ? "higher" : "lower", side = better > 0 ? "above" : "below";
        string verdict = best == 0
            ? $"the measurement agrees: #1 has the best mean {metric}"
            : agrees
                ? $"the measurement agrees within noise: #{best + 1} has a {direction} mean {metric}, but its interval against #1 includes 0"
                : $"the measurement disagrees: #{best + 1} beats #1 on {metric} by {Signed.Of(rows[best].Item3.Mean)} with an interval {side} 0";
        return new Verification(metric, rows, agrees, verdict);
    }

    private static JsonNode Num(double v) => double.IsFinite(v) ? JsonValue.Create(v) : JsonValue.Create(double.IsNaN(v) ? "NaN" : "Infinity");

    private static JsonObject Json(DataProfile p, IReadOnlyList<Recommendation> ranking, Verification? v) => new()
    {
        ["profile"] = new JsonObject
        {
            ["task"] = p.Task.ToString().ToLowerInvariant(), ["rows"] = p.Rows, ["features"] = p.Features,
            ["class_counts"] = new JsonArray([.. p.ClassCounts.Select(c => (JsonNode)c)]), ["imbalance_ratio"] = Num(p.ImbalanceRatio),
            ["minority_share"] = Num(p.MinorityShare), ["conflicting_duplicates"] = p.ConflictingDuplicates, ["skewness"] = Num(p.Skewness),
            ["excess_kurtosis"] = Num(p.ExcessKurtosis), ["outlier_share"] = Num(p.OutlierShare), ["target_scale"] = Num(p.TargetScale), ["count_valued"] = p.CountValued, ["unit_interval"] = p.UnitInterval,
        },
        ["ranking"] = new JsonArray([.. ranking.Select(r => (JsonNode)new JsonObject
        {
            ["rank"] = r.Rank, ["loss"] = r.Loss, ["class_weights"] = r.ClassWeights.ToString().ToLowerInvariant(),
            ["loss_options"] = new JsonObject([.. r.LossOptions.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(Format(kv.Value))))]),
            ["reason"] = r.Reason,
        })]),
        ["verification"] = v is null ? null : new JsonObject
        {
            ["metric"] = v.Metric, ["agrees"] = v.Agrees, ["verdict"] = v.Verdict,
            ["arms"] = new JsonArray([.. v.Arms.Select(a => (JsonNode)new JsonObject { ["rank"] = a.Rec.Rank, ["mean"] = Num(a.Score.Mean), ["std"] = Num(a.Score.Std), ["versus_top"] = Num(a.VersusTop.Mean) })]),
        },
    };
}
