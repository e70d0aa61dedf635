using LossLab.Numerics;

namespace LossLab.Losses.Core;

/// <summary>Which family of losses an entry belongs to (the folder it lives in).</summary>
public enum LossFamily
{
    Regression,
    Classification,
    Probabilistic,
    Ranking,
    Embedding,
    Segmentation,
    Sequence,
    Custom,
}

/// <summary>The learning task a loss serves; the lab uses it to offer losses that fit a data set.</summary>
public enum LossTask
{
    Regression,
    BinaryClassification,
    MulticlassClassification,
    MultilabelClassification,
    Distribution,
    CountRegression,
    Ranking,
    MetricLearning,
    Segmentation,
    Sequence,
}

/// <summary>What an input tensor holds.</summary>
public enum InputKind
{
    /// <summary>Real values (logits, predictions, probabilities); float32 or float64.</summary>
    Floating,
    /// <summary>Class indices; int32 or int64 (integral floats are accepted).</summary>
    Indices,
    /// <summary>Class indices, or probabilities with the input's shape (cross-entropy targets).</summary>
    IndicesOrFloating,
}

/// <summary>One named input of a loss, in its library's positional order (PyTorch (input, target), Keras (y_true, y_pred)).</summary>
public sealed record InputSpec(string Name, InputKind Kind, bool Differentiable, string Description)
{
    /// <summary>A log-probability input: −∞ (probability 0) is a valid value there, NaN and +∞ are not.</summary>
    public bool AcceptsNegativeInfinity { get; init; }

    /// <summary>An input the loss works without whatever its options (Liger's shift_labels); training binds only the others.</summary>
    public bool Optional { get; init; }
}

/// <summary>
/// Everything the registry, the protocol and the documentation know about one loss: its canonical .NET name,
/// the PyTorch/Keras aliases, family, task, inputs, options with defaults, formula and reference, and a factory.
/// </summary>
public sealed record LossDescriptor
{
    public required string Name { get; init; }

    public IReadOnlyList<string> Aliases { get; init; } = [];

    public required LossFamily Family { get; init; }

    public required LossTask Task { get; init; }

    public required IReadOnlyList<InputSpec> Inputs { get; init; }

    public IReadOnlyList<OptionSpec> Options { get; init; } = [];

    /// <summary>One line of math, e.g. <c>ℓ = (x − y)²</c>.</summary>
    public required string Formula { get; init; }

    /// <summary>One line of gradient math.</summary>
    public string Gradient { get; init; } = "";

    /// <summary>Where the semantics come from (a library function or a paper).</summary>
    public required string Reference { get; init; }

    /// <summary>The numerical-stability guarantee, e.g. "finite for |x| ≤ 1e4 in float32".</summary>
    public string Stability { get; init; } = "";

    /// <summary>
    /// The smallest value any element of the loss can take (0 for almost every loss; −∞ where the formula is not
    /// bounded below, e.g. a Gaussian NLL's log-variance term). A property test checks it on random inputs.
    /// </summary>
    public double LowerBound { get; init; }

    /// <summary>Libraries that ship this loss, e.g. "PyTorch, TorchSharp, Keras".</summary>
    public string Libraries { get; init; } = "";

    /// <summary>
    /// Random valid inputs for a main-input shape (rank 0 = the loss's default shape), for gradient checks and
    /// exploration; null when the loss cannot invent its inputs (custom losses).
    /// </summary>
    public Func<Random, Shape, LossInputs>? Sample { get; init; }

    /// <summary>
    /// Options under which the returned gradient is the true derivative of the value, for gradient checks
    /// (CTC returns PyTorch's convention by default).
    /// </summary>
    public IReadOnlyDictionary<string, object?> TrueGradientOptions { get; init; } = new Dictionary<string, object?>();

    /// <summary>Builds the loss from validated options.</summary>
    public required Func<LossOptions, ILoss> Factory { get; init; }

    /// <summary>Every name the loss answers to: the canonical name first.</summary>
    public IEnumerable<string> AllNames => Aliases.Prepend(Name);

    /// <summary>
    /// Validates raw options (from JSON or code): unknown names are <see cref="LossErrorCode.UnsupportedOption"/>,
    /// wrong types <see cref="LossErrorCode.InvalidValue"/>; absent options take their defaults.
    /// </summary>
    public LossOptions ParseOptions(IReadOnlyDictionary<string, object?>? raw)
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (raw is not null)
        {
            foreach (string key in raw.Keys)
            {
                if (!Options.Any(o => o.Name == key))
                {
                    string known = Options.Count == 0 ? "it takes no options" : "supported: " + string.Join(", ", Options.Select(o => o.Name));
                    throw new LossArgumentException(LossErrorCode.UnsupportedOption, $"{Name}: unknown option '{key}' ({known})");
                }
            }
        }
        foreach (OptionSpec spec in Options)
        {
            object? rawValue = raw is not null && raw.TryGetValue(spec.Name, out object? v) ? v : null;
            values[spec.Name] = spec.Convert(rawValue, Name);
        }
        return new LossOptions(values);
    }

    /// <summary>Creates the loss from raw options.</summary>
    public ILoss Create(IReadOnlyDictionary<string, object?>? options = null)
    {
        try
        {
            return Factory(ParseOptions(options));
        }
        catch (LossArgumentException e) when (!e.Message.StartsWith(Name + ":", StringComparison.Ordinal))
        {
            // Shared option readers (LossOptions.Int32...) do not know the loss: every error names it, as in Evaluate.
            throw new LossArgumentException(e.Code, $"{Name}: {e.Message}");
        }
    }

    /// <summary>Creates the loss with all defaults.</summary>
    public ILoss Create() => Create(null);

}
