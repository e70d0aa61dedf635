// ML.NET's SDCA and SGD trainers with LossLab losses on breast_cancer.
using LossLab.Data;
using LossLab.MLNet;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

Dataset raw = CsvLoader.Load(Path.Combine(FindData(), "breast_cancer.csv"));
Dataset d = Standardizer.Fit(raw).Transform(raw);
var rows = Enumerable.Range(0, d.Rows).Select(i => new Row { Features = [.. d.Row(i).ToArray().Select(v => (float)v)], Label = d.Targets[i] > 0 }).ToList();
var ml = new MLContext(seed: 1);
SchemaDefinition schema = SchemaDefinition.Create(typeof(Row));
schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d.Columns);
IDataView data = ml.Data.LoadFromEnumerable(rows, schema);

foreach (var (name, loss) in new (string, ISupportSdcaClassificationLoss)[] { ("logistic", MLNetLosses.Logistic()), ("hinge", MLNetLosses.Hinge()), ("smoothed hinge", MLNetLosses.SmoothedHinge(0.5f)) })
{
    var trainer = ml.BinaryClassification.Trainers.SdcaNonCalibrated(new SdcaNonCalibratedBinaryTrainer.Options { LossFunction = loss, NumberOfThreads = 1 });
    var metrics = ml.BinaryClassification.EvaluateNonCalibrated(trainer.Fit(data).Transform(data));
    Console.WriteLine($"SDCA + LossLab {name,-15} accuracy {metrics.Accuracy:F4}");
}
var sgd = ml.BinaryClassification.Trainers.SgdNonCalibrated(new SgdNonCalibratedTrainer.Options { LossFunction = MLNetLosses.Focal(), NumberOfThreads = 1 });
Console.WriteLine($"SGD  + LossLab focal          accuracy {ml.BinaryClassification.EvaluateNonCalibrated(sgd.Fit(data).Transform(data)).Accuracy:F4}");

static string FindData()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "data", "iris.csv"))) return Path.Combine(dir.FullName, "data");
    }
    throw new DirectoryNotFoundException("run the sample from inside the LossLab repository (it reads data/)");
}

internal sealed class Row
{
    public float[] Features { get; set; } = [];

    public bool Label { get; set; }
}
