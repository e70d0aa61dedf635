using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// PyTorch's layout of class scores: input (C) unbatched, (N, C), or (N, C, d1..dk) with the class dim at 1.
/// Rows r = n·S + s (S = d1·…·dk) index the per-element losses; class c of row r sits at n·C·S + c·S + s.
/// </summary>
internal readonly record struct ClassLayout(int N, int C, int S, Shape RowShape)
{
    public int Rows => N * S;

    /// <summary>Flat offset of class 0 of row r; classes are <see cref="S"/> apart.</summary>
    public int Offset(int row) => (row / S) * C * S + (row % S);

    public static ClassLayout Of(string loss, Shape input)
    {
        if (input.Rank == 0)
        {
            throw LossArgumentException.Shape($"{loss}: 'input' must have a class dimension: shape (C), (N, C) or (N, C, d1, ...), got ()");
        }
        if (input.Rank == 1) return new(1, input[0], 1, Shape.Scalar);
        return new(input[0], input[1], input.Product(2, input.Rank), input.WithoutAxis(1));
    }

    /// <summary>Checks a class-index target against the layout: shape (N, d1..dk), or () for an unbatched input.</summary>
    public void RequireIndexTarget(string loss, Shape input, Shape target, string inputName = "input", string targetName = "target")
    {
        if (target != RowShape)
        {
            throw LossArgumentException.Shape(
                $"{loss}: class-index '{targetName}' has shape {target} but '{inputName}' {input} needs {RowShape} (the input's shape without the class dim {(input.Rank == 1 ? 0 : 1)})");
        }
    }

    /// <summary>Class weights must be a vector of length C.</summary>
    public T[]? ClassWeights<T>(string loss, TensorData? weight) where T : struct, System.Numerics.INumberBase<T>
    {
        if (weight is null) return null;
        if (weight.Shape.Rank != 1 || weight.Shape[0] != C)
        {
            throw LossArgumentException.Shape($"{loss}: 'weight' has shape {weight.Shape}; expected one weight per class: ({C},)");
        }
        return weight.ToArray<T>();
    }

    /// <summary>
    /// Rejects an index outside [0, C) that is not the ignore index; names the position and the value. ignoreIndex is
    /// long.MinValue when the loss has none (then the message does not mention it).
    /// </summary>
    public void CheckIndex(string loss, long t, long ignoreIndex, int row, string targetName = "target")
    {
        if (t != ignoreIndex && (t < 0 || t >= C))
        {
            string ignore = ignoreIndex == long.MinValue ? "" : $" (or ignore_index {ignoreIndex})";
            throw LossArgumentException.Value(
                $"{loss}: {targetName} {t} at position {row} is out of range: class indices must be in [0, {C - 1}]{ignore}");
        }
    }
}
