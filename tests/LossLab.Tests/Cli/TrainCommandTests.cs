using System.Text.Json.Nodes;
using LossLab.Cli;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Cli;

public sealed class TrainCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(args, new CliConsole(new StringReader(""), output, error, false));
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void Without_test_or_validation_rows_the_table_says_so_instead_of_printing_a_fake_r2()
    {
        var (code, output, _) = Run("train", "--data", Datasets.PathOf("iris"), "--hidden", "4", "--epochs", "1", "--test-fraction", "0", "--validation-fraction", "0");
        Assert.Equal(0, code);
        Assert.Contains("val loss n/a (no validation rows)", output);
        Assert.Contains("no test rows (--test-fraction 0)", output);
        Assert.DoesNotContain("r2", output);
        Assert.DoesNotContain("NaN", output);
    }

    [Fact]
    public void Json_output_has_settings_history_and_lower_case_test_metrics_and_is_identical_for_one_seed_apart_from_timing()
    {
        string[] args = ["train", "--data", Datasets.PathOf("wine"), "--hidden", "8", "--epochs", "4", "--seed", "3", "--dropout", "0.1", "--format", "json"];
        var (code, first, _) = Run(args);
        var (_, second, _) = Run(args);
        Assert.Equal(0, code);
        JsonNode a = JsonNode.Parse(first)!, b = JsonNode.Parse(second)!;
        Assert.Equal(4, a["history"]!.AsArray().Count);
        Assert.Equal("cross_entropy", a["settings"]!["loss"]!.GetValue<string>());
        foreach (string key in new[] { "accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss", "ece" }) Assert.NotNull(a["test"]![key]);
        a.AsObject().Remove("timing");
        b.AsObject().Remove("timing");
        Assert.Equal(a.ToJsonString(), b.ToJsonString());
    }

    [Fact]
    public void Bins_make_an_ordinal_task_that_coral_trains_on_and_compare_reports_rank_mae()
    {
        var (code, output, error) = Run("train", "--data", Datasets.PathOf("diabetes"), "--bins", "5", "--loss", "coral_loss", "--hidden", "8", "--epochs", "3");
        Assert.True(code == 0, error);
        Assert.Contains("SharedThresholds(8 → 4)", output);
        Assert.Contains("test rank_mae", output);
        Assert.Contains("(Ordinal, 442 rows)", output);
        Assert.DoesNotContain("note:", error);
        // diabetes has 214 distinct targets: 1000 bins cannot all be distinct, and the user is told how many there are.
        var (many, _, note) = Run("train", "--data", Datasets.PathOf("diabetes"), "--bins", "1000", "--loss", "cross_entropy", "--hidden", "8", "--epochs", "1");
        Assert.Equal(0, many);
        Assert.Contains("note: --bins 1000 gave 214 ordered classes", note);
        var (refused, _, why) = Run("train", "--data", Datasets.PathOf("iris"), "--loss", "corn_loss", "--epochs", "1");
        Assert.Equal(2, refused);
        Assert.Contains("--task ordinal", why);
        var (mixed, _, message) = Run("train", "--data", Datasets.PathOf("diabetes"), "--bins", "5", "--task", "multiclass", "--epochs", "1");
        Assert.NotEqual(0, mixed);
        Assert.Contains("--bins cuts the target into ordered classes", message);
        Assert.DoesNotContain("   at ", message);
        string folder = Directory.CreateTempSubdirectory("losslab-ordinal-compare-").FullName;
        var (compared, table, _) = Run("compare", "--data", Datasets.PathOf("diabetes"), "--bins", "3", "--losses", "corn_loss,cross_entropy", "--hidden", "8", "--epochs", "2", "--report", folder);
        Assert.Equal(0, compared);
        // On ordinal data the rank error leads, and its direction is said: lower is better.
        Assert.Contains("Δ rank_mae vs first [95% CI] (lower is better)", table);
        var record = LossLab.Cli.Lab.ExperimentRecord.FromJson(File.ReadAllText(Path.Combine(folder, "compare-metric" + LossLab.Cli.Lab.ExperimentRecord.FileSuffix)));
        Assert.Equal("cross_entropy scores a lower test rank_mae than corn_loss", record.Claim);
        Assert.Equal("rank_mae (test)", record.Table.Columns[1]);
    }

    [Fact]
    public void A_loss_option_can_be_a_json_array_for_a_tensor_option()
    {
        // Class weights of cross-entropy, or the priors of the logit-adjusted loss, given on the command line.
        var (code, output, _) = Run("train", "--data", Datasets.PathOf("iris"), "--loss", "cross_entropy", "--loss-option", "weight=[1,2,3]", "--epochs", "2", "--format", "json");
        Assert.Equal(0, code);
        Assert.NotNull(JsonNode.Parse(output)!["test"]!["accuracy"]);
        var (bad, _, error) = Run("train", "--data", Datasets.PathOf("iris"), "--loss", "logit_adjusted_loss", "--loss-option", "priors=[1,2]", "--epochs", "1");
        Assert.Equal(2, bad);
        Assert.Contains("priors has 2 values but 'input'", error);
        var (worse, _, message) = Run("train", "--data", Datasets.PathOf("iris"), "--loss-option", "weight={\"a\": 1}", "--epochs", "1");
        Assert.NotEqual(0, worse);
        Assert.Contains("must be a number, boolean, string or array", message);
    }

    [Fact]
    public void Table_output_ends_with_a_summary_line_and_a_saved_model_evaluates()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("losslab-cli").FullName, "diabetes.json");
        var (code, output, _) = Run("train", "--data", Datasets.PathOf("diabetes"), "--loss", "huber_loss", "--loss-option", "delta=20", "--epochs", "20", "--lr", "0.01", "--save", path);
        Assert.Equal(0, code);
        string last = output.TrimEnd().Split('\n')[^1];
        Assert.StartsWith("trained target (Regression, 442 rows) for 20 epochs", last);
        Assert.Contains("test r2", last);
        var (evalCode, evalOut, _) = Run("evaluate", "--model", path, "--data", Datasets.PathOf("diabetes"), "--loss", "mse_loss", "--loss", "l1_loss");
        Assert.Equal(0, evalCode);
        Assert.Contains("loss mse_loss", evalOut);
        Assert.Contains("r2", evalOut);
    }

    [Fact]
    public void Evaluate_scores_with_the_loss_options_the_model_was_trained_with_unless_told_otherwise()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("losslab-cli").FullName, "diabetes.json");
        Assert.Equal(0, Run("train", "--data", Datasets.PathOf("diabetes"), "--loss", "huber_loss", "--loss-option", "delta=20", "--epochs", "3", "--save", path).Code);
        string Loss(params string[] extra)
        {
            var (code, output, error) = Run(["evaluate", "--model", path, "--data", Datasets.PathOf("diabetes"), .. extra]);
            Assert.True(code == 0, error);
            Assert.Contains("trained with huber_loss (delta=20)", output);
            return output.Split('\n').Single(l => l.TrimStart().StartsWith("loss ", StringComparison.Ordinal)).Trim();
        }
        string saved = Loss();
        Assert.StartsWith("loss huber_loss", saved);
        // The same loss under its PyTorch class name is the trained loss too; an explicit option overrides the saved one.
        Assert.Equal(saved.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1], Loss("--loss", "HuberLoss").Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]);
        Assert.Equal(saved, Loss("--loss", "huber_loss", "--loss-option", "delta=20"));
        Assert.NotEqual(saved, Loss("--loss", "huber_loss", "--loss-option", "delta=1"));
        // Another loss gets only the options given; one it does not have makes that loss n/a, naming the option.
        Assert.Contains("n/a (SmoothL1Loss: unknown option 'delta'", Loss("--loss", "smooth_l1_loss", "--loss-option", "delta=5"));
    }

    [Fact]
    public void Evaluate_reads_a_file_of_one_class_in_the_models_class_indices_and_columns()
    {
        string dir = Directory.CreateTempSubdirectory("losslab-eval").FullName;
        string model = Path.Combine(dir, "iris.json"), subset = Path.Combine(dir, "virginica.csv");
        Assert.Equal(0, Run("train", "--data", Datasets.PathOf("iris"), "--epochs", "60", "--lr", "0.01", "--save", model).Code);
        // Only class 2, with the columns reordered. Read with its own classes, "2" would have become class 0.
        string[] lines = File.ReadAllLines(Datasets.PathOf("iris"));
        var rows = lines.Skip(1).Select(l => l.Split(',')).Where(c => c[^1] == "2").Select(c => $"{c[4]},{c[3]},{c[2]},{c[1]},{c[0]}");
        File.WriteAllLines(subset, ["target,petal_width,petal_length,sepal_width,sepal_length", .. rows]);
        var (code, output, error) = Run("evaluate", "--model", model, "--data", subset);
        Assert.True(code == 0, error);
        double accuracy = double.Parse(output.Split('\n').First(l => l.TrimStart().StartsWith("accuracy", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(accuracy > 0.8, output);
        File.AppendAllLines(subset, ["7,1.0,1.0,1.0,1.0"]);
        var (badCode, _, badError) = Run("evaluate", "--model", model, "--data", subset);
        Assert.Equal(2, badCode);
        Assert.Contains("'7' is not one of the model's classes (0, 1, 2)", badError);
    }

    [Fact]
    public void A_saved_model_exports_to_an_onnx_file()
    {
        string dir = Directory.CreateTempSubdirectory("losslab-export").FullName;
        string model = Path.Combine(dir, "iris.json"), onnx = Path.Combine(dir, "iris.onnx");
        Assert.Equal(0, Run("train", "--data", Datasets.PathOf("iris"), "--epochs", "2", "--hidden", "4", "--save", model).Code);
        var (code, output, _) = Run("export", "--model", model, "--out", onnx);
        Assert.Equal(0, code);
        Assert.Contains("opset 17", output);
        byte[] bytes = File.ReadAllBytes(onnx);
        Assert.Equal(0x08, bytes[0]);   // field 1 (ir_version), varint
        Assert.Equal(8, bytes[1]);
        var (missing, _, error) = Run("export", "--model", Path.Combine(dir, "none.json"), "--out", onnx);
        Assert.Equal(2, missing);
        Assert.Contains("no such model file", error);
    }

    [Fact]
    public void A_metric_learning_model_trains_saves_evaluates_and_exports()
    {
        string dir = Directory.CreateTempSubdirectory("losslab-embedding-cli").FullName;
        string model = Path.Combine(dir, "iris.json"), onnx = Path.Combine(dir, "iris.onnx");
        var (code, output, _) = Run("train", "--data", Datasets.PathOf("iris"), "--loss", "triplet_margin_loss", "--embedding-dim", "6",
            "--hidden", "8", "--epochs", "20", "--lr", "0.01", "--save", model);
        Assert.Equal(0, code);
        Assert.Contains("Linear(8 → 6) → nearest class centre (euclidean distance)", output);
        Assert.Contains("test roc_auc", output);
        Assert.DoesNotContain("log_loss", output);
        var (evalCode, evalOut, _) = Run("evaluate", "--model", model, "--data", Datasets.PathOf("iris"), "--loss", "triplet_margin_loss", "--loss", "cross_entropy");
        Assert.Equal(0, evalCode);
        Assert.Matches(@"loss triplet_margin_loss +\d", evalOut);
        Assert.Contains("cross_entropy                n/a (the model outputs an embedding, not class scores)", evalOut);
        Assert.Contains("accuracy", evalOut);
        Assert.Equal(0, Run("export", "--model", model, "--out", onnx).Code);
        // A plain model is not scored by an embedding loss.
        string plain = Path.Combine(dir, "plain.json");
        Assert.Equal(0, Run("train", "--data", Datasets.PathOf("iris"), "--epochs", "1", "--hidden", "4", "--save", plain).Code);
        Assert.Contains("supcon_loss                  n/a (it scores embeddings; the model outputs class scores)",
            Run("evaluate", "--model", plain, "--data", Datasets.PathOf("iris"), "--loss", "supcon_loss").Out);
        // A loss that cannot score this data is n/a on its own line; the other losses still run.
        var (mixed, mixedOut, _) = Run("evaluate", "--model", plain, "--data", Datasets.PathOf("iris"), "--loss", "generalized_box_iou_loss", "--loss", "nll_loss");
        Assert.Equal(0, mixed);
        Assert.Contains("generalized_box_iou_loss     n/a (GeneralizedBoxIouLoss compares boxes", mixedOut);
        Assert.Matches(@"loss nll_loss +\d", mixedOut);
        var (regression, _, error) = Run("train", "--data", Datasets.PathOf("diabetes"), "--loss", "circle_loss", "--epochs", "1");
        Assert.Equal(2, regression);
        Assert.Contains("needs a binary or multiclass target", error);
    }

    [Theory]
    [InlineData("--data", "/no/such.csv")]
    [InlineData("--loss", "nope")]
    [InlineData("--hidden", "4,x")]
    [InlineData("--lr", "-1")]
    [InlineData("--loss", "gaussian_nll_loss")]
    [InlineData("--loss", "expr:mean(input")]
    [InlineData("--embedding-dim", "0")]
    public void Bad_arguments_are_one_line_errors_with_exit_code_2(string option, string value)
    {
        string[] args = option == "--data" ? ["train", option, value] : ["train", "--data", Datasets.PathOf("iris"), option, value];
        var (code, _, error) = Run(args);
        Assert.Equal(2, code);
        Assert.StartsWith("losslab train: ", error);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public void Report_writes_the_curves_the_run_and_a_page_with_loss_and_accuracy_in_one_chart()
    {
        string folder = Directory.CreateTempSubdirectory("losslab-train-report-").FullName;
        var (code, output, error) = Run("train", "--data", Datasets.PathOf("wine"), "--hidden", "8", "--epochs", "12", "--report", folder);
        Assert.True(code == 0, error);
        Assert.Contains($"report: {Path.Combine(folder, "index.html")}", output);
        string[] csv = File.ReadAllLines(Path.Combine(folder, "curves.csv"));
        Assert.Equal(13, csv.Length);
        string[] header = csv[0].Split(',');
        Assert.Equal(["epoch", "lr", "train_loss", "penalty", "val_loss"], header[..5]);
        Assert.Contains("val_accuracy", header);
        Assert.Equal(header.Length, header.Distinct().Count());
        using var run = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "run.json")));
        Assert.Equal(12, run.RootElement.GetProperty("history").GetArrayLength());
        var record = LossLab.Cli.Lab.ExperimentRecord.FromJson(File.ReadAllText(Path.Combine(folder, "train" + LossLab.Cli.Lab.ExperimentRecord.FileSuffix)));
        Assert.Equal(["training loss (cross_entropy)", "validation loss"], record.Chart.Series.Select(s => s.Name));
        Assert.Equal("validation accuracy", Assert.Single(record.Chart.RightSeries!).Name);
        Assert.Contains(record.Table.Rows, r => r[0] == "accuracy");
        Assert.Equal("Supported", record.Verdict.Status);   // 12 epochs on wine: the loss falls and accuracy rises
        string html = File.ReadAllText(Path.Combine(folder, "index.html"));
        Assert.Contains("<h1>Training cross_entropy on target, measured</h1>", html);
        Assert.True(File.Exists(Path.Combine(folder, "charts", "train.png")));
    }

    [Fact]
    public void Report_says_where_the_validation_loss_turned_and_is_inconclusive_without_validation_rows()
    {
        string folder = Directory.CreateTempSubdirectory("losslab-train-report-").FullName;
        // A wide net trained long at a high rate: the validation loss turns up after its minimum.
        var (code, _, error) = Run("train", "--data", Datasets.PathOf("breast_cancer"), "--hidden", "128,128", "--lr", "0.01", "--epochs", "60", "--report", folder);
        Assert.True(code == 0, error);
        var record = LossLab.Cli.Lab.ExperimentRecord.FromJson(File.ReadAllText(Path.Combine(folder, "train" + LossLab.Cli.Lab.ExperimentRecord.FileSuffix)));
        Assert.Matches(@"The validation loss was lowest at epoch \d+ and (\d+ % higher|[\d.]+ times as high) at the end: the model overfits after it", record.Verdict.Text);
        string none = Directory.CreateTempSubdirectory("losslab-train-report-").FullName;
        var (code2, _, error2) = Run("train", "--data", Datasets.PathOf("iris"), "--hidden", "4", "--epochs", "3", "--validation-fraction", "0", "--report", none);
        Assert.True(code2 == 0, error2);
        var blind = LossLab.Cli.Lab.ExperimentRecord.FromJson(File.ReadAllText(Path.Combine(none, "train" + LossLab.Cli.Lab.ExperimentRecord.FileSuffix)));
        Assert.Equal("Inconclusive", blind.Verdict.Status);
        Assert.Contains("no validation accuracy values", blind.Verdict.Text);
        Assert.Single(blind.Chart.Series);
    }

    [Theory]
    [InlineData("--dropout", "NaN", "the dropout probability must be in [0, 1), got NaN")]
    [InlineData("--clip-norm", "-1", "the gradient clipping norm must be > 0, got -1")]
    [InlineData("--l2", "Infinity", "the L2 penalty must be a finite number ≥ 0, got Infinity")]
    [InlineData("--weight-decay", "NaN", "the weight decay must be a finite number ≥ 0, got NaN")]
    [InlineData("--early-stopping", "0", "the early-stopping patience must be at least 1 epoch, got 0")]
    public void A_numeric_option_outside_its_domain_is_refused_before_training(string option, string value, string message)
    {
        // Before: a NaN dropout trained without dropout (NaN > 0 is false), a NaN or infinite penalty turned the model NaN.
        var (code, output, error) = Run("train", "--data", Datasets.PathOf("iris"), "--hidden", "4", "--epochs", "1", option, value);
        Assert.Equal(2, code);
        Assert.Equal($"losslab train: {message}", error.Trim());
        Assert.DoesNotContain("epoch", output);
    }

    [Fact]
    public void An_output_path_that_cannot_be_written_is_refused_before_training()
    {
        string file = Path.GetTempFileName();   // a file where the commands expect a folder to create
        try
        {
            var (code, output, error) = Run("train", "--data", Datasets.PathOf("iris"), "--hidden", "4", "--epochs", "1", "--save", Path.Combine(file, "model.json"));
            Assert.Equal(2, code);
            Assert.StartsWith($"losslab train: --save {Path.Combine(file, "model.json")}: cannot write there (", error.Trim());
            Assert.EndsWith("); nothing was run", error.Trim());
            Assert.DoesNotContain("epoch", output);
            (code, _, error) = Run("train", "--data", Datasets.PathOf("iris"), "--epochs", "1", "--report", file);
            Assert.Equal(2, code);
            Assert.Equal($"losslab train: --report {file}: that is a file; give a folder", error.Trim());
            (code, _, error) = Run("compare", "--data", Datasets.PathOf("iris"), "--losses", "cross_entropy", "--epochs", "1", "--report", Path.Combine(file, "r"));
            Assert.Equal(2, code);
            Assert.Contains("cannot write there", error);
            (code, _, error) = Run("train", "--data", Datasets.PathOf("iris"), "--epochs", "1", "--save", Path.GetTempPath());
            Assert.Equal(2, code);
            Assert.Contains("that is a folder; give a file name", error);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
