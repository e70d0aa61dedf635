using System.Diagnostics;
using System.Globalization;
using LossLab.Autograd;
using LossLab.Data;
using LossLab.Nn;
using LossLab.Training;

namespace LossLab.Cli.Lab;

/// <summary>How much work the demo does: seeds per arm and an epoch multiplier (--full: more of both).</summary>
public sealed record LabSettings(int Seeds, double EpochScale, string DataFolder)
{
    public int Epochs(int baseEpochs) => Math.Max(2, (int)Math.Round(baseEpochs * EpochScale));
}

/// <summary>
/// The demo's thirteen experiments. Each trains through the library on the shipped data (seeded corruptions where a
/// claim needs control), measures, and judges its claim from paired differences over seeds; no conclusion is
/// written in advance: every verdict sentence is built from the measured numbers.
/// </summary>
public static partial class Experiments
{
    public static IReadOnlyList<(string Id, string Title, Func<LabSettings, ExperimentRecord> Run)> All { get; } =
    [
        ("outliers", "Outliers: MSE vs L1 vs Huber vs log-cosh", Outliers),
        ("imbalance", "Imbalance: BCE vs class weights vs focal vs oversampling", Imbalance),
        ("speed", "Speed of learning: cross-entropy vs MSE on softmax", Speed),
        ("label-noise", "Label noise: cross-entropy vs MAE vs generalized and symmetric CE", LabelNoise),
        ("margin", "Margin and calibration: hinge vs BCE", Margin),
        ("regularization", "Regularization: none vs L2 vs dropout on a small training set", Regularization),
        ("activations", "Activations: sigmoid vs tanh vs ReLU vs GELU in a deeper MLP", Activations),
        ("loss-vs-accuracy", "Loss vs accuracy: does a lower loss mean a better model?", LossVersusAccuracy),
        ("distillation", "KL divergence: distilling a teacher into a small student", Distillation),
        ("contrastive", "Supervised contrastive (SupCon) vs cross-entropy", Contrastive),
        ("few-labels", "Few labels: MixMatch vs cross-entropy on 5 % of the labels", FewLabels),
        ("long-tail", "Long tail: logit adjustment vs cross-entropy vs class weights vs focal", LongTail),
        ("ordinal", "Ordered classes: CORAL vs CORN vs cross-entropy on rank errors", Ordinal),
    ];

    private const string Mse = "mse_loss";
    private const string LogCosh = "expr:mean(softplus(2*(input-target)) - (input-target) - log(2))";
    private const string SoftmaxMse = "expr:mean(sum((softmax(input) - one_hot(target))^2, axis=1))";
    private const string ClassMae = "expr:mean(sum(abs(softmax(input) - one_hot(target)), axis=1))";
    private const string Gce = "expr:mean((1 - exp(-0.7 * cross_entropy(input, target, reduction='none'))) / 0.7)";
    private const string Sce = "expr:0.1 * cross_entropy(input, target) + mean(4 * (1 - exp(-cross_entropy(input, target, reduction='none'))))";

    private static Dataset Load(LabSettings s, string name) => CsvLoader.Load(Path.Combine(s.DataFolder, name + ".csv"));

    private static string F(double v, string format = "F3") => v.ToString(format, CultureInfo.InvariantCulture);

    private static string Pm(Spread s, string format = "F3") => $"{F(s.Mean, format)} ± {F(s.Std, format)}";

    private static (Dataset Train, Dataset Validation, Dataset Test) Splits(Dataset d, int seed, double test = 0.2, double validation = 0.15)
    {
        Split s = Splitter.Stratified(d, test, validation, seed);
        return (d.Subset(s.Train), d.Subset(s.Validation), d.Subset(s.Test));
    }

    /// <summary>Runs each arm on every seed: run(arm, seed) → the quantity per arm and seed.</summary>
    private static Dictionary<string, double[]> PerArm(IReadOnlyList<string> arms, int seeds, Func<string, int, double> run)
        => arms.ToDictionary(a => a, a => Enumerable.Range(0, seeds).Select(seed => run(a, seed)).ToArray());

