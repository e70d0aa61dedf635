// Train on breast_cancer, export to ONNX, run the file with ONNX Runtime, and compare with LossLab on every row.
using LossLab.Data;
using LossLab.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

Dataset data = CsvLoader.Load(Path.Combine(FindData(), "breast_cancer.csv"));
Model model = Trainer.Train(data, new TrainingOptions { Hidden = [32], Epochs = 40, LearningRate = 0.003, Seed = 1 }).Model;
string path = Path.Combine(Path.GetTempPath(), "breast_cancer.onnx");
OnnxExport.Save(model, path);
Console.WriteLine($"exported {path} ({new FileInfo(path).Length} bytes, opset {OnnxExport.Opset})");

using var session = new InferenceSession(path);
var features = new DenseTensor<float>(data.Features.Select(v => (float)v).ToArray(), [data.Rows, data.Columns]);
using var results = session.Run([NamedOnnxValue.CreateFromTensor("features", features)]);
float[] onnx = [.. results.Single().AsEnumerable<float>()];
double[] expected = model.Predict(data);
double worst = onnx.Select((v, i) => Math.Abs(v - expected[i])).Max();
Console.WriteLine($"ONNX Runtime vs LossLab on {data.Rows} rows: max |difference| = {worst:E2}");
return worst <= 1e-5 ? 0 : 1;

static string FindData()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "data", "iris.csv"))) return Path.Combine(dir.FullName, "data");
    }
    throw new DirectoryNotFoundException("run the sample from inside the LossLab repository (it reads data/)");
}
