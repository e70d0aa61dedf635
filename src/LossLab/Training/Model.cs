using System.Text.Json;
using System.Text.Json.Nodes;
using LossLab.Autograd;
using LossLab.Data;
using LossLab.Nn;

namespace LossLab.Training;

/// <summary>What a regression model's raw output means.</summary>
public enum RegressionHead
{
    /// <summary>The output is the predicted value.</summary>
    Value,

    /// <summary>The output is a log-rate and the prediction its exponential (a count model trained with a Poisson loss).</summary>
    LogRate,

    /// <summary>
    /// The output is a score that orders the rows (a model trained with a pairwise ranking loss): its scale means
    /// nothing, so only rank metrics (Spearman, Kendall, concordance) apply.
    /// </summary>
    Score,
}

/// <summary>
/// A trained network with everything needed to predict on raw rows: the standardizer fitted on the training split,
/// the task, the class names and the output head (softmax, sigmoid or identity).
/// </summary>
public sealed class Model
{
    public const string Format = "losslab-model";
    /// <summary>
    /// The newest format version: 2 adds a metric-learning model's embedding head and a count model's log link, 3 the
    /// ordinal task, its head (CORAL's shared-threshold layer, CORN's conditional outputs) and its bin edges; each model
    /// writes the lowest version that holds it, so older LossLabs still read the models they can use.
    /// </summary>
    public const int Version = 3;

    public Model(Sequential network, TaskKind task, IReadOnlyList<string> classNames, Standardizer standardizer, IReadOnlyList<string> featureNames, string targetName, string lossName, int outputs)
    {
        Network = network;
        Task = task;
        ClassNames = classNames;
        Standardizer = standardizer;
        FeatureNames = featureNames;
        TargetName = targetName;
        LossName = lossName;
        Outputs = outputs;
    }

    public Sequential Network { get; }

    public TaskKind Task { get; }

    public IReadOnlyList<string> ClassNames { get; }

    public Standardizer Standardizer { get; }

    public IReadOnlyList<string> FeatureNames { get; }

    public string TargetName { get; }

    /// <summary>The loss it was trained with: <c>evaluate</c> scores the model with it by default, with <see cref="LossOptions"/>.</summary>
    public string LossName { get; }

    /// <summary>
    /// The options of the loss it was trained with, as the trainer gave them to the loss: the user's (focal's γ, label
    /// smoothing...) and those derived from the training data (class weights, logit adjustment's priors). Empty for a
    /// model saved before LossLab kept them.
    /// </summary>
    public IReadOnlyDictionary<string, object?> LossOptions { get; internal set; } = new Dictionary<string, object?>();

    /// <summary>Output width: 1 (regression or sigmoid binary), 2 (softmax binary; regression with a variance), C (softmax), or the embedding's D.</summary>
    public int Outputs { get; }

    /// <summary>
    /// For a model trained with a metric-learning loss: the nearest-centroid classifier over its embeddings, fitted on
    /// the training rows; null for every other model.
    /// </summary>
    public EmbeddingHead? Embedding { get; internal set; }

    /// <summary>
    /// The learned class parameters of the loss it trained with (ArcFace's W, Proxy Anchor's proxies: an
    /// <see cref="Losses.Core.IClassParameterLoss"/>), saved so that <c>evaluate</c> can score the model with that loss
    /// again, or another that takes the same input in the same shape; null for every other model.
    /// </summary>
    public ClassParameters? ClassParameters { get; internal set; }

    /// <summary>What a regression model's output means: a value, a count model's log-rate, or a ranking score.</summary>
    public RegressionHead RegressionHead { get; internal set; }

    /// <summary>How an ordinal model's K − 1 outputs give its rank probabilities; None for every other model.</summary>
    public OrdinalHead OrdinalHead { get; internal set; }

    /// <summary>For a model trained on a numeric target cut into ordered classes, the edges it was cut at (new data is cut at the same); null otherwise.</summary>
    public IReadOnlyList<double>? BinEdges { get; internal set; }

