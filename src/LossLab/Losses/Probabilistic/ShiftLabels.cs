using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Probabilistic;

/// <summary>
/// Liger-Kernel's optional <c>shift_labels</c> (BT) beside a (BT, V) input: rows whose label equals ignore_index count
/// for nothing (its TVD and JSD losses).
/// </summary>
internal static class ShiftLabels
{
    /// <summary>Which of the <paramref name="rows"/> rows count: all without labels, else those whose label is not ignore_index.</summary>
    internal static bool[] Counted(LossInputs inputs, int rows, long ignoreIndex, string lossName, Shape inputShape)
    {
        bool[] counted = [.. Enumerable.Repeat(true, rows)];
        if (!inputs.Contains("shift_labels")) return counted;
        Shape ls = inputs["shift_labels"].Shape;
        if (ls != new Shape(rows)) throw LossArgumentException.Shape($"{lossName}: 'shift_labels' has shape {ls}; expected {new Shape(rows)}, one per row of {inputShape}");
        long[] labels = inputs.Indices("shift_labels");
        for (int i = 0; i < rows; i++) counted[i] = labels[i] != ignoreIndex;
        return counted;
    }
}
