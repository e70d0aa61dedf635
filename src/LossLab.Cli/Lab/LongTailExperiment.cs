using System.Diagnostics;
using LossLab.Data;
using LossLab.Metrics;
using LossLab.Training;

namespace LossLab.Cli.Lab;

public static partial class Experiments
{
    // 12 -----------------------------------------------------------------------------------------------------------
    /// <summary>
    /// Menon et al. (2021) report that logit adjustment (cross-entropy on logits + τ·log π, the training class priors)
    /// beats plain and class-weighted cross-entropy on long-tailed data, judged by balanced accuracy. Here digits'
    /// training split gets an exponential long tail (the last class keeps 5 %), validation and test stay balanced.
    /// </summary>
    private static ExperimentRecord LongTail(LabSettings s)
    {
        var clock = Stopwatch.StartNew();
        Dataset full = Load(s, "digits");
        const double rho = 0.05;
        int epochs = s.Epochs(40);
        string[] names = ["cross-entropy", "cross-entropy + class weights", "logit adjustment (τ = 1)", "focal (γ = 2)"];
        var settings = new (string Loss, ClassWeighting Weights)[]
        {
            ("cross_entropy", ClassWeighting.None), ("cross_entropy", ClassWeighting.Balanced),
            ("logit_adjusted_loss", ClassWeighting.None), ("sparse_categorical_focal_loss", ClassWeighting.None),
        };
        string[] metrics = ["accuracy", "tail_recall", "f1"];
        var values = names.ToDictionary(n => n, _ => metrics.ToDictionary(m => m, _ => new double[s.Seeds]));
        int tailRows = 0, headRows = 0;
        for (int seed = 0; seed < s.Seeds; seed++)
        {
            var (train, validation, test) = Splits(full, seed, 0.3, 0.15);
            Dataset tail = Corruption.LongTail(train, rho, seed);
            (headRows, tailRows) = (tail.Targets.Count(t => t == 0), tail.Targets.Count(t => t == full.Classes - 1));
            for (int k = 0; k < names.Length; k++)
            {
                var o = new TrainingOptions { Loss = settings[k].Loss, ClassWeights = settings[k].Weights, Hidden = [32], Epochs = epochs, LearningRate = 0.003, Seed = seed };
                TrainingResult r = Trainer.Train(tail, validation, test, o);
                values[names[k]]["accuracy"][seed] = r.Test["accuracy"];
                values[names[k]]["f1"][seed] = r.Test["f1"];
                values[names[k]]["tail_recall"][seed] = TailRecall(r.Model, test, full.Classes);
            }
        }
        var rows = names.Select(n => new[] { n }.Concat(metrics.Select(m => Pm(Comparison.Describe(values[n][m])))).ToArray()).ToList();
        Verdict v = Verdict.FromDifference(Comparison.Paired(values[names[2]]["accuracy"], values[names[0]]["accuracy"]),
            "balanced-test accuracy: logit adjustment − cross-entropy", s.Seeds);
        return Record(12, "long-tail", All[11].Title, "On long-tailed data, logit adjustment beats cross-entropy.",
            "When the training classes are long-tailed (the rarest 20× rarer than the commonest), which loss does best on a balanced test set?",
            $"digits; seeded stratified splits 55/15/30; the training split made long-tailed: class k keeps ρ^(k/9) of its rows, ρ = {F(rho, "G")} (about {headRows} rows of class 0, {tailRows} of class 9), validation and test left balanced; MLP 64-32-10, Adam 0.003, batch 32, {epochs} epochs; logit adjustment with the training split's class frequencies as priors, class weights inverse frequency, focal γ = 2 without α; {s.Seeds} seeds. Test accuracy on a balanced test set is the balanced accuracy; tail recall is the mean test recall of the three rarest training classes (7, 8, 9).",
            new TableRecord(["method", "balanced-test accuracy", "tail recall (classes 7–9)", "F1 (macro)"], rows),
            Bars("Balanced-test accuracy (higher is better), mean ± std over seeds", "accuracy", names, names.ToDictionary(n => n, n => values[n]["accuracy"])),
            v, s.Seeds, clock);
    }

    /// <summary>Mean test recall of the three rarest training classes (the last three), from the model's predicted classes.</summary>
    private static double TailRecall(Model model, Dataset test, int classes)
    {
        var metrics = new ClassificationMetrics(classes);
        metrics.Update(model.Predict(test), [.. test.Targets.Select(t => (int)t)]);
        return metrics.Result().PerClass.Skip(classes - 3).Average(p => p.Recall);
    }
}
