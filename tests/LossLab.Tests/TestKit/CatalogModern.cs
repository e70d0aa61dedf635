using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Tests.TestKit;

/// <summary>
/// Contract samples for the modern losses of single papers' reference code (LDAM, Barron's robust loss, the bi-tempered
/// and active–passive losses) and mmdetection's dense-detection losses.
/// </summary>
internal static class CatalogModern
{
    public static IEnumerable<LossSampleSet> Sets()
    {
        List<LossSample> With(string name, Dictionary<string, object?>[] extra, Func<Random, LossInputs> make) => CatalogThree.With(name, extra, make);

        LossInputs Ldam(Random r) => LossRegistry.Default.Get("LdamLoss").Sample!(r, Shape.Scalar);
        yield return new("LdamLoss", With("LdamLoss", [T.Opt(("cls_num_list", T.D(500, 100, 20, 5, 1))),
            T.Opt(("cls_num_list", T.D(3, 30, 300, 7, 70)), ("max_m", 0.3), ("s", 5.0), ("weight", T.D(0.5, 1, 2, 1, 3))),
            T.Opt(("s", 1.0), ("reduction", "sum"))], Ldam),
            [LossSamples.ExtremeOf(T.Opt(("cls_num_list", T.D(900, 50, 9, 1))), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(0, 3)))]);

        // Barron's general robust loss: the limits and the shapes between, residuals of a few scales; the clamps at extremes.
        LossInputs Robust(Random r) => LossRegistry.Default.Get("GeneralRobustLoss").Sample!(r, Shape.Scalar);
        yield return new("GeneralRobustLoss", With("GeneralRobustLoss", [.. new[] { 2.0, 0.0, -2.0, 0.5, 3.0, -10.0, double.NegativeInfinity, double.PositiveInfinity }
            .Select(a => T.Opt(("alpha", a), ("scale", a == double.PositiveInfinity ? 2.0 : 0.7)))], Robust),
            [.. new[] { 1.0, 0.0, -2.0, 3.0, double.NegativeInfinity, double.PositiveInfinity }.Select(a => LossSamples.ExtremeOf(T.Opt(("alpha", a)),
                ("input", T.F(1e4f, -1e4f, 0, 1e-30f, 3, -30)), ("target", T.F(-1e4f, 1e4f, 1e-30f, 0, 3, 30))))]);

        // Barron's adaptive loss: α and c per dimension or shared, shapes on both sides of 2, near 0, residuals to 1e4.
        LossInputs Adaptive(Random r) => LossRegistry.Default.Get("AdaptiveRobustLoss").Sample!(r, Shape.Scalar);
        LossInputs AdaptiveWith(Random r, TensorData alpha, TensorData scale) => T.In(("x", Samples.Normal(r, new Shape(4, 2), 3)), ("alpha", alpha), ("scale", scale));
        yield return new("AdaptiveRobustLoss", [.. With("AdaptiveRobustLoss", [], Adaptive),
                new("AdaptiveRobustLoss shared alpha and scale", T.Opt(), r => AdaptiveWith(r, T.Shaped(new double[] { 1.3 }), T.Shaped(new double[] { 0.8 }))),
                new("AdaptiveRobustLoss alpha above 2 and near 0", T.Opt(("reduction", "sum")), r => AdaptiveWith(r, T.D(2.5, 0.01), T.D(1.5, 0.3))),
                new("AdaptiveRobustLoss alpha 4 and 0.5", T.Opt(("reduction", "none")), r => AdaptiveWith(r, T.D(4, 0.5), T.D(2, 1)))],
            [LossSamples.ExtremeOf(T.Opt(), ("x", T.Shaped(new float[] { 1e4f, -1e4f, 0, 1e-30f, 30, -30 }, 3, 2)), ("alpha", T.F(0.5f, 1.9f)), ("scale", T.F(1, 1e-3f))),
             LossSamples.ExtremeOf(T.Opt(), ("x", T.Shaped(new float[] { 1e4f, -1e4f, 0, 1e-30f }, 2, 2)), ("alpha", T.F(3, 0)), ("scale", T.F(1, 1)))]);

