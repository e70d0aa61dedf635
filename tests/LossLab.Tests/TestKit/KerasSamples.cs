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
        yield return Set("KerasBinaryFocalCrossentropy", Binary, (r, n) => LossSamples.Uniform(r, n, 0.05, 0.95),
            extra: T.Opt(("apply_class_balancing", true), ("alpha", 0.3), ("gamma", 1.5), ("label_smoothing", 0.1)), extremes: [1f, 0f, 1e-30f, 0.9999999f]);
        yield return Set("KerasCategoricalFocalCrossentropy", OneHotRows, SimplexRows, extra: T.Opt(("alpha", 0.4), ("gamma", 1.5), ("label_smoothing", 0.1)), extremes: [1f, 0f, 1e-30f, 1f]);
        yield return Set("KerasCategoricalHinge", OneHotRows, Scores);
        yield return Set("KerasCosineSimilarity", (r, n) => LossSamples.Normal(r, n), (r, n) => LossSamples.Normal(r, n));
        // axis = 1 gives one Dice/Tversky value per row, so every reduction and sample_weight applies.
        yield return Set("KerasDice", (r, n) => LossSamples.Uniform(r, n, 0, 1), (r, n) => LossSamples.Uniform(r, n, 0.05, 0.95), extra: T.Opt(("axis", T.D(1.0))), extremes: [1f, 0f, 1e-30f, 1f]);
        yield return Set("KerasTversky", (r, n) => LossSamples.Uniform(r, n, 0, 1), (r, n) => LossSamples.Uniform(r, n, 0.05, 0.95),
            extra: T.Opt(("axis", T.D(1.0)), ("alpha", 0.3), ("beta", 0.7)), extremes: [1f, 0f, 1e-30f, 1f]);
        yield return Set("KerasIoU", (r, n) => LossSamples.Uniform(r, n, 0, 1), (r, n) => LossSamples.Uniform(r, n, 0.05, 0.95), extra: T.Opt(("axis", T.D(1.0))), extremes: [1f, 0f, 1e-30f, 1f]);
        yield return Set("KerasMeanSquaredError", (r, n) => LossSamples.Normal(r, n), (r, n) => LossSamples.Normal(r, n));
        yield return Set("KerasMeanAbsoluteError", (r, n) => LossSamples.Normal(r, n), (r, n) => LossSamples.Normal(r, n));
        yield return Set("KerasHuber", (r, n) => LossSamples.Normal(r, n, 2), (r, n) => LossSamples.Normal(r, n, 2), extra: T.Opt(("delta", 0.8)));
        yield return Merge(
            Set("KerasBinaryCrossentropy", Binary, (r, n) => LossSamples.Uniform(r, n, 0.05, 0.95), extra: T.Opt(("label_smoothing", 0.1)), extremes: [1f, 0f, 1e-30f, 0.9999999f]),
            Set("KerasBinaryCrossentropy", Binary, Scores, extra: T.Opt(("from_logits", true), ("label_smoothing", 0.2))));
        yield return Merge(
            Set("KerasCategoricalCrossentropy", OneHotRows, SimplexRows, extra: T.Opt(("label_smoothing", 0.1)), extremes: [1f, 0f, 1e-30f, 1f]),
            Set("KerasCategoricalCrossentropy", SimplexRows, Scores, extra: T.Opt(("from_logits", true), ("label_smoothing", 0.2))));
        yield return Set("KerasKLDivergence", SimplexRows, SimplexRows, extremes: [1f, 0f, 1e-30f, 1f]);
        yield return Distillation("KerasLogitsDistillation", "teacher_logits", "student_logits",
            [T.Opt(), T.Opt(("temperature", 1.0)), T.Opt(("temperature", 5.0), ("loss", "kld")), T.Opt(("loss", "mse")), T.Opt(("loss", "cosine_similarity"), ("temperature", 2.0))]);
        yield return Distillation("KerasFeatureDistillation", "teacher_features", "student_features",
            [T.Opt(), T.Opt(("loss", "mae")), T.Opt(("loss", "kl_divergence")), T.Opt(("loss", "log_cosh"))]);
        yield return Sparse();
        yield return GeneralizedCrossEntropy();
        yield return Circle();
        yield return Ctc();
    }

    /// <summary>A distillation loss's two same-shape inputs (3, 4) under several Keras losses; extremes up to 1e4.</summary>
    private static LossSampleSet Distillation(string name, string teacher, string student, Dictionary<string, object?>[] options)
    {
        LossInputs Make(Random r) => LossRegistry.Default.Get(name).Sample!(r, Shape.Scalar);
        var samples = options.Select((o, i) => new LossSample($"{name} {string.Join(" ", o.Values)} #{i}", o, Make)).ToList();
        return new(name, samples, [LossSamples.ExtremeOf(T.Opt(), ((string, TensorData))(teacher, T.Shaped(new float[] { 1e4f, -1e4f, 0, 30, 100, -100, 5, 1e-30f }, 2, 4)),
            (student, T.Shaped(new float[] { -1e4f, 1e4f, 30, 0, 1e-30f, 5, -100, 100 }, 2, 4)))]) { PlainMean = false };
    }

    /// <summary>Right-padded labels (2, 3) over classes 1..3 against logits (2, 9, 4); one target has a repeat.</summary>
    private static LossSampleSet Ctc()
    {
        const string name = "KerasCtc";
        LossInputs Make(Random r) => T.In(("y_true", T.Shaped(new long[] { 1, 1, 2, 3, 0, 0 }, 2, 3)), ("y_pred", T.Shaped(LossSamples.Normal(r, 72, 2), 2, 9, 4)));
        Dictionary<string, object?>[] options =
        [
            T.Opt(), T.Opt(("reduction", "none")), T.Opt(("reduction", "sum")), T.Opt(("sample_weight", T.D(0.5, 2.0))),
            T.Opt(("reduction", "mean_with_sample_weight"), ("sample_weight", T.Shaped(new double[] { 1.5, 0.5 }, 2, 1))),
        ];
        var samples = options.Select((o, i) => new LossSample($"{name} {string.Join(" ", o.Keys)} #{i}", o, Make)).ToList();
        float[] extreme = [.. Enumerable.Range(0, 36).Select(i => i % 3 == 0 ? 1e4f : i % 3 == 1 ? -1e4f : 30f)];
        return new(name, samples, [LossSamples.ExtremeOf(T.Opt(), ["y_pred"], ("y_true", T.Shaped(new long[] { 2, 0 }, 1, 2)), ("y_pred", T.Shaped(extreme, 1, 9, 4)))]);
    }

    /// <summary>Labels (4,) against (4, 3) probabilities or logits; label 1 doubles as ignore_class in two samples.</summary>
    private static LossSampleSet Sparse()
    {
        const string name = "KerasSparseCategoricalCrossentropy";
        LossInputs Make(Random r, bool logits, bool trailingOne)
        {
            long[] labels = [0, 1, 2, r.Next(3)];
            double[] pred = logits ? LossSamples.Normal(r, 12, 2) : LossSamples.Uniform(r, 12, 0.2, 1);
            return T.In(("y_true", trailingOne ? T.Shaped(labels, 4, 1) : T.Shaped(labels, 4)), ("y_pred", T.Shaped(pred, 4, 3)));
        }
        Dictionary<string, object?>[] options =
        [
            T.Opt(("reduction", "none")), T.Opt(("reduction", "sum")), T.Opt(("sample_weight", T.D(0.5, 2.0, 1.0, 1.5))),
            T.Opt(("from_logits", true)), T.Opt(("from_logits", true), ("ignore_class", 1L)),
            T.Opt(("ignore_class", 1L), ("reduction", "mean_with_sample_weight"), ("sample_weight", T.D(0.5, 2.0, 1.0, 1.5))),
        ];
        var samples = options.Select((o, i) => new LossSample($"{name} {string.Join(" ", o.Keys)} #{i}", o, r => Make(r, o.ContainsKey("from_logits"), i % 2 == 1))).ToList();
        return new(name, samples,
        [
            LossSamples.ExtremeOf(T.Opt(("from_logits", true)), ["y_pred"], ("y_true", T.I(0, 2)), ("y_pred", T.Shaped(new float[] { 1e4f, -1e4f, 30, -30, 0, 100 }, 2, 3))),
            LossSamples.ExtremeOf(T.Opt(), ["y_pred"], ("y_true", T.I(0, 2)), ("y_pred", T.Shaped(new float[] { 1, 0, 1e-30f, 0, 1e-30f, 1 }, 2, 3))),
        ]);
    }

    /// <summary>Labels (4,) against (4, 3) probabilities; q at its default and at 0.8 and 1.</summary>
    private static LossSampleSet GeneralizedCrossEntropy()
    {
        const string name = "KerasCategoricalGeneralizedCrossEntropy";
        LossInputs Make(Random r, bool trailingOne)
        {
            long[] labels = [0, 1, 2, r.Next(3)];
            return T.In(("y_true", trailingOne ? T.Shaped(labels, 4, 1) : T.Shaped(labels, 4)), ("y_pred", T.Shaped(LossSamples.Uniform(r, 12, 0.05, 1), 4, 3)));
        }
        Dictionary<string, object?>[] options =
        [
            T.Opt(), T.Opt(("reduction", "none")), T.Opt(("reduction", "sum"), ("q", 0.8)), T.Opt(("sample_weight", T.D(0.5, 2.0, 1.0, 1.5)), ("q", 1.0)),
            T.Opt(("reduction", "mean_with_sample_weight"), ("sample_weight", T.D(0.5, 2.0, 1.0, 1.5))),
        ];
        var samples = options.Select((o, i) => new LossSample($"{name} {string.Join(" ", o.Keys)} #{i}", o, r => Make(r, i % 2 == 1))).ToList();
        // The labelled probabilities at the ends of (0, 1]: 1e-30 gives a huge but finite gradient (p^(q−1) = 1e15).
        return new(name, samples,
            [LossSamples.ExtremeOf(T.Opt(), ["y_pred"], ("y_true", T.I(0, 2)), ("y_pred", T.Shaped(new float[] { 1e-30f, 0, 1, 0, 0, 1 }, 2, 3)))]);
    }

    /// <summary>Seven embeddings (7, 4) of norm 0.9 in classes of two (one anchor sometimes alone); sum_over_batch_size masks the zero anchors.</summary>
    private static LossSampleSet Circle()
    {
        const string name = "KerasCircle";
        LossInputs Make(Random r)
        {
            double[] e = LossSamples.RowsOfNorm(LossSamples.Normal(r, 28), 7, 4, 0.9);   // norm 0.9: the diagonal stays off the kink of max(1 − s, 0)
            return T.In(("y_true", T.I(0, 0, 1, 1, 2, 2, r.Next(2) == 0 ? 1 : 3)), ("y_pred", T.Shaped(e, 7, 4)));
        }
        Dictionary<string, object?>[] options =
        [
            T.Opt(("gamma", 8.0), ("margin", 0.25)), T.Opt(("gamma", 4.0), ("reduction", "none")), T.Opt(("gamma", 4.0), ("reduction", "sum"), ("remove_diagonal", false)),
            T.Opt(("gamma", 6.0), ("reduction", "mean"), ("sample_weight", T.D(0.5, 2.0, 1.0, 1.5, 1.0, 0.5, 2.0))),
            T.Opt(("gamma", 6.0), ("reduction", "mean_with_sample_weight"), ("sample_weight", T.D(0.5, 2.0, 1.0, 1.5, 1.0, 0.5, 2.0))),
        ];
        var samples = options.Select((o, i) => new LossSample($"{name} {string.Join(" ", o.Keys)} #{i}", o, Make)).ToList();
        return new(name, samples,
            [LossSamples.ExtremeOf(T.Opt(), ["y_pred"], ("y_true", T.I(0, 0, 1, 1)), ("y_pred", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30 }, 4, 2)))])
        {
            PlainMean = false,   // the mean runs over the non-zero anchors
        };
    }

    private static LossSampleSet Merge(LossSampleSet a, LossSampleSet b) => new(a.Name, [.. a.Samples, .. b.Samples], [.. a.Extremes, .. b.Extremes]);

    /// <summary>Rows of four one-hot labels (the generators see rows × 4 values).</summary>
    internal static double[] OneHotRows(Random r, int n)
    {
        var v = new double[n];
        for (int i = 0; i < n; i += 4) v[i + r.Next(4)] = 1;
        return v;
    }

    /// <summary>Rows of four probabilities summing to 1, each at least 0.05.</summary>
    internal static double[] SimplexRows(Random r, int n)
    {
        var v = LossSamples.Uniform(r, n, 0.2, 1);
        for (int i = 0; i < n; i += 4)
        {
            double sum = v[i] + v[i + 1] + v[i + 2] + v[i + 3];
            for (int j = i; j < i + 4; j++) v[j] /= sum;
        }
        return v;
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