    private static ExperimentRecord Record(int number, string id, string title, string claim, string question, string setup, TableRecord table, ChartRecord chart, Verdict verdict, int seeds, Stopwatch clock)
        => new(number, id, title, claim, question, setup, table, chart,
            new VerdictRecord(verdict.Status.ToString(), verdict.Effect, verdict.Low, verdict.High, verdict.Text), seeds, clock.Elapsed.TotalSeconds);

    private static ChartRecord Bars(string title, string yLabel, IReadOnlyList<string> arms, IReadOnlyDictionary<string, double[]> values)
        => new(title, "bar", "", yLabel, [new SeriesRecord(yLabel, [.. Enumerable.Range(0, arms.Count).Select(i => (double)i)],
            [.. arms.Select(a => Comparison.Describe(values[a]).Mean)], [.. arms.Select(a => Comparison.Describe(values[a]).Std)])], [.. arms]);

    /// <summary>Mean curve over seeds (epochs may differ with early stopping: averaged where present).</summary>
    private static SeriesRecord Curve(string name, IReadOnlyList<IReadOnlyList<double>> perSeed) => SeriesRecord.OverSeeds(name, perSeed, spread: false);

    // 1 ------------------------------------------------------------------------------------------------------------
    private static ExperimentRecord Outliers(LabSettings s)
    {
        var clock = Stopwatch.StartNew();
        // Five seeds at least: one arm (MSE) swings with the outliers each split draws, and this experiment is cheap.
        int seeds = Math.Max(s.Seeds, 5);
        Dataset d = Load(s, "diabetes");
        string[] arms = [Mse, "l1_loss", "huber_loss", LogCosh];
        string[] names = ["MSE", "L1", "Huber (δ = 20)", "log-cosh"];
        var mae = new Dictionary<string, double[]>();
        var r2 = new Dictionary<string, double[]>();
        foreach (string arm in arms) { mae[arm] = new double[seeds]; r2[arm] = new double[seeds]; }
        for (int seed = 0; seed < seeds; seed++)
        {
            var (train, validation, test) = Splits(d, seed);
            // 10 % of training and validation targets multiplied by 5 (gross errors); the test targets stay clean.
            Dataset dirtyTrain = Corruption.InjectOutliers(train, 0.10, 5, seed).Data;
            Dataset dirtyValidation = Corruption.InjectOutliers(validation, 0.10, 5, seed + 1000).Data;
            foreach (string arm in arms)
            {
                var options = new TrainingOptions
                {
                    Loss = arm, Hidden = [16], Epochs = s.Epochs(80), LearningRate = 0.01, Seed = seed, EarlyStopping = 15,
                    LossOptions = arm == "huber_loss" ? new Dictionary<string, object?> { ["delta"] = 20.0 } : new Dictionary<string, object?>(),
                };
                TrainingResult r = Trainer.Train(dirtyTrain, dirtyValidation, test, options);
                mae[arm][seed] = r.Test["mae"];
                r2[arm][seed] = r.Test["r2"];
            }
        }
        var rows = arms.Select((a, i) => new[] { names[i], Pm(Comparison.Describe(mae[a]), "F1"), Pm(Comparison.Describe(r2[a])) }).ToList();
        Verdict v = Verdict.FromDifference(Comparison.Paired(mae[Mse], mae["huber_loss"]), "clean-test MAE(MSE) − MAE(Huber)", seeds);
        return Record(1, "outliers", All[0].Title, "MSE is sensitive to outliers; use Huber.",
            "With 10 % of the training targets wrong by a factor of 5, which loss still predicts the clean targets best?",
            $"diabetes (442 rows, 10 features); seeded splits 65/15/20; 10 % of training and validation targets ×5, test targets clean; MLP 10-16-1, Adam 0.01, up to {s.Epochs(80)} epochs with early stopping on the (corrupted) validation loss; {seeds} seeds.",
            new TableRecord(["loss", "clean-test MAE", "clean-test R²"], rows),
            Bars("Clean-test MAE (lower is better), mean ± std over seeds", "MAE", names, arms.Select((a, i) => (names[i], mae[a])).ToDictionary(p => p.Item1, p => p.Item2)),
            v, seeds, clock);
    }

