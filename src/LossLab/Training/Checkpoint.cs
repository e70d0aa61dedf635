using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LossLab.Data;
using LossLab.Optim;

namespace LossLab.Training;

/// <summary>
/// Everything a training run needs to continue exactly where it stopped: the epoch reached, the weights, the
/// optimizer's moments, the history and best-epoch bookkeeping, and how far each random stream had advanced.
/// Resuming with the same seed and data therefore ends with the same weights, bit for bit, as a run that was
/// never interrupted (tested by killing a child process).
/// </summary>
/// <remarks>Written as JSON by <see cref="AtomicFile"/> (temporary file, flush to disk, rename), so a crash leaves the
/// previous checkpoint or the new one, never a torn file. Numbers are written in round-trip form.</remarks>
public sealed record TrainingCheckpoint
{
    public const string Format = "losslab-checkpoint";
    public const int Version = 1;

    /// <summary>Identifies the run (options and data) the checkpoint belongs to; resuming a different run is refused.</summary>
    public required string Fingerprint { get; init; }

    /// <summary>Epochs completed.</summary>
    public required int Epoch { get; init; }

    /// <summary>Why the run ended, or null while it is still going.</summary>
    public string? StopReason { get; init; }

    public required double[][] Parameters { get; init; }

    public required OptimizerState Optimizer { get; init; }

    public required IReadOnlyList<EpochRecord> History { get; init; }

    public required double Best { get; init; }

    public required int BestEpoch { get; init; }

    public required int SinceBest { get; init; }

    public double[][]? BestWeights { get; init; }

    /// <summary>Random numbers drawn so far by each dropout layer, in network order.</summary>
    public required long[] DropoutDraws { get; init; }

    public void Save(string path) => AtomicFile.Write(path, stream =>
    {
        using var writer = new Utf8JsonWriter(stream);
        ToJson().WriteTo(writer);
    });