        // Sinkhorn divergence: geomloss's defaults, p = 1, without debiasing, weights (normalized) and a slower annealing.
        LossInputs Clouds(Random r) => LossRegistry.Default.Get("SinkhornDivergence").Sample!(r, Shape.Scalar);
        LossInputs Weighted(Random r) => Clouds(r).Add("x_weights", Samples.Uniform(r, new Shape(5), 0.2, 1)).Add("y_weights", Samples.Uniform(r, new Shape(6), 0.2, 1));
        yield return new("SinkhornDivergence", [new("SinkhornDivergence (defaults: p 2, blur 0.05)", T.Opt(), Clouds),
                new("SinkhornDivergence p=1 blur=0.5", T.Opt(("p", 1L), ("blur", 0.5)), Clouds),
                new("SinkhornDivergence debias=false blur=0.3", T.Opt(("debias", false), ("blur", 0.3)), Clouds),
                new("SinkhornDivergence weights blur=0.2 scaling=0.8", T.Opt(("blur", 0.2), ("scaling", 0.8)), Weighted)],
            [LossSamples.ExtremeOf(T.Opt(), ("x", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1 }, 3, 2)), ("y", T.Shaped(new float[] { -1e4f, 1e4f, 30, -30 }, 2, 2)))]);

        // Kernel MMD: the three kernels, weights as given.
        LossInputs MmdClouds(Random r) => LossRegistry.Default.Get("KernelMmdLoss").Sample!(r, Shape.Scalar);
        LossInputs MmdWeighted(Random r) => MmdClouds(r).Add("x_weights", Samples.Uniform(r, new Shape(5), 0.1, 1)).Add("y_weights", Samples.Uniform(r, new Shape(6), 0.1, 1));
        yield return new("KernelMmdLoss", [new("KernelMmdLoss (defaults: gaussian, blur 0.05)", T.Opt(), MmdClouds),
                new("KernelMmdLoss laplacian blur=0.3 weights", T.Opt(("kernel", "laplacian"), ("blur", 0.3)), MmdWeighted),
                new("KernelMmdLoss energy", T.Opt(("kernel", "energy")), MmdWeighted)],
            [LossSamples.ExtremeOf(T.Opt(("kernel", "energy")), ("x", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1 }, 3, 2)), ("y", T.Shaped(new float[] { -1e4f, 1e4f, 30, -30 }, 2, 2))),
             LossSamples.ExtremeOf(T.Opt(("kernel", "laplacian")), ("x", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0 }, 2, 2)), ("y", T.Shaped(new float[] { 0, 0, 30, -30 }, 2, 2)))]);

        // The bi-tempered logistic loss: the paper's temperatures, a short tail (t2 < 1), soft and index labels, smoothing.
        LossInputs BiTempered(Random r) => LossRegistry.Default.Get("BiTemperedLogisticLoss").Sample!(r, Shape.Scalar);
        LossInputs BiTemperedSoft(Random r)
        {
            double[] y = LossSamples.Normal(r, 20);
            for (int i = 0; i < 4; i++)
            {
                double sum = 0;
                for (int j = 0; j < 5; j++) sum += y[i * 5 + j] = Math.Exp(y[i * 5 + j]);
                for (int j = 0; j < 5; j++) y[i * 5 + j] /= sum;
            }
            return BiTempered(r).Add("labels", T.Shaped(y, 4, 5));
        }
        LossInputs BiTemperedIndices(Random r) => BiTempered(r).Add("labels", T.D(r.Next(5), r.Next(5), r.Next(5), r.Next(5)));
        yield return new("BiTemperedLogisticLoss", [.. With("BiTemperedLogisticLoss", [T.Opt(("t1", 0.2), ("t2", 4.0)), T.Opt(("t1", 1.0), ("t2", 1.0)),
            T.Opt(("t1", 0.5), ("t2", 0.8)), T.Opt(("label_smoothing", 0.1), ("t2", 2.0))], BiTempered),
            new("BiTemperedLogisticLoss soft labels", T.Opt(("t1", 0.7), ("t2", 1.5)), BiTemperedSoft),
            new("BiTemperedLogisticLoss class indices", T.Opt(("reduction", "sum")), BiTemperedIndices)],
            [LossSamples.ExtremeOf(T.Opt(), ["activations"], ("activations", T.Shaped(LossSamples.LogitValues, 2, 4)), ("labels", T.Shaped(new float[] { 1, 0, 0, 0, 0, 0, 0, 1 }, 2, 4))),
             LossSamples.ExtremeOf(T.Opt(("t1", 0.5), ("t2", 0.8)), ["activations"], ("activations", T.Shaped(LossSamples.LogitValues, 2, 4)), ("labels", T.Shaped(new float[] { 0, 1, 0, 0, 0, 0, 0, 1 }, 2, 4)))]);

        // The active–passive losses: both actives with each passive, weights, γ.
        LossInputs Apl(Random r) => LossRegistry.Default.Get("ActivePassiveLoss").Sample!(r, Shape.Scalar);
        yield return new("ActivePassiveLoss", With("ActivePassiveLoss", [T.Opt(("passive", "mae")), T.Opt(("active", "nfl")), T.Opt(("active", "nfl"), ("passive", "mae"), ("gamma", 2.0)),
            T.Opt(("active", "nfl"), ("passive", "none"), ("gamma", 0.0), ("alpha", 10.0)), T.Opt(("alpha", 0.1), ("beta", 10.0), ("reduction", "sum"))], Apl),
            [.. new[] { "rce", "mae" }.SelectMany(passive => new[] { "nce", "nfl" }.Select(active => LossSamples.ExtremeOf(T.Opt(("active", active), ("passive", passive)), ["input"],
                ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(0, 3)))))]);

        LossInputs Taylor(Random r) => LossRegistry.Default.Get("TaylorCrossEntropy").Sample!(r, Shape.Scalar);
        yield return new("TaylorCrossEntropy", With("TaylorCrossEntropy", [T.Opt(("t", 1L)), T.Opt(("t", 6L)), T.Opt(("t", 100L))], Taylor),
            [LossSamples.ExtremeOf(T.Opt(), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(0, 3))),
             LossSamples.ExtremeOf(T.Opt(("t", 50L)), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(1, 2)))]);

        // dlordinal's ordinal losses over softmax logits: the squared EMD (ranked probability score) and class distance
        // weighted cross-entropy with its exponents (0: every class weighted 1, the true one too) and class weights.
        LossInputs Mce(Random r) => LossRegistry.Default.Get("PerClassMseLoss").Sample!(r, Shape.Scalar);
        yield return new("PerClassMseLoss", With("PerClassMseLoss", [T.Opt(("reduction", "sum")), T.Opt(("reduction", "none")), T.Opt(("weight", T.D(1.6, 0.55, 1.0, 2.3)))], Mce),
            [LossSamples.ExtremeOf(T.Opt(), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(0, 3)))]);
        LossInputs MceWk(Random r) => LossRegistry.Default.Get("MceAndWkLoss").Sample!(r, Shape.Scalar);
        LossInputs MceWkPositive(Random r) => T.In(("input", T.Shaped(LossSamples.Uniform(r, 24, 0.1, 3), 6, 4)), ("target", MceWk(r)["target"]));
        yield return new("MceAndWkLoss", [new("MceAndWkLoss", T.Opt(), MceWk), new("MceAndWkLoss C 0", T.Opt(("C", 0.0)), MceWk), new("MceAndWkLoss C 1", T.Opt(("C", 1.0)), MceWk),
            new("MceAndWkLoss weighted", T.Opt(("C", 0.3), ("weight", T.D(1.6, 0.55, 1.0, 2.3))), MceWk),
            new("MceAndWkLoss linear on positive outputs", T.Opt(("wk_penalization_type", "linear")), MceWkPositive)],
            [LossSamples.ExtremeOf(T.Opt(), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(0, 3)))]);
        LossInputs Ecoc(Random r) => LossRegistry.Default.Get("OrdinalEcocDistanceLoss").Sample!(r, Shape.Scalar);
        yield return new("OrdinalEcocDistanceLoss", With("OrdinalEcocDistanceLoss", [T.Opt(("reduction", "mean")), T.Opt(("weights", T.D(1.6, 0.55, 1.0, 2.3)))], Ecoc),
            [LossSamples.ExtremeOf(T.Opt(), ["input"], ("input", T.Shaped(new float[] { 1e4f, -1e4f, 0, 1e-30f, 1, 30 }, 2, 3)), ("target", T.I(0, 3)))]);
        LossInputs Slace(Random r) => LossRegistry.Default.Get("SlaceLoss").Sample!(r, Shape.Scalar);
        LossInputs SlaceProbabilities(Random r) { LossInputs i = Slace(r); return T.In(("input", LossLab.Losses.Core.Samples.Simplex(r, new Shape(6, 5))), ("target", i["target"])); }
        yield return new("SlaceLoss", [.. With("SlaceLoss", [T.Opt(("alpha", 3.0)), T.Opt(("alpha", 0.5), ("weight", T.D(1.6, 0.55, 1.0, 2.3, 0.7)))], Slace),
            new("SlaceLoss on probabilities", T.Opt(("use_logits", false), ("alpha", 2.0)), SlaceProbabilities)],
            [LossSamples.ExtremeOf(T.Opt(), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(0, 3)))]);
        LossInputs Emd(Random r) => LossRegistry.Default.Get("SquaredEmdLoss").Sample!(r, Shape.Scalar);
        yield return new("SquaredEmdLoss", With("SquaredEmdLoss", [T.Opt(("reduction", "sum")), T.Opt(("reduction", "none"))], Emd),
            [LossSamples.ExtremeOf(T.Opt(), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(0, 3))),
             LossSamples.ExtremeOf(T.Opt(), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(2, 1)))]);
        LossInputs Cdw(Random r) => LossRegistry.Default.Get("ClassDistanceWeightedCrossEntropy").Sample!(r, Shape.Scalar);
        yield return new("ClassDistanceWeightedCrossEntropy", With("ClassDistanceWeightedCrossEntropy", [T.Opt(("alpha", 0.0)), T.Opt(("alpha", 2.0)),
            T.Opt(("alpha", 1.0), ("weight", T.D(0.5, 1, 2, 1, 3)), ("reduction", "sum")), T.Opt(("reduction", "none"), ("weight", T.D(1, 0, 1, 1, 1)))], Cdw),
            [LossSamples.ExtremeOf(T.Opt(), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(0, 3))),
             LossSamples.ExtremeOf(T.Opt(("alpha", 3.0)), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(1, 2)))]);

        // dlordinal's weighted kappa loss: probabilities in, one value per batch; the linear exponent, class weights,
        // one-hot target rows, ε = 0.
        LossInputs Wk(Random r) => LossRegistry.Default.Get("WeightedKappaLoss").Sample!(r, Shape.Scalar);
        LossInputs WkRows(Random r)
        {
            LossInputs i = Wk(r);
            long[] ranks = i.Indices("target");
            int k = i["input"].Shape[1];
            return i.Add("target", T.Shaped([.. Enumerable.Range(0, ranks.Length * k).Select(q => q % k == ranks[q / k] ? 1.0 : 0.0)], ranks.Length, k));
        }
        yield return new("WeightedKappaLoss", [new("WeightedKappaLoss", T.Opt(), Wk), new("WeightedKappaLoss linear", T.Opt(("penalization_type", "linear")), Wk),
            new("WeightedKappaLoss class weights", T.Opt(("weight", T.D(0.5, 2, 1, 1.5))), Wk), new("WeightedKappaLoss ε = 0", T.Opt(("epsilon", 0.0)), Wk),
            new("WeightedKappaLoss one-hot rows", T.Opt(), WkRows)],
            [LossSamples.ExtremeOf(T.Opt(), ["input"], ("input", T.Shaped(new double[] { 1, 0, 0, 0, 1e-30, 1 - 1e-30, 0.25, 0.75 }, 4, 2)), ("target", T.I(0, 1, 1, 0)))]);

        // dlordinal's SORD: |j − y| and each proximity form from class counts, α, class weights, probabilities in.
        LossInputs Sord(Random r) => LossRegistry.Default.Get("SordLoss").Sample!(r, Shape.Scalar);
        LossInputs SordProbabilities(Random r)
        {
            LossInputs i = Sord(r);
            double[] x = T.Values(i["input"]);
            for (int row = 0; row < 4; row++)
            {
                double sum = 0;
                for (int j = 0; j < 5; j++) sum += x[row * 5 + j] = Math.Exp(x[row * 5 + j]);
                for (int j = 0; j < 5; j++) x[row * 5 + j] /= sum;
            }
            return i.Add("input", T.Shaped(x, 4, 5));
        }
        TensorData counts = T.D(40, 10, 25, 5, 20);
        yield return new("SordLoss", [.. With("SordLoss", [T.Opt(("alpha", 3.0)), T.Opt(("alpha", 0.5), ("weight", T.D(1, 2, 0.5, 1, 3))),
            .. new[] { "max", "norm_max", "log", "norm_log", "division", "norm_division" }.Select(f => T.Opt(("prox", true), ("ftype", f), ("class_counts", counts)))], Sord),
            new("SordLoss probabilities", T.Opt(("use_logits", false), ("alpha", 2.0)), SordProbabilities)],
            [LossSamples.ExtremeOf(T.Opt(), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(0, 3))),
             LossSamples.ExtremeOf(T.Opt(("prox", true), ("class_counts", T.D(5, 1, 1, 3))), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(2, 1)))]);

        // dlordinal's unimodal regularised cross-entropies: η, class weights, label smoothing, each family's own parameter.
        foreach (var (name, own) in new (string, Dictionary<string, object?>[])[]
        {
            ("BinomialCrossEntropyLoss", []), ("PoissonCrossEntropyLoss", []),
            ("ExponentialCrossEntropyLoss", [T.Opt(("p", 2.0)), T.Opt(("p", 0.5))]), ("TriangularCrossEntropyLoss", [T.Opt(("alpha2", 0.01)), T.Opt(("alpha2", 0.2))]),
            ("BetaCrossEntropyLoss", []),
            ("GeneralTriangularCrossEntropyLoss", [T.Opt(("alphas", T.D(0, 0.1, 0.05, 0.2, 0.01, 0.05, 0.3, 0.0, 0.15, 0))), T.Opt(("alphas", T.D(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))]),
            ("GeometricLoss", [T.Opt(("alphas", 0.3)), T.Opt(("alphas", T.D(0.2, 0.05, 0.1, 0.15, 0.1))), T.Opt(("alphas", 0.0)),
                T.Opt(("alphas", T.Shaped(new double[] { 0.2, 1, 0, 0.05, 0.75, 0.25, 0.1, 0.5, 0.5, 0.15, 0, 1, 0.1, 0.25, 0.75 }, 5, 3)))]),
        })
        {
            string loss = name;
            LossInputs Make(Random r) => LossRegistry.Default.Get(loss).Sample!(r, Shape.Scalar);
            yield return new(loss, With(loss, [.. own, T.Opt(("eta", 0.3)), T.Opt(("eta", 0.0)), T.Opt(("weight", T.D(1, 2, 0.5, 1, 3)), ("label_smoothing", 0.1))], Make),
                [LossSamples.ExtremeOf(T.Opt(), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(0, 3)))]);
        }

        // coral_pytorch's ordinal losses: ranks or levels as targets, importance weights; CORN's one value per batch.
        LossInputs Coral(Random r) => LossRegistry.Default.Get("CoralLoss").Sample!(r, Shape.Scalar);
        LossInputs CoralLevels(Random r)
        {
            LossInputs i = Coral(r);
            double[] ranks = T.Values(i["levels"]);
            return i.Add("levels", T.Shaped([.. Enumerable.Range(0, 20).Select(q => q % 4 < ranks[q / 4] ? 1.0 : 0.0)], 5, 4));
        }
        yield return new("CoralLoss", [.. With("CoralLoss", [T.Opt(("importance_weights", T.D(0.5, 1, 2, 1.5)))], Coral), new("CoralLoss levels", T.Opt(("reduction", "sum")), CoralLevels)],
            [LossSamples.ExtremeOf(T.Opt(), ["logits"], ("logits", T.Shaped(LossSamples.LogitValues, 2, 4)), ("levels", T.F(0, 4)))]);
        LossInputs Corn(Random r) => LossRegistry.Default.Get("CornLoss").Sample!(r, Shape.Scalar);
        yield return new("CornLoss", [new("CornLoss", T.Opt(), Corn)],
            [LossSamples.ExtremeOf(T.Opt(), ["logits"], ("logits", T.Shaped(LossSamples.LogitValues, 2, 4)), ("labels", T.I(1, 4)))]);
        // Soft-DTW: a batch of sequences of different lengths, small and large γ, a band, the divergence, one unbatched pair.
        LossInputs Sdtw(Random r) => LossRegistry.Default.Get("SoftDtwLoss").Sample!(r, Shape.Scalar);
        LossInputs SdtwSame(Random r) => T.In(("x", T.Shaped(LossSamples.Normal(r, 24), 2, 4, 3)), ("y", T.Shaped(LossSamples.Normal(r, 24), 2, 4, 3)));
        LossInputs SdtwOne(Random r) => T.In(("x", T.Shaped(LossSamples.Normal(r, 6), 3, 2)), ("y", T.Shaped(LossSamples.Normal(r, 10), 5, 2)));
        yield return new("SoftDtwLoss", [.. With("SoftDtwLoss", [T.Opt(("gamma", 0.1)), T.Opt(("gamma", 5.0)), T.Opt(("bandwidth", 1L))], Sdtw),
            new("SoftDtwLoss normalize", T.Opt(("normalize", true)), SdtwSame), new("SoftDtwLoss one pair", T.Opt(("reduction", "sum")), SdtwOne)],
            [LossSamples.ExtremeOf(T.Opt(), ("x", T.Shaped(new float[] { 1e4f, -1e4f, 0, 1e-30f, 30, -30 }, 1, 3, 2)), ("y", T.Shaped(new float[] { -1e4f, 1e4f, 3, 0 }, 1, 2, 2))),
             LossSamples.ExtremeOf(T.Opt(("gamma", 1e-3)), ("x", T.Shaped(new float[] { 1e2f, -1e2f, 0, 1e-30f, 30, -30 }, 1, 3, 2)), ("y", T.Shaped(new float[] { -1e2f, 1e2f, 3, 0 }, 1, 2, 2)))]);
        // mmdetection's dense-detection losses: IoU-aware targets, background boxes (label C), distances between bins.
        LossInputs Vfl(Random r) => LossRegistry.Default.Get("VarifocalLoss").Sample!(r, Shape.Scalar);
        yield return new("VarifocalLoss", With("VarifocalLoss", [T.Opt(("gamma", 0.5)), T.Opt(("iou_weighted", false), ("alpha", 0.25)), T.Opt(("gamma", 0.0))], Vfl),
            [LossSamples.ExtremeOf(T.Opt(), ["pred"], ("pred", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.Shaped(new float[] { 0.9f, 0, 0, 0, 0, 0.3f, 0, 1 }, 2, 4))),
             LossSamples.ExtremeOf(T.Opt(("gamma", 0.5)), ["pred"], ("pred", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.Shaped(new float[8], 2, 4)))]);
        LossInputs Qfl(Random r) => LossRegistry.Default.Get("QualityFocalLoss").Sample!(r, Shape.Scalar);
        yield return new("QualityFocalLoss", With("QualityFocalLoss", [T.Opt(("beta", 1.0)), T.Opt(("beta", 0.0)), T.Opt(("beta", 3.0))], Qfl),
            [LossSamples.ExtremeOf(T.Opt(), ["pred"], ("pred", T.Shaped(LossSamples.LogitValues, 2, 4)), ("label", T.I(0, 4)), ("score", T.F(0.8f, 0.5f)))]);
        LossInputs Dfl(Random r) => LossRegistry.Default.Get("DistributionFocalLoss").Sample!(r, Shape.Scalar);
        yield return new("DistributionFocalLoss", With("DistributionFocalLoss", [], Dfl),
            [LossSamples.ExtremeOf(T.Opt(), ["pred"], ("pred", T.Shaped(LossSamples.LogitValues, 2, 4)), ("label", T.F(0.5f, 2.25f)))]);
    }
}