    // 2 ------------------------------------------------------------------------------------------------------------
    private static ExperimentRecord Imbalance(LabSettings s)
    {
        var clock = Stopwatch.StartNew();
        Dataset full = Load(s, "breast_cancer");
        string[] names = ["BCE", "BCE + class weights", "focal (γ = 2)", "BCE + oversampling"];
        var settings = new (string Loss, ClassWeighting Weights, bool Oversample, Dictionary<string, object?> Options)[]
        {
            ("binary_cross_entropy_with_logits", ClassWeighting.None, false, []),
            ("binary_cross_entropy_with_logits", ClassWeighting.Balanced, false, []),
            ("sigmoid_focal_loss", ClassWeighting.None, false, new() { ["reduction"] = "mean", ["gamma"] = 2.0, ["alpha"] = -1.0 }),
            ("binary_cross_entropy_with_logits", ClassWeighting.None, true, []),
        };
        string[] metrics = ["minority_recall", "f1", "pr_auc", "balanced_accuracy"];
        var values = names.ToDictionary(n => n, _ => metrics.ToDictionary(m => m, _ => new double[s.Seeds]));
        for (int seed = 0; seed < s.Seeds; seed++)
        {
            // Malignant (class 0) kept at 10 %: about 21 malignant vs 357 benign, a 1:17 split.
            Dataset d = Corruption.SubsampleClass(full, 0, 0.10, seed);
            var (train, validation, test) = Splits(d, seed, 0.3, 0.15);
            for (int k = 0; k < names.Length; k++)
            {
                var o = new TrainingOptions { Loss = settings[k].Loss, LossOptions = settings[k].Options, ClassWeights = settings[k].Weights, Oversample = settings[k].Oversample, Hidden = [16], Epochs = s.Epochs(40), LearningRate = 0.003, Seed = seed };
                TrainingResult r = Trainer.Train(train, validation, test, o);
                foreach (string m in metrics) values[names[k]][m][seed] = r.Test[m];
            }
        }
        var rows = names.Select(n => new[] { n }.Concat(metrics.Select(m => Pm(Comparison.Describe(values[n][m])))).ToArray()).ToList();
        Verdict v = Verdict.FromDifference(Comparison.Paired(values["focal (γ = 2)"]["balanced_accuracy"], values["BCE"]["balanced_accuracy"]), "balanced accuracy(focal) − balanced accuracy(BCE)", s.Seeds);
        return Record(2, "imbalance", All[1].Title, "Focal loss helps with class imbalance.",
            "When one class is rare (about 1:17), which loss finds the minority best?",
            $"breast_cancer with the malignant class subsampled to 10 % (about 21 vs 357 rows); seeded stratified splits 55/15/30; MLP 30-16-1, Adam 0.003, {s.Epochs(40)} epochs; {s.Seeds} seeds. Class weights are inverse frequency (pos_weight); focal without α, so only γ acts.",
            new TableRecord(["method", "minority recall", "F1 (macro)", "PR-AUC", "balanced accuracy"], rows),
            Bars("Balanced accuracy (higher is better), mean ± std over seeds", "balanced accuracy", names, names.ToDictionary(n => n, n => values[n]["balanced_accuracy"])),
            v, s.Seeds, clock);
    }

