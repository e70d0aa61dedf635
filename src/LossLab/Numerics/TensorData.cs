using System.Numerics;

namespace LossLab.Numerics;

/// <summary>
/// A contiguous, row-major block of numbers with a shape and an element type: the currency of the loss
/// contract. It owns no behaviour beyond conversion; losses read it through spans.
/// </summary>
public sealed class TensorData
{
    private TensorData(Shape shape, DType dtype, Array data)
    {
        if (data.Length != shape.Numel)
        {
            throw new ArgumentException($"shape {shape} needs {shape.Numel} elements but {data.Length} were given", nameof(data));
        }
        Shape = shape;
        DType = dtype;
        Data = data;
    }

    public Shape Shape { get; }

    public DType DType { get; }

    /// <summary>The backing array: <c>float[]</c>, <c>double[]</c>, <c>int[]</c> or <c>long[]</c>.</summary>
    public Array Data { get; }

    public int Length => Data.Length;

    public static TensorData FromArray(float[] data, params int[] shape) => new(ShapeOf(data.Length, shape), DType.Float32, data);

    public static TensorData FromArray(double[] data, params int[] shape) => new(ShapeOf(data.Length, shape), DType.Float64, data);

    public static TensorData FromArray(int[] data, params int[] shape) => new(ShapeOf(data.Length, shape), DType.Int32, data);

    public static TensorData FromArray(long[] data, params int[] shape) => new(ShapeOf(data.Length, shape), DType.Int64, data);

    public static TensorData Create(Shape shape, DType dtype, Array data) => new(shape, dtype, data);

    /// <summary>A zero-filled tensor.</summary>
    public static TensorData Zeros(Shape shape, DType dtype) => new(shape, dtype, dtype switch
    {
        DType.Float32 => new float[shape.Numel],
        DType.Float64 => new double[shape.Numel],
        DType.Int32 => new int[shape.Numel],
        _ => new long[shape.Numel],
    });

    public static TensorData Scalar(float value) => new(Shape.Scalar, DType.Float32, new[] { value });

    public static TensorData Scalar(double value) => new(Shape.Scalar, DType.Float64, new[] { value });

    /// <summary>The generic, allocation-free path: a span over the data when <typeparamref name="T"/> is the element type.</summary>
    public Span<T> AsSpan<T>() where T : struct
    {
        if (Data is T[] a) return a;
        throw new InvalidOperationException($"tensor of {DType.Name()} read as {typeof(T).Name}");
    }

    public double GetDouble(int index) => Data switch
    {
        float[] f => f[index],
        double[] d => d[index],
        int[] i => i[index],
        long[] l => l[index],
        _ => throw new InvalidOperationException(),
    };

    /// <summary>Elements converted to <typeparamref name="T"/> (the same array when no conversion is needed).</summary>
    public T[] ToArray<T>() where T : struct, INumberBase<T>
    {
        if (Data is T[] same) return same;
        var result = new T[Length];
        switch (Data)
        {
            case float[] f: for (int i = 0; i < f.Length; i++) result[i] = T.CreateTruncating(f[i]); break;
            case double[] d: for (int i = 0; i < d.Length; i++) result[i] = T.CreateTruncating(d[i]); break;
            case int[] n: for (int i = 0; i < n.Length; i++) result[i] = T.CreateTruncating(n[i]); break;
            case long[] l: for (int i = 0; i < l.Length; i++) result[i] = T.CreateTruncating(l[i]); break;
        }
        return result;
    }

    /// <summary>A copy converted to another element type (or this tensor when it already has it).</summary>
    public TensorData ToDType(DType dtype) => dtype == DType ? this : dtype switch
    {
        DType.Float32 => new(Shape, dtype, ToArray<float>()),
        DType.Float64 => new(Shape, dtype, ToArray<double>()),
        DType.Int32 => new(Shape, dtype, ToArray<int>()),
        _ => new(Shape, dtype, ToArray<long>()),
    };

    /// <summary>The same data viewed with another shape of equal element count.</summary>
    public TensorData Reshape(Shape shape) => new(shape, DType, Data);

    /// <summary>
    /// The elements repeated to <paramref name="target"/> under NumPy broadcasting (trailing dims aligned, size-1
    /// dims stretched). Returns null when the shapes are incompatible or the result would be larger than the target.
    /// </summary>
    public T[]? BroadcastTo<T>(Shape target) where T : struct, INumberBase<T>
    {
        T[] src = ToArray<T>();
        if (Shape == target) return src;
        if (Shape.Rank > target.Rank) return null;
        int offset = target.Rank - Shape.Rank;
        var strides = new int[target.Rank];
        int stride = 1;
        for (int i = Shape.Rank - 1; i >= 0; i--)
        {
            int d = Shape.Dims[i], t = target.Dims[i + offset];
            if (d != t && d != 1) return null;
            strides[i + offset] = d == 1 ? 0 : stride;
            stride *= d;
        }
        var result = new T[target.Numel];
        var index = new int[target.Rank];
        for (int flat = 0; flat < result.Length; flat++)
        {
            int s = 0;
            for (int a = 0; a < index.Length; a++) s += index[a] * strides[a];
            result[flat] = src[s];
            for (int a = index.Length - 1; a >= 0; a--)
            {
                if (++index[a] < target.Dims[a]) break;
                index[a] = 0;
            }
        }
        return result;
    }

    public override string ToString() => $"TensorData({DType.Name()}, {Shape})";

    private static Shape ShapeOf(int length, int[] shape) => shape.Length == 0 && length != 1 ? new Shape(length) : new Shape(shape);
}
