using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses;

/// <summary>
/// A float32 input beside a float64 one: the loss computes in double (the wider type, as its value shows) and hands
/// each input a gradient of that input's own type, as autograd does. Before, the float32 input got a float64 gradient.
/// </summary>
public sealed class MixedPrecisionTests
{
    public static TheoryData<string> Losses()
    {
        var data = new TheoryData<string>();
        foreach (LossDescriptor d in LossRegistry.Default.Entries)
            if (d.Sample is not null && d.Inputs.Count(i => i.Differentiable) >= 2) data.Add(d.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void Every_gradient_has_its_inputs_type_and_the_double_computations_values(string name)
    {
        LossDescriptor d = LossRegistry.Default.Get(name);
        LossInputs sample = d.Sample!(new Random(5), Shape.Scalar);
        string? narrow = d.Inputs.FirstOrDefault(i => i.Differentiable && sample.Contains(i.Name) && sample[i.Name].DType != DType.Int64)?.Name;
        if (narrow is null) return;
        var wide = new LossInputs();
        var mixed = new LossInputs();
        foreach (var (key, t) in sample.Tensors)
        {
            TensorData w = t.DType == DType.Int64 ? t : t.ToDType(DType.Float64);
            wide.Add(key, w);
            // The float32 input holds float32-rounded values in both evaluations, so that they agree to double's rounding.
            mixed.Add(key, key == narrow ? t.ToDType(DType.Float32) : w);
            if (key == narrow) wide.Add(key, t.ToDType(DType.Float32).ToDType(DType.Float64));
        }
        if (!mixed.Tensors.Values.Any(t => t.DType == DType.Float64)) return;   // no other floating input
        ILoss loss = LossRegistry.Default.Create(name);
        LossResult expected = loss.Evaluate(wide), actual = loss.Evaluate(mixed);
        Assert.Equal(DType.Float64, actual.Value.DType);
        Assert.Equal(T.Values(expected.Value), T.Values(actual.Value));
        foreach (var (input, g) in actual.Gradients)
        {
            Assert.Equal(mixed[input].DType == DType.Float32 ? DType.Float32 : g.DType, g.DType);
            Assert.Equal(T.Values(expected.Gradient(input)).Select(v => (double)(float)v), T.Values(g).Select(v => mixed[input].DType == DType.Float32 ? v : (double)(float)v));
        }
    }
}