    // 3 ------------------------------------------------------------------------------------------------------------
    private static ExperimentRecord Speed(LabSettings s)
    {
        var clock = Stopwatch.StartNew();
        Dataset d = Load(s, "digits");
        const double target = 0.9;
        int epochs = s.Epochs(30);
        string[] arms = ["cross_entropy", SoftmaxMse];
        string[] names = ["softmax + cross-entropy", "softmax + MSE"];
        var runs = PerSeed(s, d, arms, (arm, seed) => new TrainingOptions { Loss = arm, Hidden = [32], Epochs = epochs, LearningRate = 0.001, Seed = seed });
        var curves = arms.ToDictionary(a => a, a => AccuracyCurves(runs[a]));
        // Epochs until the validation accuracy first reaches the target; not reached: counted as one past the budget.
        double Reach(IReadOnlyList<double> curve)
        {
            for (int e = 0; e < curve.Count; e++) if (curve[e] >= target) return e + 1;
            return epochs + 1;
        }
        var reach = arms.ToDictionary(a => a, a => curves[a].Select(Reach).ToArray());
        var rows = arms.Select((a, i) => new[] { names[i], Pm(Comparison.Describe(reach[a]), "F1"), F(curves[a].Average(c => c[^1])) }).ToList();
        Verdict v = Verdict.FromDifference(Comparison.Paired(reach[SoftmaxMse], reach["cross_entropy"]), $"epochs to {F(target, "F2")} validation accuracy: MSE − cross-entropy", s.Seeds, " epochs");
        return Record(3, "speed", All[2].Title, "Cross-entropy learns faster than MSE for classification.",
            $"How many epochs until the validation accuracy first reaches {F(target, "F2")}?",
            $"digits (1797 rows, 64 features, 10 classes); seeded splits 65/15/20; MLP 64-32-10, Adam 0.001, batch 32, {epochs} epochs (not reaching the target counts as {epochs + 1}); MSE is Σ_c (softmax − one-hot)² per row; {s.Seeds} seeds.",
            new TableRecord(["loss", $"epochs to {F(target, "F2")}", "final validation accuracy"], rows),
            new ChartRecord("Validation accuracy per epoch (mean over seeds)", "line", "epoch", "validation accuracy", [.. arms.Select((a, i) => Curve(names[i], curves[a]))]),
            v, s.Seeds, clock);
    }

    // 4 ------------------------------------------------------------------------------------------------------------
    private static ExperimentRecord LabelNoise(LabSettings s)
    {
        var clock = Stopwatch.StartNew();
        Dataset d = Load(s, "digits");
        double[] levels = s.EpochScale > 1 ? [0, 0.1, 0.2, 0.3, 0.4] : [0, 0.2, 0.4];
        string[] arms = ["cross_entropy", ClassMae, Gce, Sce];
        string[] names = ["cross-entropy", "MAE", "generalized CE (q = 0.7)", "symmetric CE"];
        var acc = arms.ToDictionary(a => a, _ => levels.Select(_ => new double[s.Seeds]).ToArray());
        for (int seed = 0; seed < s.Seeds; seed++)
        {
            var (train, validation, test) = Splits(d, seed);
            for (int l = 0; l < levels.Length; l++)
            {
                Dataset noisyTrain = Corruption.FlipLabels(train, levels[l], seed).Data;
                Dataset noisyValidation = Corruption.FlipLabels(validation, levels[l], seed + 1000).Data;
                foreach (string arm in arms)
                {
                    TrainingResult r = Trainer.Train(noisyTrain, noisyValidation, test, new TrainingOptions { Loss = arm, Hidden = [32], Epochs = s.Epochs(20), LearningRate = 0.003, Seed = seed });
                    acc[arm][l][seed] = r.Test["accuracy"];
                }
            }
        }
        var rows = arms.Select((a, i) => new[] { names[i] }.Concat(acc[a].Select(x => Pm(Comparison.Describe(x)))).ToArray()).ToList();
        int worst = levels.Length - 1;
        Verdict v = Verdict.FromDifference(Comparison.Paired(acc[Gce][worst], acc["cross_entropy"][worst]), $"clean-test accuracy at {F(levels[worst], "P0")} flipped labels: generalized CE − cross-entropy", s.Seeds);
        return Record(4, "label-noise", All[3].Title, "Cross-entropy is more sensitive to label noise than noise-robust losses.",
            "As more training labels are wrong, which loss keeps the clean-test accuracy?",
            $"digits; seeded splits 65/15/20; {string.Join(", ", levels.Select(x => F(x, "P0")))} of training and validation labels flipped to a random other class, test labels clean; MLP 64-32-10, Adam 0.003, {s.Epochs(20)} epochs; {s.Seeds} seeds. Symmetric CE = 0.1·CE + reverse CE with log 0 = −4.",
            new TableRecord(["loss", .. levels.Select(x => $"accuracy at {F(x, "P0")} noise")], rows),
            new ChartRecord("Clean-test accuracy vs share of flipped labels", "line", "flipped labels", "clean-test accuracy",
                [.. arms.Select((a, i) => new SeriesRecord(names[i], levels, [.. acc[a].Select(x => x.Average())], [.. acc[a].Select(x => Comparison.Describe(x).Std)]))]),
            v, s.Seeds, clock);
    }

