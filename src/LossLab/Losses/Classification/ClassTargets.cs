using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// The one-label-per-row targets of the dlordinal losses (per-class MSE, MCE + kappa, ordinal ECOC, SLACE): the
/// <c>target</c> input checked to hold N class indices in [0, K), and the optional per-class weights to hold K.
/// </summary>
internal static class ClassTargets
{
    /// <summary>The N labels of <c>target</c>, shape (N) (or (N, 1) when <paramref name="columnToo"/>), each in [0, classes).</summary>
    public static long[] Read(LossInputs inputs, string loss, int n, int classes, bool columnToo = false)
    {
        Shape ts = inputs["target"].Shape;
        if (ts != new Shape(n) && !(columnToo && ts == new Shape(n, 1)))
            throw LossArgumentException.Shape($"{loss}: 'target' has shape {ts}; expected ({n}){(columnToo ? $" or ({n}, 1)" : "")}, one class per row of 'input'");
        long[] y = inputs.Indices("target");
        for (int i = 0; i < n; i++)
            if (y[i] < 0 || y[i] >= classes) throw LossArgumentException.Value($"{loss}: target {y[i]} at position {i} is not a class in [0, {classes - 1}]");
        return y;
    }

    /// <summary>Checks that per-class weights (when given) hold one entry per class.</summary>
    public static void RequireWeights(double[]? weights, string loss, string option, Shape input, int classes)
    {
        if (weights is not null && weights.Length != classes)
            throw LossArgumentException.Shape($"{loss}: {option} has {weights.Length} entries but 'input' {input} gives {classes} classes");
    }
}
