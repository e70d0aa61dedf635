using LossLab.Losses.Core;

namespace LossLab.Losses.Fused;

/// <summary>
/// The argument checks shared by the row kernels over (N, C) scores with class-index targets (fused cross-entropy,
/// NLL, linear + cross-entropy): one message per mistake, naming the offending size or index.
/// </summary>
internal static class ClassRows
{
    /// <summary>Sizes of scores, gradient, class weights and per-row losses, and the reduction.</summary>
    public static void CheckShapes(string loss, string scores, int values, int rows, int classes, int gradient, Reduction reduction, int weights, int rowLosses)
    {
        if (classes <= 0) throw LossArgumentException.Value($"{loss}: classes must be ≥ 1, got {classes}");
        if ((long)rows * classes != values)
        {
            throw LossArgumentException.Shape($"{loss}: {scores} have {values} values but targets ({rows}) × classes ({classes}) = {(long)rows * classes}");
        }
        if (gradient != 0 && gradient != values)
        {
            throw LossArgumentException.Shape($"{loss}: gradient has {gradient} values; it must be empty or match the {scores} ({values})");
        }
        if (weights != 0 && weights != classes)
        {
            throw LossArgumentException.Shape($"{loss}: class weights have {weights} values; expected {classes} (one per class)");
        }
        if (reduction is not (Reduction.Mean or Reduction.Sum or Reduction.None))
        {
            throw LossArgumentException.Value($"{loss}: reduction {reduction} is not supported (none, mean or sum)");
        }
        if (rowLosses != 0 && rowLosses != rows) throw LossArgumentException.Shape($"{loss}: rowLosses has {rowLosses} values; expected {rows}");
        if (reduction == Reduction.None && rowLosses == 0 && rows > 0) throw LossArgumentException.Shape($"{loss}: reduction none needs a rowLosses span of one value per row");
    }

    /// <summary>
    /// Checks that every target is a class index in [0, C) or <paramref name="ignoreIndex"/> (naming the first that is
    /// neither) and returns the mean's denominator: Σ w_y over counted rows, or their count without weights.
    /// </summary>
    public static double Denominator(string loss, ReadOnlySpan<int> targets, int classes, int ignoreIndex, ReadOnlySpan<float> classWeights)
    {
        double denominator = 0;
        for (int r = 0; r < targets.Length; r++)
        {
            int t = targets[r];
            if (t == ignoreIndex) continue;
            if ((uint)t >= (uint)classes)
            {
                throw LossArgumentException.Value($"{loss}: targets[{r}] = {t} is not a class index in [0, {classes}) nor ignore_index {ignoreIndex}");
            }
            denominator += classWeights.IsEmpty ? 1 : classWeights[t];
        }
        return denominator;
    }
}