    // 5 ------------------------------------------------------------------------------------------------------------
    private static ExperimentRecord Margin(LabSettings s)
    {
        var clock = Stopwatch.StartNew();
        Dataset d = Load(s, "breast_cancer");
        string[] arms = ["binary_cross_entropy_with_logits", "multi_margin_loss"];
        string[] names = ["BCE (logistic)", "hinge (multi-margin)"];
        var accuracy = arms.ToDictionary(a => a, _ => new double[s.Seeds]);
        var ece = arms.ToDictionary(a => a, _ => new double[s.Seeds]);
        for (int seed = 0; seed < s.Seeds; seed++)
        {
            var (train, validation, test) = Splits(d, seed, 0.3, 0.15);
            foreach (string arm in arms)
            {
                TrainingResult r = Trainer.Train(train, validation, test, new TrainingOptions { Loss = arm, Hidden = [16], Epochs = s.Epochs(40), LearningRate = 0.003, Seed = seed });
                accuracy[arm][seed] = r.Test["accuracy"];
                ece[arm][seed] = r.Test["ece"];
            }
        }
        var rows = arms.Select((a, i) => new[] { names[i], Pm(Comparison.Describe(accuracy[a])), Pm(Comparison.Describe(ece[a])) }).ToList();
        Verdict v = Verdict.FromDifference(Comparison.Paired(ece["multi_margin_loss"], ece["binary_cross_entropy_with_logits"]), "ECE(hinge) − ECE(BCE)", s.Seeds);
        return Record(5, "margin", All[4].Title, "Hinge maximizes the margin: as accurate, but its scores are not calibrated probabilities.",
            "Do hinge and BCE differ in accuracy, and in how well their confidences match the observed accuracy (ECE)?",
            $"breast_cancer; seeded stratified splits 55/15/30; MLP 30-16-2 (hinge: Weston–Watkins multi-margin on 2 scores, probabilities = softmax of the scores) vs 30-16-1 (BCE); Adam 0.003, {s.Epochs(40)} epochs; ECE with 15 bins; {s.Seeds} seeds.",
            new TableRecord(["loss", "test accuracy", "ECE"], rows),
            Bars("Expected calibration error (lower is better), mean ± std", "ECE", names, arms.Select((a, i) => (names[i], ece[a])).ToDictionary(p => p.Item1, p => p.Item2)),
            v, s.Seeds, clock);
    }

