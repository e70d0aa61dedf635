using System.Text.Json.Nodes;
using LossLab.Cli;
using LossLab.Cli.Commands;
using LossLab.Nn;
using LossLab.Tests.TestKit;
using LossLab.Training;

namespace LossLab.Tests.Training;

public sealed class ComparisonTests
{
    [Fact]
    public void Paired_differences_use_student_t_intervals()
    {
        // d = [1, 2, 3]: mean 2, s = 1, t(2) = 4.303 → 2 ± 4.303/√3.
        PairedDifference d = Comparison.Paired([2, 4, 6], [1, 2, 3]);
        Assert.Equal(2, d.Mean, 12);
        Assert.Equal(2 - 4.303 / Math.Sqrt(3), d.Low, 12);
        Assert.False(d.Significant);
        Assert.True(Comparison.Paired([2.0, 2.1, 1.9, 2.05], [1.0, 1.1, 0.95, 1.0]).Significant);
        // Beyond the table: t₀.₉₇₅ at df = 31, 40, 60, 120, 500 (standard tables, 4 decimals).
        foreach (var (df, t) in new[] { (31, 2.0395), (40, 2.0211), (60, 2.0003), (120, 1.9799), (500, 1.9647) })
        {
            Assert.Equal(t, Comparison.TCritical95(df), 2e-4);
        }
        Assert.True(double.IsNaN(Comparison.Paired([1], [0]).Low));
        // Quantized metrics can differ by the same amount on every seed: the t-interval has no width, so the sign test
        // decides: 5 pairs of one sign are not enough (p = 0.0625), 6 are (p = 0.031).
        // Accuracies on a 114-row test split differ by 1/114 on every seed, up to the last bits.
        var accuracy3 = Comparison.Paired([112 / 114.0, 111 / 114.0, 113 / 114.0], [111 / 114.0, 110 / 114.0, 112 / 114.0]);
        Assert.True(accuracy3.NoSpread);
        Assert.False(accuracy3.Significant);
        var exact5 = Comparison.Paired([1.5, 2.5, 3.5, 4.5, 5.5], [1, 2, 3, 4, 5]);
        Assert.True(exact5.NoSpread);
        Assert.False(exact5.Significant);
        Assert.Equal(VerdictStatus.Inconclusive, Verdict.FromDifference(exact5, "d", 5).Status);
        Assert.Contains("needs at least 6 seeds", Verdict.FromDifference(exact5, "d", 5).Text);
        var exact6 = Comparison.Paired([1.5, 2.5, 3.5, 4.5, 5.5, 6.5], [1, 2, 3, 4, 5, 6]);
        Assert.True(exact6.Significant);
        Assert.Equal(VerdictStatus.Supported, Verdict.FromDifference(exact6, "d", 6).Status);
        Assert.False(Comparison.Paired([1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5, 6, 7]).Significant);   // no difference at all
        Spread s = Comparison.Describe([1, 2, 3, double.NaN]);
        Assert.Equal((2.0, 1.0, 3), (s.Mean, s.Std, s.Count));
    }

    [Fact]
    public void Comparisons_are_paired_by_seed_and_reproducible()
    {
        var data = Datasets.Load("iris");
        var options = new TrainingOptions { Hidden = [8], Epochs = 10, LearningRate = 0.02 };
        ComparisonResult a = Comparison.Run(data, ["cross_entropy", "multi_margin_loss"], [Activation.ReLU, Activation.Tanh], 2, options);
        ComparisonResult b = Comparison.Run(data, ["cross_entropy", "multi_margin_loss"], [Activation.ReLU, Activation.Tanh], 2, options);
        Assert.Equal(4, a.Arms.Count);
        Assert.All(a.Arms, arm => Assert.Equal([0, 1], arm.Runs.Select(r => r.Seed)));
        Assert.Equal(a.Arms.Select(x => x.Metrics["accuracy"].Mean), b.Arms.Select(x => x.Metrics["accuracy"].Mean));
        Assert.Equal(0, a.Arms[0].VersusFirst["accuracy"].Mean);
        Assert.Null(a.Best("loss"));
        Assert.Throws<LossLab.Numerics.LossArgumentException>(() => Comparison.Run(data, ["cross_entropy"], [Activation.ReLU], 1, options with { LossOptions = new Dictionary<string, object?> { ["delta"] = 1.0 } }));
    }

