using System.Globalization;
using LossLab.Numerics;

namespace LossLab.Losses.Core;

/// <summary>The type of value an option takes.</summary>
public enum OptionKind
{
    Float,
    Int,
    Bool,
    /// <summary>One of a fixed set of strings (<see cref="OptionSpec.Choices"/>).</summary>
    Choice,
    /// <summary>A tensor (class weights, pos_weight...), or null for "not given".</summary>
    Tensor,
}

/// <summary>One documented option of a loss: its PyTorch name, type, default and meaning.</summary>
public sealed record OptionSpec(string Name, OptionKind Kind, object? Default, string Description)
{
    public IReadOnlyList<string> Choices { get; init; } = [];

    public static OptionSpec Float(string name, double @default, string description) => new(name, OptionKind.Float, @default, description);

    public static OptionSpec Int(string name, long @default, string description) => new(name, OptionKind.Int, @default, description);

    /// <summary>A number option whose default is None (e.g. TRL's epsilon_high, which then follows epsilon).</summary>
    public static OptionSpec OptionalFloat(string name, string description) => new(name, OptionKind.Float, null, description);

    /// <summary>An integer option whose default is None (e.g. Keras's ignore_class).</summary>
    public static OptionSpec OptionalInt(string name, string description) => new(name, OptionKind.Int, null, description);

    public static OptionSpec Bool(string name, bool @default, string description) => new(name, OptionKind.Bool, @default, description);

    public static OptionSpec Tensor(string name, string description) => new(name, OptionKind.Tensor, null, description);

    public static OptionSpec Choice(string name, string @default, string description, params string[] choices)
        => new(name, OptionKind.Choice, @default, description) { Choices = choices };

    /// <summary>The standard <c>reduction</c> option with the given allowed values (default <c>mean</c>).</summary>
    public static OptionSpec Reduction(params string[] choices)
        => Choice("reduction", "mean", "how per-element losses are combined: " + string.Join(", ", choices), choices.Length == 0 ? ["none", "mean", "sum"] : choices);

    public string DefaultText => Default switch
    {
        null => "None",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Default.ToString() ?? "",
    };

    /// <summary>Checks and converts a raw value (double, long, bool, string, <see cref="TensorData"/> or null).</summary>
    internal object? Convert(object? raw, string lossName)
    {
        if (raw is null) return Kind == OptionKind.Tensor ? null : Default;
        switch (Kind)
        {
            case OptionKind.Float:
                double? number = raw switch { double d => d, long l => l, int i => i, float f => f, _ => null };
                // No option means anything at NaN: it would only come back as a NaN loss (±∞ can be a limit, e.g. no clipping).
                if (number is double n && double.IsNaN(n)) throw LossArgumentException.Value($"{lossName}: option '{Name}' is NaN; expected a number");
                if (number is not null) return number.Value;
                break;
            case OptionKind.Int:
                if (raw is long l2) return l2;
                if (raw is int i2) return (long)i2;
                if (raw is double d2 && d2 == Math.Floor(d2) && Math.Abs(d2) < 1e15) return (long)d2;
                break;
            case OptionKind.Bool:
                if (raw is bool b) return b;
                break;
            case OptionKind.Choice:
                if (raw is string s)
                {
                    if (Choices.Contains(s)) return s;
                    throw new LossArgumentException(LossErrorCode.UnsupportedOption,
                        $"{lossName}: option '{Name}' is '{s}'; expected one of {string.Join(", ", Choices)}");
                }
                break;
            case OptionKind.Tensor:
                TensorData? tensor = raw switch
                {
                    TensorData t => t,
                    double or long => TensorData.Scalar(System.Convert.ToDouble(raw, CultureInfo.InvariantCulture)),
                    _ => null,
                };
                if (tensor is null) break;
                // Weights, counts, priors and axes: a NaN or ±∞ among them has no meaning and would only reach the
                // loss as NaN (allow_nonfinite is about the inputs, whose NaN PyTorch propagates).
                for (int k = 0; k < tensor.Length; k++)
                {
                    double v = tensor.GetDouble(k);
                    if (double.IsFinite(v)) continue;
                    throw LossArgumentException.Value(
                        $"{lossName}: option '{Name}' holds {v.ToString(CultureInfo.InvariantCulture)} at index {k}{tensor.Shape.PositionText(k)}; its entries must be finite");
                }
                return tensor;
        }
        throw LossArgumentException.Value($"{lossName}: option '{Name}' must be {KindText}, got {Describe(raw)}");
    }

    private string KindText => Kind switch
    {
        OptionKind.Float => "a number",
        OptionKind.Int => "an integer",
        OptionKind.Bool => "true or false",
        OptionKind.Choice => "one of " + string.Join(", ", Choices),
        _ => "a tensor (nested list of numbers) or null",
    };

    private static string Describe(object raw) => raw switch
    {
        string s => $"the string '{s}'",
        bool b => b ? "true" : "false",
        TensorData t => $"a tensor of shape {t.Shape}",
        _ => System.Convert.ToString(raw, CultureInfo.InvariantCulture) ?? "?",
    };
}

/// <summary>Options of one loss after validation against its <see cref="OptionSpec"/>s; every option has a value.</summary>
public sealed class LossOptions
{
    private readonly Dictionary<string, object?> _values;

    internal LossOptions(Dictionary<string, object?> values) => _values = values;

    public double Float(string name) => (double)_values[name]!;

    public long Int(string name) => (long)_values[name]!;

    /// <summary>An integer option that a loss keeps as an int (a count of bins, a class index): outside int's range it is an error naming it.</summary>
    public int Int32(string name)
    {
        long v = Int(name);
        return v is >= int.MinValue and <= int.MaxValue ? (int)v
            : throw LossArgumentException.Value($"option '{name}' is {v}; it must lie in [{int.MinValue}, {int.MaxValue}]");
    }

    public long? NullableInt(string name) => (long?)_values[name];

    public double? NullableFloat(string name) => (double?)_values[name];

    public bool Bool(string name) => (bool)_values[name]!;

    public string Choice(string name) => (string)_values[name]!;

    public TensorData? Tensor(string name) => (TensorData?)_values[name];

    public Reduction Reduction => Reducer.Parse(Choice("reduction"));

    public IReadOnlyDictionary<string, object?> Values => _values;
}
