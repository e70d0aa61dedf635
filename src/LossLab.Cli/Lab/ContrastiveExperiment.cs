using System.Diagnostics;
using LossLab.Data;
using LossLab.Training;

namespace LossLab.Cli.Lab;

public static partial class Experiments
{
    // 10 -----------------------------------------------------------------------------------------------------------
    /// <summary>
    /// Khosla et al. (2020) report that supervised contrastive learning beats cross-entropy on image benchmarks. Here
    /// the same MLP trains either a softmax head with cross-entropy or a 16-dimensional embedding with SupCon, read
    /// by the nearest class centre (LossLab's metric-learning training), and the claim is judged on test accuracy.
    /// </summary>
    private static ExperimentRecord Contrastive(LabSettings s)
    {
        var clock = Stopwatch.StartNew();
        Dataset d = Load(s, "digits");
        int epochs = s.Epochs(30);
        string[] arms = ["cross_entropy", "supcon_loss"];
        string[] names = ["cross-entropy (softmax head)", "SupCon (16-d embedding, nearest class centre)"];
        var runs = PerSeed(s, d, arms, (arm, seed) => new TrainingOptions { Loss = arm, Hidden = [32], EmbeddingDimension = 16, Epochs = epochs, LearningRate = 0.003, Seed = seed });
        var accuracy = arms.ToDictionary(a => a, a => runs[a].Select(r => r.Test["accuracy"]).ToArray());
        var auc = arms.ToDictionary(a => a, a => runs[a].Select(r => r.Test["roc_auc"]).ToArray());
        var curves = arms.ToDictionary(a => a, a => AccuracyCurves(runs[a]));
        var rows = arms.Select((a, i) => new[] { names[i], Pm(Comparison.Describe(accuracy[a])), Pm(Comparison.Describe(auc[a])) }).ToList();
        Verdict v = Verdict.FromDifference(Comparison.Paired(accuracy["supcon_loss"], accuracy["cross_entropy"]), "test accuracy: SupCon − cross-entropy", s.Seeds);
        return Record(10, "contrastive", All[9].Title, "Supervised contrastive learning (SupCon) classifies better than cross-entropy.",
            "Does an embedding trained with SupCon and read by the nearest class centre beat a softmax head trained with cross-entropy?",
            $"digits; seeded splits 65/15/20; MLP 64-32 then a 10-way softmax head (cross-entropy) or a 16-d embedding (SupCon, τ = 0.1, classes by the nearest class centre of the training rows, cosine); Adam 0.003, batch 32, {epochs} epochs; {s.Seeds} seeds. The claim comes from image benchmarks (Khosla et al., 2020).",
            new TableRecord(["loss", "test accuracy", "test ROC-AUC"], rows),
            new ChartRecord("Validation accuracy per epoch (mean over seeds)", "line", "epoch", "validation accuracy", [.. arms.Select((a, i) => Curve(names[i], curves[a]))]),
            v, s.Seeds, clock);
    }
}
