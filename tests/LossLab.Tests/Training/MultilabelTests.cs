using System.Globalization;
using LossLab.Cli;
using LossLab.Data;
using LossLab.Tests.TestKit;
using LossLab.Training;

namespace LossLab.Tests.Training;

/// <summary>Multilabel training on a real data set: digits relabelled as three overlapping properties.</summary>
public sealed class MultilabelTests
{
    /// <summary>digits.csv with the target replaced by three 0/1 columns: even, at_least_5, prime.</summary>
    private static string WriteDigitsProperties()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("losslab-ml").FullName, "digit_properties.csv");
        string[] lines = File.ReadAllLines(Datasets.PathOf("digits"));
        using var w = new StreamWriter(path);
        w.WriteLine(lines[0][..lines[0].LastIndexOf(',')] + ",even,at_least_5,prime");
        foreach (string line in lines.Skip(1))
        {
            int cut = line.LastIndexOf(',');
            int digit = int.Parse(line[(cut + 1)..], CultureInfo.InvariantCulture);
            w.WriteLine($"{line[..cut]},{(digit % 2 == 0 ? 1 : 0)},{(digit >= 5 ? 1 : 0)},{(digit is 2 or 3 or 5 or 7 ? 1 : 0)}");
        }
        return path;
    }

    [Fact]
    public void Label_columns_load_as_a_multilabel_task_and_train_to_high_subset_accuracy()
    {
        string path = WriteDigitsProperties();
        Dataset d = CsvLoader.Load(path, new CsvOptions { TargetColumn = "even,at_least_5,prime" });
        Assert.Equal(TaskKind.Multilabel, d.Task);
        Assert.Equal(3, d.TargetWidth);
        Assert.Equal(64, d.Columns);
        Assert.Equal(["even", "at_least_5", "prime"], d.ClassNames);
        var r = Trainer.Train(d, new TrainingOptions { Hidden = [64], Epochs = 30, LearningRate = 0.003, Seed = 1 });
        Assert.Equal("binary_cross_entropy_with_logits", r.Model.LossName);
        Assert.True(r.Test["accuracy"] >= 0.9, $"subset accuracy {r.Test["accuracy"]}");
        Assert.True(r.Test["hamming_accuracy"] >= r.Test["accuracy"]);
        foreach (string loss in new[] { "multilabel_soft_margin_loss", "multilabel_margin_loss", "sigmoid_focal_loss" })
        {
            var other = Trainer.Train(d, new TrainingOptions { Hidden = [32], Epochs = 5, LearningRate = 0.003, Seed = 1, Loss = loss });
            Assert.Equal("completed", other.StopReason);
        }
        var weighted = Trainer.Train(d, new TrainingOptions { Hidden = [32], Epochs = 3, Seed = 1, ClassWeights = ClassWeighting.Balanced });
        Assert.True(weighted.Binding.Options.ContainsKey("pos_weight"));
        Assert.Throws<LossLab.Numerics.LossArgumentException>(() => Trainer.Train(d, new TrainingOptions { Epochs = 1, Loss = "cross_entropy" }));
    }

    [Fact]
    public void The_command_line_trains_saves_and_evaluates_multilabel_models()
    {
        string path = WriteDigitsProperties();
        string model = Path.Combine(Path.GetDirectoryName(path)!, "m.json");
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(["train", "--data", path, "--task", "multilabel", "--target", "even,at_least_5,prime", "--hidden", "32", "--epochs", "5", "--save", model],
            new CliConsole(new StringReader(""), output, error, false));
        Assert.True(code == 0, error.ToString());
        Assert.Contains("(Multilabel, 1797 rows)", output.ToString());
        var evalOut = new StringWriter();
        Assert.Equal(0, Program.Run(["evaluate", "--model", model, "--data", path], new CliConsole(new StringReader(""), evalOut, error, false)));
        Assert.Contains("hamming_accuracy", evalOut.ToString());
        Assert.Equal(1797 * 3, Model.Load(model).Predict(CsvLoader.Load(path, new CsvOptions { TargetColumn = "even,at_least_5,prime" })).Length);
        var bad = new StringWriter();
        Assert.Equal(2, Program.Run(["train", "--data", path, "--task", "multilabel"], new CliConsole(new StringReader(""), new StringWriter(), bad, false)));
        Assert.Contains("two or more label columns", bad.ToString());
    }
}