    // 6 ------------------------------------------------------------------------------------------------------------
    private static ExperimentRecord Regularization(LabSettings s)
    {
        var clock = Stopwatch.StartNew();
        Dataset d = Load(s, "digits");
        string[] names = ["none", "L2 (λ = 1e-3)", "dropout (0.3)"];
        var gap = names.ToDictionary(n => n, _ => new double[s.Seeds]);
        var acc = names.ToDictionary(n => n, _ => new double[s.Seeds]);
        var curves = names.ToDictionary(n => n, _ => new List<IReadOnlyList<double>>());
        for (int seed = 0; seed < s.Seeds; seed++)
        {
            // A small training set (15 % of the rows) so that a 128-unit MLP can overfit.
            var (train, validation, test) = Splits(d, seed, 0.3, 0.55);
            foreach (string name in names)
            {
                var o = new TrainingOptions { Hidden = [128], Epochs = s.Epochs(60), LearningRate = 0.003, Seed = seed, L2 = name.StartsWith("L2", StringComparison.Ordinal) ? 1e-3 : 0, Dropout = name.StartsWith("dropout", StringComparison.Ordinal) ? 0.3 : 0 };
                TrainingResult r = Trainer.Train(train, validation, test, o);
                double trainLoss = Trainer.Evaluate(r.Model, r.Binding, r.Model.Standardizer.Transform(train)).Loss;   // without dropout
                gap[name][seed] = r.History[^1].ValidationLoss - trainLoss;
                acc[name][seed] = r.Test["accuracy"];
                curves[name].Add([.. r.History.Select(h => h.ValidationLoss)]);
            }
        }
        var rows = names.Select(n => new[] { n, Pm(Comparison.Describe(gap[n])), Pm(Comparison.Describe(acc[n])) }).ToList();
        Verdict v = Verdict.FromDifference(Comparison.Paired(gap["none"], gap["L2 (λ = 1e-3)"]), "generalization gap (validation − train loss): none − L2", s.Seeds);
        return Record(6, "regularization", All[5].Title, "Regularization prevents overfitting.",
            "On a small training set, does L2 or dropout shrink the gap between validation and training loss?",
            $"digits with 15 % of rows for training, 55 % validation, 30 % test; MLP 64-128-10, Adam 0.003, {s.Epochs(60)} epochs; gap = final validation CE − training CE (evaluated without dropout); {s.Seeds} seeds.",
            new TableRecord(["regularization", "gap (val − train loss)", "test accuracy"], rows),
            new ChartRecord("Validation loss per epoch (mean over seeds)", "line", "epoch", "validation cross-entropy", [.. names.Select(n => Curve(n, curves[n]))]),
            v, s.Seeds, clock);
    }

    // 7 ------------------------------------------------------------------------------------------------------------
    private static ExperimentRecord Activations(LabSettings s)
    {
        var clock = Stopwatch.StartNew();
        Dataset d = Load(s, "digits");
        Activation[] arms = [Activation.Sigmoid, Activation.Tanh, Activation.ReLU, Activation.GELU];
        var final = arms.ToDictionary(a => a, _ => new double[s.Seeds]);
        var acc = arms.ToDictionary(a => a, _ => new double[s.Seeds]);
        var curves = arms.ToDictionary(a => a, _ => new List<IReadOnlyList<double>>());
        for (int seed = 0; seed < s.Seeds; seed++)
        {
            var (train, validation, test) = Splits(d, seed);
            foreach (Activation a in arms)
            {
                var o = new TrainingOptions { Hidden = [64, 64, 64, 64], Activation = a, Optimizer = "momentum", LearningRate = 0.02, Epochs = s.Epochs(15), Seed = seed };
                TrainingResult r = Trainer.Train(train, validation, test, o);
                final[a][seed] = r.History[^1].TrainLoss;
                acc[a][seed] = r.Test["accuracy"];
                curves[a].Add([.. r.History.Select(h => h.TrainLoss)]);
            }
        }
        var rows = arms.Select(a => new[] { a.ToString(), Pm(Comparison.Describe(final[a])), Pm(Comparison.Describe(acc[a])) }).ToList();
        Verdict v = Verdict.FromDifference(Comparison.Paired(final[Activation.Sigmoid], final[Activation.ReLU]), "final training loss: sigmoid − ReLU", s.Seeds);
        return Record(7, "activations", All[6].Title, "The activation function changes how well the loss can be optimized.",
            "With the same deep MLP, optimizer and budget, how far does each activation get the training loss?",
            $"digits; seeded splits 65/15/20; MLP 64-64-64-64-64-10 (He init for ReLU/GELU, Xavier otherwise), SGD with momentum 0.9, lr 0.02, {s.Epochs(15)} epochs; {s.Seeds} seeds.",
            new TableRecord(["activation", "final training loss", "test accuracy"], rows),
            new ChartRecord("Training loss per epoch (mean over seeds)", "line", "epoch", "training cross-entropy", [.. arms.Select(a => Curve(a.ToString(), curves[a]))]),
            v, s.Seeds, clock);
    }

