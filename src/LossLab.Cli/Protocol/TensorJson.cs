using System.Globalization;
using System.Text.Json;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Cli.Protocol;

/// <summary>
/// Nested JSON lists ⇄ <see cref="TensorData"/>. A bare number is a 0-dim tensor, <c>[]</c> has shape (0,).
/// Integer tokens (no '.', no exponent) everywhere make an int64 tensor; anything else a float tensor of the
/// requested type. Non-finite numbers are the strings "NaN", "Infinity", "-Infinity".
/// </summary>
internal static class TensorJson
{
    public static TensorData Parse(JsonElement element, DType floatType, string name)
    {
        var dims = new List<int>();
        var probe = element;
        while (probe.ValueKind == JsonValueKind.Array)
        {
            int n = probe.GetArrayLength();
            dims.Add(n);
            if (n == 0) break;
            probe = probe[0];
        }
        var shape = new Shape(dims.ToArray());
        var doubles = new double[shape.Numel];
        var longs = new long[shape.Numel];
        bool allIntegers = shape.Numel > 0;
        int count = 0;
        Fill(element, 0);
        if (allIntegers) return TensorData.FromArray(longs, dims.ToArray()).Reshape(shape);
        return floatType == DType.Float64
            ? TensorData.Create(shape, DType.Float64, doubles)
            : TensorData.Create(shape, DType.Float32, Array.ConvertAll(doubles, d => (float)d));

        void Fill(JsonElement e, int depth)
        {
            if (depth < dims.Count)
            {
                if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != dims[depth])
                {
                    throw Ragged(name, dims, depth, e);
                }
                foreach (JsonElement child in e.EnumerateArray()) Fill(child, depth + 1);
                return;
            }
            if (e.ValueKind == JsonValueKind.Array) throw Ragged(name, dims, depth, e);
            (double value, long? integer) = Number(e, name);
            if (integer is long l) longs[count] = l;
            else allIntegers = false;
            doubles[count++] = value;
        }
    }

    /// <summary>A JSON scalar as a number: (value, the exact integer when the token is an integer).</summary>
    public static (double Value, long? Integer) Number(JsonElement e, string name)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Number:
                string raw = e.GetRawText();
                bool integerToken = raw.IndexOfAny(['.', 'e', 'E']) < 0;
                if (integerToken && e.TryGetInt64(out long l)) return (l, l);
                return (e.GetDouble(), null);
            case JsonValueKind.String:
                string s = e.GetString()!;
                double? special = Special(s);
                if (special is double d) return (d, null);
                throw Invalid($"'{name}' holds the string \"{s}\"; numbers are JSON numbers or \"NaN\", \"Infinity\", \"-Infinity\"");
            default:
                throw Invalid($"'{name}' holds {Describe(e)} where a number was expected");
        }
    }

    public static double? Special(string s) => s switch
    {
        "NaN" or "nan" => double.NaN,
        "Infinity" or "inf" or "+Infinity" => double.PositiveInfinity,
        "-Infinity" or "-inf" => double.NegativeInfinity,
        _ => null,
    };

    /// <summary>Writes a tensor as a bare number (0-dim) or nested lists.</summary>
    public static void Write(Utf8JsonWriter w, TensorData t)
    {
        int index = 0;
        WriteLevel(0);

        void WriteLevel(int axis)
        {
            if (axis == t.Shape.Rank)
            {
                WriteNumber(w, t, index++);
                return;
            }
            w.WriteStartArray();
            for (int i = 0; i < t.Shape[axis]; i++) WriteLevel(axis + 1);
            w.WriteEndArray();
        }
    }

    private static void WriteNumber(Utf8JsonWriter w, TensorData t, int i)
    {
        switch (t.Data)
        {
            case float[] f:
                if (float.IsFinite(f[i])) w.WriteNumberValue(f[i]);
                else w.WriteStringValue(NonFinite(f[i]));
                break;
            case double[] d:
                if (double.IsFinite(d[i])) w.WriteNumberValue(d[i]);
                else w.WriteStringValue(NonFinite(d[i]));
                break;
            case int[] n:
                w.WriteNumberValue(n[i]);
                break;
            case long[] l:
                w.WriteNumberValue(l[i]);
                break;
        }
    }

    private static string NonFinite(double v) => double.IsNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";

    private static LossArgumentException Ragged(string name, List<int> dims, int depth, JsonElement e)
        => new(LossErrorCode.InvalidShape,
            $"'{name}' is ragged: at depth {depth} expected {(depth < dims.Count ? $"a list of {dims[depth]}" : "a number")} like the first element, found {Describe(e)}");

    private static LossArgumentException Invalid(string message) => new(LossErrorCode.InvalidValue, message);

    public static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Array => $"a list of {e.GetArrayLength()}",
        JsonValueKind.Object => "an object",
        JsonValueKind.String => $"the string \"{Truncate(e.GetString()!)}\"",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "the number " + e.GetRawText(),
    };

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";

    internal static string Invariant(double d) => d.ToString("R", CultureInfo.InvariantCulture);
}
