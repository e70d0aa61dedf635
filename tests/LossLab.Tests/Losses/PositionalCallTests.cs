using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses;

/// <summary><c>loss.Evaluate(a, b, ...)</c>: inputs by position in the descriptor's (the library's) order.</summary>
public sealed class PositionalCallTests
{
    public static TheoryData<string> Sampled => [.. LossRegistry.Default.Entries.Where(d => d.Sample is not null).Select(d => d.Name)];

    [Theory]
    [MemberData(nameof(Sampled))]
    public void Positional_inputs_give_the_named_call_s_value_and_gradients(string name)
    {
        LossDescriptor d = LossRegistry.Default.Get(name);
        LossInputs sample = d.Sample!(new Random(7), Shape.Scalar);
        // The inputs the sample gives must be a prefix of the declared order to be passed by position.
        int count = d.Inputs.TakeWhile(i => sample.Contains(i.Name)).Count();
        Assert.True(sample.Tensors.Count == count, $"{name}: sample inputs {string.Join(", ", sample.Tensors.Keys)} are not a prefix of {string.Join(", ", d.Inputs.Select(i => i.Name))}");
        ILoss loss = d.Create(new Dictionary<string, object?>());
        TensorData[] positional = [.. d.Inputs.Take(count).Select(i => sample[i.Name])];

        LossResult byName = loss.Evaluate(sample), byPosition = loss.Evaluate(positional);
        Assert.Equal(T.Values(byName.Value), T.Values(byPosition.Value));
        Assert.Equal(byName.Gradients.Keys.Order(), byPosition.Gradients.Keys.Order());
        foreach (var (input, g) in byName.Gradients) Assert.Equal(T.Values(g), T.Values(byPosition.Gradient(input)));
        Assert.Equal(T.Values(byName.Value), T.Values(loss.Value(positional)));
    }

    [Fact]
    public void Keras_losses_take_y_true_first()
    {
        ILoss mae = LossRegistry.Default.Create("keras.mean_absolute_error", new Dictionary<string, object?>());
        var yTrue = TensorData.FromArray(new double[] { 1, 2 }, 1, 2);
        var yPred = TensorData.FromArray(new double[] { 2, 4 }, 1, 2);
        LossResult r = mae.Evaluate(yTrue, yPred);
        Assert.Equal(1.5, r.Scalar);
        Assert.Equal([0.5, 0.5], T.Values(r.Gradient("y_pred")));   // ∂/∂ŷ of mean |ŷ − y|: sign(ŷ − y)/2
    }

    [Fact]
    public void Too_many_inputs_or_a_null_one_is_a_typed_error_naming_the_order()
    {
        ILoss mse = LossRegistry.Default.Create("mse_loss", new Dictionary<string, object?>());
        var x = TensorData.FromArray(new float[] { 1, 2 }, 2);
        var e = Assert.Throws<LossArgumentException>(() => mse.Evaluate(x, x, x));
        Assert.Equal(LossErrorCode.InvalidValue, e.Code);
        Assert.Equal("MseLoss: 3 inputs given, it takes 2 (input, target)", e.Message);
        e = Assert.Throws<LossArgumentException>(() => mse.Evaluate(x, null!));
        Assert.Equal("MseLoss: input 1 (target) is null; its inputs in order: input, target", e.Message);
        e = Assert.Throws<LossArgumentException>(() => mse.Value(x));
        Assert.Contains("missing input 'target'", e.Message, StringComparison.Ordinal);
    }
}
