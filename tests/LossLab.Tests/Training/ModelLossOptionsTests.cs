using System.Text.Json.Nodes;
using LossLab.Data;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using LossLab.Training;

namespace LossLab.Tests.Training;

/// <summary>A saved model keeps the options of the loss it trained with, so that it can be scored with that exact loss again.</summary>
public sealed class ModelLossOptionsTests
{
    [Fact]
    public void A_saved_model_keeps_the_users_loss_options_and_the_class_weights_derived_from_the_data()
    {
        Dataset wine = Datasets.Load("wine");   // 59 / 71 / 48 rows: balanced weights differ from 1
        var options = new TrainingOptions
        {
            Hidden = [8], Epochs = 3, Seed = 2, Loss = "cross_entropy", ClassWeights = ClassWeighting.Balanced,
            LossOptions = new Dictionary<string, object?> { ["label_smoothing"] = 0.1 },
        };
        TrainingResult r = Trainer.Train(wine, options);
        string path = Path.Combine(Directory.CreateTempSubdirectory("losslab-options").FullName, "wine.json");
        r.Model.Save(path);
        Model loaded = Model.Load(path);

        Assert.Equal(0.1, Assert.IsType<double>(loaded.LossOptions["label_smoothing"]));
        var weight = Assert.IsType<TensorData>(loaded.LossOptions["weight"]);
        double[] trained = ((TensorData)r.Binding.Options["weight"]!).ToArray<double>();
        Assert.Equal(trained, weight.ToArray<double>());
        Assert.NotEqual(trained[0], trained[1]);

        // Scored with the saved options, the loaded model's loss is the training binding's to the last digit; with the
        // defaults (what evaluate did before the options were kept) it is another number.
        Dataset scaled = loaded.Standardizer.Transform(wine);
        LossDescriptor ce = LossRegistry.Default.Get(loaded.LossName);
        double expected = Trainer.LossOf(r.Model, r.Binding, scaled);
        var saved = new LossBinding(ce, loaded.LossOptions, loaded.Task, loaded.ClassNames.Count, null);
        Assert.Equal(expected, Trainer.LossOf(loaded, saved, scaled));
        var plain = new LossBinding(ce, new Dictionary<string, object?>(), loaded.Task, loaded.ClassNames.Count, null);
        Assert.NotEqual(expected, Trainer.LossOf(loaded, plain, scaled), 3);
    }

    [Fact]
    public void Every_kind_of_option_value_survives_the_json_round_trip()
    {
        var options = new Dictionary<string, object?>
        {
            ["int"] = 3L, ["int32"] = 7, ["double"] = 0.1, ["whole"] = 2.0, ["tiny"] = 5e-324, ["flag"] = true, ["choice"] = "sum", ["none"] = null,
            ["inf"] = double.NegativeInfinity, ["nan"] = double.NaN,
            ["f32"] = TensorData.FromArray([0.1f, float.PositiveInfinity, -3f], 3),
            ["f64"] = TensorData.FromArray([1.0 / 3, 2, 4, 8, 16, 32], 2, 3),
            ["i64"] = TensorData.FromArray([5L, -1L], 2),
        };
        Dictionary<string, object?> back = LossOptionsJson.Read(JsonNode.Parse(LossOptionsJson.Write(options).ToJsonString()));
        Assert.Equal(options.Keys.Order(), back.Keys.Order());
        Assert.Equal(3L, back["int"]);
        Assert.Equal(7L, back["int32"]);
        Assert.Equal(0.1, back["double"]);
        Assert.Equal(2.0, Convert.ToDouble(back["whole"], System.Globalization.CultureInfo.InvariantCulture));   // "2": an integer to a number option, which takes it
        Assert.Equal(5e-324, back["tiny"]);
        Assert.Equal(true, back["flag"]);
        Assert.Equal("sum", back["choice"]);
        Assert.Null(back["none"]);
        Assert.Equal(double.NegativeInfinity, back["inf"]);
        Assert.True(double.IsNaN((double)back["nan"]!));
        var f32 = (TensorData)back["f32"]!;
        Assert.Equal(DType.Float32, f32.DType);
        Assert.Equal([0.1f, float.PositiveInfinity, -3f], f32.ToArray<float>());
        var f64 = (TensorData)back["f64"]!;
        Assert.Equal([2, 3], f64.Shape.Dims.ToArray());
        Assert.Equal(1.0 / 3, f64.GetDouble(0));
        Assert.Equal([5L, -1L], ((TensorData)back["i64"]!).ToArray<long>());
    }

    [Fact]
    public void An_option_a_model_cannot_keep_is_named_and_a_damaged_one_is_a_load_error()
    {
        var bad = new Dictionary<string, object?> { ["callback"] = new object() };
        Assert.Contains("'callback'", Assert.Throws<NotSupportedException>(() => LossOptionsJson.Write(bad)).Message);

        Dataset iris = Datasets.Load("iris");
        Model model = Trainer.Train(iris, new TrainingOptions { Hidden = [4], Epochs = 1, LossOptions = new Dictionary<string, object?> { ["label_smoothing"] = 0.2 } }).Model;
        string path = Path.Combine(Directory.CreateTempSubdirectory("losslab-options").FullName, "iris.json");
        model.Save(path);
        JsonNode root = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal(0.2, root["loss_options"]!["label_smoothing"]!.GetValue<double>());
        root["loss_options"]!["label_smoothing"] = new JsonObject { ["dtype"] = "complex64", ["shape"] = new JsonArray(1), ["values"] = new JsonArray(1) };
        File.WriteAllText(path, root.ToJsonString());
        Assert.Contains("unknown element type 'complex64'", Assert.Throws<DataFormatException>(() => Model.Load(path)).Message);

        // A model saved before the options were kept loads with none.
        root.AsObject().Remove("loss_options");
        File.WriteAllText(path, root.ToJsonString());
        Assert.Empty(Model.Load(path).LossOptions);
    }
}
