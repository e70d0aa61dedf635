using System.Numerics;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Label checks of the binary losses that take labels as floats: Optax's hinge and perceptron losses say "targets
/// strictly in {−1, 1}", its sparsemax loss "0 or 1", and neither checks. A 0/1 label given to a ±1 loss would silently
/// give a constant loss and a zero gradient, so LossLab names the first offending label instead.
/// </summary>
internal static class BinaryLabels
{
    /// <summary>Every label is −1 or +1.</summary>
    public static void RequireSigns<T>(string loss, string input, T[] labels) where T : struct, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] != T.One && labels[i] != -T.One)
                throw LossArgumentException.Value($"{loss}: '{input}' holds labels −1 or +1; {input}[{i}] = {labels[i]} (for 0/1 labels use 2y − 1)");
        }
    }

    /// <summary>Every label is 0 or 1.</summary>
    public static void RequireZeroOne<T>(string loss, string input, T[] labels) where T : struct, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] != T.Zero && labels[i] != T.One)
                throw LossArgumentException.Value($"{loss}: '{input}' holds labels 0 or 1; {input}[{i}] = {labels[i]} (for ±1 labels use (y + 1)/2)");
        }
    }

    /// <summary>
    /// Every label is 0 or 1, or −1 or +1 (ML.NET's convention, label &gt; 0 is positive, read both ways); anything else,
    /// which ML.NET would silently call positive (0.5) or negative (NaN), is an error.
    /// </summary>
    public static void RequireZeroOneOrSigns<T>(string loss, string input, T[] labels) where T : struct, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] != T.Zero && labels[i] != T.One && labels[i] != -T.One)
                throw LossArgumentException.Value($"{loss}: '{input}' holds labels 0 or 1 (or −1 or +1; above 0 is positive); {input}[{i}] = {labels[i]}");
        }
    }

    /// <summary>ML.NET's reading of a label: +1 above 0, −1 otherwise.</summary>
    public static T Truth<T>(T y) where T : struct, IFloatingPointIeee754<T> => y > T.Zero ? T.One : -T.One;
}
