using System.Globalization;
using LossLab.Numerics;

namespace LossLab.Autograd;

/// <summary>
/// A contiguous row-major tensor that records the operations that made it, so that <see cref="Backward"/> can
/// compute gradients by reverse-mode differentiation. Values are stored in double; a float32 tensor rounds every
/// result to float32 (correctly rounded for + − × ÷ √, more accurate than MathF for the transcendental functions).
/// </summary>
/// <remarks>
/// There is no global state: a graph lives in the tensors that reference it, so two models can train on two threads.
/// Gradients accumulate into <see cref="Grad"/> across calls to <see cref="Backward"/> until <see cref="ZeroGrad"/>.
/// </remarks>
public sealed class Tensor
{
    internal Tensor(double[] data, Shape shape, DType dtype, bool requiresGrad, Node? node)
    {
        if (data.Length != shape.Numel) throw new ArgumentException($"shape {shape} needs {shape.Numel} values, got {data.Length}", nameof(data));
        if (!dtype.IsFloating()) throw new ArgumentException($"autograd tensors are float32 or float64, not {dtype.Name()}", nameof(dtype));
        if (dtype == DType.Float32)
        {
            for (int i = 0; i < data.Length; i++) data[i] = (float)data[i];
        }
        Data = data;
        Shape = shape;
        DType = dtype;
        Node = node;
        RequiresGrad = requiresGrad || node is not null;
    }

    public Shape Shape { get; }

    public DType DType { get; }

    /// <summary>True for leaves created with requiresGrad and for every result of an operation on such tensors.</summary>
    public bool RequiresGrad { get; }

    /// <summary>The accumulated gradient of the last <see cref="Backward"/> calls (leaves only), or null.</summary>
    public Tensor? Grad { get; private set; }

    /// <summary>An optional label used in messages (the expression language sets input names).</summary>
    public string? Name { get; init; }

    /// <summary>True when the values came from an integer tensor (class indices, lengths); never differentiated.</summary>
    public bool IsIntegral { get; init; }

    internal double[] Data { get; }

    internal Node? Node { get; }

    /// <summary>Makes a tensor from an operation outside <see cref="Ops"/> (the catalog's fused loss nodes).</summary>
    internal static Tensor FromOperation(double[] data, Shape shape, DType dtype, Tensor[] inputs, Func<double[], double[]?[]> backward)
        => Ops.Make(data, shape, dtype, inputs, backward);

    public int Length => Data.Length;

    public bool IsLeaf => Node is null;

    // ---------------------------------------------------------------- construction

    public static Tensor FromArray(double[] values, int[] shape, DType dtype = DType.Float64, bool requiresGrad = false)
        => new((double[])values.Clone(), new Shape(shape), dtype, requiresGrad, null);

    public static Tensor FromArray(float[] values, params int[] shape)
        => new(Array.ConvertAll(values, v => (double)v), new Shape(shape.Length == 0 ? [values.Length] : shape), DType.Float32, false, null);

    public static Tensor Scalar(double value, DType dtype = DType.Float64, bool requiresGrad = false) => new([value], Shape.Scalar, dtype, requiresGrad, null);

    public static Tensor Zeros(Shape shape, DType dtype = DType.Float64) => new(new double[shape.Numel], shape, dtype, false, null);

    /// <summary>A tensor with the values of <paramref name="data"/> (integers become floats of <paramref name="dtype"/>).</summary>
    public static Tensor FromData(TensorData data, bool requiresGrad = false, DType? dtype = null)
        => new((double[])data.ToArray<double>().Clone(), data.Shape, dtype ?? (data.DType.IsFloating() ? data.DType : DType.Float32), requiresGrad && data.DType.IsFloating(), null)
        {
            IsIntegral = !data.DType.IsFloating(),
        };

    /// <summary>A copy of the values as <see cref="TensorData"/> of this tensor's type (int64 for integral tensors).</summary>
    public TensorData ToData() => IsIntegral
        ? TensorData.Create(Shape, DType.Int64, Array.ConvertAll(Data, v => (long)v))
        : DType == DType.Float32
        ? TensorData.Create(Shape, DType.Float32, Array.ConvertAll(Data, v => (float)v))
        : TensorData.Create(Shape, DType.Float64, (double[])Data.Clone());

    /// <summary>A copy of the values.</summary>
    public double[] ToArray() => (double[])Data.Clone();

    /// <summary>The value of a one-element tensor.</summary>
    public double Item() => Data.Length == 1 ? Data[0] : throw new InvalidOperationException($"Item() needs one element; the tensor has shape {Shape}");

    /// <summary>The same values, cut from the graph.</summary>
    public Tensor Detach() => new((double[])Data.Clone(), Shape, DType, false, null);

    // ---------------------------------------------------------------- backward

