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
            if (!inputs.Contains(spec.Name) && !IsOptionalInput(spec.Name))
            {
                throw LossArgumentException.Value($"{Descriptor.Name}: missing input '{spec.Name}'");
            }
        }
        return inputs.ComputeDType == DType.Float64
            ? Compute<double>(inputs, computeGradients)
            : Compute<float>(inputs, computeGradients);
    }

    /// <summary>Inputs a loss may go without (none by default).</summary>
    protected virtual bool IsOptionalInput(string name) => false;

    /// <summary>The loss in compute type <typeparamref name="T"/>.</summary>
    protected abstract LossResult Compute<T>(LossInputs inputs, bool computeGradients) where T : struct, IFloatingPointIeee754<T>;

    // ---- shared helpers for implementations ----

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

    /// <summary>The numel denominator of a plain mean, NaN-safe for empty tensors (0/0 = NaN as in PyTorch).</summary>
    protected static double Numel(Shape s) => s.Numel;

    protected static LossResult Result(TensorData value, params (string Name, TensorData? Grad)[] grads)
    {
        var dict = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        foreach (var (name, grad) in grads)
        {
            if (grad is not null) dict[name] = grad;
        }
        return new LossResult(value, dict);
    }
}
