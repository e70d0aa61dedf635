using LossLab.Metrics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Metrics;

public sealed class MetricsTests
{
    [Fact]
    public void Binary_metrics_by_hand()
    {
        // scores of class 1: [0.9, 0.8, 0.3, 0.6, 0.2], labels [1, 1, 0, 0, 1].
        double[] p1 = [0.9, 0.8, 0.3, 0.6, 0.2];
        var m = new ClassificationMetrics(2);
        m.Update([.. p1.SelectMany(p => new[] { 1 - p, p })], [1, 1, 0, 0, 1]);
        ClassificationResult r = m.Result();
        // predictions [1, 1, 0, 1, 0]: correct 3/5; class 1 recall 2/3, class 0 recall 1/2.
        Assert.Equal(0.6, r.Accuracy, 12);
        Assert.Equal((2.0 / 3 + 0.5) / 2, r.BalancedAccuracy, 12);
        Assert.Equal(2, r.ConfusionMatrix[1, 1]);
        Assert.Equal(1, r.ConfusionMatrix[0, 1]);
        // AUC: positive/negative pairs ranked correctly: (0.9>0.3,0.6) (0.8>0.3,0.6) (0.2<both) → 4/6.
        Assert.Equal(4.0 / 6, r.RocAuc, 12);
        // AP: thresholds 0.9 (P=1,R=1/3), 0.8 (1, 2/3), 0.6 (2/3, 2/3), 0.3 (2/4, 2/3), 0.2 (3/5, 1) → 1/3 + 1/3 + 0.6/3.
        Assert.Equal(1.0 / 3 + 1.0 / 3 + 0.6 / 3, r.PrAuc, 12);
        double logLoss = -(Math.Log(0.9) + Math.Log(0.8) + Math.Log(0.7) + Math.Log(0.4) + Math.Log(0.2)) / 5;
        Assert.Equal(logLoss, r.LogLoss, 12);
    }

    [Fact]
    public void Multiclass_metrics_with_tied_scores_match_scikit_learn()
    {
        // scikit-learn 1.2.1: accuracy_score, balanced_accuracy_score, f1/precision/recall_score(average='macro',
        // zero_division=0), roc_auc_score(multi_class='ovr', average='macro'), average_precision_score on the
        // binarized labels (average='macro'), log_loss. Ties within rows (argmax takes the first) and across rows.
        double[] p =
        [
            0.5, 0.3, 0.2, 0.2, 0.5, 0.3, 0.2, 0.5, 0.3, 0.1, 0.1, 0.8, 0.6, 0.2, 0.2, 0.3, 0.3, 0.4,
            0.2, 0.6, 0.2, 0.5, 0.3, 0.2, 0.1, 0.3, 0.6, 0.4, 0.4, 0.2, 0.3, 0.2, 0.5, 0.25, 0.5, 0.25,
        ];
        var m = new ClassificationMetrics(3);
        m.Update(p, [0, 1, 2, 2, 0, 1, 1, 0, 2, 1, 0, 1]);
        ClassificationResult r = m.Result();
        Assert.Equal(0.6666666666666666, r.Accuracy, 1e-15);
        Assert.Equal(0.6722222222222222, r.BalancedAccuracy, 1e-15);
        Assert.Equal(0.6626984126984127, r.MacroF1, 1e-15);
        Assert.Equal(0.6666666666666666, r.MacroPrecision, 1e-15);
        Assert.Equal(0.6722222222222222, r.MacroRecall, 1e-15);
        Assert.Equal(0.910653659611993, r.RocAuc, 1e-15);
        Assert.Equal(0.8403703703703703, r.PrAuc, 1e-15);
        Assert.Equal(0.754701524141994, r.LogLoss, 1e-15);

        // A fourth class that neither the labels nor the predictions contain does not dilute the macro means
        // (scikit-learn's default labels are those seen; torchmetrics drops such classes too).
        var wider = new ClassificationMetrics(4);
        wider.Update([.. Enumerable.Range(0, 12).SelectMany(i => new[] { p[3 * i], p[3 * i + 1], p[3 * i + 2], 0.0 })], [0, 1, 2, 2, 0, 1, 1, 0, 2, 1, 0, 1]);
        ClassificationResult w = wider.Result();
        Assert.Equal(r.MacroF1, w.MacroF1, 1e-15);
        Assert.Equal(r.MacroPrecision, w.MacroPrecision, 1e-15);
        Assert.Equal(r.MacroRecall, w.MacroRecall, 1e-15);
        Assert.Equal(r.BalancedAccuracy, w.BalancedAccuracy, 1e-15);
    }

