using System.Diagnostics;
using LossLab.Data;
using LossLab.Training;

namespace LossLab.Cli.Lab;

public static partial class Experiments
{
    // 13 -----------------------------------------------------------------------------------------------------------
    /// <summary>
    /// Cao et al. (2020, CORAL) and Shi et al. (2023, CORN) report smaller rank errors than cross-entropy on ordered
    /// classes, since cross-entropy charges a miss by two ranks what it charges a miss by one; the squared EMD (Hou et al.
    /// 2016) and class distance weighted CE (Polat et al. 2022) keep the softmax head and weigh a miss by its distance. Here diabetes's disease
    /// progression is cut into five ordered classes at its quintiles, and each loss's test rank_mae (the mean distance
    /// between the predicted median rank and the true one) is measured on the same splits.
    /// </summary>
    private static ExperimentRecord Ordinal(LabSettings s)
    {
        var clock = Stopwatch.StartNew();
        // Eight seeds at least: the five-class test split has about 90 rows, so one seed's rank_mae moves by ±0.07.
        s = s with { Seeds = Math.Max(s.Seeds, 8) };
        const int bins = 5;
        Dataset d = CsvLoader.Load(Path.Combine(s.DataFolder, "diabetes.csv"), new CsvOptions { Bins = bins });
        int epochs = s.Epochs(100);
        string[] arms = ["cross_entropy", "coral_loss", "corn_loss", "emd_loss", "cdw_ce_loss"];
        string[] names = ["cross-entropy (classes unordered)", "CORAL (shared thresholds)", "CORN (conditional thresholds)", "squared EMD (softmax)", "class distance weighted CE (α = ½)"];
        var runs = PerSeed(s, d, arms, (arm, seed) => new TrainingOptions { Loss = arm, Hidden = [32], Epochs = epochs, LearningRate = 0.003, Seed = seed });
        string[] metrics = ["rank_mae", "qwk", "accuracy"];
        var values = arms.ToDictionary(a => a, a => metrics.ToDictionary(m => m, m => runs[a].Select(r => r.Test[m]).ToArray()));
        var rows = arms.Select((a, i) => new[] { names[i] }.Concat(metrics.Select(m => Pm(Comparison.Describe(values[a][m])))).ToArray()).ToList();
        var curves = arms.ToDictionary(a => a, a => runs[a].Select(r => (IReadOnlyList<double>)[.. r.History.Select(h => h.Validation["rank_mae"])]).ToList());
        Verdict v = Verdict.FromDifference(Comparison.Paired(values["cross_entropy"]["rank_mae"], values["coral_loss"]["rank_mae"]),
            "test rank_mae: cross-entropy − CORAL", s.Seeds);
        return Record(13, "ordinal", All[12].Title, "On ordered classes, an ordinal loss (CORAL) makes smaller rank errors than cross-entropy.",
            "When the classes are ordered, does a loss that knows the order miss by fewer ranks than cross-entropy?",
            $"diabetes; the disease-progression target cut into {bins} ordered classes at its quintiles (--bins {bins}, edges {string.Join(", ", d.BinEdges!.Select(e => F(e, "G4")))}); seeded stratified splits 65/15/20; MLP 10-32-K, Adam 0.003, batch 32, {epochs} epochs; CORAL's last layer shares one weight vector across its 4 thresholds (coral_pytorch's CoralLayer), CORN has 4 conditional outputs, the squared EMD and CDW-CE a softmax over 5; the predicted rank is the median of each model's rank probabilities (coral_pytorch's label for CORAL and CORN); {s.Seeds} seeds.",
            new TableRecord(["loss", "test rank_mae (lower is better)", "test qwk (quadratic weighted kappa)", "test accuracy"], rows),
            new ChartRecord("Validation rank_mae per epoch (mean over seeds; lower is better)", "line", "epoch", "validation rank_mae", [.. arms.Select((a, i) => Curve(names[i], curves[a]))]),
            v, s.Seeds, clock);
    }
}
