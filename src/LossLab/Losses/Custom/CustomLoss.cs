using System.Numerics;
using LossLab.Autograd;
using LossLab.Losses.Core;

namespace LossLab.Losses.Custom;

/// <summary>
/// A loss written as a function of autograd tensors. It behaves like any catalog loss: register it and use it
/// by name in the protocol, in training and in comparisons. Its gradient comes from reverse-mode autograd.
/// </summary>
/// <example>
/// <code>
/// var huber = new CustomLoss("MyHuber", ["input", "target"], t =>
/// {
///     Tensor d = Ops.Abs(t["input"] - t["target"]);
///     return Ops.Mean(Ops.Where(Ops.Less(d, d.Constant(1)), 0.5 * d * d, d - 0.5));
/// });
/// LossRegistry.Default.Register(huber.Descriptor);
/// </code>
/// </example>
public class CustomLoss : Loss
{
    private readonly Func<IReadOnlyDictionary<string, Tensor>, Tensor> _function;

    /// <param name="name">The registry name.</param>
    /// <param name="inputs">The input names, in positional order.</param>
    /// <param name="function">Maps the inputs (floating ones require gradients) to the loss value.</param>
    /// <param name="formula">One line of math for the catalog.</param>
    /// <param name="aliases">Further names.</param>
    public CustomLoss(string name, IReadOnlyList<string> inputs, Func<IReadOnlyDictionary<string, Tensor>, Tensor> function, string? formula = null, IReadOnlyList<string>? aliases = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(inputs);
        _function = function ?? throw new ArgumentNullException(nameof(function));
        Descriptor = new LossDescriptor
        {
            Name = name,
            Aliases = aliases ?? [],
            Family = LossFamily.Custom,
            Task = LossTask.Regression,
            Inputs = [.. inputs.Select(i => new InputSpec(i, InputKind.IndicesOrFloating, true, "any tensor"))],
            Formula = formula ?? $"user-defined: {name}",
            Gradient = "reverse-mode autograd of the formula",
            Reference = "user-defined (LossLab.Losses.Custom.CustomLoss)",
            Stability = "as the formula's primitives (each stable primitive is finite where its math is)",
            Libraries = "LossLab",
            Factory = _ => this,
        };
    }

    public override LossDescriptor Descriptor { get; }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        DType dtype = typeof(T) == typeof(double) ? DType.Float64 : DType.Float32;
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, data) in inputs.Tensors)
        {
            tensors[name] = Tensor.FromData(data, requiresGrad: computeGradients, dtype: data.DType.IsFloating() ? dtype : DType.Float32);
        }
        Tensor result = _function(tensors);
        TensorData value = result.DType == dtype ? result.ToData() : Tensor.FromData(result.ToData(), dtype: dtype).ToData();
        if (!computeGradients) return new LossResult(value, new Dictionary<string, TensorData>());
        var grads = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        if (result.RequiresGrad)
        {
            result.Backward(result.Length == 1 ? null : Ops.Add(Tensor.Zeros(result.Shape, result.DType), result.Constant(1)));
        }
        foreach (var (name, t) in tensors)
        {
            if (t.IsIntegral) continue;
            grads[name] = t.Grad?.ToData() ?? Tensor.Zeros(t.Shape, dtype).ToData();
        }
        return new LossResult(value, grads);
    }
}