    /// <summary>
    /// How to read new data for this model (<see cref="CsvLoader.Load(string, CsvOptions?)"/>): its target column and
    /// task, its feature columns by name (one-hot columns from training's categories) and its classes, so that a file
    /// with its columns in another order, or without some class, means the same to the model.
    /// </summary>
    public CsvOptions CsvSchema => new()
    {
        TargetColumn = TargetName,
        Task = Task,
        FeatureNames = FeatureNames,
        ClassNames = Task.IsSingleLabel() && BinEdges is null ? ClassNames : null,
        BinEdges = BinEdges,
    };

    /// <summary>Raw outputs for already standardized features (N × D).</summary>
    public Tensor Forward(double[] standardizedFeatures, int rows, bool training = false)
    {
        DType dtype = Network.Parameters.FirstOrDefault()?.Value.DType ?? DType.Float32;
        return Network.Forward(Tensor.FromArray(standardizedFeatures, [rows, standardizedFeatures.Length / Math.Max(rows, 1)], dtype), training);
    }

    /// <summary>Probabilities (N × C) for classification, σ per label (N × L) for multilabel, values (N) for regression (the means, for a model with a variance), on raw (unscaled) data.</summary>
    /// <remarks>A metric-learning model gives its nearest-centroid scores (<see cref="EmbeddingHead.Scores"/>): they rank, they are not calibrated.</remarks>
    public double[] Predict(Dataset data) => Embedding is EmbeddingHead head
        ? head.Scores(RawOutput(data).ToArray())
        : LossBinding.Predict(RawOutput(data), Task, Outputs, RegressionHead, OrdinalHead);

    /// <summary>
    /// True when <see cref="Predict"/> gives calibrated probabilities or values; false when its numbers only rank: a
    /// metric-learning model's nearest-centroid scores, a ranking model's scores (see <see cref="Trainer.Metrics"/>).
    /// </summary>
    public bool Calibrated => Embedding is null && RegressionHead != RegressionHead.Score;

    /// <summary>The layers, and for a metric-learning model the classifier on its embeddings.</summary>
    public string Describe() => Embedding switch
    {
        { Source: EmbeddingCentres.ClassVectors, CentresPerClass: 1 } => $"{Network.Describe()} → largest cosine to the loss's class vectors",
        { Source: EmbeddingCentres.ClassVectors } h => $"{Network.Describe()} → largest cosine to the loss's class vectors ({h.CentresPerClass} per class)",
        EmbeddingHead h => $"{Network.Describe()} → nearest class centre ({h.Metric.ToString().ToLowerInvariant()} distance)",
        null => Network.Describe(),
    };

    /// <summary>The embeddings (N × D, row-major) of a metric-learning model on raw data.</summary>
    public double[] Embed(Dataset data)
    {
        if (Embedding is null) throw new InvalidOperationException($"this model outputs no embedding (trained with {LossName}; train with a metric-learning loss such as circle_loss for one)");
        return RawOutput(data).ToArray();
    }

    /// <summary>True for a regression model trained with a variance output (GaussianNLL): outputs (mean, log-variance).</summary>
    public bool HasVariance => Task == TaskKind.Regression && Outputs == 2;

    /// <summary>The predicted variances (N) of a model with <see cref="HasVariance"/>, on raw data.</summary>
    public double[] PredictVariance(Dataset data)
    {
        if (!HasVariance) throw new InvalidOperationException($"this model predicts no variance (trained with {LossName}; train with gaussian_nll_loss for one)");
        return LossBinding.Variance(RawOutput(data)).ToArray();
    }

