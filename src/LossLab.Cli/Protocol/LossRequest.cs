using System.Text;
using System.Text.Json;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Cli.Protocol;

/// <summary>
/// The machine interface every tool uses: one request <c>{"inputs": {...}, "options": {...}, "dtype"?}</c> in,
/// one line <c>{"loss": ..., "grads": {...}}</c> or <c>{"error": {"code", "message"}}</c> out.
/// </summary>
internal sealed class LossRequest
{
    private static readonly HashSet<string> IgnoredKeys = ["expected", "tolerance", "tags", "note", "ref_meta"];

    /// <summary>Options of the parser: the protocol accepts exactly JSON (no comments, no trailing commas).</summary>
    internal static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    /// <summary>Readable output: quotes and non-ASCII math are not escaped.</summary>
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public required string? Id { get; init; }

    public required string? LossName { get; init; }

    public required LossInputs Inputs { get; init; }

    public required Dictionary<string, object?> Options { get; init; }

    /// <summary>The request's "dtype": the type of its real-valued tensors.</summary>
    public DType FloatType { get; init; } = DType.Float32;

    /// <summary>Parses one request; <paramref name="lossName"/> overrides (or supplies) the request's <c>loss</c>.</summary>
    public static LossRequest Parse(JsonElement root, string? lossName)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Json($"a request must be a JSON object, found {TensorJson.Describe(root)}");
        }
        string? id = null, name = lossName;
        DType floatType = DType.Float32;
        JsonElement? inputs = null, options = null;
        bool allowNonFinite = false;
        foreach (JsonProperty p in root.EnumerateObject())
        {
            switch (p.Name)
            {
                case "id":
                    id = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText();
                    break;
                case "loss":
                    if (p.Value.ValueKind != JsonValueKind.String) throw Json("\"loss\" must be a string (the loss name)");
                    name ??= p.Value.GetString();
                    break;
                case "inputs":
                    inputs = p.Value;
                    break;
                case "options":
                    options = p.Value;
                    break;
                case "allow_nonfinite":
                    allowNonFinite = p.Value.ValueKind switch
                    {
                        JsonValueKind.True => true,
                        JsonValueKind.False => false,
                        _ => throw Json("\"allow_nonfinite\" must be true or false"),
                    };
                    break;
                case "dtype":
                    floatType = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() switch
                    {
                        "float32" => DType.Float32,
                        "float64" => DType.Float64,
                        var other => throw new LossArgumentException(LossErrorCode.InvalidValue, $"\"dtype\" is \"{other}\"; expected \"float32\" or \"float64\""),
                    } : throw new LossArgumentException(LossErrorCode.InvalidValue, "\"dtype\" must be the string \"float32\" or \"float64\"");
                    break;
                default:
                    if (!IgnoredKeys.Contains(p.Name))
                    {
                        throw Json($"unknown field \"{p.Name}\" in the request; expected inputs, options, dtype, allow_nonfinite (and id, loss in batch mode)");
                    }
                    break;
            }
        }
        if (inputs is not { ValueKind: JsonValueKind.Object } inputObject)
        {
            throw Json("the request needs \"inputs\": an object of named tensors, e.g. {\"input\": [1.0], \"target\": [0.0]}");
        }
        var tensors = new LossInputs { AllowNonFinite = allowNonFinite };
        foreach (JsonProperty p in inputObject.EnumerateObject()) tensors.Add(p.Name, TensorJson.Parse(p.Value, floatType, p.Name));
        var opts = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (options is { } o)
        {
            if (o.ValueKind == JsonValueKind.Null) { }
            else if (o.ValueKind != JsonValueKind.Object) throw Json($"\"options\" must be an object, found {TensorJson.Describe(o)}");
            else
            {
                foreach (JsonProperty p in o.EnumerateObject()) opts[p.Name] = OptionValue(p.Value, floatType, p.Name);
            }
        }
        return new LossRequest { Id = id, LossName = name, Inputs = tensors, Options = opts, FloatType = floatType };
    }

    private static object? OptionValue(JsonElement e, DType floatType, string name) => e.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => TensorJson.Special(e.GetString()!) is double d ? d : e.GetString(),
        JsonValueKind.Number => TensorJson.Number(e, name) is (_, long l) ? l : e.GetDouble(),
        JsonValueKind.Array => TensorJson.Parse(e, floatType, name),
        _ => throw new LossArgumentException(LossErrorCode.InvalidValue, $"option '{name}' is {TensorJson.Describe(e)}; expected a number, boolean, string, list or null"),
    };

    /// <summary>Evaluates the request against a registry; throws <see cref="LossArgumentException"/> on bad input.</summary>
    public LossResult Evaluate(LossRegistry registry)
    {
        if (string.IsNullOrEmpty(LossName)) throw Json("no loss named: give it on the command line or as \"loss\" in the request");
        LossDescriptor d = registry.Get(LossName);
        ILoss loss = d.Create(Options);
        if (FloatType == DType.Float64)
        {
            // A real-valued input written with integer tokens ([[1, 0]]) parses as int64, which the loss would read as
            // float32 values when no other input is float64: "dtype": "float64" would then compute in float32.
            foreach (InputSpec spec in d.Inputs)
            {
                if (spec.Kind == InputKind.Floating && Inputs.Contains(spec.Name) && Inputs[spec.Name].DType == DType.Int64)
                    Inputs.Add(spec.Name, Inputs[spec.Name].ToDType(DType.Float64));
            }
        }
        return loss.Evaluate(Inputs);
    }

    /// <summary>The one-line JSON answer for a result.</summary>
    public static string FormatResult(string? id, LossResult result)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, WriterOptions))
        {
            w.WriteStartObject();
            if (id is not null) w.WriteString("id", id);
            w.WritePropertyName("loss");
            TensorJson.Write(w, result.Value);
            w.WritePropertyName("grads");
            w.WriteStartObject();
            foreach (var (name, grad) in result.Gradients)
            {
                w.WritePropertyName(name);
                TensorJson.Write(w, grad);
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The one-line JSON error answer.</summary>
    public static string FormatError(string? id, string code, string message)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, WriterOptions))
        {
            w.WriteStartObject();
            if (id is not null) w.WriteString("id", id);
            w.WriteStartObject("error");
            w.WriteString("code", code);
            w.WriteString("message", message);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static LossArgumentException Json(string message) => new(LossErrorCode.InvalidJson, message);
}
