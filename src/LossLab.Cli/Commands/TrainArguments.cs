using System.CommandLine;
using System.Globalization;
using LossLab.Data;
using LossLab.Nn;
using LossLab.Training;

namespace LossLab.Cli.Commands;

/// <summary>
/// The options of <c>train</c>, which <c>compare</c>, <c>recommend</c> and <c>evaluate</c> share in part. Each command
/// tree gets its own instance: a System.CommandLine symbol records its parents and validators when a command takes it,
/// so one shared static instance gained a validator per tree built, and tests building trees on many threads raced.
/// </summary>
internal sealed class TrainArguments
{
    public readonly Option<string> Data = new("--data") { Description = "CSV file with a header; the target is the last column unless --target", Required = true };
    public readonly Option<string?> Target = new("--target") { Description = "name of the target column (multilabel: the label columns, a,b,c)" };
    public readonly Option<string> Task = new("--task") { Description = "auto, regression, binary, multiclass, multilabel or ordinal (numeric classes in their order: ratings, grades)", DefaultValueFactory = _ => "auto" };
    public readonly Option<int?> Bins = new("--bins") { Description = "cut a numeric target into this many ordered classes at its quantiles (an ordinal task)" };
    public readonly Option<string?> Loss = new("--loss") { Description = "loss name or expr:FORMULA (default: mse_loss for regression, cross_entropy otherwise)" };
    public readonly Option<string[]> LossOptions = new("--loss-option") { Description = "a loss option as name=value (JSON value), repeatable" };
    public readonly Option<string> Hidden = new("--hidden") { Description = "hidden layer widths, e.g. 64,32 (empty: linear model)", DefaultValueFactory = _ => "64,32" };
    public readonly Option<int> EmbeddingDim = new("--embedding-dim") { Description = "embedding width trained by a metric-learning loss (circle, supcon, triplet...); classes by nearest class centre (ArcFace, Proxy Anchor...: by their learned class vectors)", DefaultValueFactory = _ => 16 };
    public readonly Option<string> Activation = new("--activation") { Description = "relu, leakyrelu, elu, gelu, sigmoid, tanh, softplus, identity", DefaultValueFactory = _ => "relu" };
    public readonly Option<string> Optimizer = new("--optimizer") { Description = "sgd, momentum, nesterov, rmsprop, adam, adamw", DefaultValueFactory = _ => "adam" };
    public readonly Option<double> Lr = new("--lr") { Description = "learning rate", DefaultValueFactory = _ => 1e-3 };
    public readonly Option<string> Schedule = new("--schedule") { Description = "constant, step, cosine, warmup", DefaultValueFactory = _ => "constant" };
    public readonly Option<int> Epochs = new("--epochs") { Description = "epochs", DefaultValueFactory = _ => 100 };
    public readonly Option<int> Batch = new("--batch-size") { Description = "mini-batch size", DefaultValueFactory = _ => 32 };
    public readonly Option<double> L1 = new("--l1") { Description = "L1 penalty on weights" };
    public readonly Option<double> L2 = new("--l2") { Description = "L2 penalty on weights" };
    public readonly Option<double> WeightDecay = new("--weight-decay") { Description = "optimizer weight decay (decoupled for adamw)" };
    public readonly Option<double> Dropout = new("--dropout") { Description = "dropout probability after each hidden layer" };
    public readonly Option<double?> Clip = new("--clip-norm") { Description = "clip the global gradient norm" };
    public readonly Option<string> ClassWeights = new("--class-weights") { Description = "none, balanced or effective", DefaultValueFactory = _ => "none" };
    public readonly Option<double> LabeledFraction = new("--labeled-fraction") { Description = "share of training rows that keep their labels (stratified); fixmatch_loss and mixmatch_loss learn from the rest too", DefaultValueFactory = _ => 1.0 };
    public readonly Option<bool> Oversample = new("--oversample") { Description = "repeat minority-class training rows" };
    public readonly Option<int?> EarlyStopping = new("--early-stopping") { Description = "patience in epochs (keeps the best weights)" };
    public readonly Option<int> Seed = new("--seed") { Description = "seed of the split, initialization, batches and dropout", DefaultValueFactory = _ => 0 };
    public readonly Option<double> TestFraction = new("--test-fraction") { Description = "share of rows held out for the test metrics", DefaultValueFactory = _ => 0.2 };
    public readonly Option<double> ValidationFraction = new("--validation-fraction") { Description = "share of rows for validation", DefaultValueFactory = _ => 0.1 };
    public readonly Option<bool> DropMissing = new("--drop-missing") { Description = "drop rows with empty cells instead of failing" };
    public readonly Option<string?> Save = new("--save") { Description = "write the trained model (JSON, written atomically)" };
    public readonly Option<string> Format = new("--format") { Description = "table or json", DefaultValueFactory = _ => "table" };
    public readonly Option<string?> Checkpoint = new("--checkpoint") { Description = "checkpoint file, written atomically every --checkpoint-every epochs, on Ctrl-C and at the end" };
    public readonly Option<int> CheckpointEvery = new("--checkpoint-every") { Description = "epochs between checkpoints", DefaultValueFactory = _ => 1 };
    public readonly Option<bool> Resume = new("--resume") { Description = "continue from --checkpoint if it exists (same options and data: same final weights as an uninterrupted run)" };

