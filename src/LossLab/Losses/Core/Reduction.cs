using System.Numerics;

namespace LossLab.Losses.Core;

/// <summary>How per-element losses become the returned value (PyTorch's <c>reduction</c> argument).</summary>
public enum Reduction
{
    /// <summary>Return every per-element loss, with the shape the loss documents.</summary>
    None,
    /// <summary>Σℓ / denominator; the denominator is numel unless the loss documents another (weighted CE/NLL: Σ w[target]).</summary>
    Mean,
    /// <summary>Σℓ.</summary>
    Sum,
    /// <summary>Σℓ / input.size(0) (KL divergence only; the true KL per sample).</summary>
    BatchMean,
}

/// <summary>
/// The one shared reduction step. Every PyTorch reduction is linear with a uniform coefficient, so its backward is
/// a single scale: d(reduced)/dℓᵢ = 1 for none and sum, 1/denominator for mean. Losses compute their per-element
/// gradients and multiply by <see cref="Reduced.Scale"/> once.
/// </summary>
public static class Reducer
{
    /// <summary>The reduced value (accumulated in double) and the factor every element's gradient is multiplied by.</summary>
    public readonly record struct Reduced(double Value, double Scale);

    /// <summary>
    /// Reduces <paramref name="perElement"/>. For <see cref="Reduction.Mean"/> and <see cref="Reduction.BatchMean"/>
    /// the caller passes the denominator (numel, Σ weights, or the batch size); 0/0 gives NaN as in PyTorch, and the
    /// scale is then infinite, which callers must keep away from elements whose local gradient is masked.
    /// For <see cref="Reduction.None"/> the value is NaN and unused.
    /// </summary>
    public static Reduced Reduce<T>(ReadOnlySpan<T> perElement, Reduction reduction, double denominator)
        where T : struct, IFloatingPointIeee754<T>
    {
        if (reduction == Reduction.None) return new(double.NaN, 1.0);
        double sum = Sum(perElement);
        return reduction == Reduction.Sum ? new(sum, 1.0) : new(sum / denominator, Scale(reduction, denominator));
    }

    /// <summary>
    /// The factor every element's gradient is multiplied by, known before the elements are: 1 for none and sum,
    /// 1/denominator for mean and batchmean. For losses that write each row's gradient in the loop that computes its value.
    /// </summary>
    public static double Scale(Reduction reduction, double denominator)
        => reduction is Reduction.None or Reduction.Sum ? 1.0 : 1.0 / denominator;

    /// <summary>Σ of the span in double with Neumaier compensation, so long float32 sums keep their digits.</summary>
    public static double Sum<T>(ReadOnlySpan<T> values) where T : struct, IFloatingPointIeee754<T>
    {
        double sum = 0, c = 0;
        foreach (T v in values)
        {
            double x = double.CreateTruncating(v);
            double t = sum + x;
            c += Math.Abs(sum) >= Math.Abs(x) ? (sum - t) + x : (x - t) + sum;
            sum = t;
        }
        double r = sum + c;
        return double.IsNaN(r) && !double.IsNaN(sum) ? sum : r;
    }

    /// <summary>Parses PyTorch's spelling (<c>none</c>, <c>mean</c>, <c>sum</c>, <c>batchmean</c>).</summary>
    public static Reduction Parse(string text) => text switch
    {
        "none" => Reduction.None,
        "mean" => Reduction.Mean,
        "sum" => Reduction.Sum,
        "batchmean" => Reduction.BatchMean,
        _ => throw LossArgumentException.Value($"reduction '{text}' is not one of none, mean, sum, batchmean"),
    };

    public static string Name(this Reduction r) => r switch
    {
        Reduction.None => "none",
        Reduction.Mean => "mean",
        Reduction.Sum => "sum",
        _ => "batchmean",
    };
}
