using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.Losses;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Reliability;

/// <summary>
/// Every catalog loss on inputs with an empty axis (no rows, no classes, no features, no time steps) or an axis of one
/// (one row, one class): a value (0, NaN as PyTorch's 0/0 mean, or an empty tensor) or a typed
/// <see cref="LossArgumentException"/>, never another exception. The contract samples are cut one axis at a time (their
/// leading entries, so that labels stay labels), one input alone (a shape error, mostly) and every input that shares the
/// axis's length together (the consistent empty or single batch a kernel must survive).
/// </summary>
public sealed class EmptyAxisTests
{
    public static TheoryData<string> LossNames() => LossContractTests.LossNames();

    [Theory]
    [MemberData(nameof(LossNames))]
    public void An_empty_axis_gives_a_value_or_a_typed_error(string loss) => Check(loss, 0);

    [Theory]
    [MemberData(nameof(LossNames))]
    public void An_axis_of_length_one_gives_a_value_or_a_typed_error(string loss) => Check(loss, 1);

    private static void Check(string loss, int newLength)
    {
        var failures = new List<string>();
        foreach (LossSample sample in LossSamples.All[loss].Samples)
        {
            ILoss l = LossRegistry.Default.Create(loss, sample.Options);
            LossInputs good = sample.Make(new Random(5));
            foreach (var (label, inputs) in Variants(good, newLength))
            {
                try
                {
                    l.Evaluate(inputs);
                    l.Evaluate(inputs, computeGradients: false);
                }
                catch (LossArgumentException)
                {
                    // a clear, typed refusal is a correct answer
                }
                catch (Exception e)
                {
                    failures.Add($"{sample.Label}, {label}: {e.GetType().Name}: {e.Message}");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(6)));
    }

    /// <summary>For each input and axis: that input alone with the axis cut to the new length, then every input whose axis has the same length.</summary>
    internal static IEnumerable<(string Label, LossInputs Inputs)> Variants(LossInputs good, int newLength)
    {
        foreach (var (name, t) in good.Tensors)
        {
            for (int axis = 0; axis < t.Shape.Rank; axis++)
            {
                int length = t.Shape[axis];
                if (length == newLength) continue;
                yield return ($"'{name}' axis {axis} of length {newLength} alone", With(good, (n, s) => n == name ? Resized(s, axis, newLength) : s));
                yield return ($"every input's axis {axis} of length {length} made {newLength}", With(good, (n, s) => s.Rank > axis && s[axis] == length ? Resized(s, axis, newLength) : s));
            }
        }
    }

    private static LossInputs With(LossInputs good, Func<string, Shape, Shape> reshape)
    {
        var inputs = new LossInputs();
        foreach (var (name, t) in good.Tensors)
        {
            Shape s = reshape(name, t.Shape);
            inputs.Add(name, s == t.Shape ? t : Cut(t, s));
        }
        return inputs;
    }

    private static Shape Resized(Shape s, int axis, int length) => new(s.Dims.Select((d, i) => i == axis ? length : d).ToArray());

    /// <summary>The tensor's leading elements along each axis, up to the smaller shape (row-major), so values stay valid.</summary>
    private static TensorData Cut(TensorData t, Shape s)
    {
        double[] from = t.ToArray<double>();
        var to = new double[s.Numel];
        int rank = s.Rank;
        var index = new int[rank];
        for (int k = 0; k < to.Length; k++)
        {
            int rem = k, src = 0, stride = 1;
            for (int a = rank - 1; a >= 0; a--)
            {
                index[a] = rem % s[a];
                rem /= s[a];
            }
            for (int a = rank - 1; a >= 0; a--)
            {
                src += index[a] * stride;
                stride *= t.Shape[a];
            }
            to[k] = from[src];
        }
        return t.DType is DType.Int64 or DType.Int32 ? TensorData.Create(s, t.DType, t.DType == DType.Int64 ? Array.ConvertAll(to, v => (long)v) : Array.ConvertAll(to, v => (int)v)) : TensorData.Create(s, t.DType, t.DType == DType.Float32 ? Array.ConvertAll(to, v => (float)v) : to);
    }
}

/// <summary>Keras's group losses on an empty batch: none gives no values, the mean Keras's divide_no_nan 0.</summary>
public sealed class KerasEmptyBatchTests
{
    [Theory]
    [InlineData("keras.categorical_crossentropy")]
    [InlineData("keras.dice")]
    [InlineData("keras.kl_divergence")]
    public void An_empty_batch_has_no_values_and_a_zero_mean(string loss)
    {
        LossInputs empty = T.In(("y_true", TensorData.Zeros(new Shape(0, 3), DType.Float64)), ("y_pred", TensorData.Zeros(new Shape(0, 3), DType.Float64)));
        var options = loss == "keras.dice" ? T.Opt(("axis", T.D(1.0))) : T.Opt();
        LossResult none = LossRegistry.Default.Create(loss, new Dictionary<string, object?>(options) { ["reduction"] = "none" }).Evaluate(empty);
        Assert.Equal(new Shape(0), none.Value.Shape);
        Assert.Equal(0, LossRegistry.Default.Create(loss, options).Evaluate(empty).Scalar);
    }
}
