using LossLab.Autograd;
using LossLab.Losses.Core;
using LossLab.Losses.Custom;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Autograd;

/// <summary>
/// The catalog and the autograd check each other: each loss's formula composed from autograd primitives must give
/// the loss's value and its analytic gradient on every contract sample. (MultilabelMarginLoss, CtcLoss, KerasCtc,
/// OptaxCtcLoss and RnntLoss are combinatorial; CTC and RNN-T are checked against brute-force enumeration instead,
/// multilabel margin by golden values.)
/// </summary>
public sealed partial class CatalogAutogradTests
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

    /// <summary>The rows of x scaled to unit L2 norm.</summary>
    private static Tensor Normalized(Tensor x) => x / Ops.Sqrt(Ops.Sum(x * x, axis: -1, keepDim: true));

    /// <summary>Row i of an n-row matrix, picked by a one-hot column so that the gradient flows.</summary>
    private static Tensor RowOf(Tensor m, int i, int n) => Ops.Sum(m * Tensor.FromArray([.. Enumerable.Range(0, n).Select(k => k == i ? 1.0 : 0.0)], [n, 1]), axis: 0);

    /// <summary>An integer label input as longs.</summary>
    private static long[] Labels(IReadOnlyDictionary<string, Tensor> t, string name) => [.. t[name].ToArray().Select(v => (long)v)];

    private static Tensor Pointwise(IReadOnlyDictionary<string, Tensor> t, Dictionary<string, object?> o, Func<Tensor, Tensor, Tensor> f, bool weightedBySum)
    {
        Tensor l = f(t["input"], t["target"]);
        Tensor? w = W(o, "weight");
        if (w is null) return Reduce(l, o);
        return Reduce(l * w, o, weightedBySum ? Ops.Sum(w) : null);
    }

    /// <summary>
    /// The additive-margin softmax losses: cosines of normalized embeddings and W's columns (the largest of each class's
    /// K sub-centres), the target's replaced by f, times the scale.
    /// </summary>
    private static Tensor AngularMargin(IReadOnlyDictionary<string, Tensor> t, Dictionary<string, object?> o, double scale, Func<Tensor, Tensor> f, int k = 1)
    {
        Tensor e = t["embeddings"], w = t["W"];
        Tensor eUnit = Unit(e, 1), wUnit = Unit(w, 0);
        Tensor cos = Ops.Clamp(Ops.MatMul(eUnit, wUnit), -1, 1);
        int c = w.Shape[1] / k;
        if (k > 1) cos = Ops.Max(Ops.Reshape(cos, e.Shape[0], c, k), axis: 2);
        Tensor oh = Ops.OneHot(t["labels"], c, DType.Float64);
        Tensor target = Ops.Sum(cos * oh, axis: 1, keepDim: true);
        Tensor logits = scale * (cos + oh * (f(target) - target));
        return Reduce(-Ops.Sum(oh * Ops.LogSoftmax(logits, -1), axis: -1), o);
    }

    /// <summary>
    /// L-Softmax / SphereFace as the paper writes them: the target cosine through Equation 7's multiple-angle sum
    /// Σ_n (−1)^n C(m, 2n) c^(m−2n) (1 − c²)^n, then (−1)^k·that − 2k with k from arccos held constant; logits times ‖x‖
    /// (and ‖w_j‖ for L-Softmax) and the scale.
    /// </summary>
    private static Tensor MultiplicativeMargin(IReadOnlyDictionary<string, Tensor> t, Dictionary<string, object?> o, bool weightLengths)
    {
        int m = (int)(o.TryGetValue("margin", out var mv) && mv is long ml ? ml : 4);
        double scale = F(o, "scale", 1);
        Tensor e = t["embeddings"], w = t["W"];
        Tensor eNorm = Ops.Clamp(Ops.Sqrt(Ops.Sum(e * e, axis: 1, keepDim: true)), lo: 1e-12), wNorm = Ops.Clamp(Ops.Sqrt(Ops.Sum(w * w, axis: 0, keepDim: true)), lo: 1e-12);
        Tensor cos = Ops.Clamp(Ops.MatMul(e / eNorm, w / wNorm), -1, 1);
        Tensor oh = Ops.OneHot(t["labels"], w.Shape[1], DType.Float64);
        Tensor c = Ops.Sum(cos * oh, axis: 1, keepDim: true);
        Tensor cosM = c.Constant(0);
        for (int n = 0; n <= m / 2; n++)
        {
            double binomial = Enumerable.Range(1, 2 * n).Aggregate(1.0, (acc, i) => acc * (m - 2 * n + i) / i);
            cosM = cosM + (n % 2 == 0 ? 1 : -1) * binomial * Ops.Pow(c, m - 2 * n) * Ops.Pow(1 - c * c, n);
        }
        double[] k = [.. c.ToArray().Select(v => Math.Floor(Math.Acos(Math.Clamp(v, -1, 1)) / (Math.PI / m)))];
        Tensor kT = Tensor.FromArray(k, [k.Length, 1]), sign = Tensor.FromArray([.. k.Select(v => v % 2 == 0 ? 1.0 : -1.0)], [k.Length, 1]);
        double lambda = F(o, "lambd", 0);
        Tensor psi = (lambda * c + sign * cosM - 2 * kT) / (1 + lambda);
        Tensor magnitude = weightLengths ? eNorm * wNorm : eNorm;
        Tensor logits = scale * magnitude * (cos + oh * (psi - c));
        return Reduce(-Ops.Sum(oh * Ops.LogSoftmax(logits, -1), axis: -1), o);
    }

    /// <summary>x / max(‖x‖, 1e-12) along <paramref name="axis"/> (F.normalize), as the metric-learning losses normalize.</summary>
    private static Tensor Unit(Tensor x, int axis) => x / Ops.Clamp(Ops.Sqrt(Ops.Sum(x * x, axis: axis, keepDim: true)), lo: 1e-12);

    private static Tensor Lp(Tensor a, Tensor b, double p, double eps)
    {
        Tensor u = Ops.Abs(a - b + eps);
        return p == 2 ? Ops.Sqrt(Ops.Sum(u * u, axis: -1)) : Ops.Pow(Ops.Sum(Ops.Pow(u, p), axis: -1), 1 / p);
    }

    // The formulas live in CatalogAutogradTests.{Torch,Keras,Sets,Pml,Optax}.cs, one file per family.
    private static readonly Dictionary<string, Formula> Formulas = TorchFormulas().Concat(BeyondFormulas()).Concat(KerasFormulas()).Concat(SetFormulas()).Concat(PmlFormulas()).Concat(RetrievalFormulas()).Concat(ListFormulas()).Concat(OptaxFormulas()).Concat(SentenceFormulas()).Concat(ModernFormulas()).ToDictionary(kv => kv.Key, kv => kv.Value);

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
            "dice" => (tp + s) / ((so + st) / 2 + s),   // Tversky with α = β = ½
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
        Tensor xh = Normalized(x);
        Tensor s = Ops.MatMul(xh, Ops.Transpose(xh, 0, 1));
        var anchors = new List<Tensor>();
        int nonZero = 0;
        for (int a = 0; a < n; a++)
        {
            Tensor row = RowOf(s, a, n);
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
        if (reduction is "sum_over_batch_size" or "mean") mask = mask * (valid == 0 ? 0 : values.Length / valid);   // Keras apply_mask: divide_no_nan(total, valid)
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
        Tensor zTerm = z * Ops.Pow(Ops.LogSumExp(x, 1), 2) * mask;
        Tensor loss = (1 - eps) * (-picked * wt) + eps / c * smooth + zTerm;
        // mean: cross-entropy over Σ w_y, the (unweighted) z-loss over the counted rows, as Liger-Kernel.
        return R(o) == "mean" ? Ops.Sum(loss - zTerm) / Ops.Sum(wt) + Ops.Sum(zTerm) / Ops.Sum(mask) : Finish(loss);

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
        Assert.Equal(["CtcLoss", "KerasCtc", "MultilabelMarginLoss", "OptaxCtcLoss", "RnntLoss"], missing.Order());
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