    public static TrainingCheckpoint Load(string path)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a LossLab checkpoint: {e.Message}", e);
        }
        if (root?["format"]?.GetValue<string>() != Format || root["version"]?.GetValue<int>() != Version)
        {
            throw new InvalidDataException($"{path} is not a version-{Version} LossLab checkpoint");
        }
        try
        {
            JsonNode opt = root["optimizer"]!;
            return new TrainingCheckpoint
            {
                Fingerprint = root["fingerprint"]!.GetValue<string>(),
                Epoch = root["epoch"]!.GetValue<int>(),
                StopReason = root["stop_reason"]?.GetValue<string>(),
                Parameters = Matrix(root["parameters"]!),
                Optimizer = new OptimizerState(opt["step"]!.GetValue<long>(), Matrix(opt["first"]!), Matrix(opt["second"]!)),
                History = [.. root["history"]!.AsArray().Select(h => new EpochRecord(
                    h!["epoch"]!.GetValue<int>(), Number(h["rate"]!), Number(h["train_loss"]!), Number(h["penalty"]!), Number(h["validation_loss"]!),
                    h["validation"]!.AsObject().ToDictionary(kv => kv.Key, kv => Number(kv.Value!))))],
                Best = Number(root["best"]!),
                BestEpoch = root["best_epoch"]!.GetValue<int>(),
                SinceBest = root["since_best"]!.GetValue<int>(),
                BestWeights = root["best_weights"] is JsonArray bw ? Matrix(bw) : null,
                DropoutDraws = [.. root["dropout_draws"]!.AsArray().Select(d => d!.GetValue<long>())],
            };
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{path} is a damaged LossLab checkpoint: {e.Message}", e);
        }
    }

    private JsonObject ToJson() => new()
    {
        ["format"] = Format,
        ["version"] = Version,
        ["fingerprint"] = Fingerprint,
        ["epoch"] = Epoch,
        ["stop_reason"] = StopReason,
        ["parameters"] = Matrix(Parameters),
        ["optimizer"] = new JsonObject { ["step"] = Optimizer.Step, ["first"] = Matrix(Optimizer.First), ["second"] = Matrix(Optimizer.Second) },
        ["history"] = new JsonArray([.. History.Select(h => (JsonNode)new JsonObject
        {
            ["epoch"] = h.Epoch, ["rate"] = Number(h.LearningRate), ["train_loss"] = Number(h.TrainLoss), ["penalty"] = Number(h.Penalty),
            ["validation_loss"] = Number(h.ValidationLoss),
            ["validation"] = new JsonObject(h.Validation.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Number(kv.Value)))),
        })]),
        ["best"] = Number(Best),
        ["best_epoch"] = BestEpoch,
        ["since_best"] = SinceBest,
        ["best_weights"] = BestWeights is null ? null : Matrix(BestWeights),
        ["dropout_draws"] = new JsonArray([.. DropoutDraws.Select(d => (JsonNode)d)]),
    };

    // Non-finite values (a diverged loss, +∞ before the first best) travel as strings.
    private static JsonNode Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : JsonValue.Create(v.ToString(CultureInfo.InvariantCulture))!;

    private static double Number(JsonNode n) => n.GetValueKind() == JsonValueKind.String ? double.Parse(n.GetValue<string>(), CultureInfo.InvariantCulture) : n.GetValue<double>();

    private static JsonArray Matrix(IEnumerable<double[]> rows) => new([.. rows.Select(r => (JsonNode)new JsonArray([.. r.Select(v => Number(v))]))]);

    private static double[][] Matrix(JsonNode n) => [.. n.AsArray().Select(r => r!.AsArray().Select(v => Number(v!)).ToArray())];

    /// <summary>A digest of the options and the training data that decide the run's trajectory.</summary>
    public static string FingerprintOf(TrainingOptions o, Dataset train)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(train);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{o.Loss}|{string.Join(',', o.LossOptions.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={Describe(kv.Value)}"))}|");
        text.Append(CultureInfo.InvariantCulture, $"{string.Join(',', o.Hidden)}|{o.EmbeddingDimension}|{o.Activation}|{o.Dropout:R}|{o.Optimizer}|{o.LearningRate:R}|{o.Momentum:R}|{o.Schedule}|{o.Epochs}|{o.BatchSize}|");
        text.Append(CultureInfo.InvariantCulture, $"{o.L1:R}|{o.L2:R}|{o.WeightDecay:R}|{o.ClipNorm:R}|{o.ClassWeights}|{o.LabeledFraction:R}|{o.Oversample}|{o.EarlyStopping}|{o.Seed}|{o.TestFraction:R}|{o.ValidationFraction:R}|");
        ulong h = 14695981039346656037UL;   // FNV-1a over the data's bits
        foreach (double v in train.Features) h = (h ^ (ulong)BitConverter.DoubleToInt64Bits(v)) * 1099511628211UL;
        foreach (double v in train.Targets) h = (h ^ (ulong)BitConverter.DoubleToInt64Bits(v)) * 1099511628211UL;
        text.Append(CultureInfo.InvariantCulture, $"{train.Rows}x{train.Columns}:{h:x16}");
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..24];
    }

    private static string Describe(object? v) => v switch
    {
        null => "null",
        Numerics.TensorData t => string.Join(' ', Enumerable.Range(0, t.Length).Select(i => t.GetDouble(i).ToString("R", CultureInfo.InvariantCulture))),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };
}

/// <summary>Writes a file so that a crash leaves the old content or the new one: temporary file, flush to disk, rename.</summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        string temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        RemoveOrphans(folder, Path.GetFileName(full));
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Deletes temporary files left by a writer that was killed before its rename (its process no longer runs).</summary>
    private static void RemoveOrphans(string folder, string name)
    {
        foreach (string file in Directory.EnumerateFiles(folder, $".{name}.*.tmp"))
        {
            string[] parts = Path.GetFileName(file).Split('.');
            if (parts.Length < 4 || !int.TryParse(parts[^3], out int pid) || pid == Environment.ProcessId || Alive(pid)) continue;
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
                // Another writer is cleaning up too; harmless.
            }
        }
    }

    private static bool Alive(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
