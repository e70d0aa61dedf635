using System.Diagnostics;
using LossLab.Data;
using LossLab.Training;

namespace LossLab.Cli.Lab;

public static partial class Experiments
{
    // 11 -----------------------------------------------------------------------------------------------------------
    /// <summary>
    /// Semi-supervised learning (Berthelot et al., 2019): with 5 % of the training labels, does MixMatch, which also
    /// learns from the other rows (guessed targets, MixUp), beat cross-entropy on the labeled rows alone?
    /// </summary>
    private static ExperimentRecord FewLabels(LabSettings s)
    {
        var clock = Stopwatch.StartNew();
        Dataset d = Load(s, "digits");
        const double fraction = 0.05, lambdaU = 3;
        int epochs = s.Epochs(40);
        string[] arms = ["cross_entropy", "mixmatch_loss"];
        string[] names = ["cross-entropy on the labeled rows", $"MixMatch (λ_u = {F(lambdaU, "G")}) on all rows"];
        var runs = PerSeed(s, d, arms, (arm, seed) => new TrainingOptions
        {
            Loss = arm, LabeledFraction = fraction, Hidden = [32], Epochs = epochs, LearningRate = 0.003, Seed = seed,
            LossOptions = arm == "mixmatch_loss" ? new Dictionary<string, object?> { ["lambda_u"] = lambdaU } : new Dictionary<string, object?>(),
        });
        var accuracy = arms.ToDictionary(a => a, a => runs[a].Select(r => r.Test["accuracy"]).ToArray());
        var curves = arms.ToDictionary(a => a, a => AccuracyCurves(runs[a]));
        var rows = arms.Select((a, i) => new[] { names[i], Pm(Comparison.Describe(accuracy[a])) }).ToList();
        Verdict v = Verdict.FromDifference(Comparison.Paired(accuracy["mixmatch_loss"], accuracy["cross_entropy"]), "test accuracy: MixMatch − cross-entropy", s.Seeds);
        return Record(11, "few-labels", All[10].Title, "When labels are few, unlabeled rows help (MixMatch beats cross-entropy on the labeled rows).",
            $"With {F(fraction * 100, "G")} % of the training labels, does learning from the unlabeled rows too raise test accuracy?",
            $"digits; seeded splits 65/15/20; {F(fraction * 100, "G")} % of the training rows keep their labels (stratified, about 60); MLP 64-32-10, Adam 0.003, batch 32, {epochs} epochs; MixMatch: two weak views (noise σ = 0.1 on standardized features) guess each unlabeled row's target, sharpened at T = 0.5, MixUp with Beta(0.75, 0.75), λ_u = {F(lambdaU, "G")} ramped up over 40 % of the epochs; {s.Seeds} seeds.",
            new TableRecord(["method", "test accuracy"], rows),
            new ChartRecord("Validation accuracy per epoch (mean over seeds)", "line", "epoch", "validation accuracy", [.. arms.Select((a, i) => Curve(names[i], curves[a]))]),
            v, s.Seeds, clock);
    }
}
