using System.Numerics;
using LossLab.Numerics;

namespace LossLab.Losses.Core;

/// <summary>
/// Base of the catalog's loss classes: validates the input names, picks the compute type, and dispatches to one
/// generic implementation, so every loss is written once for float and double.
/// </summary>
public abstract class Loss : ILoss
{
    public abstract LossDescriptor Descriptor { get; }

    public LossResult Evaluate(LossInputs inputs, bool computeGradients = true)
    {
        CheckInputs(inputs);
        try
        {
            return inputs.ComputeDType == DType.Float64
                ? InInputTypes(Compute<double>(inputs, computeGradients), inputs)
                : Compute<float>(inputs, computeGradients);
        }
        catch (LossArgumentException e) when (!e.Message.StartsWith(Descriptor.Name + ":", StringComparison.Ordinal))
        {
            // Shared helpers (LossInputs.Indices, option broadcasting) do not know which loss called them: every error
            // a loss raises names it.
            throw new LossArgumentException(e.Code, $"{Descriptor.Name}: {e.Message}");
        }
    }

    /// <summary>
    /// A float32 input evaluated beside a float64 one (the loss computes in double) gets its gradient in float32, as
    /// autograd gives every tensor a gradient of its own type; the value keeps the compute type.
    /// </summary>
    private static LossResult InInputTypes(LossResult result, LossInputs inputs)
    {
        bool Narrow(string name) => inputs.Contains(name) && inputs[name].DType == DType.Float32;
        if (!result.Gradients.Keys.Any(Narrow)) return result;
        var gradients = new Dictionary<string, TensorData>();
        foreach (var (name, g) in result.Gradients) gradients[name] = Narrow(name) ? g.ToDType(DType.Float32) : g;
        return result with { Gradients = gradients };
    }

    /// <summary>
    /// The checks every evaluation starts with: no unknown input, every required input present, and finite floating
    /// inputs (unless <see cref="LossInputs.AllowNonFinite"/>). For a loss's extra entry points (OptaxCtcLoss's α tables).
    /// </summary>
    protected void CheckInputs(LossInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        foreach (string name in inputs.Tensors.Keys)
        {
            if (!Descriptor.Inputs.Any(i => i.Name == name))
            {
                throw LossArgumentException.Value(
                    $"{Descriptor.Name}: unknown input '{name}'; it takes {string.Join(", ", Descriptor.Inputs.Select(i => i.Name))}");
            }
        }
        foreach (InputSpec spec in Descriptor.Inputs)
        {
            if (!inputs.Contains(spec.Name) && !spec.Optional && !IsOptionalInput(spec.Name))
            {
                throw LossArgumentException.Value($"{Descriptor.Name}: missing input '{spec.Name}'");
            }
        }
        if (!inputs.AllowNonFinite) RejectNonFinite(inputs);
    }

    /// <summary>
    /// The numerical-safety contract's input side: NaN or ±∞ in a floating input is a typed error naming the input,
    /// the first offending flat index and its position, unless the input is a log-probability (−∞ = probability 0 is
    /// allowed there) or the caller set <see cref="LossInputs.AllowNonFinite"/> to propagate them as PyTorch does.
    /// </summary>
    private void RejectNonFinite(LossInputs inputs)
    {
        foreach (InputSpec spec in Descriptor.Inputs)
        {
            if (!inputs.Contains(spec.Name)) continue;
            TensorData t = inputs[spec.Name];
            int bad = t.DType switch
            {
                DType.Float32 => FirstNonFinite(t.AsSpan<float>(), spec.AcceptsNegativeInfinity),
                DType.Float64 => FirstNonFinite(t.AsSpan<double>(), spec.AcceptsNegativeInfinity),
                _ => -1,
            };
            if (bad < 0) continue;
            double v = t.GetDouble(bad);
            string where = t.Shape.PositionText(bad);
            throw LossArgumentException.Value(
                $"{Descriptor.Name}: input '{spec.Name}' holds {v} at index {bad}{where}; inputs must be finite{(spec.AcceptsNegativeInfinity ? " or −∞" : "")} (allow_nonfinite propagates NaN and ∞ as PyTorch does)");
        }
    }