    [Fact]
    public void A_NaN_probability_makes_every_score_NaN_not_a_silent_count()
    {
        var m = new ClassificationMetrics(3);
        m.Update([0.2, 0.3, 0.5, double.NaN, 0.1, 0.1], [2, 0]);
        ClassificationResult r = m.Result();
        Assert.True(double.IsNaN(r.Accuracy) && double.IsNaN(r.RocAuc) && double.IsNaN(r.PrAuc) && double.IsNaN(r.LogLoss) && double.IsNaN(r.ExpectedCalibrationError) && double.IsNaN(r.MacroF1));
        Assert.Empty(r.PerClass);
        // The trainer's multilabel metrics read each label's positive class: NaN there too, not an index error.
        var multilabel = new LossLab.Data.Dataset([1, 2, 3, 4], 1, [1, 0, 0, 1, 1, 1, 0, 0], ["x"], "y", LossLab.Data.TaskKind.Multilabel, ["a", "b"]);
        Dictionary<string, double> metrics = LossLab.Training.Trainer.Metrics([0.9, double.NaN, 0.2, 0.8, 0.7, 0.6, 0.1, 0.3], multilabel);
        Assert.True(double.IsNaN(metrics["f1"]) && double.IsNaN(metrics["roc_auc"]), string.Join(", ", metrics));
    }

    [Fact]
    public void Ties_get_average_ranks_and_ece_measures_overconfidence()
    {
        var m = new ClassificationMetrics(2);
        m.Update([0.5, 0.5, 0.5, 0.5], [0, 1]);
        Assert.Equal(0.5, m.Result().RocAuc, 12);
        var confident = new ClassificationMetrics(2);
        confident.Update([0.01, 0.99, 0.01, 0.99], [1, 0]);   // 99 % confident, half wrong
        T.Close(Math.Abs(0.5 - 0.99), confident.Result().ExpectedCalibrationError, rel: 1e-12);
        confident.Reset();
        Assert.Equal(0, confident.Count);
    }

    [Fact]
    public void Multiclass_macro_scores_and_argument_checks()
    {
        var m = new ClassificationMetrics(3);
        m.Update([0.8, 0.1, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1, 0.8, 0.8, 0.1, 0.1], [0, 1, 2, 2]);
        ClassificationResult r = m.Result();
        Assert.Equal(0.75, r.Accuracy, 12);
        Assert.Equal(0.5, r.PerClass[0].Precision, 12);
        Assert.Equal(0.5, r.PerClass[2].Recall, 12);
        Assert.Throws<ArgumentException>(() => m.Update([0.5, 0.5], [0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Update([0.2, 0.3, 0.5], [3]));
    }

    [Fact]
    public void Regression_metrics_by_hand()
    {
        var m = new RegressionMetrics();
        m.Update([2, 4, 7], [1, 5, 6]);
        RegressionResult r = m.Result();
        Assert.Equal(1, r.Mae, 12);
        Assert.Equal(1, r.Rmse, 12);
        Assert.Equal(1 - 3 / (Math.Pow(1 - 4, 2) + 1 + 4), r.R2, 12);   // SS_res 3, SS_tot 14
        Assert.Equal((1 + 0.2 + 1.0 / 6) / 3, r.Mape, 12);
    }
}
