using LossLab.Numerics;

namespace LossLab.Losses.Core;

/// <summary>Positional calls, as a loss is called in its library: <c>loss.Evaluate(logits, labels)</c>.</summary>
public static class LossExtensions
{
    /// <summary>
    /// Evaluates the loss on its inputs given in the order of <see cref="LossDescriptor.Inputs"/>, which is the order of
    /// the library it comes from (PyTorch's <c>(input, target)</c>, Keras's <c>(y_true, y_pred)</c>, Optax's
    /// <c>(predictions, targets)</c>...). Trailing inputs may be left out where the loss works without them; a missing
    /// required one is the same error as with named inputs.
    /// </summary>
    /// <exception cref="LossArgumentException">More inputs than the loss takes, a null input, or what the named call reports.</exception>
    public static LossResult Evaluate(this ILoss loss, params ReadOnlySpan<TensorData> inputs)
    {
        ArgumentNullException.ThrowIfNull(loss);
        LossInputs named = Name(loss.Descriptor, inputs);
        return loss.Evaluate(named);
    }

    /// <summary>The value alone (no gradients), inputs by position as in <see cref="Evaluate(ILoss, ReadOnlySpan{TensorData})"/>.</summary>
    public static TensorData Value(this ILoss loss, params ReadOnlySpan<TensorData> inputs)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return loss.Evaluate(Name(loss.Descriptor, inputs), computeGradients: false).Value;
    }

    private static LossInputs Name(LossDescriptor d, ReadOnlySpan<TensorData> inputs)
    {
        IReadOnlyList<InputSpec> specs = d.Inputs;
        string order = string.Join(", ", specs.Select(s => s.Name));
        if (inputs.Length > specs.Count)
            throw LossArgumentException.Value($"{d.Name}: {inputs.Length} inputs given, it takes {specs.Count} ({order})");
        var named = new LossInputs();
        for (int i = 0; i < inputs.Length; i++)
        {
            if (inputs[i] is null) throw LossArgumentException.Value($"{d.Name}: input {i} ({specs[i].Name}) is null; its inputs in order: {order}");
            named.Add(specs[i].Name, inputs[i]);
        }
        return named;
    }
}
