namespace LossLab.Numerics;

/// <summary>Element type of a <see cref="TensorData"/>.</summary>
public enum DType
{
    Float32,
    Float64,
    Int32,
    Int64,
}

public static class DTypeExtensions
{
    public static bool IsFloating(this DType t) => t is DType.Float32 or DType.Float64;

    /// <summary>PyTorch spelling (<c>float32</c>, <c>int64</c>...), used in messages and JSON.</summary>
    public static string Name(this DType t) => t switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.Int32 => "int32",
        DType.Int64 => "int64",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };
}
