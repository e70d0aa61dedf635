using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Tests.TestKit;

/// <summary>Terse tensor builders for tests: <c>T.F(1, 2, 3)</c> is a float32 vector, <c>T.D2</c> a float64 matrix...</summary>
internal static class T
{
    public static TensorData F(params float[] v) => TensorData.FromArray(v, v.Length);

    public static TensorData D(params double[] v) => TensorData.FromArray(v, v.Length);

    public static TensorData I(params long[] v) => TensorData.FromArray(v, v.Length);

    public static TensorData F2(float[,] m) => TensorData.FromArray(m.Cast<float>().ToArray(), m.GetLength(0), m.GetLength(1));

    public static TensorData D2(double[,] m) => TensorData.FromArray(m.Cast<double>().ToArray(), m.GetLength(0), m.GetLength(1));

    public static TensorData Shaped(double[] v, params int[] shape) => TensorData.Create(new Shape(shape), DType.Float64, v);

    public static TensorData Shaped(float[] v, params int[] shape) => TensorData.Create(new Shape(shape), DType.Float32, v);

    public static TensorData Shaped(long[] v, params int[] shape) => TensorData.Create(new Shape(shape), DType.Int64, v);

    public static LossInputs In(params (string Name, TensorData Tensor)[] tensors)
    {
        var inputs = new LossInputs();
        foreach (var (name, tensor) in tensors) inputs.Add(name, tensor);
        return inputs;
    }

    public static Dictionary<string, object?> Opt(params (string Name, object? Value)[] options)
        => options.ToDictionary(o => o.Name, o => o.Value);

    public static double[] Values(TensorData t) => Enumerable.Range(0, t.Length).Select(t.GetDouble).ToArray();

    /// <summary>The same inputs with every floating tensor converted to <paramref name="dtype"/> (integer tensors kept).</summary>
    public static LossInputs As(LossInputs inputs, DType dtype)
        => new(inputs.Tensors.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.DType is DType.Float32 or DType.Float64 ? kv.Value.ToDType(dtype) : kv.Value)));

    /// <summary>|a − b| ≤ abs + rel·|b| elementwise, NaN equal to NaN, infinities equal to themselves.</summary>
    public static void Close(double expected, double actual, double rel = 1e-6, double abs = 0)
    {
        if (double.IsNaN(expected)) { Assert.True(double.IsNaN(actual), $"expected NaN, got {actual}"); return; }
        if (double.IsInfinity(expected)) { Assert.Equal(expected, actual); return; }
        Assert.True(Math.Abs(expected - actual) <= abs + rel * Math.Abs(expected), $"expected {expected:R}, got {actual:R}");
    }

    public static void Close(double[] expected, TensorData actual, double rel = 1e-6, double abs = 0)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Close(expected[i], actual.GetDouble(i), rel, abs);
    }
}
