using System.Numerics;
using LossLab.Numerics;

namespace LossLab.Losses.Core;

/// <summary>
/// A configured loss: evaluates named tensors and returns the value and the gradient of sum(value) with respect
/// to every differentiable floating input. Implementations are immutable and safe to share across threads.
/// </summary>
public interface ILoss
{
    LossDescriptor Descriptor { get; }

    /// <summary>
    /// Evaluates the loss. Computation runs in float64 when any floating input is float64, else in float32.
    /// </summary>
    /// <exception cref="LossArgumentException">A missing input, a shape that does not match, or a value out of range.</exception>
    LossResult Evaluate(LossInputs inputs, bool computeGradients = true);
}

/// <summary>The value (a scalar, or per-element for <c>reduction=none</c>) and the gradients by input name.</summary>
public sealed record LossResult(TensorData Value, IReadOnlyDictionary<string, TensorData> Gradients)
{
    /// <summary>The value as a double when it is a single number.</summary>
    public double Scalar => Value.Length == 1 ? Value.GetDouble(0) : throw new InvalidOperationException($"the loss value has shape {Value.Shape}, not a scalar");

    public TensorData Gradient(string input) => Gradients.TryGetValue(input, out TensorData? g)
        ? g
        : throw new KeyNotFoundException($"no gradient for '{input}'; available: {string.Join(", ", Gradients.Keys)}");
}

/// <summary>Named input tensors of one loss call (PyTorch argument names: <c>input</c>, <c>target</c>, <c>var</c>...).</summary>
public sealed class LossInputs
{
    private readonly Dictionary<string, TensorData> _tensors = new(StringComparer.Ordinal);

    public LossInputs() { }

    public LossInputs(IEnumerable<KeyValuePair<string, TensorData>> tensors)
    {
        foreach (var kv in tensors) _tensors[kv.Key] = kv.Value;
    }

    public LossInputs Add(string name, TensorData tensor)
    {
        _tensors[name] = tensor;
        return this;
    }

    public IReadOnlyDictionary<string, TensorData> Tensors => _tensors;

    /// <summary>
    /// When true, NaN and ±∞ inputs are computed with (they propagate, as in PyTorch) instead of being rejected with an
    /// <c>invalid_value</c> error naming the first one. The autograd path sets it: a diverging model's NaN is reported
    /// by the trainer, not by the loss.
    /// </summary>
    public bool AllowNonFinite { get; set; }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public TensorData this[string name] => _tensors.TryGetValue(name, out TensorData? t)
        ? t
        : throw LossArgumentException.Value($"missing input '{name}'");

    /// <summary>Float64 if any floating input is float64, else float32.</summary>
    public DType ComputeDType => _tensors.Values.Any(t => t.DType == DType.Float64) ? DType.Float64 : DType.Float32;

    /// <summary>The named input as <typeparamref name="T"/> values (integers are converted).</summary>
    internal T[] Floating<T>(string name) where T : struct, INumberBase<T> => this[name].ToArray<T>();

    /// <summary>
    /// The named input as class indices. Integral floats are accepted (a JSON <c>2.0</c>); anything else is an
    /// <see cref="LossErrorCode.InvalidValue"/> naming the first bad position.
    /// </summary>
    internal long[] Indices(string name)
    {
        TensorData t = this[name];
        if (t.Data is long[] l) return l;
        var result = new long[t.Length];
        for (int i = 0; i < result.Length; i++)
        {
            double v = t.GetDouble(i);
            if (v != Math.Floor(v) || double.IsInfinity(v))
            {
                throw LossArgumentException.Value($"'{name}' must hold integer class indices; element {i} is {v}");
            }
            result[i] = (long)v;
        }
        return result;
    }
}

/// <summary>
/// A loss whose learned per-class parameters are one of its inputs (ArcFace's W (D, C), Proxy Anchor's proxies (C, D)):
/// the libraries keep them inside the loss module; here the caller owns, initializes and updates them, and the loss
/// says which input they are and which shape they take for a given embedding width and number of classes.
/// </summary>
public interface IClassParameterLoss : ILoss
{
    /// <summary>The input that holds the parameters.</summary>
    string ParameterInput { get; }

    /// <summary>Their shape for embeddings of width <paramref name="dimension"/> and <paramref name="classes"/> classes.</summary>
    Shape ParameterShape(int dimension, int classes);

    /// <summary>
    /// Each class's vectors in <paramref name="parameters"/> (row-major, of <see cref="ParameterShape"/>): the directions
    /// the loss compares an embedding with by cosine (ArcFace's columns of W, Proxy Anchor's proxies). Class c gets K·D
    /// values, its K vectors one after another (K = 1 but for sub-centre ArcFace), so that a trained model classifies an
    /// embedding by its nearest class vector, as the loss's own logits do.
    /// </summary>
    double[][] ClassVectors(ReadOnlySpan<double> parameters, int dimension, int classes);

    /// <summary>
    /// True when the loss's logits rank classes by the cosine to <see cref="ClassVectors"/> alone, so that the
    /// largest cosine is its prediction; false when the vectors' lengths weigh in too (L-Softmax's ‖w_j‖), where a
    /// trained model is read off by class means instead.
    /// </summary>
    bool ClassifiesByCosine { get; }
}
