using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Tests.TestKit;

/// <summary>Contract samples for Optax's losses beyond the classic catalog: binary hinge/perceptron/sparsemax, l2,
/// cosine similarity and distance, multiclass sparsemax and the ranking softmax loss.</summary>
internal static class CatalogOptax
{
    public static IEnumerable<LossSampleSet> Sets()
    {
        // Scores kept 0.1 away from the kink (1 − s·t = 0 for hinge, s = 0 for the perceptron) for finite differences.
        yield return Binary("HingeLoss", "predictor_outputs", "targets", (r, t) => Enumerable.Range(0, 12).Select(i => t[i] * Pick(r, 1)).ToArray(), LossSamples.Signs);
        yield return Binary("PerceptronLoss", "predictor_outputs", "targets", (r, t) => Enumerable.Range(0, 12).Select(_ => Pick(r, 0)).ToArray(), LossSamples.Signs);
        yield return Binary("SparsemaxLoss", "logits", "labels", (r, _) => LossSamples.Normal(r, 12, 1.5), (r, n) => [.. Enumerable.Range(0, n).Select(_ => (double)r.Next(2))]);
        yield return new("L2Loss", With("L2Loss", [], r => T.In(("predictions", T.Shaped(LossSamples.Normal(r, 12), 3, 4)), ("targets", T.Shaped(LossSamples.Normal(r, 12), 3, 4)))),
            [LossSamples.ExtremeOf(T.Opt(), ("predictions", T.F(1e4f, -1e4f, 100, -100, 30, -30)), ("targets", T.F(-1e4f, 1e4f, -100, 100, 0, 0)))]);
        yield return new("LogCoshLoss", With("LogCoshLoss", [], r => T.In(("predictions", T.Shaped(LossSamples.Normal(r, 12, 1.5), 3, 4)), ("targets", T.Shaped(LossSamples.Normal(r, 12, 1.5), 3, 4)))),
            [LossSamples.ExtremeOf(T.Opt(), ("predictions", T.F(1e4f, -1e4f, 100, -100, 30, 1e-30f)), ("targets", T.F(-1e4f, 1e4f, -100, 100, 0, 0)))]);
        foreach (string name in new[] { "CosineSimilarity", "CosineDistance" })
        {
            // ε = 0.5 clips some rows of four N(0, 0.5) components (‖a‖² ≈ 1) and not others: both branches of the gradient.
            TensorData mask = T.Shaped(new double[] { 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1 }, 5, 4);
            yield return new(name, With(name, [T.Opt(("epsilon", 0.5)), T.Opt(("epsilon", 1e-8), ("reduction", "mean")), T.Opt(("where", mask))], r =>
                T.In(("predictions", T.Shaped(LossSamples.Normal(r, 20, 0.5), 5, 4)), ("targets", T.Shaped(LossSamples.Normal(r, 20, 0.5), 5, 4)))),
                [LossSamples.ExtremeOf(T.Opt(), ("predictions", T.Shaped(new float[] { 1e4f, -1e4f, 1e-30f, 0, 3e30f, 1 }, 3, 2)), ("targets", T.Shaped(new float[] { -1e4f, 1e-30f, 1e-30f, 1e-30f, 1, 3e30f }, 3, 2))),
                 LossSamples.ExtremeOf(T.Opt(("epsilon", 1e-12)), ("predictions", T.Shaped(new float[] { 0, 0, 1e-30f, 5 }, 2, 2)), ("targets", T.Shaped(new float[] { 1, 2, 0, 0 }, 2, 2)))]);
        }
        yield return new("MulticlassSparsemaxLoss", With("MulticlassSparsemaxLoss", [], r =>
            T.In(("scores", T.Shaped(LossSamples.Normal(r, 20, 0.7), 4, 5)), ("labels", T.I(r.Next(5), r.Next(5), r.Next(5), r.Next(5))))),
            [LossSamples.ExtremeOf(T.Opt(), ["scores"], ("scores", T.Shaped(LossSamples.LogitValues, 2, 4)), ("labels", T.I(0, 3)))]);
        // Each built-in max function; the extreme rows put 1e4 beside −1e4 (the shift by the row maximum keeps them exact).
        yield return new("FenchelYoungLoss", With("FenchelYoungLoss", [T.Opt(("max_fun", "sparsemax")), T.Opt(("max_fun", "max"), ("reduction", "mean"))], r =>
            T.In(("scores", T.Shaped(LossSamples.Normal(r, 20, 1.5), 4, 5)), ("targets", Samples.Simplex(r, new Shape(4, 5))))),
            [LossSamples.ExtremeOf(T.Opt(), ("scores", T.Shaped(LossSamples.LogitValues, 2, 4)), ("targets", T.Shaped(new float[] { 1, 0, 0, 0, 0.25f, 0.25f, 0.25f, 0.25f }, 2, 4))),
             LossSamples.ExtremeOf(T.Opt(("max_fun", "sparsemax")), ("scores", T.Shaped(LossSamples.LogitValues, 2, 4)), ("targets", T.Shaped(new float[] { 0, 1, 0, 0, 0.5f, 0, 0.5f, 0 }, 2, 4)))]);
        yield return Ranking();
        foreach (var set in Dice()) yield return set;
        yield return new("OptaxSoftmaxCrossEntropy", With("OptaxSoftmaxCrossEntropy", [T.Opt(("where", T.Shaped(new double[] { 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0 }, 4, 5)))], r =>
            T.In(("logits", T.Shaped(LossSamples.Normal(r, 20, 2), 4, 5)), ("labels", Samples.Simplex(r, new Shape(4, 5))))),
            [LossSamples.ExtremeOf(T.Opt(), ("logits", T.Shaped(new float[] { 1e4f, -1e4f, 30, -30, 100, 0, 0, 1 }, 2, 4)), ("labels", T.Shaped(new float[] { 1, 0, 0, 0, 0.5f, 0, 0.5f, 0 }, 2, 4)))]);
        foreach (var set in SemiSupervised()) yield return set;
        LossInputs Ctc(Random r) => LossRegistry.Default.Get("OptaxCtcLoss").Sample!(r, Shape.Scalar);
        var ctc = With("OptaxCtcLoss", [], Ctc);
        // blank_id = 2: labels of class 2 become class 0, which is then an ordinary class.
        ctc.Add(new("OptaxCtcLoss blank_id=2", T.Opt(("blank_id", 2L)), r =>
        {
            LossInputs inputs = Ctc(r);
            long[] labels = inputs["labels"].ToArray<long>();
            return inputs.Add("labels", TensorData.FromArray([.. labels.Select(v => v == 2 ? 0L : v)], inputs["labels"].Shape[0], inputs["labels"].Shape[1]));
        }));
        yield return new("OptaxCtcLoss", ctc,
            [LossSamples.ExtremeOf(T.Opt(), ["logits"], ("logits", T.Shaped(new float[] { 1e4f, -1e4f, 30, -30, 100, 0, 0, 1, 50, -50, 3, 2 }, 1, 4, 3)),
                ("logit_paddings", T.Shaped(new float[] { 0, 0, 0, 0 }, 1, 4)), ("labels", T.Shaped(new long[] { 1, 1 }, 1, 2)), ("label_paddings", T.Shaped(new float[] { 0, 0 }, 1, 2)))]);
        foreach (string box in new[] { "GeneralizedBoxIouLoss", "DistanceBoxIouLoss", "CompleteBoxIouLoss" })
        {
            var samples = With(box, [T.Opt(("eps", 1e-3))], r => LossRegistry.Default.Get(box).Sample!(r, Shape.Scalar));
            // Finite differences see the value: CIoU's contract uses the true gradient (α differentiated); torchvision's
            // gradient with α held constant is checked against torchvision in BoxIouTests and torch_diff.
            if (box == "CompleteBoxIouLoss") foreach (LossSample sample in samples) sample.Options["detach_alpha"] = false;
            yield return new(box, samples,
                [LossSamples.ExtremeOf(T.Opt(), ("boxes1", T.Shaped(new float[] { 0, 0, 1e4f, 1e4f, 0, 0, 1e-3f, 1e-3f }, 2, 4)), ("boxes2", T.Shaped(new float[] { 1, 1, 2, 2, 5e3f, 5e3f, 1e4f, 1e4f }, 2, 4)))]);
        }
        TensorData rowMask = T.Shaped(new double[] { 1, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0 }, 3, 4);   // the last row fully masked
        yield return new("OptaxKLDivergence", With("OptaxKLDivergence", [T.Opt(("where", rowMask))], r =>
            T.In(("log_predictions", T.Shaped(KerasSamples.SimplexRows(r, 12).Select(v => Math.Log(v)).ToArray(), 3, 4)), ("targets", T.Shaped(KerasSamples.SimplexRows(r, 12), 3, 4)))),
            [LossSamples.ExtremeOf(T.Opt(), ["log_predictions"], ("log_predictions", T.F(-1e4f, -100, -30, 0)), ("targets", T.F(0, 0.25f, 0.25f, 0.5f)))]);
        yield return new("OptaxKLDivergenceWithLogTargets", With("OptaxKLDivergenceWithLogTargets", [T.Opt(("where", rowMask))], r =>
            T.In(("log_predictions", T.Shaped(KerasSamples.SimplexRows(r, 12).Select(v => Math.Log(v)).ToArray(), 3, 4)), ("log_targets", T.Shaped(KerasSamples.SimplexRows(r, 12).Select(v => Math.Log(v)).ToArray(), 3, 4)))),
            [LossSamples.ExtremeOf(T.Opt(), ("log_predictions", T.F(-1e4f, -100, -30, 0)), ("log_targets", T.F(-1e4f, -30, -100, 0)))]);
        yield return new("OptaxTripletMarginLoss", With("OptaxTripletMarginLoss", [T.Opt(("norm_degree", 1.0)), T.Opt(("norm_degree", 3.0), ("margin", 0.5)), T.Opt(("eps", 0.0), ("reduction", "mean"))], r =>
            T.In(("anchors", T.Shaped(LossSamples.Normal(r, 20), 4, 5)), ("positives", T.Shaped(LossSamples.Normal(r, 20), 4, 5)), ("negatives", T.Shaped(LossSamples.Normal(r, 20), 4, 5)))),
            [LossSamples.ExtremeOf(T.Opt(), ("anchors", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0 }, 2, 2)), ("positives", T.Shaped(new float[] { -1e4f, 1e4f, 0, 0 }, 2, 2)), ("negatives", T.Shaped(new float[] { 0, 0, 1e-30f, 3 }, 2, 2)))]);
    }

    /// <summary>
    /// Optax's dice losses on (N, S, C) logits. The first sample of each has one sample (N = 1), so that Optax's class-axis
    /// reduction of OptaxDiceLoss gives one value and the shared mean = sum / numel(none) check applies.
    /// </summary>
    private static IEnumerable<LossSampleSet> Dice()
    {
        LossInputs Make(Random r, int n, bool probabilities, bool hard)
        {
            TensorData x = T.Shaped(LossSamples.Normal(r, n * 12), n, 3, 4);
            if (probabilities) x = T.Shaped(KerasSamples.SimplexRows(r, n * 12), n, 3, 4);
            TensorData t = hard ? T.Shaped([.. Enumerable.Range(0, n * 3).SelectMany(_ => { int k = r.Next(4); return Enumerable.Range(0, 4).Select(j => j == k ? 1.0 : 0.0); })], n, 3, 4)
                                : T.Shaped(KerasSamples.SimplexRows(r, n * 12), n, 3, 4);
            return T.In(("predictions", x), ("targets", t));
        }
        var weights = T.D(0.5, 2, 1, 1.5);
        var dice = new List<LossSample>
        {
            new("OptaxDiceLoss none N=1", T.Opt(("reduction", "none")), r => Make(r, 1, false, false)),
            new("OptaxDiceLoss mean N=1", T.Opt(("reduction", "mean")), r => Make(r, 1, false, false)),
            new("OptaxDiceLoss sum", T.Opt(("reduction", "sum")), r => Make(r, 2, false, true)),
            new("OptaxDiceLoss tversky+weights", T.Opt(("alpha", 0.3), ("beta", 0.7), ("class_weights", weights)), r => Make(r, 2, false, false)),
            new("OptaxDiceLoss probabilities smooth 0", T.Opt(("apply_softmax", false), ("smooth", 0.0)), r => Make(r, 2, true, false)),
            new("OptaxDiceLoss ignore_background axis 0", T.Opt(("ignore_background", true), ("axis", T.D(0)), ("reduction", "none")), r => Make(r, 2, false, true)),
        };
        yield return new("OptaxDiceLoss", dice,
            [LossSamples.ExtremeOf(T.Opt(), ("predictions", T.Shaped(new float[] { 1e4f, -1e4f, 30, -30, 100, 0, 0, 1 }, 1, 2, 4)), ("targets", T.Shaped(new float[] { 1, 0, 0, 0, 0, 0, 1, 0 }, 1, 2, 4)))]);

        LossInputs Binary(Random r) => T.In(("predictions", T.Shaped(LossSamples.Normal(r, 12), 2, 3, 2)), ("targets", T.Shaped([.. Enumerable.Range(0, 12).Select(_ => (double)r.Next(2))], 2, 3, 2)));
        yield return new("OptaxBinaryDiceLoss", With("OptaxBinaryDiceLoss", [T.Opt(("smooth", 0.5))], Binary)
            .Append(new("OptaxBinaryDiceLoss probabilities", T.Opt(("apply_sigmoid", false)), r => T.In(("predictions", T.Shaped(LossSamples.Uniform(r, 12, 0.05, 0.95), 2, 6)), ("targets", T.Shaped([.. Enumerable.Range(0, 12).Select(_ => (double)r.Next(2))], 2, 6))))).ToList(),
            [LossSamples.ExtremeOf(T.Opt(), ("predictions", T.Shaped(LossSamples.LogitValues, 2, 4)), ("targets", T.Shaped(new float[] { 1, 0, 1, 0, 1, 0, 0, 1 }, 2, 4)))]);

        // Soft targets: a class absent from every target has f = 0, where u = 1/(f² + 1e-7) curves by 1e14 and finite
        // differences cannot follow (the analytic gradient there is checked by the autograd formula and torch_diff).
        var generalized = With("OptaxGeneralizedDiceLoss", [T.Opt(("ignore_background", true)), T.Opt(("apply_softmax", false), ("smooth", 0.5))], r => Make(r, 2, false, false));
        generalized[^1] = generalized[^1] with { Make = r => Make(r, 2, true, false) };
        yield return new("OptaxGeneralizedDiceLoss", generalized,
            [LossSamples.ExtremeOf(T.Opt(), ("predictions", T.Shaped(new float[] { 1e4f, -1e4f, 30, -30, 100, 0, 0, 1 }, 1, 2, 4)), ("targets", T.Shaped(new float[] { 1, 0, 0, 0, 0, 0, 1, 0 }, 1, 2, 4)))]);
    }

    /// <summary>
    /// FixMatch and MixMatch on a labeled batch (4, 3) and an unlabeled one (5, 3). FixMatch's weak logits are scaled so
    /// that some rows pass τ and some do not; their pseudo-labels are constants, so finite differences skip them.
    /// </summary>
    private static IEnumerable<LossSampleSet> SemiSupervised()
    {
        LossInputs Labeled(Random r, bool soft) => T.In(("labeled_logits", T.Shaped(LossSamples.Normal(r, 12, 2), 4, 3)),
            ("labeled_labels", soft ? Samples.Simplex(r, new Shape(4, 3)) : T.I(r.Next(3), r.Next(3), r.Next(3), r.Next(3))));
        LossInputs Fix(Random r, bool soft)
        {
            LossInputs inputs = Labeled(r, soft);
            double[] weak = LossSamples.Normal(r, 15, 4);
            weak[0] = 9; weak[1] = weak[2] = 0;     // row 0 is confident (p ≈ 0.9998), whatever the seed
            return inputs.Add("unlabeled_weak_logits", T.Shaped(weak, 5, 3)).Add("unlabeled_strong_logits", T.Shaped(LossSamples.Normal(r, 15, 2), 5, 3));
        }
        LossInputs Mix(Random r, bool soft) => Labeled(r, soft).Add("unlabeled_logits", T.Shaped(LossSamples.Normal(r, 15, 2), 5, 3)).Add("unlabeled_targets", Samples.Simplex(r, new Shape(5, 3)));
        var fix = With("FixMatchLoss", [T.Opt(("confidence_threshold", 0.6), ("lambda_u", 2.0))], r => Fix(r, false));
        fix.Add(new("FixMatchLoss soft labels", T.Opt(("confidence_threshold", 0.8)), r => Fix(r, true)));
        yield return new("FixMatchLoss", fix,
            [LossSamples.ExtremeOf(T.Opt(), ["labeled_logits", "unlabeled_strong_logits"], ("labeled_logits", T.Shaped(new float[] { 1e4f, -1e4f, 30, -30, 100, 0 }, 2, 3)), ("labeled_labels", T.I(1, 2)),
                ("unlabeled_weak_logits", T.Shaped(new float[] { 50, 0, 0, 0, 0, 1 }, 2, 3)), ("unlabeled_strong_logits", T.Shaped(new float[] { -1e4f, 1e4f, 0, 30, -30, 100 }, 2, 3)))])
        {
            PlainMean = false,   // mean averages each part over its own batch
        };
        var mix = With("MixMatchLoss", [T.Opt(("lambda_u", 3.0))], r => Mix(r, true));
        mix.Add(new("MixMatchLoss integer labels", T.Opt(), r => Mix(r, false)));
        yield return new("MixMatchLoss", mix,
            [LossSamples.ExtremeOf(T.Opt(), ["labeled_logits", "unlabeled_logits"], ("labeled_logits", T.Shaped(new float[] { 1e4f, -1e4f, 30, -30, 100, 0 }, 2, 3)), ("labeled_labels", T.I(1, 2)),
                ("unlabeled_logits", T.Shaped(new float[] { -1e4f, 1e4f, 0, 30, -30, 100 }, 2, 3)), ("unlabeled_targets", T.Shaped(new float[] { 0.2f, 0.3f, 0.5f, 1, 0, 0 }, 2, 3)))])
        {
            PlainMean = false,
        };
    }

    /// <summary>A uniform value in [0.1, 2] away from <paramref name="kink"/>, on either side.</summary>
    private static double Pick(Random r, double kink) => kink + (r.Next(2) == 0 ? -1 : 1) * (0.1 + 1.9 * r.NextDouble());

    private static LossSampleSet Binary(string name, string x, string y, Func<Random, double[], double[]> scores, Func<Random, int, double[]> labels)
    {
        LossInputs Make(Random r)
        {
            double[] t = labels(r, 12);
            return T.In((x, T.Shaped(scores(r, t), 3, 4)), (y, T.Shaped(t, 3, 4)));
        }
        float[] extremeLabels = name == "SparsemaxLoss" ? [1, 0, 1, 0, 1, 0, 0, 1] : [1, 1, -1, -1, 1, -1, 1, -1];
        return new(name, With(name, [], Make), [LossSamples.ExtremeOf(T.Opt(), [x], (x, LossSamples.Logits()), (y, T.F(extremeLabels)))]);
    }

    private static LossSampleSet Ranking()
    {
        const string name = "RankingSoftmaxLoss";
        LossInputs Make(Random r) => T.In(("logits", T.Shaped(LossSamples.Normal(r, 15, 2), 3, 5)), ("labels", T.Shaped(LossSamples.Uniform(r, 15, 0, 2), 3, 5)));
        TensorData where = T.Shaped(new double[] { 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 0, 1 }, 3, 5);
        TensorData weights = T.Shaped(LossSamples.Uniform(new Random(3), 15, 0.2, 2), 3, 5);
        var samples = With(name, [T.Opt(("where", where)), T.Opt(("weights", weights), ("reduction", "sum")), T.Opt(("where", where), ("weights", weights), ("reduction", "none"))], Make);
        return new(name, samples,
            [LossSamples.ExtremeOf(T.Opt(), ("logits", T.Shaped(LossSamples.LogitValues, 2, 4)), ("labels", T.Shaped(new float[] { 1, 0, 2, 0, 0, 1, 0, 3 }, 2, 4)))]);
    }

    private static List<LossSample> With(string name, Dictionary<string, object?>[] extra, Func<Random, LossInputs> make)
    {
        Dictionary<string, object?>[] reductions = [T.Opt(("reduction", "none")), T.Opt(("reduction", "mean")), T.Opt(("reduction", "sum"))];
        return [.. reductions.Concat(extra).Select(o => new LossSample($"{name} {string.Join(" ", o.Select(kv => $"{kv.Key}={kv.Value}"))}", o, make))];
    }
}
