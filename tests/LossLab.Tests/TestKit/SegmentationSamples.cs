using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Tests.TestKit;

/// <summary>Contract samples of the segmentation losses in the three modes, with smooth, log_loss, ignore_index and weights.</summary>
internal static class SegmentationSamples
{
    public static IEnumerable<LossSampleSet> Sets()
    {
        foreach (string name in new[] { "SoftDiceLoss", "JaccardLoss", "TverskyLoss" })
        {
            Dictionary<string, object?>? extra = name == "TverskyLoss" ? T.Opt(("alpha", 0.3), ("beta", 0.7)) : null;
            Dictionary<string, object?> O(params (string, object?)[] o)
            {
                var d = T.Opt(o);
                if (extra is not null) foreach (var kv in extra) d[kv.Key] = kv.Value;
                return d;
            }
            var samples = new List<LossSample>
            {
                new($"{name} multiclass", O(), Multiclass(-1)),
                new($"{name} multiclass smooth log_loss weight", O(("smooth", 1.0), ("log_loss", true), ("weight", T.D(0.5, 2.0, 1.0))), Multiclass(-1)),
                new($"{name} multiclass ignore_index", O(("ignore_index", 255L)), Multiclass(255)),
                new($"{name} binary (N, 1, H, W)", O(("mode", "binary")), r => Soft(r, [2, 1, 3, 3], [2, 1, 3, 3])),
                new($"{name} binary (N, H, W) smooth", O(("mode", "binary"), ("smooth", 0.5)), r => Soft(r, [2, 1, 3, 3], [2, 3, 3])),
                new($"{name} multilabel probabilities", O(("mode", "multilabel"), ("from_logits", false)), r => Soft(r, [2, 3, 4], [2, 3, 4], probabilities: true)),
                new($"{name} multilabel logits", O(("mode", "multilabel")), r => Soft(r, [2, 3, 4], [2, 3, 4])),
                new($"{name} multiclass none", O(("reduction", "none")), Multiclass(-1)),
                new($"{name} multiclass sum weight", O(("reduction", "sum"), ("weight", T.D(0.5, 2.0, 1.0))), Multiclass(-1)),
            };
            if (name == "TverskyLoss")
            {
                samples.Add(new("TverskyLoss focal gamma", O(("gamma", 1.5)), Multiclass(-1)));
                samples.Add(new("TverskyLoss focal gamma none", O(("gamma", 0.75), ("reduction", "none")), Multiclass(-1)));
            }
            yield return new(name, samples,
            [
                LossSamples.ExtremeOf(O(), ["input"], ("input", T.Shaped(new float[] { 1e4f, -1e4f, 30, -30, 0, 100 }, 1, 3, 2)), ("target", T.Shaped(new long[] { 0, 2 }, 1, 2))),
                LossSamples.ExtremeOf(O(("mode", "binary")), ["input"], ("input", T.Shaped(new float[] { 1e4f, -1e4f, 30, -30 }, 1, 1, 4)), ("target", T.Shaped(new float[] { 1, 0, 0, 1 }, 1, 1, 4))),
            ]);
        }
    }

    public static LossSampleSet LovaszHinge()
    {
        const string name = "LovaszHingeLoss";
        LossInputs Make(Random r) => T.In(("input", T.Shaped(LossSamples.Normal(r, 12, 2), 2, 6)), ("target", T.Shaped(new double[] { 1, 0, 1, 1, 0, 0, 0, 1, r.Next(2), 1, 0, 0 }, 2, 6)));
        Dictionary<string, object?>[] options =
        [
            T.Opt(("reduction", "none"), ("per_image", true)), T.Opt(("reduction", "mean"), ("per_image", true)), T.Opt(("reduction", "sum"), ("per_image", true)),
            T.Opt(), T.Opt(("reduction", "none")),
        ];
        var samples = options.Select((o, i) => new LossSample($"{name} {string.Join(" ", o.Select(kv => $"{kv.Key}={kv.Value}"))} #{i}", o, Make)).ToList();
        samples.Add(new($"{name} ignore_index", T.Opt(("ignore_index", 255L), ("per_image", true)), r =>
            T.In(("input", T.Shaped(LossSamples.Normal(r, 12, 2), 2, 6)), ("target", T.Shaped(new double[] { 1, 0, 255, 1, 0, 0, 0, 1, 255, 1, 0, 0 }, 2, 6)))));
        return new(name, samples, [LossSamples.ExtremeOf(T.Opt(("per_image", true)), ["input"], ("input", T.Shaped(new float[] { 1e4f, -1e4f, 30, -30 }, 2, 2)), ("target", T.Shaped(new float[] { 1, 0, 0, 1 }, 2, 2)))]);
    }

    public static LossSampleSet LovaszSoftmax()
    {
        const string name = "LovaszSoftmaxLoss";
        Dictionary<string, object?>[] options =
        [
            T.Opt(("reduction", "none"), ("per_image", true)), T.Opt(("reduction", "mean"), ("per_image", true)), T.Opt(("reduction", "sum"), ("per_image", true)),
            T.Opt(), T.Opt(("reduction", "none")),
        ];
        var samples = options.Select((o, i) => new LossSample($"{name} {string.Join(" ", o.Select(kv => $"{kv.Key}={kv.Value}"))} #{i}", o, Multiclass(-1))).ToList();
        samples.Add(new($"{name} ignore_index", T.Opt(("ignore_index", 255L)), Multiclass(255)));
        return new(name, samples, [LossSamples.ExtremeOf(T.Opt(), ["input"], ("input", T.Shaped(new float[] { 1e4f, -1e4f, 30, -30, 0, 100 }, 1, 3, 2)), ("target", T.Shaped(new long[] { 0, 2 }, 1, 2)))]);
    }

    /// <summary>Logits (2, 3, 4) and labels (2, 4); every class present; label <paramref name="ignore"/> at one pixel when ≥ 0.</summary>
    private static Func<Random, LossInputs> Multiclass(long ignore) => r =>
    {
        long[] labels = [0, 1, 2, r.Next(3), 2, 1, 0, r.Next(3)];
        if (ignore >= 0) labels[3] = ignore;
        return T.In(("input", T.Shaped(LossSamples.Normal(r, 24, 2), 2, 3, 4)), ("target", T.Shaped(labels, 2, 4)));
    };

    /// <summary>Soft targets in [0.05, 0.95] (kept away from the predictions' kink o = t by the random draw).</summary>
    private static LossInputs Soft(Random r, int[] inputShape, int[] targetShape, bool probabilities = false)
    {
        int n = inputShape.Aggregate(1, (a, b) => a * b);
        double[] x = probabilities ? LossSamples.Uniform(r, n, 0.05, 0.95) : LossSamples.Normal(r, n, 2);
        return T.In(("input", T.Shaped(x, inputShape)), ("target", T.Shaped(LossSamples.Uniform(r, n, 0.05, 0.95), targetShape)));
    }
}
