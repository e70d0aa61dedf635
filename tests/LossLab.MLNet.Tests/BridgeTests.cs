using LossLab.Data;
using LossLab.MLNet;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace LossLab.MLNet.Tests;

/// <summary>ML.NET's own trainers (OnlineGradientDescent, Sdca, SgdNonCalibrated, SdcaNonCalibrated) trained with LossLab losses.</summary>
public sealed class BridgeTests
{
    private sealed class Regression
    {
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }

    private sealed class Binary
    {
        public float[] Features { get; set; } = [];

        public bool Label { get; set; }
    }

    private sealed class Scored
    {
        public float Score { get; set; }
    }

    private static Dataset Standardized(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, "data", name + ".csv");
            if (File.Exists(path)) { Dataset d = CsvLoader.Load(path); return Standardizer.Fit(d).Transform(d); }
        }
        throw new FileNotFoundException(name);
    }

    private static IDataView Load<T>(MLContext ml, IEnumerable<T> rows, int width) where T : class
    {
        SchemaDefinition schema = SchemaDefinition.Create(typeof(T));
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    /// <summary>diabetes features standardized; targets scaled by <paramref name="scale"/> (z-scores when null).</summary>
    private static (MLContext Ml, IDataView Data) Diabetes(double? scale = null)
    {
        Dataset d = Standardized("diabetes");
        double mean = d.Targets.Average(), std = Math.Sqrt(d.Targets.Average(t => (t - mean) * (t - mean)));
        var ml = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, d.Rows).Select(i => new Regression
        {
            Features = [.. d.Row(i).ToArray().Select(v => (float)v)],
            Label = (float)(scale is double s ? d.Targets[i] * s : (d.Targets[i] - mean) / std),
        });
        return (ml, Load(ml, rows.ToList(), d.Columns));
    }

    private static (MLContext Ml, IDataView Data) BreastCancer()
    {
        Dataset d = Standardized("breast_cancer");
        var ml = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, d.Rows).Select(i => new Binary { Features = [.. d.Row(i).ToArray().Select(v => (float)v)], Label = d.Targets[i] > 0 });
        return (ml, Load(ml, rows.ToList(), d.Columns));
    }

    private static float[] Scores(MLContext ml, ITransformer model, IDataView data)
        => [.. ml.Data.CreateEnumerable<Scored>(model.Transform(data), reuseRowObject: false).Select(s => s.Score)];

    private static void AssertSame(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"row {i}: {expected[i]} vs {actual[i]}");
    }

    [Fact]
    public void Online_gradient_descent_with_losslab_squared_loss_equals_mlnet_squared_loss_and_robust_losses_train()
    {
        var (ml, data) = Diabetes();
        ITransformer Fit(IRegressionLoss loss) => ml.Regression.Trainers.OnlineGradientDescent(lossFunction: loss, learningRate: 0.05f, numberOfIterations: 20).Fit(data);
        float[] ours = Scores(ml, Fit(MLNetLosses.Squared()), data);
        float[] theirs = Scores(ml, Fit(new SquaredLoss()), data);
        AssertSame(theirs, ours, 0);
        foreach (IRegressionLoss loss in new[] { MLNetLosses.Absolute(), MLNetLosses.Huber(1), MLNetLosses.LogCosh(), MLNetLosses.Quantile(0.5) })
        {
            double r2 = ml.Regression.Evaluate(Fit(loss).Transform(data)).RSquared;
            Assert.True(r2 > 0.35, $"{loss.GetType().Name}: R² {r2}");
        }
    }

    [Fact]
    public void Poisson_on_a_log_rate_equals_mlnet_poisson_loss()
    {
        var (ml, data) = Diabetes(scale: 0.01);   // positive rates around 1.5
        ITransformer Fit(IRegressionLoss loss) => ml.Regression.Trainers.OnlineGradientDescent(lossFunction: loss, learningRate: 0.01f, numberOfIterations: 10).Fit(data);
        AssertSame(Scores(ml, Fit(new PoissonLoss()), data), Scores(ml, Fit(MLNetLosses.Poisson()), data), 1e-5);
    }

    [Fact]
    public void Sdca_regression_with_the_squared_conjugate_equals_mlnet()
    {
        var (ml, data) = Diabetes();
        // A fresh seeded context per fit: SDCA and SGD shuffle with the context's generator.
        ITransformer Fit(ISupportSdcaRegressionLoss loss) => new MLContext(seed: 1).Regression.Trainers.Sdca(new SdcaRegressionTrainer.Options { LossFunction = loss, NumberOfThreads = 1, MaximumNumberOfIterations = 20 }).Fit(data);
        float[] ours = Scores(ml, Fit(MLNetLosses.Squared()), data);
        AssertSame(Scores(ml, Fit(new SquaredLoss()), data), ours, 1e-6);
        double r2 = ml.Regression.Evaluate(Fit(MLNetLosses.Squared()).Transform(data)).RSquared;
        Assert.True(r2 > 0.40, $"R² {r2}");   // 0.421 with SDCA's default L2, the same as with ML.NET's own SquaredLoss
    }

    [Fact]
    public void Sgd_binary_trains_with_every_losslab_classification_loss_and_logistic_equals_mlnet_log_loss()
    {
        var (ml, data) = BreastCancer();
        ITransformer Fit(IClassificationLoss loss) => new MLContext(seed: 1).BinaryClassification.Trainers.SgdNonCalibrated(new SgdNonCalibratedTrainer.Options { LossFunction = loss, NumberOfThreads = 1, NumberOfIterations = 10 }).Fit(data);
        // ML.NET's LogLoss uses a fast approximate sigmoid (≈3e-6 relative); LossLab's is exact.
        AssertSame(Scores(ml, Fit(new LogLoss()), data), Scores(ml, Fit(MLNetLosses.Logistic()), data), 1e-3);
        AssertSame(Scores(ml, Fit(new HingeLoss()), data), Scores(ml, Fit(MLNetLosses.Hinge()), data), 0);
        AssertSame(Scores(ml, Fit(new SmoothedHingeLoss()), data), Scores(ml, Fit(MLNetLosses.SmoothedHinge()), data), 0);
        AssertSame(Scores(ml, Fit(new SmoothedHingeLoss(0.3f)), data), Scores(ml, Fit(MLNetLosses.SmoothedHinge(0.3f)), data), 0);
        // ML.NET's ExpLoss rounds −β·t·o and the exponential to float; LossLab's kernel keeps double until the result.
        AssertSame(Scores(ml, Fit(new ExpLoss(0.5f)), data), Scores(ml, Fit(MLNetLosses.Exp(0.5)), data), 1e-3);
        foreach (IClassificationLoss loss in new[] { MLNetLosses.Logistic(), MLNetLosses.Hinge(), MLNetLosses.SmoothedHinge(), MLNetLosses.SquaredHinge(), MLNetLosses.Focal(), MLNetLosses.Exp(0.5) })
        {
            double accuracy = ml.BinaryClassification.EvaluateNonCalibrated(Fit(loss).Transform(data)).Accuracy;
            Assert.True(accuracy > 0.93, $"{loss.GetType().Name}: accuracy {accuracy}");
        }
    }

    private static LossLab.Losses.Core.LossInputs Grid(float[] outputs, float label) => new LossLab.Losses.Core.LossInputs()
        .Add("output", LossLab.Numerics.TensorData.FromArray([.. outputs.Select(o => (double)o)], outputs.Length))
        .Add("label", LossLab.Numerics.TensorData.FromArray([.. Enumerable.Repeat((double)label, outputs.Length)], outputs.Length));

    [Fact]
    public void The_catalog_smoothed_hinge_and_exponential_losses_are_mlnet_s_on_a_grid()
    {
        // The catalog entries (0/1 labels, as ML.NET reads label > 0) against ML.NET's own loss classes, value and derivative.
        float[] outputs = [-3f, -1.2f, -0.5f, 0f, 0.25f, 0.7f, 1f, 1.6f, 4f];
        foreach (float s in new[] { 0f, 0.5f, 1f, 2f })
        {
            var mine = new LossLab.Losses.Classification.SmoothedHingeLoss(s);
            var theirs = new SmoothedHingeLoss(s);
            foreach (float label in new[] { 0f, 1f })
            {
                var r = mine.Evaluate(Grid(outputs, label));
                for (int i = 0; i < outputs.Length; i++)
                {
                    Assert.Equal(theirs.Loss(outputs[i], label), r.Value.GetDouble(i), 1e-6);
                    Assert.Equal(theirs.Derivative(outputs[i], label), r.Gradient("output").GetDouble(i), 1e-6);
                }
            }
        }
        foreach (float beta in new[] { 0.5f, 1f, 2f })
        {
            var mine = new LossLab.Losses.Classification.ExpLoss(beta);
            var theirs = new ExpLoss(beta);
            foreach (float label in new[] { 0f, 1f })
            {
                var r = mine.Evaluate(Grid(outputs, label));
                for (int i = 0; i < outputs.Length; i++)
                {
                    double v = theirs.Loss(outputs[i], label), d = theirs.Derivative(outputs[i], label);
                    Assert.True(Math.Abs(v - r.Value.GetDouble(i)) <= 1e-6 * Math.Max(1, Math.Abs(v)), $"β {beta}, label {label}, output {outputs[i]}: {v} vs {r.Value.GetDouble(i)}");
                    Assert.True(Math.Abs(d - r.Gradient("output").GetDouble(i)) <= 1e-6 * Math.Max(1, Math.Abs(d)), $"β {beta}, label {label}, output {outputs[i]}: ∂ {d} vs {r.Gradient("output").GetDouble(i)}");
                }
            }
        }
    }

    [Fact]
    public void Sdca_binary_with_losslab_conjugates_equals_mlnet_and_is_accurate()
    {
        var (ml, data) = BreastCancer();
        ITransformer Fit(ISupportSdcaClassificationLoss loss) => new MLContext(seed: 1).BinaryClassification.Trainers.SdcaNonCalibrated(new SdcaNonCalibratedBinaryTrainer.Options { LossFunction = loss, NumberOfThreads = 1, MaximumNumberOfIterations = 20 }).Fit(data);
        AssertSame(Scores(ml, Fit(new LogLoss()), data), Scores(ml, Fit(MLNetLosses.Logistic()), data), 1e-3);
        AssertSame(Scores(ml, Fit(new HingeLoss()), data), Scores(ml, Fit(MLNetLosses.Hinge()), data), 1e-6);
        AssertSame(Scores(ml, Fit(new SmoothedHingeLoss()), data), Scores(ml, Fit(MLNetLosses.SmoothedHinge()), data), 1e-6);
        foreach (ISupportSdcaClassificationLoss loss in new[] { MLNetLosses.Logistic(), MLNetLosses.Hinge(), MLNetLosses.SmoothedHinge(0.5f) })
        {
            Assert.True(ml.BinaryClassification.EvaluateNonCalibrated(Fit(loss).Transform(data)).Accuracy > 0.95);
        }
    }

    [Fact]
    public void Loss_values_and_derivatives_match_mlnet_where_both_exist()
    {
        var pairs = new (IScalarLoss Ours, IScalarLoss Theirs)[]
        {
            (MLNetLosses.Squared(), new SquaredLoss()), (MLNetLosses.Poisson(), new PoissonLoss()), (MLNetLosses.Logistic(), new LogLoss()),
            (MLNetLosses.Hinge(), new HingeLoss()), (MLNetLosses.SmoothedHinge(), new SmoothedHingeLoss()),
        };
        foreach (var (ours, theirs) in pairs)
        {
            foreach (float o in new[] { -3f, -0.7f, 0f, 0.4f, 2.5f })
            {
                foreach (float y in new[] { 0f, 1f, 2f })
                {
                    float dt = theirs.Derivative(o, y), dl = ours.Derivative(o, y);
                    double lt = ((ILossFunction<float, float>)theirs).Loss(o, y), ll = ((ILossFunction<float, float>)ours).Loss(o, y);
                    Assert.True(Math.Abs(dt - dl) <= 1e-5 * Math.Max(1, Math.Abs(dt)), $"{ours.GetType().Name} derivative at o={o}, y={y}: {dl} vs {dt}");
                    Assert.True(Math.Abs(lt - ll) <= 1e-5 * Math.Max(1, Math.Abs(lt)), $"{ours.GetType().Name} loss at o={o}, y={y}: {ll} vs {lt}");
                }
            }
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => MLNetLosses.Quantile(1.5));
    }
}