    /// <summary>
    /// Back-propagates from this tensor: topological sort of the graph, then a reverse sweep applying each
    /// operation's backward rule. The seed is 1 for a one-element tensor; otherwise pass <paramref name="gradient"/>
    /// (e.g. ones for the gradient of the sum). Leaf gradients accumulate into <see cref="Grad"/>.
    /// </summary>
    public void Backward(Tensor? gradient = null)
    {
        if (!RequiresGrad) throw new InvalidOperationException("Backward() on a tensor that does not require gradients (no input has requiresGrad: true)");
        double[] seed;
        if (gradient is null)
        {
            if (Length != 1) throw new InvalidOperationException($"Backward() without a gradient needs a one-element tensor; this one has shape {Shape} (pass ones for the gradient of the sum)");
            seed = [1.0];
        }
        else
        {
            if (gradient.Shape != Shape) throw new ArgumentException($"gradient shape {gradient.Shape} does not match the tensor's shape {Shape}", nameof(gradient));
            seed = (double[])gradient.Data.Clone();
        }

        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor T, bool Expanded)>();
        stack.Push((this, false));
        while (stack.Count > 0)
        {
            var (t, expanded) = stack.Pop();
            if (expanded) { order.Add(t); continue; }
            if (!visited.Add(t)) continue;
            stack.Push((t, true));
            if (t.Node is null) continue;
            foreach (Tensor parent in t.Node.Inputs)
            {
                if (parent.RequiresGrad && !visited.Contains(parent)) stack.Push((parent, false));
            }
        }

        var grads = new Dictionary<Tensor, double[]>(ReferenceEqualityComparer.Instance) { [this] = seed };
        for (int k = order.Count - 1; k >= 0; k--)
        {
            Tensor t = order[k];
            if (!grads.TryGetValue(t, out double[]? g)) continue;
            if (t.Node is null)
            {
                t.Accumulate(g);
                continue;
            }
            double[]?[] parentGrads = t.Node.Backward(g);
            for (int i = 0; i < t.Node.Inputs.Length; i++)
            {
                Tensor parent = t.Node.Inputs[i];
                double[]? pg = parentGrads[i];
                if (pg is null || !parent.RequiresGrad) continue;
                if (grads.TryGetValue(parent, out double[]? existing))
                {
                    for (int j = 0; j < pg.Length; j++) existing[j] += pg[j];
                }
                else
                {
                    grads[parent] = (double[])pg.Clone();
                }
            }
        }
    }

    /// <summary>Overwrites the values in place (optimizer steps on parameters); float32 tensors round.</summary>
    public void Assign(ReadOnlySpan<double> values)
    {
        if (values.Length != Data.Length) throw new ArgumentException($"{values.Length} values for a tensor of shape {Shape}", nameof(values));
        if (Node is not null) throw new InvalidOperationException("only leaf tensors (parameters) can be assigned");
        for (int i = 0; i < values.Length; i++) Data[i] = DType == DType.Float32 ? (float)values[i] : values[i];
    }

    /// <summary>A read-only view of the values.</summary>
    public ReadOnlySpan<double> Values => Data;

    /// <summary>Resets the accumulated gradient.</summary>
    public void ZeroGrad() => Grad = null;

    private void Accumulate(double[] g)
    {
        if (Grad is null)
        {
            Grad = new Tensor((double[])g.Clone(), Shape, DType, false, null);
            return;
        }
        for (int i = 0; i < g.Length; i++) Grad.Data[i] += g[i];
        if (DType == DType.Float32)
        {
            for (int i = 0; i < g.Length; i++) Grad.Data[i] = (float)Grad.Data[i];
        }
    }

    // ---------------------------------------------------------------- operators

    public static Tensor operator +(Tensor a, Tensor b) => Ops.Add(a, b);

    public static Tensor operator -(Tensor a, Tensor b) => Ops.Sub(a, b);

    public static Tensor operator *(Tensor a, Tensor b) => Ops.Mul(a, b);

    public static Tensor operator /(Tensor a, Tensor b) => Ops.Div(a, b);

    public static Tensor operator -(Tensor a) => Ops.Neg(a);

    public static Tensor operator +(Tensor a, double b) => Ops.Add(a, a.Constant(b));

    public static Tensor operator +(double a, Tensor b) => Ops.Add(b.Constant(a), b);

    public static Tensor operator -(Tensor a, double b) => Ops.Sub(a, a.Constant(b));

    public static Tensor operator -(double a, Tensor b) => Ops.Sub(b.Constant(a), b);

    public static Tensor operator *(Tensor a, double b) => Ops.Mul(a, a.Constant(b));

    public static Tensor operator *(double a, Tensor b) => Ops.Mul(b.Constant(a), b);

    public static Tensor operator /(Tensor a, double b) => Ops.Div(a, a.Constant(b));

    public static Tensor operator /(double a, Tensor b) => Ops.Div(b.Constant(a), b);

    /// <summary>A constant scalar of this tensor's type.</summary>
    public Tensor Constant(double value) => Scalar(value, DType);

    public override string ToString()
    {
        string values = string.Join(", ", Data.Take(8).Select(v => v.ToString("G6", CultureInfo.InvariantCulture)));
        return $"Tensor({DType.Name()}, {Shape}, [{values}{(Data.Length > 8 ? ", …" : "")}])";
    }
}

/// <summary>How a tensor was made: its inputs and the rule that maps the output's gradient to theirs.</summary>
internal sealed class Node(Tensor[] inputs, Func<double[], double[]?[]> backward)
{
    public Tensor[] Inputs { get; } = inputs;

    /// <summary>Given ∂L/∂output, returns ∂L/∂input for each input (null where an input gets none).</summary>
    public Func<double[], double[]?[]> Backward { get; } = backward;
}
