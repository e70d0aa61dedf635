using LossLab.Losses.Core;

namespace LossLab.Losses.Fused;

/// <summary>
/// Negative log-likelihood of float32 log-probabilities (N, C) against class indices (N), value and gradient in one
/// pass: PyTorch's <c>nll_loss</c> with class weights and <c>ignore_index</c>.
/// </summary>
/// <remarks>
/// ℓ_r = −w_y·x_{r,y}; ∂ℓ/∂x_{r,j} = −scale·w_y·[j = y]. <c>Mean</c> divides by Σ w_y over counted rows (all rows
/// ignored: NaN value, zero gradient), as <see cref="Classification.NllLoss"/>. The gradient is zero except one entry
/// per row, so the pass over memory is a vectorized clear (<see cref="Span{T}.Clear"/>) plus one store per row, and the
/// value reads one element per row. −∞ log-probabilities (probability 0) are valid input; nothing is allocated.
/// </remarks>
public static class FusedNll
{
    public static double Compute(
        ReadOnlySpan<float> logProbs, ReadOnlySpan<int> targets, int classes, Span<float> gradient,
        Reduction reduction = Reduction.Mean, ReadOnlySpan<float> classWeights = default, int ignoreIndex = -100, Span<float> rowLosses = default)
    {
        int rows = targets.Length;
        ClassRows.CheckShapes("FusedNll", "log-probabilities", logProbs.Length, rows, classes, gradient.Length, reduction, classWeights.Length, rowLosses.Length);
        double denominator = ClassRows.Denominator("FusedNll", targets, classes, ignoreIndex, classWeights), total = 0;
        if (rows == 0) return reduction == Reduction.Mean ? double.NaN : 0;
        double scale = reduction == Reduction.Mean ? 1 / denominator : 1;
        gradient.Clear();
        for (int r = 0; r < rows; r++)
        {
            int t = targets[r];
            double loss = 0;
            if (t != ignoreIndex)
            {
                double w = classWeights.IsEmpty ? 1 : classWeights[t];
                loss = -w * logProbs[r * classes + t];
                if (!gradient.IsEmpty) gradient[r * classes + t] = (float)(-scale * w);
            }
            if (!rowLosses.IsEmpty) rowLosses[r] = (float)loss;
            total += loss;
        }
        return reduction == Reduction.Mean ? total / denominator : total;
    }
}
