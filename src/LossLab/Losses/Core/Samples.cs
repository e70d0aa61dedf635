namespace LossLab.Losses.Core;

/// <summary>
/// Random valid inputs for a loss (used by <c>losslab gradcheck</c> and by users exploring a loss): each
/// descriptor's <see cref="LossDescriptor.Sample"/> builds its inputs from these generators.
/// </summary>
public static class Samples
{
    public static TensorData Normal(Random r, Shape s, double scale = 1)
        => TensorData.Create(s, DType.Float64, Enumerable.Range(0, s.Numel).Select(_ => scale * Gaussian(r)).ToArray());

    public static TensorData Uniform(Random r, Shape s, double lo, double hi)
        => TensorData.Create(s, DType.Float64, Enumerable.Range(0, s.Numel).Select(_ => lo + (hi - lo) * r.NextDouble()).ToArray());

    /// <summary>±1 labels.</summary>
    public static TensorData Signs(Random r, Shape s)
        => TensorData.Create(s, DType.Float64, Enumerable.Range(0, s.Numel).Select(_ => r.Next(2) == 0 ? -1.0 : 1.0).ToArray());

    /// <summary>0/1 labels.</summary>
    public static TensorData Bernoulli(Random r, Shape s)
        => TensorData.Create(s, DType.Float64, Enumerable.Range(0, s.Numel).Select(_ => (double)r.Next(2)).ToArray());

    /// <summary>Counts 0..5 as floats (Poisson targets).</summary>
    public static TensorData Counts(Random r, Shape s)
        => TensorData.Create(s, DType.Float64, Enumerable.Range(0, s.Numel).Select(_ => (double)r.Next(6)).ToArray());

    /// <summary>Class indices in [0, classes).</summary>
    public static TensorData Classes(Random r, Shape s, int classes)
        => TensorData.Create(s, DType.Int64, Enumerable.Range(0, s.Numel).Select(_ => (long)r.Next(Math.Max(classes, 1))).ToArray());

    /// <summary>Probability vectors along the last axis (each row sums to 1); log-probabilities with <paramref name="log"/>.</summary>
    public static TensorData Simplex(Random r, Shape s, bool log = false)
    {
        int c = s.Rank == 0 ? 1 : s[s.Rank - 1];
        var v = new double[s.Numel];
        for (int row = 0; row < v.Length / Math.Max(c, 1); row++)
        {
            double[] e = Enumerable.Range(0, c).Select(_ => 0.05 + r.NextDouble()).ToArray();
            double sum = e.Sum();
            for (int k = 0; k < c; k++) v[row * c + k] = log ? Math.Log(e[k] / sum) : e[k] / sum;
        }
        return TensorData.Create(s, DType.Float64, v);
    }

    /// <summary>The given shape, or <paramref name="fallback"/> when none was given (rank 0).</summary>
    public static Shape Or(Shape s, params int[] fallback) => s.Rank == 0 ? new Shape(fallback) : s;

    private static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}