    private Tensor RawOutput(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Columns != FeatureNames.Count) throw new ArgumentException($"the model expects {FeatureNames.Count} features ({string.Join(", ", FeatureNames.Take(5))}…), the data has {data.Columns}", nameof(data));
        return Forward(Standardizer.Transform(data).Features, data.Rows);
    }

    // ---------------------------------------------------------------- persistence

    /// <summary>
    /// Writes the model as versioned JSON, atomically: to a temporary file in the same folder, flushed to disk, then
    /// renamed over the target, so a crash leaves the old file or the new one, never a broken one.
    /// </summary>
    public void Save(string path) => AtomicFile.Write(path, stream =>
    {
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
        ToJson().WriteTo(writer);
    });

    public JsonObject ToJson()
    {
        var layers = new JsonArray();
        foreach (Module m in Network.Layers)
        {
            layers.Add(m switch
            {
                Linear l => new JsonObject
                {
                    ["type"] = "linear", ["inputs"] = l.Inputs, ["outputs"] = l.Outputs,
                    ["weight"] = Numbers(l.Weight.Values), ["bias"] = Numbers(l.Bias.Values),
                },
                SharedThresholds t => new JsonObject
                {
                    ["type"] = "shared_thresholds", ["inputs"] = t.Inputs, ["thresholds"] = t.Thresholds,
                    ["weight"] = Numbers(t.Weight.Values), ["bias"] = Numbers(t.Bias.Values),
                },
                ActivationLayer a => new JsonObject { ["type"] = "activation", ["kind"] = a.Kind.ToString() },
                Dropout d => new JsonObject { ["type"] = "dropout", ["p"] = d.Probability },
                _ => throw new NotSupportedException(m.GetType().Name),
            });
        }
        return new JsonObject
        {
            ["format"] = Format,
            ["version"] = Task == TaskKind.Ordinal ? 3 : Embedding is null && RegressionHead == RegressionHead.Value ? 1 : 2,
            ["task"] = Task.ToString(),
            ["loss"] = LossName,
            ["loss_options"] = LossOptions.Count == 0 ? null : LossOptionsJson.Write(LossOptions),
            ["outputs"] = Outputs,
            ["dtype"] = Network.Parameters.FirstOrDefault()?.Value.DType == DType.Float64 ? "float64" : "float32",
            ["features"] = new JsonArray([.. FeatureNames.Select(f => (JsonNode)f)]),
            ["target"] = TargetName,
            ["classes"] = new JsonArray([.. ClassNames.Select(c => (JsonNode)c)]),
            ["standardizer"] = new JsonObject { ["mean"] = Numbers(Standardizer.Mean), ["std"] = Numbers(Standardizer.Std) },
            ["layers"] = layers,
            ["embedding"] = Embedding?.ToJson(),
            ["regression_head"] = RegressionHead switch { RegressionHead.LogRate => "log_rate", RegressionHead.Score => "score", _ => null },
            ["ordinal_head"] = OrdinalHead switch { OrdinalHead.Cumulative => "cumulative", OrdinalHead.Conditional => "conditional", _ => null },
            ["bin_edges"] = BinEdges is null ? null : Numbers([.. BinEdges]),
            ["class_parameters"] = ClassParameters is ClassParameters c
                ? new JsonObject { ["input"] = c.Input, ["shape"] = new JsonArray(c.Rows, c.Columns), ["values"] = Numbers(c.Values) }
                : null,
        };
    }

    /// <summary>Reads a model written by <see cref="Save"/>; a wrong format, version or shape is a clear error.</summary>
    public static Model Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new DataFormatException($"{path}: no such model file");
        JsonNode root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) ?? throw new DataFormatException($"{path}: empty model file");
        }
        catch (JsonException e)
        {
            throw new DataFormatException($"{path}: not a LossLab model (invalid JSON: {e.Message})");
        }
        try
        {
            if (root["format"]?.GetValue<string>() != Format) throw new DataFormatException($"{path}: not a LossLab model (format is not '{Format}')");
            int version = root["version"]!.GetValue<int>();
            if (version is < 1 or > Version) throw new DataFormatException($"{path}: model format version {version} is not supported (this LossLab reads version {Version})");
            DType dtype = root["dtype"]?.GetValue<string>() == "float64" ? DType.Float64 : DType.Float32;
            var layers = new List<Module>();
            int index = 0;
            foreach (JsonNode? layer in root["layers"]!.AsArray())
            {
                string type = layer!["type"]!.GetValue<string>();
                layers.Add(type switch
                {
                    "linear" => new Linear(layer["inputs"]!.GetValue<int>(), layer["outputs"]!.GetValue<int>(),
                        Tensor.FromArray(Array(layer["weight"]), [layer["inputs"]!.GetValue<int>(), layer["outputs"]!.GetValue<int>()], dtype, requiresGrad: true),
                        Tensor.FromArray(Array(layer["bias"]), [layer["outputs"]!.GetValue<int>()], dtype, requiresGrad: true), $"layer{index++}"),
                    "shared_thresholds" => new SharedThresholds(layer["inputs"]!.GetValue<int>(), layer["thresholds"]!.GetValue<int>(),
                        Tensor.FromArray(Array(layer["weight"]), [layer["inputs"]!.GetValue<int>(), 1], dtype, requiresGrad: true),
                        Tensor.FromArray(Array(layer["bias"]), [layer["thresholds"]!.GetValue<int>()], dtype, requiresGrad: true), $"layer{index++}"),
                    "activation" => new ActivationLayer(Enum.Parse<Activation>(layer["kind"]!.GetValue<string>())),
                    "dropout" => new Dropout(layer["p"]!.GetValue<double>(), 0),
                    _ => throw new DataFormatException($"{path}: unknown layer type '{type}'"),
                });
            }
            var standardizer = new Standardizer(Array(root["standardizer"]!["mean"]), Array(root["standardizer"]!["std"]));
            var model = new Model(new Sequential(layers), Enum.Parse<TaskKind>(root["task"]!.GetValue<string>()),
                [.. root["classes"]!.AsArray().Select(c => c!.GetValue<string>())], standardizer,
                [.. root["features"]!.AsArray().Select(c => c!.GetValue<string>())], root["target"]!.GetValue<string>(),
                root["loss"]?.GetValue<string>() ?? "", root["outputs"]!.GetValue<int>());
            model.LossOptions = LossOptionsJson.Read(root["loss_options"]);
            model.RegressionHead = root["regression_head"]?.GetValue<string>() switch
            {
                null => RegressionHead.Value,
                "log_rate" => RegressionHead.LogRate,
                "score" => RegressionHead.Score,
                string other => throw new DataFormatException($"{path}: unknown regression head '{other}'"),
            };
            model.OrdinalHead = root["ordinal_head"]?.GetValue<string>() switch
            {
                null => OrdinalHead.None,
                "cumulative" => OrdinalHead.Cumulative,
                "conditional" => OrdinalHead.Conditional,
                string other => throw new DataFormatException($"{path}: unknown ordinal head '{other}'"),
            };
            if (model.OrdinalHead != OrdinalHead.None && model.Outputs != model.ClassNames.Count - 1)
            {
                throw new DataFormatException($"{path}: an ordinal head of {model.Outputs} thresholds does not fit {model.ClassNames.Count} classes (it needs {model.ClassNames.Count - 1})");
            }
            if (root["bin_edges"] is JsonNode edges)
            {
                double[] e = Array(edges);
                if (e.Length != model.ClassNames.Count - 1) throw new DataFormatException($"{path}: {e.Length} bin edges do not fit {model.ClassNames.Count} classes");
                model.BinEdges = e;
            }
            if (root["embedding"] is JsonNode head)
            {
                model.Embedding = EmbeddingHead.FromJson(head);
                if (model.Embedding.Dimension != model.Outputs || model.Embedding.Classes != model.ClassNames.Count)
                {
                    throw new DataFormatException($"{path}: the embedding head ({model.Embedding.Classes} classes of {model.Embedding.Dimension} values) does not fit the model ({model.ClassNames.Count} classes, {model.Outputs} outputs)");
                }
            }
            if (root["class_parameters"] is JsonNode cp)
            {
                int rows = cp["shape"]![0]!.GetValue<int>(), columns = cp["shape"]![1]!.GetValue<int>();
                double[] values = Array(cp["values"]);
                if (rows < 1 || columns < 1 || values.Length != (long)rows * columns)
                {
                    throw new DataFormatException($"{path}: the class parameters hold {values.Length} values for a shape ({rows}, {columns})");
                }
                model.ClassParameters = new ClassParameters(cp["input"]!.GetValue<string>(), rows, columns, values);
            }
            return model;
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or ArgumentException or FormatException and not DataFormatException)
        {
            throw new DataFormatException($"{path}: the model file is damaged or incomplete ({e.Message})");
        }
    }

    private static JsonArray Numbers(ReadOnlySpan<double> values)
    {
        var a = new JsonArray();
        foreach (double v in values) a.Add(v);
        return a;
    }

    private static double[] Array(JsonNode? node) => [.. node!.AsArray().Select(v => v!.GetValue<double>())];
}

/// <summary>A loss's learned class parameters as saved with a model: the loss input they feed and their (rows, columns).</summary>
public sealed record ClassParameters(string Input, int Rows, int Columns, double[] Values);
