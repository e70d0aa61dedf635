using System.Globalization;
using System.Text.Json.Nodes;
using LossLab.Numerics;

namespace LossLab.Training;

/// <summary>
/// A loss's options (name → value, as a <see cref="Losses.Core.LossDescriptor"/> takes them) as JSON, so that a saved
/// model keeps the exact loss it was trained with: focal's γ, label smoothing, the class weights derived from the data.
/// </summary>
/// <remarks>
/// Values: <c>true</c>/<c>false</c>, strings (choices such as <c>"sum"</c>), <c>null</c>, numbers (an integer stays an
/// integer, a double keeps every digit), and tensors as <c>{"dtype", "shape", "values"}</c>. JSON has no NaN or ±∞, so a
/// non-finite number is written <c>{"number": "Infinity"}</c>.
/// </remarks>
internal static class LossOptionsJson
{
    public static JsonObject Write(IReadOnlyDictionary<string, object?> options)
    {
        var json = new JsonObject();
        foreach (var (name, value) in options.OrderBy(kv => kv.Key, StringComparer.Ordinal)) json[name] = Value(name, value);
        return json;
    }

    public static Dictionary<string, object?> Read(JsonNode? node)
    {
        var options = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (node is null) return options;
        foreach (var (name, value) in node.AsObject()) options[name] = Value(name, value);
        return options;
    }

    private static JsonNode? Value(string name, object? value) => value switch
    {
        null => null,
        bool b => JsonValue.Create(b),
        string s => JsonValue.Create(s),
        int i => JsonValue.Create((long)i),
        long l => JsonValue.Create(l),
        float f => Number(f),
        double d => Number(d),
        TensorData t => new JsonObject
        {
            ["dtype"] = t.DType.Name(),
            ["shape"] = new JsonArray([.. t.Shape.Dims.Select(d => (JsonNode)d)]),
            ["values"] = new JsonArray([.. Enumerable.Range(0, t.Length).Select(i => Number(t.GetDouble(i)))]),
        },
        _ => throw new NotSupportedException($"loss option '{name}' holds a {value.GetType().Name}, which a saved model cannot keep (numbers, booleans, strings and tensors can)"),
    };

    private static JsonNode Number(double d) => double.IsFinite(d)
        ? JsonValue.Create(d)
        : new JsonObject { ["number"] = d.ToString(CultureInfo.InvariantCulture) };

    private static object? Value(string name, JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject { Count: 1 } o when o["number"] is JsonNode n:
                return double.Parse(n.GetValue<string>(), CultureInfo.InvariantCulture);
            case JsonObject o:
                string dtype = o["dtype"]!.GetValue<string>();
                int[] shape = [.. o["shape"]!.AsArray().Select(d => d!.GetValue<int>())];
                double[] values = [.. o["values"]!.AsArray().Select(v => Number(name, v))];
                return dtype switch
                {
                    "float32" => TensorData.FromArray([.. values.Select(v => (float)v)], shape),
                    "float64" => TensorData.FromArray(values, shape),
                    "int32" => TensorData.FromArray([.. values.Select(v => (int)v)], shape),
                    "int64" => TensorData.FromArray([.. values.Select(v => (long)v)], shape),
                    _ => throw new FormatException($"loss option '{name}' is a tensor of unknown element type '{dtype}'"),
                };
            case JsonValue v when v.TryGetValue(out bool b):
                return b;
            case JsonValue v when v.TryGetValue(out string? s):
                return s;
            case JsonValue v when v.TryGetValue(out long l):   // "2" (an integer option); "2.0" and "2e0" stay doubles
                return l;
            case JsonValue v:
                return v.GetValue<double>();
            default:
                throw new FormatException($"loss option '{name}' is neither a number, a boolean, a string nor a tensor");
        }
    }

    private static double Number(string name, JsonNode? node) => node switch
    {
        JsonObject o when o["number"] is JsonNode n => double.Parse(n.GetValue<string>(), CultureInfo.InvariantCulture),
        JsonValue v => v.GetValue<double>(),
        _ => throw new FormatException($"loss option '{name}' holds a tensor value that is not a number"),
    };
}
