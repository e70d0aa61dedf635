using LossLab.Autograd;
using LossLab.Losses.Core;
using LossLab.Losses.Custom;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Autograd;

/// <summary>
/// The catalog and the autograd check each other: each loss's formula composed from autograd primitives must give
/// the loss's value and its analytic gradient on every contract sample. (MultilabelMarginLoss, CtcLoss and KerasCtc
/// are combinatorial; CTC is checked against brute-force enumeration instead, multilabel margin by golden values.)
/// </summary>
public sealed class CatalogAutogradTests
{
    private delegate Tensor Formula(IReadOnlyDictionary<string, Tensor> t, Dictionary<string, object?> o);

    private static double F(Dictionary<string, object?> o, string k, double d) => o.TryGetValue(k, out var v) && v is not null ? Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture) : d;

    private static bool B(Dictionary<string, object?> o, string k) => o.TryGetValue(k, out var v) && v is true;

    private static string R(Dictionary<string, object?> o, string d = "mean") => o.TryGetValue("reduction", out var v) && v is string s ? s : d;

    private static Tensor? W(Dictionary<string, object?> o, string k) => o.TryGetValue(k, out var v) && v is TensorData t ? Tensor.FromData(t, dtype: DType.Float64) : null;

    private static Tensor Reduce(Tensor l, Dictionary<string, object?> o, Tensor? denominator = null, string d = "mean") => R(o, d) switch
    {
        "none" => l,
        "sum" => Ops.Sum(l),
        "batchmean" => Ops.Sum(l) / (l.Shape.Rank == 0 ? 1 : l.Shape[0]),
        _ => denominator is null ? Ops.Mean(l) : Ops.Sum(l) / denominator,
    };

    private static Tensor LogSigmoid(Tensor x) => -Ops.Softplus(-x);

    private static Tensor Pointwise(IReadOnlyDictionary<string, Tensor> t, Dictionary<string, object?> o, Func<Tensor, Tensor, Tensor> f, bool weightedBySum)
    {
        Tensor l = f(t["input"], t["target"]);
        Tensor? w = W(o, "weight");
        if (w is null) return Reduce(l, o);
        return Reduce(l * w, o, weightedBySum ? Ops.Sum(w) : null);
    }

    private static Tensor Lp(Tensor a, Tensor b, double p, double eps)
    {
        Tensor u = Ops.Abs(a - b + eps);
        return p == 2 ? Ops.Sqrt(Ops.Sum(u * u, axis: -1)) : Ops.Pow(Ops.Sum(Ops.Pow(u, p), axis: -1), 1 / p);
    }

    private static readonly Dictionary<string, Formula> Formulas = new()
    {
        ["MseLoss"] = (t, o) => Pointwise(t, o, (x, y) => Ops.Pow(x - y, 2), true),
        ["L1Loss"] = (t, o) => Pointwise(t, o, (x, y) => Ops.Abs(x - y), true),
        ["SmoothL1Loss"] = (t, o) =>
        {
            double b = F(o, "beta", 1);
            return Pointwise(t, o, (x, y) =>
            {
                Tensor d = Ops.Abs(x - y);
                return b == 0 ? d : Ops.Where(Ops.Less(d, d.Constant(b)), 0.5 * d * d / b, d - 0.5 * b);
            }, false);
        },
        ["HuberLoss"] = (t, o) =>
        {
            double delta = F(o, "delta", 1);
            return Pointwise(t, o, (x, y) =>
            {
                Tensor d = Ops.Abs(x - y);
                return Ops.Where(Ops.Less(d, d.Constant(delta)), 0.5 * d * d, delta * (d - 0.5 * delta));
            }, false);
        },
        ["PoissonNllLoss"] = (t, o) => Pointwise(t, o, (x, y) =>
        {
            bool logInput = !o.TryGetValue("log_input", out var li) || li is not false;
            Tensor l = logInput ? Ops.Exp(x) - y * x : x - y * Ops.Log(x + F(o, "eps", 1e-8));
            if (!B(o, "full")) return l;
            Tensor big = Ops.Greater(y, y.Constant(1));
            Tensor ys = Ops.Where(big, y, y.Constant(2));   // keeps log finite where the term is masked
            Tensor stirling = ys * Ops.Log(ys) - ys + 0.5 * Ops.Log(2 * Math.PI * ys);
            return l + Ops.Where(big, stirling, y.Constant(0));
        }, false),
        ["GaussianNllLoss"] = (t, o) =>
        {
            Tensor x = t["input"], y = t["target"], v = t["var"];
            if (v.Shape != x.Shape && v.Shape.Rank < x.Shape.Rank) v = Ops.Reshape(v, [.. v.Shape.Dims, 1]);
            Tensor clamped = v + Ops.Maximum(v.Detach(), v.Constant(F(o, "eps", 1e-6))) - v.Detach();   // value clamped, gradient straight-through
            Tensor l = 0.5 * (Ops.Log(clamped) + Ops.Pow(x - y, 2) / clamped);
            if (B(o, "full")) l += 0.5 * Math.Log(2 * Math.PI);
            return Reduce(l, o);
        },
        ["BinaryCrossEntropy"] = (t, o) => Pointwise(t, o, (x, y) =>
            -(y * Ops.Clamp(Ops.Log(x), -100) + (1 - y) * Ops.Clamp(Ops.Log(1 - x), -100)), false),
        ["BinaryCrossEntropyWithLogits"] = (t, o) =>
        {
            Tensor x = t["input"], y = t["target"];
            double ls = F(o, "label_smoothing", 0);
            y = y * (1 - ls) + ls / 2;
            Tensor pw = W(o, "pos_weight") ?? x.Constant(1);
            Tensor l = (1 - y) * x - (1 + (pw - 1) * y) * LogSigmoid(x);
            Tensor? w = W(o, "weight");
            return Reduce(w is null ? l : l * w, o);
        },
        ["SoftMarginLoss"] = (t, o) => Reduce(Ops.Softplus(-t["target"] * t["input"]), o),
        ["KLDivergence"] = (t, o) =>
        {
            Tensor x = t["input"], y = t["target"];
            Tensor l = B(o, "log_target") ? Ops.Exp(y) * (y - x) : y * (Ops.Log(y) - x);
            return Reduce(l, o);
        },
        ["CrossEntropy"] = (t, o) => CrossEntropy(t["input"], t["target"], o),
        ["NllLoss"] = (t, o) =>
        {
            Tensor x = t["input"], target = t["target"];
            Tensor mask = Ops.NotEqual(target, target.Constant(-100));
            Tensor safe = Ops.Where(mask, target, target.Constant(0));
            Tensor picked = Ops.Reshape(Ops.Gather(x, 1, Ops.Reshape(safe, -1, 1)), -1);
            Tensor? w = W(o, "weight");
            Tensor wt = (w is null ? safe.Constant(1) : Ops.Gather(w, 0, safe)) * mask;
            return Reduce(-picked * wt, o, Ops.Sum(wt));
        },
        ["HingeEmbeddingLoss"] = (t, o) =>
        {
            Tensor x = t["input"], y = t["target"];
            Tensor hinge = Ops.Relu(F(o, "margin", 1) - x);
            return Reduce(Ops.Where(Ops.NotEqual(y, y.Constant(-1)), x, x.Constant(0)) + Ops.Where(Ops.NotEqual(y, y.Constant(1)), hinge, x.Constant(0)), o);
        },
        ["MarginRankingLoss"] = (t, o) => Reduce(Ops.Relu(-t["target"] * (t["input1"] - t["input2"]) + F(o, "margin", 0)), o),
        ["CosineEmbeddingLoss"] = (t, o) =>
        {
            Tensor a = t["input1"], b = t["input2"], y = t["target"];
            Tensor cos = Ops.Sum(a * b, axis: -1) / Ops.Sqrt((Ops.Sum(a * a, axis: -1) + 1e-12) * (Ops.Sum(b * b, axis: -1) + 1e-12));
            Tensor l = Ops.Where(Ops.Equal(y, y.Constant(1)), 1 - cos, y.Constant(0)) + Ops.Where(Ops.Equal(y, y.Constant(-1)), Ops.Relu(cos - F(o, "margin", 0)), y.Constant(0));
            return Reduce(l, o);
        },
        ["MultiMarginLoss"] = (t, o) =>
        {
            Tensor x = t["input"], target = t["target"];
            int c = x.Shape[^1];
            Tensor xy = Ops.Gather(x, 1, Ops.Reshape(target, -1, 1));
            Tensor z = Ops.Relu(F(o, "margin", 1) - xy + x) * (1 - Ops.OneHot(target, c, DType.Float64));
            Tensor? w = W(o, "weight");
            Tensor per = Ops.Sum(Ops.Pow(z, F(o, "p", 1)), axis: 1) / c;
            return Reduce(w is null ? per : per * Ops.Gather(w, 0, target), o);
        },
        ["MultilabelSoftMarginLoss"] = (t, o) =>
        {
            Tensor x = t["input"], y = t["target"];
            Tensor l = -(y * LogSigmoid(x) + (1 - y) * LogSigmoid(-x));
            Tensor? w = W(o, "weight");
            return Reduce(Ops.Mean(w is null ? l : l * w, axis: -1), o);
        },
        ["TripletMarginLoss"] = (t, o) =>
        {
            double p = F(o, "p", 2), eps = F(o, "eps", 1e-6);
            Tensor dp = Lp(t["anchor"], t["positive"], p, eps), dn = Lp(t["anchor"], t["negative"], p, eps);
            if (B(o, "swap")) dn = Ops.Minimum(dn, Lp(t["positive"], t["negative"], p, eps));
            return Reduce(Ops.Relu(F(o, "margin", 1) + dp - dn), o);
        },
        ["TripletMarginWithDistanceLoss"] = (t, o) =>
        {
            string kind = o.TryGetValue("distance_function", out var k) && k is string s ? s : "pairwise_distance";
            Tensor D(Tensor a, Tensor b) => kind switch
            {
                "cosine_distance" => 1 - Ops.Sum(a * b, axis: -1) / (Ops.Sqrt(Ops.Sum(a * a, axis: -1)) * Ops.Sqrt(Ops.Sum(b * b, axis: -1))),
                "squared_euclidean" => Ops.Sum(Ops.Pow(a - b, 2), axis: -1),
                _ => Lp(a, b, 2, 1e-6),
            };
            Tensor dp = D(t["anchor"], t["positive"]), dn = D(t["anchor"], t["negative"]);
            if (B(o, "swap")) dn = Ops.Minimum(dn, D(t["positive"], t["negative"]));
            return Reduce(Ops.Relu(F(o, "margin", 1) + dp - dn), o);
        },
        ["KerasHinge"] = (t, o) => KerasMean(t, o, (y, p) => Ops.Relu(1 - Signed(y) * p), differentiateTrue: false),
        ["KerasSquaredHinge"] = (t, o) => KerasMean(t, o, (y, p) => Ops.Pow(Ops.Relu(1 - Signed(y) * p), 2), differentiateTrue: false),
        ["KerasLogCosh"] = (t, o) => KerasMean(t, o, (y, p) => (p - y) + Ops.Softplus(-2 * (p - y)) - Math.Log(2)),
        ["KerasMeanAbsolutePercentageError"] = (t, o) => KerasMean(t, o, (y, p) => 100 * Ops.Abs(y - p) / Ops.Maximum(Ops.Abs(y), y.Constant((double)1e-7f))),
        ["KerasMeanSquaredLogarithmicError"] = (t, o) => KerasMean(t, o, (y, p) =>
            Ops.Pow(Ops.Log(Ops.Maximum(p, p.Constant((double)1e-7f)) + 1) - Ops.Log(Ops.Maximum(y, y.Constant((double)1e-7f)) + 1), 2)),
        ["KerasPoisson"] = (t, o) => KerasMean(t, o, (y, p) => p - y * Ops.Log(p + (double)1e-7f)),
        ["KerasBinaryFocalCrossentropy"] = (t, o) => KerasMean(t, o, (y, p) =>
        {
            double ls = F(o, "label_smoothing", 0), alpha = F(o, "alpha", 0.25), gamma = F(o, "gamma", 2), eps = (double)1e-7f;
            Tensor ts = y * (1 - ls) + ls / 2;
            if (B(o, "from_logits")) p = Ops.Sigmoid(p);
            Tensor c = Ops.Clamp(p, eps, 1 - eps);
            Tensor bce = -(ts * Ops.Log(c) + (1 - ts) * Ops.Log(1 - c));
            Tensor l = Ops.Pow(1 - (ts * p + (1 - ts) * (1 - p)), gamma) * bce;
            return B(o, "apply_class_balancing") ? (alpha * ts + (1 - alpha) * (1 - ts)) * l : l;
        }),
        ["KerasCategoricalFocalCrossentropy"] = (t, o) =>
        {
            Tensor y = t["y_true"], p = t["y_pred"];
            double ls = F(o, "label_smoothing", 0), alpha = F(o, "alpha", 0.25), gamma = F(o, "gamma", 2), eps = (double)1e-7f;
            Tensor ts = y * (1 - ls) + ls / y.Shape[-1];
            if (B(o, "from_logits")) p = Ops.Softmax(p, -1);
            Tensor c = Ops.Clamp(p / Ops.Sum(p, axis: -1, keepDim: true), eps, 1 - eps);
            return KerasReduce(Ops.Sum(alpha * Ops.Pow(1 - c, gamma) * -ts * Ops.Log(c), axis: -1), o);
        },
        ["KerasCategoricalHinge"] = (t, o) =>
        {
            Tensor y = t["y_true"], p = t["y_pred"];
            return KerasReduce(Ops.Relu(Ops.Max((1 - y) * p, axis: -1) - Ops.Sum(y * p, axis: -1) + 1), o);
        },
        ["KerasCosineSimilarity"] = (t, o) =>
        {
            Tensor y = t["y_true"], p = t["y_pred"];
            Tensor norms = Ops.Sqrt(Ops.Sum(y * y, axis: -1)) * Ops.Sqrt(Ops.Sum(p * p, axis: -1));
            return KerasReduce(-Ops.Sum(y * p, axis: -1) / norms, o);
        },
        // Contract samples use axis = 1: one value per row.
        ["KerasDice"] = (t, o) =>
        {
            Tensor y = t["y_true"], p = t["y_pred"];
            return KerasReduce(1 - 2 * Ops.Sum(y * p, axis: -1) / (Ops.Sum(y, axis: -1) + Ops.Sum(p, axis: -1) + (double)1e-7f), o);
        },
        ["KerasTversky"] = (t, o) =>
        {
            Tensor y = t["y_true"], p = t["y_pred"];
            double alpha = F(o, "alpha", 0.5), beta = F(o, "beta", 0.5);
            Tensor tp = Ops.Sum(y * p, axis: -1), fp = Ops.Sum((1 - y) * p, axis: -1), fn = Ops.Sum(y * (1 - p), axis: -1);
            return KerasReduce(1 - tp / (tp + alpha * fp + beta * fn + (double)1e-7f), o);
        },
        ["KerasMeanSquaredError"] = (t, o) => KerasMean(t, o, (y, p) => Ops.Pow(p - y, 2)),
        ["KerasMeanAbsoluteError"] = (t, o) => KerasMean(t, o, (y, p) => Ops.Abs(p - y)),
        ["KerasHuber"] = (t, o) => KerasMean(t, o, (y, p) =>
        {
            double delta = F(o, "delta", 1);
            Tensor d = Ops.Abs(p - y);
            return Ops.Where(Ops.LessEqual(d, d.Constant(delta)), 0.5 * Ops.Pow(d, 2), delta * d - 0.5 * delta * delta);
        }),
        ["KerasBinaryCrossentropy"] = (t, o) => KerasMean(t, o, (y, p) =>
        {
            double ls = F(o, "label_smoothing", 0), eps = (double)1e-7f;
            Tensor ts = y * (1 - ls) + ls / 2;
            if (B(o, "from_logits")) return Ops.Softplus(p) - ts * p;
            Tensor c = Ops.Clamp(p, eps, 1 - eps);
            return -(ts * Ops.Log(c) + (1 - ts) * Ops.Log(1 - c));
        }),
        ["KerasCategoricalCrossentropy"] = (t, o) =>
        {
            Tensor y = t["y_true"], p = t["y_pred"];
            double ls = F(o, "label_smoothing", 0), eps = (double)1e-7f;
            Tensor ts = y * (1 - ls) + ls / y.Shape[-1];
            Tensor logp = B(o, "from_logits") ? Ops.LogSoftmax(p, -1) : Ops.Log(Ops.Clamp(p / Ops.Sum(p, axis: -1, keepDim: true), eps, 1 - eps));
            return KerasReduce(-Ops.Sum(ts * logp, axis: -1), o);
        },
        ["KerasKLDivergence"] = (t, o) =>
        {
            double eps = (double)1e-7f;
            Tensor y = Ops.Clamp(t["y_true"], eps, 1), p = Ops.Clamp(t["y_pred"], eps, 1);
            return KerasReduce(Ops.Sum(y * Ops.Log(y / p), axis: -1), o);
        },
        ["KerasSparseCategoricalCrossentropy"] = (t, o) =>
        {
            Tensor p = t["y_pred"];
            long[] labels = [.. t["y_true"].ToArray().Select(v => (long)v)];
            Tensor logp = B(o, "from_logits") ? Ops.LogSoftmax(p, -1) : Ops.Log(Ops.Clamp(p / Ops.Sum(p, axis: -1, keepDim: true), (double)1e-7f, 1 - (double)1e-7f));
            Tensor picked = -Ops.Sum(logp * Ops.OneHot(Ops.Reshape(t["y_true"], -1), p.Shape[-1], DType.Float64), axis: -1);
            Tensor? mask = o.TryGetValue("ignore_class", out var ic) && ic is long ignore
                ? Tensor.FromArray(labels.Select(v => v == ignore ? 0.0 : 1.0).ToArray(), [labels.Length]) : null;
            return KerasReduceMasked(picked, o, mask);
        },
        ["GeneralizedCrossEntropy"] = (t, o) =>
        {
            Tensor x = t["input"], y = t["target"];
            double q = F(o, "q", 0.7);
            Tensor py = Ops.Sum(Ops.Softmax(x, -1) * Ops.OneHot(y, x.Shape[-1], DType.Float64), axis: -1);
            return Reduce((1 - Ops.Pow(py, q)) / q, o);
        },
        ["SymmetricCrossEntropy"] = (t, o) =>
        {
            Tensor x = t["input"], y = t["target"];
            Tensor ce = -Ops.Sum(Ops.LogSoftmax(x, -1) * Ops.OneHot(y, x.Shape[-1], DType.Float64), axis: -1);
            Tensor rce = -Math.Log(F(o, "label_clamp", 1e-4)) * (1 - Ops.Exp(-ce));
            return Reduce(F(o, "alpha", 0.1) * ce + F(o, "beta", 1.0) * rce, o);
        },
        ["CrammerSingerHinge"] = (t, o) =>
        {
            Tensor x = t["scores"], oh = Ops.OneHot(t["labels"], t["scores"].Shape[-1], DType.Float64);
            return Reduce(Ops.Max(x + 1 - oh, axis: -1) - Ops.Sum(x * oh, axis: -1), o, d: "none");
        },
        ["MulticlassPerceptron"] = (t, o) =>
        {
            Tensor x = t["scores"], oh = Ops.OneHot(t["labels"], t["scores"].Shape[-1], DType.Float64);
            return Reduce(Ops.Max(x, axis: -1) - Ops.Sum(x * oh, axis: -1), o, d: "none");
        },
        ["PolyCrossEntropy"] = (t, o) =>
        {
            Tensor logp = Ops.LogSoftmax(t["logits"], -1), y = t["labels"];
            Tensor l = -Ops.Sum(y * logp, axis: -1) + F(o, "epsilon", 2.0) * (1 - Ops.Sum(y * Ops.Exp(logp), axis: -1));
            return Reduce(l, o, d: "none");
        },
        ["ConvexKLDivergence"] = (t, o) =>
        {
            Tensor lp = t["log_predictions"], y = t["targets"];
            return Reduce(Ops.Sum(y * (Ops.Log(y) - lp) + Ops.Exp(lp) - y, axis: -1), o, d: "none");
        },
        ["SoftDiceLoss"] = (t, o) => Overlap(t, o, "dice"),
        ["JaccardLoss"] = (t, o) => Overlap(t, o, "jaccard"),
        ["TverskyLoss"] = (t, o) => Overlap(t, o, "tversky"),
        ["SparseCategoricalFocalLoss"] = (t, o) =>
        {
            Tensor x = t["input"], y = t["target"];
            int c = x.Shape[1];
            double[] labels = y.ToArray();
            Tensor keep = Tensor.FromArray([.. labels.Select(v => v == -100 ? 0.0 : 1.0)], [.. y.Shape.Dims]);
            Tensor safe = Tensor.FromArray([.. labels.Select(v => v == -100 ? 0.0 : v)], [.. y.Shape.Dims]);
            Tensor lp = Ops.LogSoftmax(x, 1);
            // One-hot (N, d.., C) moved to the class dim 1.
            Tensor oh = Ops.OneHot(safe, c, DType.Float64);
            if (x.Shape.Rank == 3) oh = Ops.Transpose(oh, 1, 2);
            Tensor lpy = Ops.Sum(lp * oh, axis: 1);
            Tensor? w = W(o, "weight");
            Tensor wy = w is null ? keep : Ops.Sum(oh * Ops.Reshape(w, x.Shape.Rank == 3 ? [1, c, 1] : [1, c]), axis: 1) * keep;
            Tensor l = -wy * Ops.Pow(1 - Ops.Exp(lpy), F(o, "gamma", 2)) * lpy;
            return Reduce(l, o, Ops.Sum(wy));
        },
        ["JensenShannonDivergence"] = (t, o) =>
        {
            Tensor p = t["input"], q = t["target"];
            double beta = F(o, "beta", 0.5);
            Tensor m = beta * q + (1 - beta) * p;
            Tensor js = Ops.Sum(beta * q * (Ops.Log(q) - Ops.Log(m)) + (1 - beta) * p * (Ops.Log(p) - Ops.Log(m)), axis: -1);
            if (B(o, "normalize")) js = js / (-(1 - beta) * Math.Log(1 - beta));
            return Reduce(js, o);
        },
        ["NTXentLoss"] = (t, o) =>
        {
            Tensor x = t["embeddings"];
            long[] labels = [.. t["labels"].ToArray().Select(v => (long)v)];
            int n = labels.Length;
            double tau = F(o, "temperature", 0.07);
            Tensor xh = x / Ops.Sqrt(Ops.Sum(x * x, axis: -1, keepDim: true));
            Tensor s = Ops.MatMul(xh, Ops.Transpose(xh, 0, 1)) / tau;
            var anchors = new List<Tensor>();
            int pairs = 0;
            for (int a = 0; a < n; a++)
            {
                Tensor rowA = Ops.Sum(s * Tensor.FromArray([.. Enumerable.Range(0, n).Select(i => i == a ? 1.0 : 0.0)], [n, 1]), axis: 0);
                Tensor sum = x.Constant(0);
                for (int p = 0; p < n; p++)
                {
                    if (p == a || labels[p] != labels[a]) continue;
                    pairs++;
                    // Entries outside {p} ∪ negatives get −1e4: their exp is exactly 0 in double.
                    Tensor mask = Tensor.FromArray([.. Enumerable.Range(0, n).Select(j => j == p || labels[j] != labels[a] ? 0.0 : -1e4)], [n]);
                    Tensor sp = Ops.Sum(rowA * Tensor.FromArray([.. Enumerable.Range(0, n).Select(j => j == p ? 1.0 : 0.0)], [n]));
                    sum = sum + (Ops.LogSumExp(rowA + mask) - sp);
                }
                anchors.Add(Ops.Reshape(sum, 1));
            }
            Tensor perAnchor = Ops.Concat(anchors, 0);
            return R(o) switch
            {
                "none" => perAnchor,
                "sum" => Ops.Sum(perAnchor),
                _ => pairs == 0 ? Ops.Sum(perAnchor) * 0 : Ops.Sum(perAnchor) / pairs,
            };
        },
        ["ContrastiveLoss"] = (t, o) =>
        {
            Tensor x = t["embeddings"];
            long[] labels = [.. t["labels"].ToArray().Select(v => (long)v)];
            int n = labels.Length;
            if (!o.TryGetValue("normalize_embeddings", out var ne) || ne is not false) x = x / Ops.Sqrt(Ops.Sum(x * x, axis: -1, keepDim: true));
            Tensor Row(int i) => Ops.Sum(x * Tensor.FromArray([.. Enumerable.Range(0, n).Select(k => k == i ? 1.0 : 0.0)], [n, 1]), axis: 0);
            double mPos = F(o, "pos_margin", 0), mNeg = F(o, "neg_margin", 1);
            var anchors = new List<Tensor>();
            Tensor pos = x.Constant(0), neg = x.Constant(0);
            int posCount = 0, negCount = 0;
            for (int a = 0; a < n; a++)
            {
                Tensor sum = x.Constant(0);
                for (int j = 0; j < n; j++)
                {
                    if (j == a) continue;
                    Tensor dist = Ops.Sqrt(Ops.Sum(Ops.Pow(Row(a) - Row(j), 2)));
                    bool same = labels[a] == labels[j];
                    Tensor term = same ? Ops.Relu(dist - mPos) : Ops.Relu(mNeg - dist);
                    sum = sum + term;
                    if (term.ToArray()[0] <= 0) continue;
                    if (same) (pos, posCount) = (pos + term, posCount + 1);
                    else (neg, negCount) = (neg + term, negCount + 1);
                }
                anchors.Add(Ops.Reshape(sum, 1));
            }
            return R(o) switch
            {
                "none" => Ops.Concat(anchors, 0),
                "sum" => Ops.Sum(Ops.Concat(anchors, 0)),
                _ => (posCount == 0 ? pos * 0 : pos / posCount) + (negCount == 0 ? neg * 0 : neg / negCount),
            };
        },
        ["SupConLoss"] = (t, o) =>
        {
            Tensor x = t["embeddings"];
            long[] labels = [.. t["labels"].ToArray().Select(v => (long)v)];
            int n = labels.Length;
            double tau = F(o, "temperature", 0.1);
            Tensor xh = x / Ops.Sqrt(Ops.Sum(x * x, axis: -1, keepDim: true));
            Tensor s = Ops.MatMul(xh, Ops.Transpose(xh, 0, 1)) / tau;
            var anchors = new List<Tensor>();
            int nonZero = 0;
            for (int a = 0; a < n; a++)
            {
                Tensor rowA = Ops.Sum(s * Tensor.FromArray([.. Enumerable.Range(0, n).Select(i => i == a ? 1.0 : 0.0)], [n, 1]), axis: 0);
                Tensor lse = Ops.LogSumExp(rowA + Tensor.FromArray([.. Enumerable.Range(0, n).Select(j => j == a ? -1e4 : 0.0)], [n]));
                int[] positives = [.. Enumerable.Range(0, n).Where(p => p != a && labels[p] == labels[a])];
                Tensor la = x.Constant(0);
                if (positives.Length > 0)
                {
                    Tensor pick = Tensor.FromArray([.. Enumerable.Range(0, n).Select(j => positives.Contains(j) ? 1.0 : 0.0)], [n]);
                    la = lse - Ops.Sum(rowA * pick) / positives.Length;
                    if (la.ToArray()[0] > 0) nonZero++;
                }
                anchors.Add(Ops.Reshape(la, 1));
            }
            Tensor per = Ops.Concat(anchors, 0);
            return R(o) switch
            {
                "none" => per,
                "sum" => Ops.Sum(per),
                _ => nonZero == 0 ? Ops.Sum(per) * 0 : Ops.Sum(per) / nonZero,
            };
        },
        ["MultiSimilarityLoss"] = (t, o) =>
        {
            Tensor x = t["embeddings"];
            long[] labels = [.. t["labels"].ToArray().Select(v => (long)v)];
            int n = labels.Length;
            double alpha = F(o, "alpha", 2), beta = F(o, "beta", 50), lambda = F(o, "base", 0.5);
            Tensor xh = x / Ops.Sqrt(Ops.Sum(x * x, axis: -1, keepDim: true));
            Tensor s = Ops.MatMul(xh, Ops.Transpose(xh, 0, 1));
            var anchors = new List<Tensor>();
            for (int a = 0; a < n; a++)
            {
                Tensor rowA = Ops.Sum(s * Tensor.FromArray([.. Enumerable.Range(0, n).Select(i => i == a ? 1.0 : 0.0)], [n, 1]), axis: 0);
                Tensor pos = Tensor.FromArray([.. Enumerable.Range(0, n).Select(j => j != a && labels[j] == labels[a] ? 1.0 : 0.0)], [n]);
                Tensor neg = Tensor.FromArray([.. Enumerable.Range(0, n).Select(j => labels[j] != labels[a] ? 1.0 : 0.0)], [n]);
                Tensor lp = Ops.Log(1 + Ops.Sum(pos * Ops.Exp(-alpha * (rowA - lambda)))) / alpha;
                Tensor ln = Ops.Log(1 + Ops.Sum(neg * Ops.Exp(beta * (rowA - lambda)))) / beta;
                anchors.Add(Ops.Reshape(lp + ln, 1));
            }
            return Reduce(Ops.Concat(anchors, 0), o);
        },
        ["CircleLoss"] = (t, o) => Circle(t["embeddings"], [.. t["labels"].ToArray().Select(v => (long)v)], F(o, "m", 0.4), F(o, "gamma", 80),
            !o.TryGetValue("detach_weights", out var dw) || dw is not false, R(o)),
        ["LovaszHingeLoss"] = (t, o) =>
        {
            // The Lovász weights depend only on the order of the errors: computed here from the values, by hand.
            Tensor x = t["input"];
            double[] y = t["target"].ToArray();
            int n = x.Shape[0], per = x.Length / n;
            bool perImage = B(o, "per_image");
            long ignore = o.TryGetValue("ignore_index", out var ig) && ig is long l ? l : long.MinValue;
            int groups = perImage ? n : 1, size = perImage ? per : x.Length;
            Tensor flat = Ops.Reshape(x, -1);
            Tensor e = 1 - flat * Tensor.FromArray([.. y.Select(v => v == ignore ? 0.0 : 2 * v - 1)], [x.Length]);
            double[] ev = e.ToArray();
            var parts = new List<Tensor>();
            for (int g = 0; g < groups; g++)
            {
                int[] members = [.. Enumerable.Range(g * size, size).Where(i => y[i] != ignore)];
                int[] order = [.. members.OrderByDescending(i => ev[i])];
                double total = order.Sum(i => y[i]), cumGt = 0, cumBg = 0, prev = 0;
                var w = new double[x.Length];
                for (int k = 0; k < order.Length; k++)
                {
                    cumGt += y[order[k]];
                    cumBg += 1 - y[order[k]];
                    double jac = 1 - (total - cumGt) / (total + cumBg);
                    w[order[k]] = k == 0 ? jac : jac - prev;
                    prev = jac;
                }
                parts.Add(Ops.Reshape(Ops.Sum(Ops.Relu(e) * Tensor.FromArray(w, [x.Length])), 1));
            }
            return Reduce(Ops.Concat(parts, 0), o);
        },
        ["LovaszSoftmaxLoss"] = (t, o) =>
        {
            Tensor x = t["input"];
            long[] labels = [.. t["target"].ToArray().Select(v => (long)v)];
            int n = x.Shape[0], c = x.Shape[1], pixels = x.Length / (n * c);
            bool perImage = B(o, "per_image");
            long ignore = o.TryGetValue("ignore_index", out var ig) && ig is long l ? l : long.MinValue;
            Tensor p = Ops.Softmax(Ops.Reshape(x, n, c, pixels), 1);
            double[] pv = p.ToArray();
            var parts = new List<Tensor>();
            for (int g = 0; g < (perImage ? n : 1); g++)
            {
                var members = new List<int>();   // flat pixel index b·P + q
                for (int b = perImage ? g : 0; b < (perImage ? g + 1 : n); b++)
                    for (int q = 0; q < pixels; q++) if (labels[b * pixels + q] != ignore) members.Add(b * pixels + q);
                int[] present = [.. Enumerable.Range(0, c).Where(k => members.Any(m => labels[m] == k))];
                Tensor sum = x.Constant(0);
                foreach (int k in present)
                {
                    // fg and the weights by rank, constant; |fg − p| from autograd.
                    var fg = new double[n * c * pixels];
                    var w = new double[n * c * pixels];
                    var mask = new double[n * c * pixels];
                    int Flat(int m) => ((m / pixels) * c + k) * pixels + m % pixels;
                    foreach (int m in members) { fg[Flat(m)] = labels[m] == k ? 1 : 0; mask[Flat(m)] = 1; }
                    int[] order = [.. members.OrderByDescending(m => Math.Abs(fg[Flat(m)] - pv[Flat(m)]))];
                    double total = order.Sum(m => fg[Flat(m)]), cumGt = 0, cumBg = 0, prev = 0;
                    for (int r = 0; r < order.Length; r++)
                    {
                        cumGt += fg[Flat(order[r])];
                        cumBg += 1 - fg[Flat(order[r])];
                        double jac = 1 - (total - cumGt) / (total + cumBg);
                        w[Flat(order[r])] = r == 0 ? jac : jac - prev;
                        prev = jac;
                    }
                    Tensor err = Ops.Abs(Tensor.FromArray(fg, [n, c, pixels]) - p) * Tensor.FromArray(mask, [n, c, pixels]);
                    sum = sum + Ops.Sum(err * Tensor.FromArray(w, [n, c, pixels])) / present.Length;
                }
                parts.Add(Ops.Reshape(sum, 1));
            }
            return Reduce(Ops.Concat(parts, 0), o);
        },
        ["SigmoidFocalLoss"] = (t, o) =>
        {
            Tensor x = t["inputs"], y = t["targets"];
            double alpha = F(o, "alpha", 0.25), gamma = F(o, "gamma", 2);
            Tensor p = Ops.Sigmoid(x);
            Tensor ce = Ops.Softplus(x) - y * x;
            Tensor pt = p * y + (1 - p) * (1 - y);
            Tensor l = ce * Ops.Pow(1 - pt, gamma);
            if (alpha >= 0) l *= alpha * y + (1 - alpha) * (1 - y);
            return Reduce(l, o, d: "none");
        },
    };

    /// <summary>smp soft Dice / Jaccard / Tversky: per-class scores over batch and pixels, absent classes masked, mean^γ.</summary>
    private static Tensor Overlap(IReadOnlyDictionary<string, Tensor> t, Dictionary<string, object?> o, string kind)
    {
        Tensor x = t["input"];
        int n = x.Shape[0], c = x.Shape[1], pixels = x.Length / (n * c);
        string mode = o.TryGetValue("mode", out var m) && m is string ms ? ms : "multiclass";
        bool logits = !o.TryGetValue("from_logits", out var fl) || fl is not false;
        x = Ops.Reshape(x, n, c, pixels);
        Tensor p = !logits ? x : mode == "multiclass" ? Ops.Softmax(x, 1) : Ops.Sigmoid(x);
        Tensor y;
        if (mode == "multiclass")
        {
            double[] labels = t["target"].ToArray();
            long ignore = o.TryGetValue("ignore_index", out var ig) && ig is long l ? l : long.MinValue;
            double[] keep = [.. labels.Select(v => (long)v == ignore ? 0.0 : 1.0)];
            Tensor idx = Tensor.FromArray([.. labels.Select(v => (long)v == ignore ? 0.0 : v)], [n, pixels]);
            Tensor mask = Tensor.FromArray(keep, [n, 1, pixels]);
            y = Ops.Transpose(Ops.OneHot(idx, c, DType.Float64), 1, 2) * mask;
            p = p * mask;
        }
        else y = Ops.Reshape(t["target"], n, c, pixels);
        Tensor SumNP(Tensor a) => Ops.Sum(Ops.Sum(a, axis: 2), axis: 0);
        Tensor so = SumNP(p), st = SumNP(y), tp = (so + st - SumNP(Ops.Abs(p - y))) / 2;
        double s = F(o, "smooth", 0), alpha = F(o, "alpha", 0.5), beta = F(o, "beta", 0.5);
        Tensor score = kind switch
        {
            "dice" => (2 * tp + s) / (so + st + s),
            "jaccard" => (tp + s) / (so + st - tp + s),
            _ => (tp + s) / (tp + alpha * (so - tp) + beta * (st - tp) + s),
        };
        score = Ops.Maximum(score, score.Constant(F(o, "eps", 1e-7)));
        Tensor perClass = B(o, "log_loss") ? -Ops.Log(score) : 1 - score;
        Tensor present = Tensor.FromArray([.. st.ToArray().Select(v => v > 0 ? 1.0 : 0.0)], [c]);
        Tensor? w = W(o, "weight");
        Tensor v = w is null ? perClass * present : perClass * present * w;
        double gamma = F(o, "gamma", 1);
        Tensor reduced = R(o, "mean") switch
        {
            "none" => v,
            "sum" => Ops.Sum(v),
            _ => Ops.Sum(v) / (w is null ? c : w.ToArray().Sum()),
        };
        return gamma == 1 ? reduced : Ops.Pow(reduced, gamma);
    }

    /// <summary>Circle loss per anchor from primitives; α detached with <paramref name="detach"/>.</summary>
    internal static Tensor Circle(Tensor x, long[] labels, double m, double gamma, bool detach, string reduction)
    {
        int n = labels.Length;
        Tensor xh = x / Ops.Sqrt(Ops.Sum(x * x, axis: -1, keepDim: true));
        Tensor s = Ops.MatMul(xh, Ops.Transpose(xh, 0, 1));
        var anchors = new List<Tensor>();
        int nonZero = 0;
        for (int a = 0; a < n; a++)
        {
            Tensor row = Ops.Sum(s * Tensor.FromArray([.. Enumerable.Range(0, n).Select(i => i == a ? 1.0 : 0.0)], [n, 1]), axis: 0);
            bool hasPos = Enumerable.Range(0, n).Any(j => j != a && labels[j] == labels[a]), hasNeg = labels.Any(l => l != labels[a]);
            if (!hasPos || !hasNeg)
            {
                anchors.Add(Ops.Reshape(row.Constant(0), 1));
                continue;
            }
            Tensor alphaP = Ops.Relu(1 + m - row), alphaN = Ops.Relu(row + m);
            if (detach) (alphaP, alphaN) = (alphaP.Detach(), alphaN.Detach());
            Tensor maskP = Tensor.FromArray([.. Enumerable.Range(0, n).Select(j => j != a && labels[j] == labels[a] ? 0.0 : -1e300)], [n]);
            Tensor maskN = Tensor.FromArray([.. Enumerable.Range(0, n).Select(j => labels[j] != labels[a] ? 0.0 : -1e300)], [n]);
            Tensor lseP = Ops.LogSumExp(-gamma * alphaP * (row - (1 - m)) + maskP), lseN = Ops.LogSumExp(gamma * alphaN * (row - m) + maskN);
            Tensor la = Ops.Softplus(lseP + lseN);
            if (la.ToArray()[0] > 0) nonZero++;
            anchors.Add(Ops.Reshape(la, 1));
        }
        Tensor per = Ops.Concat(anchors, 0);
        return reduction switch
        {
            "none" => per,
            "sum" => Ops.Sum(per),
            _ => nonZero == 0 ? Ops.Sum(per) * 0 : Ops.Sum(per) / nonZero,
        };
    }

    /// <summary>{0, 1} labels become ±1 when every label is 0 or 1 (Keras hinge).</summary>
    private static Tensor Signed(Tensor y) => y.ToArray().All(v => v is 0 or 1) ? 2 * y - 1 : y;

    /// <summary>Keras: mean over the last axis, then the reduction with sample_weight (squeezed if (N, 1)), divide_no_nan.</summary>
    private static Tensor KerasMean(IReadOnlyDictionary<string, Tensor> t, Dictionary<string, object?> o, Func<Tensor, Tensor, Tensor> f, bool differentiateTrue = true)
    {
        Tensor y = differentiateTrue ? t["y_true"] : t["y_true"].Detach();
        Tensor values = Ops.Mean(f(y, t["y_pred"]), axis: -1);
        return KerasReduce(values, o);
    }

    /// <summary>Keras's apply_mask: the mask joins sample_weight; sum_over_batch_size rescales it by total/(valid + ε).</summary>
    private static Tensor KerasReduceMasked(Tensor values, Dictionary<string, object?> o, Tensor? mask)
    {
        if (mask is null) return KerasReduce(values, o);
        string reduction = o.TryGetValue("reduction", out var r) && r is string s ? s : "sum_over_batch_size";
        double valid = mask.ToArray().Sum();
        if (reduction == "sum_over_batch_size") mask = mask * (values.Length / (valid + (double)1e-7f));
        Tensor w = W(o, "sample_weight") is { } sw ? mask * sw : mask;
        Tensor weighted = values * w;
        double wSum = w.ToArray().Sum();
        return reduction switch
        {
            "none" => weighted,
            "sum" => Ops.Sum(weighted),
            "mean_with_sample_weight" => Ops.Sum(weighted) / wSum,
            _ => Ops.Sum(weighted) / values.Length,
        };
    }

    private static Tensor KerasReduce(Tensor values, Dictionary<string, object?> o)
    {
        Tensor? w = W(o, "sample_weight");
        double weightSum = 0;
        if (w is not null)
        {
            weightSum = w.ToArray().Sum();
            if (w.Shape.Rank == values.Shape.Rank + 1) w = Ops.Reshape(w, [.. values.Shape.Dims]);
            values = values * w;
        }
        string reduction = o.TryGetValue("reduction", out var r) && r is string s ? s : "sum_over_batch_size";
        return reduction switch
        {
            "none" => values,
            "sum" => Ops.Sum(values),
            "mean_with_sample_weight" when w is not null => Ops.Sum(values) / weightSum,
            _ => Ops.Sum(values) / values.Length,
        };
    }

    private static Tensor CrossEntropy(Tensor x, Tensor target, Dictionary<string, object?> o)
    {
        bool unbatched = x.Shape.Rank == 1;
        if (unbatched)
        {
            x = Ops.Reshape(x, 1, -1);
            target = Ops.Reshape(target, target.Shape == new Shape(x.Shape[1]) ? [1, -1] : [1]);
        }
        int c = x.Shape[1];
        double eps = F(o, "label_smoothing", 0), z = F(o, "z_loss", 0);
        Tensor logp = Ops.LogSoftmax(x, 1);
        Tensor? w = W(o, "weight");
        int[] classShape = [.. Enumerable.Range(0, x.Shape.Rank).Select(d => d == 1 ? c : 1)];
        Tensor wc = w is null ? x.Constant(1) : Ops.Reshape(w, classShape);
        if (target.Shape == x.Shape)
        {
            Tensor ts = (1 - eps) * target + eps / c;
            Tensor rows = -Ops.Sum(wc * ts * logp, axis: 1) + z * Ops.Pow(Ops.LogSumExp(x, 1), 2);
            return Finish(rows);
        }
        Tensor mask = Ops.NotEqual(target, target.Constant(-100));
        Tensor safe = Ops.Where(mask, target, target.Constant(0));
        int[] idxShape = [.. Enumerable.Range(0, x.Shape.Rank).Select(d => d == 1 ? 1 : x.Shape[d])];
        Tensor picked = Ops.Reshape(Ops.Gather(logp, 1, Ops.Reshape(safe, idxShape)), [.. target.Shape.Dims]);
        Tensor wt = (w is null ? safe.Constant(1) : Ops.Reshape(Ops.Gather(w, 0, Ops.Reshape(safe, -1)), [.. target.Shape.Dims])) * mask;
        Tensor smooth = -Ops.Sum(wc * logp, axis: 1) * mask;
        Tensor loss = (1 - eps) * (-picked * wt) + eps / c * smooth + z * Ops.Pow(Ops.LogSumExp(x, 1), 2) * mask;
        return R(o) == "mean" ? Ops.Sum(loss) / Ops.Sum(wt) : Finish(loss);

        Tensor Finish(Tensor rows)
        {
            Tensor reduced = Reduce(rows, o);
            return unbatched && R(o) == "none" ? Ops.Reshape(reduced) : reduced;
        }
    }

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var (name, set) in LossSamples.All)
        {
            if (!Formulas.ContainsKey(name)) continue;
            for (int i = 0; i < set.Samples.Count; i++) data.Add(name, i);
        }
        return data;
    }

    [Fact]
    public void Every_catalog_loss_but_the_combinatorial_ones_has_a_composed_formula()
    {
        var missing = LossRegistry.Default.Entries.Select(d => d.Name).Where(n => !Formulas.ContainsKey(n)).ToList();
        Assert.Equal(["CtcLoss", "KerasCtc", "MultilabelMarginLoss"], missing.Order());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Autograd_of_the_composed_formula_equals_the_analytic_kernel(string loss, int sample)
    {
        LossSample s = LossSamples.All[loss].Samples[sample];
        LossInputs inputs = s.Make(new Random(17 + sample));
        LossResult analytic = LossRegistry.Default.Create(loss, s.Options).Evaluate(inputs);
        var composed = new CustomLoss("composed-" + loss, [.. inputs.Tensors.Keys], t => Formulas[loss](t, s.Options));
        LossResult auto = composed.Evaluate(inputs);
        Assert.Equal(analytic.Value.Shape, auto.Value.Shape);
        T.Close(T.Values(analytic.Value), auto.Value, rel: 1e-11, abs: 1e-13);
        foreach (var (name, g) in analytic.Gradients) T.Close(T.Values(g), auto.Gradient(name), rel: 1e-9, abs: 1e-12);
    }
}