    // 8 ------------------------------------------------------------------------------------------------------------
    private static ExperimentRecord LossVersusAccuracy(LabSettings s)
    {
        var clock = Stopwatch.StartNew();
        Dataset d = Load(s, "digits");
        var lossRise = new double[s.Seeds];
        var accChange = new double[s.Seeds];
        var losses = new List<IReadOnlyList<double>>();
        var accuracies = new List<IReadOnlyList<double>>();
        for (int seed = 0; seed < s.Seeds; seed++)
        {
            var (train, validation, test) = Splits(d, seed, 0.3, 0.5);
            TrainingResult r = Trainer.Train(train, validation, test, new TrainingOptions { Hidden = [128], Epochs = s.Epochs(80), LearningRate = 0.01, Seed = seed });
            double[] vl = [.. r.History.Select(h => h.ValidationLoss)], va = [.. r.History.Select(h => h.Validation["accuracy"])];
            int best = Array.IndexOf(vl, vl.Min());
            lossRise[seed] = vl[^1] - vl[best];
            accChange[seed] = va[^1] - va[best];
            losses.Add(vl);
            accuracies.Add(va);
        }
        Spread rise = Comparison.Describe(lossRise), change = Comparison.Describe(accChange);
        PairedDifference riseCi = Comparison.Paired(lossRise, new double[s.Seeds]);
        PairedDifference changeCi = Comparison.Paired(accChange, new double[s.Seeds]);
        // The claim fails when the loss rises clearly while the accuracy does not drop (its interval reaches ≥ 0).
        bool loss = riseCi.Significant && riseCi.Mean > 0, accuracyHolds = !(changeCi.Significant && changeCi.Mean < 0);
        VerdictStatus status = double.IsNaN(riseCi.Low) ? VerdictStatus.Inconclusive : loss && accuracyHolds ? VerdictStatus.NotSupported : loss ? VerdictStatus.Supported : VerdictStatus.Inconclusive;
        string word = status == VerdictStatus.NotSupported ? "not supported (the loss grew worse while the accuracy held: overconfidence)."
            : status == VerdictStatus.Supported ? "supported (accuracy fell with the loss)." : "inconclusive.";
        string text = string.Create(CultureInfo.InvariantCulture,
            $"after its minimum the validation loss rose by {rise.Mean:G3} (95 % interval [{riseCi.Low:G3}, {riseCi.High:G3}]) while the validation accuracy changed by {Signed.Of(change.Mean, 3)} ([{Signed.Of(changeCi.Low, 3)}, {Signed.Of(changeCi.High, 3)}]) over {s.Seeds} seeds: {word}");
        var verdict = new Verdict(status, rise.Mean, riseCi.Low, riseCi.High, text);
        var rows = new List<string[]> { new[] { "validation loss: final − minimum", Pm(rise) }, new[] { "validation accuracy: final − at the minimum-loss epoch", Pm(change) } };
        return Record(8, "loss-vs-accuracy", All[7].Title, "A lower loss means a better model.",
            "Trained long without regularization, does the validation accuracy fall when the validation loss rises?",
            $"digits with 20 % of rows for training, 50 % validation, 30 % test; MLP 64-128-10, Adam 0.01, {s.Epochs(80)} epochs, no early stopping; {s.Seeds} seeds.",
            new TableRecord(["quantity", "mean ± std"], rows),
            new ChartRecord("Validation loss (left) and accuracy (right) per epoch, mean over seeds", "line", "epoch", "validation cross-entropy", [Curve("validation loss", losses)], null, "validation accuracy", [Curve("validation accuracy", accuracies)]),
            verdict, s.Seeds, clock);
    }