    [Fact]
    public void The_best_arm_of_a_tie_is_the_earlier_one()
    {
        // rank_mae (lower is better): two means equal but for the last bits of their sums, then a clearly better one.
        static ArmSummary Arm(string loss, double mean) => new(loss, "relu", new Dictionary<string, Spread> { ["rank_mae"] = new(mean, 0.01, 5), ["accuracy"] = new(1 - mean, 0.01, 5) },
            new Dictionary<string, PairedDifference>(), []);
        var tie = new ComparisonResult([Arm("cross_entropy", 0.92045454545454541), Arm("general_triangular_ce_loss", 0.92045454545454530)], ["rank_mae", "accuracy"]);
        Assert.Equal("cross_entropy", tie.Best("rank_mae")!.Loss);
        Assert.Equal("cross_entropy", tie.Best("accuracy")!.Loss);
        var clear = new ComparisonResult([Arm("cross_entropy", 0.92), Arm("beta_ce_loss", 0.905)], ["rank_mae"]);
        Assert.Equal("beta_ce_loss", clear.Best("rank_mae")!.Loss);
    }

    [Fact]
    public void The_command_prints_a_table_json_and_writes_run_records()
    {
        string folder = Path.Combine(Directory.CreateTempSubdirectory("losslab-cmp").FullName, "report");
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(["compare", "--data", Datasets.PathOf("diabetes"), "--losses", "mse_loss,huber_loss,expr:mean(softplus(2*(input-target)) - (input-target) - log(2))",
            "--loss-option", "delta=30", "--seeds", "2", "--epochs", "5", "--hidden", "8", "--report", folder], new CliConsole(new StringReader(""), output, error, false));
        Assert.True(code == 0, error.ToString());
        string text = output.ToString();
        Assert.Contains("(reference)", text);
        Assert.Contains("Δ r2 vs first [95% CI]", text);
        Assert.Contains("*", text);
        JsonNode runs = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "runs.json")))!;
        Assert.Equal(6, runs["runs"]!.AsArray().Count);
        Assert.Equal(1 + 6 * 5, File.ReadAllLines(Path.Combine(folder, "curves.csv")).Length);
        // The HTML report: the key metric's curves with the comparison and the training-loss curves, charts beside it.
        string html = File.ReadAllText(Path.Combine(folder, "index.html"));
        Assert.Contains("losslab compare", html);
        Assert.Contains("scores a higher test r2 than mse_loss", html);
        Assert.Contains("Every arm&#39;s training loss falls during training", html);
        Assert.Contains("<svg", html);
        Assert.True(File.Exists(Path.Combine(folder, "charts", "compare-metric.png")) && File.Exists(Path.Combine(folder, "charts", "compare-loss.svg")));
        var records = LossLab.Cli.Lab.ReportWriter.Read([folder]);
        Assert.Equal(["compare-metric", "compare-loss"], records.OrderBy(r => r.Number).Select(r => r.Id));
        LossLab.Cli.Lab.ExperimentRecord metric = records.Single(r => r.Id == "compare-metric");
        Assert.Equal(3, metric.Table.Rows.Count);
        Assert.Equal("(reference)", metric.Table.Rows[0][^1]);
        Assert.Equal(3, metric.Chart.Series.Count);
        Assert.All(metric.Chart.Series, c => Assert.Equal(5, c.X.Length));
        LossLab.Cli.Lab.ExperimentRecord loss = records.Single(r => r.Id == "compare-loss");
        Assert.All(loss.Chart.Series, c => Assert.Equal(1.0, c.Y[0], 12));   // each curve relative to its first epoch
        var json = new StringWriter();
        Assert.Equal(0, Program.Run(["compare", "--data", Datasets.PathOf("iris"), "--losses", "cross_entropy,nll_loss", "--seeds", "1", "--epochs", "2", "--format", "json"],
            new CliConsole(new StringReader(""), json, error, false)));
        Assert.Equal(2, JsonNode.Parse(json.ToString())!["arms"]!.AsArray().Count);
        Assert.Equal(["a", "expr:f(x, y)", "b"], CompareCommand.SplitTopLevel("a, expr:f(x, y) ,b"));
    }

    [Fact]
    public void The_compare_table_shows_a_same_on_every_seed_difference_without_a_zero_width_interval()
    {
        // Three seeds whose test accuracies differ by exactly one row of 114: "significant" from a t-interval of width 0
        // was the old output; the sign test needs 6 seeds.
        RunRecord Run(string loss, int seed, double accuracy) => new(loss, "relu", seed, [], new Dictionary<string, double> { ["accuracy"] = accuracy }, 1, "completed", 0);
        var arms = new List<(string, string, IReadOnlyList<RunRecord>)>
        {
            ("a", "relu", [Run("a", 0, 110 / 114.0), Run("a", 1, 111 / 114.0), Run("a", 2, 109 / 114.0)]),
            ("b", "relu", [Run("b", 0, 111 / 114.0), Run("b", 1, 112 / 114.0), Run("b", 2, 110 / 114.0)]),
        };
        ComparisonResult result = Comparison.Summarize(arms);
        string table = CompareCommand.Table(Datasets.Load("breast_cancer"), result, 3);
        Assert.Contains("+0.0088 on every seed", table);
        Assert.DoesNotContain("significant", table);
    }
}
