using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Tests.TestKit;

/// <summary>Contract samples for the margin, embedding, focal and CTC losses (PyTorch catalog II).</summary>
internal static class CatalogTwo
{
    private static readonly string[] Reductions = ["none", "mean", "sum"];

    public static IEnumerable<LossSampleSet> Sets()
    {
        yield return new("HingeEmbeddingLoss", WithReductions("HingeEmbeddingLoss", [T.Opt(("margin", 2.0))], r =>
        {
            // Distances away from the kink at x = margin (1 or 2).
            double[] x = LossSamples.Normal(r, 12, 2).Select(v => Math.Abs(v - 1) < 0.1 || Math.Abs(v - 2) < 0.1 ? v + 0.3 : v).ToArray();
            return T.In(("input", T.Shaped(x, 3, 4)), ("target", T.Shaped(LossSamples.Signs(r, 12), 3, 4)));
        }), [LossSamples.ExtremeOf(T.Opt(), ["input"], ("input", T.F(1e4f, -1e4f, 1e4f, -1e4f)), ("target", T.F(1, 1, -1, -1)))]);

        yield return new("MarginRankingLoss", WithReductions("MarginRankingLoss", [T.Opt(("margin", 0.5))], r =>
        {
            double[] a = LossSamples.Normal(r, 6), y = LossSamples.Signs(r, 6);
            // b chosen so that z = −y(a − b) + m is at least 0.1 away from 0 for m ∈ {0, 0.5}.
            double[] b = a.Select((v, i) => v + y[i] * (r.Next(2) == 0 ? -(0.1 + r.NextDouble()) : 0.6 + r.NextDouble())).ToArray();
            return T.In(("input1", T.D(a)), ("input2", T.D(b)), ("target", T.D(y)));
        }), [LossSamples.ExtremeOf(T.Opt(), ["input1", "input2"], ("input1", T.F(1e4f, -1e4f)), ("input2", T.F(-1e4f, 1e4f)), ("target", T.F(-1, 1)))]);

        yield return new("CosineEmbeddingLoss", WithReductions("CosineEmbeddingLoss", [T.Opt(("margin", -0.3))], r =>
            T.In(("input1", T.Shaped(LossSamples.Normal(r, 20), 4, 5)), ("input2", T.Shaped(LossSamples.Normal(r, 20), 4, 5)), ("target", T.D(1, -1, 1, -1)))),
            [LossSamples.ExtremeOf(T.Opt(), ["input1", "input2"], ("input1", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 0, 0 }, 2, 3)), ("input2", T.Shaped(new float[] { 1, 2, 3, 1e-30f, 0, 0 }, 2, 3)), ("target", T.F(1, -1)))]);

        yield return new("MultiMarginLoss", WithReductions("MultiMarginLoss",
            [T.Opt(("p", 2L)), T.Opt(("margin", 0.5), ("weight", T.D(0.5, 1.5, 1, 2, 0.25)))], r =>
                T.In(("input", T.Shaped(LossSamples.Normal(r, 20), 4, 5)), ("target", T.I(r.Next(5), r.Next(5), r.Next(5), r.Next(5))))),
            [LossSamples.ExtremeOf(T.Opt(("p", 2L)), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(0, 3)))]);

        yield return new("MultilabelMarginLoss", WithReductions("MultilabelMarginLoss", [], r =>
            T.In(("input", T.Shaped(LossSamples.Normal(r, 15), 3, 5)), ("target", T.Shaped(new long[] { 3, 0, -1, 1, 2, 1, -1, 0, 0, 0, 4, 2, 0, 3, -1 }, 3, 5)))),
            [LossSamples.ExtremeOf(T.Opt(), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.Shaped(new long[] { 0, 2, -1, 0, 3, -1, 1, 1 }, 2, 4)))]);

        yield return new("MultilabelSoftMarginLoss", WithReductions("MultilabelSoftMarginLoss", [T.Opt(("weight", LossSamples.Positive(new Random(3), 4, 4)))], r =>
            T.In(("input", T.Shaped(LossSamples.Normal(r, 12, 2), 3, 4)), ("target", T.Shaped(LossSamples.Uniform(r, 12, 0, 1), 3, 4)))),
            [LossSamples.ExtremeOf(T.Opt(), ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.Shaped(new float[] { 1, 0, 0, 1, 1, 0, 0.5f, 1 }, 2, 4)))]);

        // Finite differences see the value: the asymmetric loss's samples differentiate its focal weight (the authors' detached
        // weight is checked against the composed formula with Detach in CatalogAutogradTests and against torch in torch_diff).
        LossInputs Asl(Random r) => T.In(("input", T.Shaped(LossSamples.Normal(r, 15, 2), 3, 5)),
            ("target", T.Shaped([.. Enumerable.Range(0, 15).Select(_ => r.Next(3) == 0 ? 1.0 : r.Next(5) == 0 ? 0.5 : 0.0)], 3, 5)));
        yield return new("AsymmetricLoss", WithReductions("AsymmetricLoss",
            [T.Opt(("clip", 0.0)), T.Opt(("gamma_neg", 0.0), ("gamma_pos", 0.0)), T.Opt(("gamma_neg", 2.0), ("gamma_pos", 0.0), ("clip", 0.2))], Asl,
            T.Opt(("disable_torch_grad_focal_loss", false))),
            [LossSamples.ExtremeOf(T.Opt(("disable_torch_grad_focal_loss", false)), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.Shaped(new float[] { 1, 0, 0, 1, 1, 0, 0.5f, 1 }, 2, 4))),
             LossSamples.ExtremeOf(T.Opt(("clip", 0.0)), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.Shaped(new float[] { 0, 1, 1, 0, 0, 1, 1, 0 }, 2, 4)))]);

        LossInputs Triplet(Random r) => T.In(("anchor", T.Shaped(LossSamples.Normal(r, 20), 4, 5)),
            ("positive", T.Shaped(LossSamples.Normal(r, 20), 4, 5)), ("negative", T.Shaped(LossSamples.Normal(r, 20), 4, 5)));
        var extremeTriplet = LossSamples.ExtremeOf(T.Opt(), ("anchor", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0 }, 2, 2)),
            ("positive", T.Shaped(new float[] { -1e4f, 1e4f, 0, 0 }, 2, 2)), ("negative", T.Shaped(new float[] { 1e4f, -1e4f, 1, 1 }, 2, 2)));
        yield return new("TripletMarginLoss", WithReductions("TripletMarginLoss",
            [T.Opt(("margin", 3.0), ("p", 1.0)), T.Opt(("margin", 3.0), ("p", 3.0), ("eps", 0.01)), T.Opt(("margin", 3.0), ("swap", true))], Triplet), [extremeTriplet]);
        yield return new("TripletMarginWithDistanceLoss", WithReductions("TripletMarginWithDistanceLoss",
            [T.Opt(("distance_function", "cosine_distance"), ("margin", 1.5)), T.Opt(("distance_function", "squared_euclidean"), ("margin", 4.0), ("swap", true))], Triplet), [extremeTriplet]);

        yield return new("SigmoidFocalLoss", WithReductions("SigmoidFocalLoss",
            [T.Opt(("gamma", 0.0)), T.Opt(("gamma", 0.5), ("alpha", -1.0)), T.Opt(("gamma", 5.0), ("alpha", 0.75))], r =>
                T.In(("inputs", T.Shaped(LossSamples.Normal(r, 12, 2), 3, 4)), ("targets", T.Shaped(LossSamples.Uniform(r, 12, 0, 1), 3, 4)))),
            new[] { 0.0, 0.25, 0.5, 2.0 }.Select(g => LossSamples.ExtremeOf(T.Opt(("gamma", (object?)g)), ("inputs", LossSamples.Logits()), ("targets", T.F(1, 0, 1, 0, 1, 0, 1, 0)))).ToArray());

        yield return new("CtcLoss", WithReductions("CtcLoss",
            [T.Opt(("true_gradient", true), ("blank", 3L)), T.Opt(("true_gradient", true), ("reduction", "none"))], Ctc, T.Opt(("true_gradient", true))),
            [LossSamples.ExtremeOf(T.Opt(), ("log_probs", T.Shaped(new float[] { 0, -1e4f, -1e4f, -1e4f, 0, -1e4f, -100, -30, -0.1f }, 3, 1, 3)),
                ("targets", T.Shaped(new long[] { 1 }, 1, 1)), ("input_lengths", T.I(3)), ("target_lengths", T.I(1)))])
        {
            PlainMean = false,
            ShapeCheckSkip = ["targets"],
        };
        yield return new("RnntLoss", WithReductions("RnntLoss", [T.Opt(("blank", 0L)), T.Opt(("blank", 3L), ("reduction", "sum"))], Rnnt),
            [LossSamples.ExtremeOf(T.Opt(), ["logits"], ("logits", T.Shaped(new float[] { 1e4f, -1e4f, 30, -30, 0, 100, -100, 5, -1e4f, 1e4f, 0, 1, 2, -2, 60, -60 }, 1, 2, 2, 4)),
                ("targets", T.Shaped(new long[] { 1 }, 1, 1)), ("logit_lengths", T.I(2)), ("target_lengths", T.I(1)))]);
    }

    /// <summary>Joiner logits (B = 2, T = 4, U + 1 = 3, V = 4); targets from {1, 2} (so blank 0 and blank 3 both fit); lengths (4, 3) and (2, 1).</summary>
    internal static LossInputs Rnnt(Random r)
        => T.In(("logits", T.Shaped(LossSamples.Normal(r, 2 * 4 * 3 * 4, 1.5), 2, 4, 3, 4)), ("targets", T.Shaped(new long[] { 1, 2, 2, 1 }, 2, 2)),
            ("logit_lengths", T.I(4, 3)), ("target_lengths", T.I(2, 1)));


    /// <summary>log_probs (T = 6, N = 2, C = 4) log-softmaxed; padded targets (2, 3) with a repeat; lengths [6, 5] and [3, 2].</summary>
    internal static LossInputs Ctc(Random r)
    {
        const int frames = 6, n = 2, c = 4;
        double[] lp = LossSamples.Normal(r, frames * n * c);
        for (int row = 0; row < frames * n; row++)
        {
            double lse = Math.Log(Enumerable.Range(0, c).Sum(k => Math.Exp(lp[row * c + k])));
            for (int k = 0; k < c; k++) lp[row * c + k] -= lse;
        }
        return T.In(("log_probs", T.Shaped(lp, frames, n, c)), ("targets", T.Shaped(new long[] { 1, 1, 2, 2, 1, 0 }, 2, 3)),
            ("input_lengths", T.I(6, 5)), ("target_lengths", T.I(3, 2)));
    }

    private static List<LossSample> WithReductions(string name, Dictionary<string, object?>[] extra, Func<Random, LossInputs> make, Dictionary<string, object?>? baseOptions = null)
    {
        var samples = new List<LossSample>();
        foreach (var options in Reductions.Select(r => T.Opt(("reduction", r))).Concat(extra))
        {
            var merged = new Dictionary<string, object?>(baseOptions ?? []);
            foreach (var kv in options) merged[kv.Key] = kv.Value;
            samples.Add(new($"{name} {string.Join(" ", merged.Select(kv => $"{kv.Key}={(kv.Value is TensorData t ? t.Shape.ToString() : kv.Value)}"))}", merged, make));
        }
        return samples;
    }
}