    // 9 ------------------------------------------------------------------------------------------------------------
    private static ExperimentRecord Distillation(LabSettings s)
    {
        var clock = Stopwatch.StartNew();
        Dataset d = Load(s, "digits");
        const double temperature = 4;
        string kl = $"expr:kl_div(log_softmax(input / {temperature}), target, reduction='batchmean') * {temperature * temperature}";
        var hard = new double[s.Seeds];
        var soft = new double[s.Seeds];
        var teacherAcc = new double[s.Seeds];
        for (int seed = 0; seed < s.Seeds; seed++)
        {
            var (train, validation, test) = Splits(d, seed, 0.2, 0.1);
            TrainingResult teacher = Trainer.Train(train, validation, test, new TrainingOptions { Hidden = [128], Epochs = s.Epochs(30), LearningRate = 0.003, Seed = seed });
            teacherAcc[seed] = teacher.Test["accuracy"];
            var student = new TrainingOptions { Hidden = [6], Epochs = s.Epochs(30), LearningRate = 0.01, Seed = seed };
            hard[seed] = Trainer.Train(train, validation, test, student).Test["accuracy"];
            // Soft targets: the teacher's softmax at temperature T on the training and validation rows.
            Dataset Soften(Dataset x)
            {
                Tensor logits = teacher.Model.Forward(teacher.Model.Standardizer.Transform(x).Features, x.Rows);
                double[] p = Ops.Softmax(logits / temperature, 1).ToArray();
                return new Dataset(x.Features, x.Columns, p, x.FeatureNames, "teacher", TaskKind.Multilabel, x.ClassNames);
            }
            TrainingResult distilled = Trainer.Train(Soften(train), Soften(validation), Soften(test), student with { Loss = kl });
            soft[seed] = ArgmaxAccuracy(distilled.Model, test);
        }
        var rows = new List<string[]>
        {
            new[] { "teacher (64-128-10, cross-entropy)", Pm(Comparison.Describe(teacherAcc)) },
            new[] { "student (64-6-10), cross-entropy on labels", Pm(Comparison.Describe(hard)) },
            new[] { $"student (64-6-10), KL to the teacher at T = {temperature}", Pm(Comparison.Describe(soft)) },
        };
        Verdict v = Verdict.FromDifference(Comparison.Paired(soft, hard), "student test accuracy: distilled − trained on labels", s.Seeds);
        string[] names = ["teacher", "student, labels", "student, distilled"];
        return Record(9, "distillation", All[8].Title, "Distilling a teacher's softened predictions (KL divergence) trains a better small student than the labels alone.",
            "Does a 6-unit student learn more from the teacher's softened probabilities than from the hard labels?",
            $"digits; seeded splits 70/10/20; teacher MLP 64-128-10 trained with cross-entropy ({s.Epochs(30)} epochs, Adam 0.003); students 64-6-10 (Adam 0.01, {s.Epochs(30)} epochs) trained with cross-entropy on labels or with T²·KL(teacher_T ‖ student_T), T = {temperature}; {s.Seeds} seeds.",
            new TableRecord(["model", "test accuracy"], rows),
            Bars("Test accuracy, mean ± std over seeds", "test accuracy", names, new Dictionary<string, double[]> { [names[0]] = teacherAcc, [names[1]] = hard, [names[2]] = soft }),
            v, s.Seeds, clock);
    }

    private static double ArgmaxAccuracy(Model model, Dataset test)
    {
        double[] p = model.Predict(test);
        int c = model.Outputs, correct = 0;
        for (int i = 0; i < test.Rows; i++)
        {
            int best = 0;
            for (int k = 1; k < c; k++) if (p[i * c + k] > p[i * c + best]) best = k;
            correct += best == (int)test.Targets[i] ? 1 : 0;
        }
        return correct / (double)test.Rows;
    }
}