    public TrainArguments()
    {
        Task.AcceptOnlyFromAmong("auto", "regression", "binary", "multiclass", "multilabel", "ordinal");
        ClassWeights.AcceptOnlyFromAmong("none", "balanced", "effective");
        Format.AcceptOnlyFromAmong("table", "json");
        Schedule.AcceptOnlyFromAmong("constant", "step", "cosine", "warmup");
        Optimizer.AcceptOnlyFromAmong("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw");
        Activation.AcceptOnlyFromAmong("relu", "leakyrelu", "elu", "gelu", "sigmoid", "tanh", "softplus", "identity");
    }

    /// <summary>Reads --data as the options say; a note goes to <paramref name="notes"/> when ties left fewer classes than --bins asked.</summary>
    public Dataset LoadData(ParseResult p, TextWriter notes)
    {
        string task = p.GetValue(Task)!;
        int? bins = p.GetValue(Bins);
        if (bins is not null && task is not ("auto" or "ordinal"))
        {
            throw new ArgumentException($"--bins cuts the target into ordered classes (an ordinal task); it does not go with --task {task}");
        }
        if (bins is < 2) throw new ArgumentException($"--bins needs at least 2 classes, got {bins}");
        Dataset data = CsvLoader.Load(p.GetValue(Data)!, new CsvOptions
        {
            TargetColumn = p.GetValue(Target),
            DropMissing = p.GetValue(DropMissing),
            Bins = bins,
            Task = task switch
            {
                "regression" => TaskKind.Regression, "binary" => TaskKind.Binary, "multiclass" => TaskKind.Multiclass,
                "multilabel" => TaskKind.Multilabel, "ordinal" => TaskKind.Ordinal, _ => null,
            },
        });
        if (bins is int asked && data.Classes < asked)
        {
            // Quantiles that fall on one tied value make one edge: say so rather than train on fewer classes unannounced.
            notes.WriteLine($"note: --bins {asked} gave {data.Classes} ordered classes: the target has ties, and quantiles that fall on the same value merge ({data.Classes - 1} edges: {string.Join(", ", data.BinEdges!.Take(8).Select(e => e.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)))}{(data.BinEdges!.Count > 8 ? ", …" : "")})");
        }
        return data;
    }

    public TrainingOptions Options(ParseResult p) => new()
    {
        Loss = p.GetValue(Loss),
        LossOptions = GradCheckCommand.ParseOptions(p.GetValue(LossOptions) ?? []),
        Hidden = Mlp.ParseHidden(p.GetValue(Hidden)),
        EmbeddingDimension = (int)Positive(p.GetValue(EmbeddingDim), "--embedding-dim"),
        Activation = Enum.GetValues<Activation>().First(a => a.ToString().Equals(p.GetValue(Activation), StringComparison.OrdinalIgnoreCase)),
        Optimizer = p.GetValue(Optimizer)!,
        LearningRate = Positive(p.GetValue(Lr), "--lr"),
        Schedule = p.GetValue(Schedule)!,
        Epochs = (int)Positive(p.GetValue(Epochs), "--epochs"),
        BatchSize = (int)Positive(p.GetValue(Batch), "--batch-size"),
        L1 = p.GetValue(L1),
        L2 = p.GetValue(L2),
        WeightDecay = p.GetValue(WeightDecay),
        Dropout = p.GetValue(Dropout),
        ClipNorm = p.GetValue(Clip),
        ClassWeights = Enum.Parse<ClassWeighting>(p.GetValue(ClassWeights)!, ignoreCase: true),
        Oversample = p.GetValue(Oversample),
        LabeledFraction = p.GetValue(LabeledFraction) is double f && f > 0 && f <= 1 ? f
            : throw new ArgumentException($"--labeled-fraction must be in (0, 1], got {p.GetValue(LabeledFraction).ToString(CultureInfo.InvariantCulture)}"),
        EarlyStopping = p.GetValue(EarlyStopping),
        Seed = p.GetValue(Seed),
        TestFraction = p.GetValue(TestFraction),
        ValidationFraction = p.GetValue(ValidationFraction),
    };

    internal static double Positive(double v, string name) => v > 0 ? v : throw new ArgumentException($"{name} must be positive, got {v.ToString(CultureInfo.InvariantCulture)}");
}