    private static int FirstNonFinite<T>(ReadOnlySpan<T> x, bool minusInfinityOk) where T : struct, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++)
        {
            T v = x[i];
            if (!T.IsFinite(v) && !(minusInfinityOk && T.IsNegativeInfinity(v))) return i;
        }
        return -1;
    }

    /// <summary>Inputs a loss may go without (none by default).</summary>
    protected virtual bool IsOptionalInput(string name) => false;

    /// <summary>The loss in compute type <typeparamref name="T"/>.</summary>
    protected abstract LossResult Compute<T>(LossInputs inputs, bool computeGradients) where T : struct, IFloatingPointIeee754<T>;

    // ---- shared helpers for implementations ----

    /// <summary>Optax's <c>axis</c> option of the row losses.</summary>
    protected static OptionSpec AxisOption => OptionSpec.Tensor("axis", "the axis or axes of each row (Optax's axis): an integer or a list; default −1, the last");

    /// <summary>
    /// Optax's <c>axis</c> for a loss written over the last axis of two same-shape inputs: when <paramref name="axes"/>
    /// names other axes, the loss is evaluated by <paramref name="lastAxisTwin"/> (this loss over the last axis, given
    /// the regrouped <c>where</c> mask) on the inputs regrouped by <see cref="AxisGroups"/>, and the result is returned;
    /// null (so that the caller computes) when the axes are the default or just the last one.
    /// </summary>
    protected LossResult? OverAxes(int[]? axes, LossInputs inputs, string first, string second, TensorData? where,
        Func<TensorData?, ILoss> lastAxisTwin, bool computeGradients)
    {
        if (axes is null) return null;
        RequireSameShape(inputs, first, second);
        AxisGroups groups = AxisGroups.Of(inputs[first].Shape, axes, Descriptor.Name);
        if (groups.IsLastAxis) return null;
        return groups.Evaluate(lastAxisTwin(groups.GatherOption(where, "where", Descriptor.Name)), inputs, [first, second], computeGradients);
    }

    /// <summary>Fails with <see cref="LossErrorCode.InvalidShape"/> unless both tensors have the same shape (no silent broadcasting).</summary>
    protected void RequireSameShape(LossInputs inputs, string a, string b)
    {
        Shape sa = inputs[a].Shape, sb = inputs[b].Shape;
        if (sa != sb)
        {
            throw LossArgumentException.Shape(
                $"{Descriptor.Name}: '{b}' has shape {sb} but '{a}' has shape {sa}; they must be equal (no implicit broadcasting)");
        }
    }

    /// <summary>
    /// A tensor option (weight, pos_weight) broadcast to <paramref name="shape"/>, or null when absent. PyTorch
    /// documents these as broadcastable, so broadcasting is allowed here and only here.
    /// </summary>
    protected T[]? BroadcastOption<T>(TensorData? option, string optionName, Shape shape) where T : struct, INumberBase<T>
    {
        if (option is null) return null;
        return option.BroadcastTo<T>(shape) ?? throw LossArgumentException.Shape(
            $"{Descriptor.Name}: option '{optionName}' of shape {option.Shape} cannot be broadcast to the input shape {shape}");
    }

    /// <summary>
    /// A tensor option that must have the input's shape exactly (Optax's <c>where</c> and <c>weights</c>), or null when
    /// absent; with <paramref name="mask"/>, every value must be 0 (left out) or 1 (kept), and the first other is named.
    /// </summary>
    protected T[]? ExactOption<T>(TensorData? option, string optionName, Shape shape, string inputName, bool mask = false) where T : struct, IFloatingPointIeee754<T>
    {
        if (option is null) return null;
        if (option.Shape != shape)
        {
            throw LossArgumentException.Shape($"{Descriptor.Name}: option '{optionName}' has shape {option.Shape} but '{inputName}' has shape {shape}; they must be equal");
        }
        T[] values = option.ToArray<T>();
        for (int i = 0; mask && i < values.Length; i++)
        {
            if (values[i] != T.Zero && values[i] != T.One)
            {
                throw LossArgumentException.Value($"{Descriptor.Name}: option '{optionName}' holds 0 (left out) or 1 (kept); {optionName}[{i}] = {values[i]}");
            }
        }
        return values;
    }

    /// <summary>Wraps reduced or per-element values into the result tensor in compute type <typeparamref name="T"/>.</summary>
    protected static TensorData ValueTensor<T>(Reduction reduction, Reducer.Reduced reduced, T[] perElement, Shape perElementShape)
        where T : struct, IFloatingPointIeee754<T>
        => reduction == Reduction.None
            ? Wrap(perElement, perElementShape)
            : Wrap(new[] { T.CreateTruncating(reduced.Value) }, Shape.Scalar);

    protected static TensorData Wrap<T>(T[] data, Shape shape) where T : struct, IFloatingPointIeee754<T> => data switch
    {
        float[] f => TensorData.Create(shape, DType.Float32, f),
        double[] d => TensorData.Create(shape, DType.Float64, d),
        _ => throw new NotSupportedException(typeof(T).Name),
    };

    /// <summary>Values computed in double, as the result tensor in compute type <typeparamref name="T"/> (float32 rounds once).</summary>
    internal static TensorData FromDoubles<T>(double[] data, Shape shape) where T : struct, IFloatingPointIeee754<T>
        => typeof(T) == typeof(float)
            ? TensorData.Create(shape, DType.Float32, Array.ConvertAll(data, v => (float)v))
            : TensorData.Create(shape, DType.Float64, data);

    /// <summary>
    /// Per-row losses computed in double, reduced: the value (the rows themselves in <paramref name="rowShape"/> for
    /// none, else their sum or mean as a scalar) and the factor each row's gradient is multiplied by (1, or 1/N for mean).
    /// </summary>
    protected static (TensorData Value, double Scale) ReduceRows<T>(double[] losses, Reduction reduction, Shape rowShape)
        where T : struct, IFloatingPointIeee754<T>
    {
        Reducer.Reduced reduced = Reducer.Reduce<double>(losses, reduction, losses.Length);
        return (reduction == Reduction.None ? FromDoubles<T>(losses, rowShape) : FromDoubles<T>([reduced.Value], Shape.Scalar), reduced.Scale);
    }

    /// <summary>The numel denominator of a plain mean, NaN-safe for empty tensors (0/0 = NaN as in PyTorch).</summary>
    protected static double Numel(Shape s) => s.Numel;

    protected internal static LossResult Result(TensorData value, params (string Name, TensorData? Grad)[] grads)
    {
        var dict = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        foreach (var (name, grad) in grads)
        {
            if (grad is not null) dict[name] = grad;
        }
        return new LossResult(value, dict);
    }
}
