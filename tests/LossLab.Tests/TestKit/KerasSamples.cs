using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Tests.TestKit;

/// <summary>Contract samples of the Keras losses: every Keras reduction, and sample_weight in both accepted ranks.</summary>
internal static class KerasSamples
{
    public static IEnumerable<LossSampleSet> Sets()
    {
        yield return Set("KerasHinge", Binary, Scores);
        yield return Set("KerasSquaredHinge", Binary, Scores);
        yield return Set("KerasLogCosh", (r, n) => LossSamples.Normal(r, n), (r, n) => LossSamples.Normal(r, n));
        yield return Set("KerasMeanAbsolutePercentageError", (r, n) => LossSamples.Uniform(r, n, 1, 5), (r, n) => LossSamples.Uniform(r, n, 6, 9));
        yield return Set("KerasMeanSquaredLogarithmicError", (r, n) => LossSamples.Uniform(r, n, 0.1, 5), (r, n) => LossSamples.Uniform(r, n, 0.1, 5));
        yield return Set("KerasPoisson", (r, n) => LossSamples.Uniform(r, n, 0, 5), (r, n) => LossSamples.Uniform(r, n, 0.5, 4), extremes: [1e4f, 1e-30f, 30, 100]);
    }

    internal static double[] Binary(Random r, int n) => [.. Enumerable.Range(0, n).Select(_ => (double)r.Next(2))];

    internal static double[] Scores(Random r, int n) => LossSamples.Normal(r, n, 2);

    /// <param name="extremes">Four extreme predictions inside the loss's domain (default ±1e4, ±30).</param>
    internal static LossSampleSet Set(string name, Func<Random, int, double[]> yTrue, Func<Random, int, double[]> yPred, int rows = 3, int cols = 4, Dictionary<string, object?>? extra = null, float[]? extremes = null)
    {
        var samples = new List<LossSample>();
        var options = new List<Dictionary<string, object?>>
        {
            T.Opt(("reduction", "none")), T.Opt(("reduction", "sum_over_batch_size")), T.Opt(("reduction", "sum")),
            T.Opt(("sample_weight", T.D(0.5, 2.0, 1.0))), T.Opt(("reduction", "mean_with_sample_weight"), ("sample_weight", T.Shaped(new double[] { 1.5, 0.5, 1.0 }, 3, 1))),
        };
        foreach (var o in options)
        {
            var merged = new Dictionary<string, object?>(o);
            if (extra is not null) foreach (var kv in extra) merged[kv.Key] = kv.Value;
            samples.Add(new($"{name} {string.Join(" ", merged.Select(kv => $"{kv.Key}={(kv.Value is TensorData t ? t.Shape.ToString() : kv.Value)}"))}", merged,
                r => T.In(("y_true", T.Shaped(yTrue(r, rows * cols), rows, cols)), ("y_pred", T.Shaped(yPred(r, rows * cols), rows, cols)))));
        }
        return new LossSampleSet(name, samples,
            [LossSamples.ExtremeOf(extra ?? T.Opt(), ["y_pred"], ("y_true", T.Shaped(yTrue(new Random(1), 4).Select(v => (float)v).ToArray(), 2, 2)), ("y_pred", T.Shaped(extremes ?? [1e4f, -1e4f, 30, -30], 2, 2)))]);
    }
}
