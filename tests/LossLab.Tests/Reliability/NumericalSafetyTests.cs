using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Reliability;

/// <summary>
/// The input side of the numerical-safety contract for every loss: non-finite inputs are refused by default and name
/// the first offending index; the tiny end of the float range (±0, subnormals) gives finite values and first-input
/// gradients, or a typed domain error, never NaN. (The large end, ±1e4 logits and beyond, exact 0/1 probabilities,
/// is each loss's own extreme sample in <c>LossContractTests</c>.)
/// </summary>
public sealed class NumericalSafetyTests
{
    public static TheoryData<string> Losses()
    {
        var data = new TheoryData<string>();
        foreach (string name in LossSamples.All.Keys) data.Add(name);
        return data;
    }

    /// <summary>A loss built from its first contract sample, that sample's inputs, and its floating inputs holding at least <paramref name="minLength"/> values.</summary>
    private static (ILoss Loss, LossInputs Inputs, InputSpec[] Floating) FirstSample(string name, int seed, int minLength)
    {
        LossSample s = LossSamples.All[name].Samples[0];
        ILoss loss = LossRegistry.Default.Create(name, s.Options);
        LossInputs inputs = s.Make(new Random(seed));
        InputSpec[] floating = [.. loss.Descriptor.Inputs.Where(i => inputs.Contains(i.Name) && inputs[i.Name].DType != DType.Int64 && inputs[i.Name].Length >= minLength)];
        return (loss, inputs, floating);
    }

    private static readonly float[] Tiny = [0f, -0f, float.Epsilon, -float.Epsilon, 1e-40f, -1e-40f, 1.1754942e-38f];

    [Theory]
    [MemberData(nameof(Losses))]
    public void Zeros_and_subnormals_give_finite_values_and_gradients(string name)
    {
        var (loss, baseInputs, floating) = FirstSample(name, seed: 3, minLength: 1);
        string first = loss.Descriptor.Inputs[0].Name;
        foreach (InputSpec spec in floating)
        {
            foreach (float v in Tiny)
            {
                LossInputs inputs = T.As(baseInputs, DType.Float32);
                inputs.Add(spec.Name, Replace(inputs[spec.Name], v));
                LossResult r;
                try
                {
                    r = loss.Evaluate(inputs);
                }
                catch (LossArgumentException)
                {
                    continue;   // a documented domain (a variance must be positive...) is a typed error, which is fine
                }
                Assert.All(T.Values(r.Value), x => Assert.False(double.IsNaN(x), $"{name}: value NaN with {spec.Name}[0] = {v:R}"));
                if (r.Gradients.TryGetValue(first, out TensorData? g))
                {
                    Assert.All(T.Values(g), x => Assert.False(double.IsNaN(x), $"{name}: ∂/∂{first} NaN with {spec.Name}[0] = {v:R}"));
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void Non_finite_inputs_are_refused_naming_the_first_index(string name)
    {
        var (loss, baseInputs, floating) = FirstSample(name, seed: 4, minLength: 2);
        foreach (InputSpec spec in floating)
        {
            foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
            {
                if (spec.AcceptsNegativeInfinity && double.IsNegativeInfinity(bad)) continue;
                TensorData t = baseInputs[spec.Name];
                double[] values = T.Values(t);
                values[1] = bad;
                var inputs = new LossInputs(baseInputs.Tensors).Add(spec.Name, TensorData.Create(t.Shape, DType.Float64, values));
                var e = Assert.Throws<LossArgumentException>(() => loss.Evaluate(inputs));
                Assert.Equal(LossErrorCode.InvalidValue, e.Code);
                Assert.Contains($"'{spec.Name}' holds", e.Message, StringComparison.Ordinal);
                Assert.Contains("at index 1", e.Message, StringComparison.Ordinal);
                inputs.AllowNonFinite = true;
                try
                {
                    loss.Evaluate(inputs);   // allowed: computed (propagating), or a domain error unrelated to finiteness
                }
                catch (LossArgumentException ex)
                {
                    Assert.DoesNotContain("must be finite", ex.Message, StringComparison.Ordinal);
                }
            }
        }
    }

    private static TensorData Replace(TensorData t, float v)
    {
        float[] x = t.ToArray<float>();
        x[0] = v;
        return TensorData.Create(t.Shape, DType.Float32, x);
    }
}
