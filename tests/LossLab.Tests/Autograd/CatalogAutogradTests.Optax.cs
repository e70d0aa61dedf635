using LossLab.Autograd;
using LossLab.Numerics;

namespace LossLab.Tests.Autograd;

/// <summary>The composed formulas of Optax's binary, cosine, sparsemax and ranking losses.</summary>
public sealed partial class CatalogAutogradTests
{
    private static Dictionary<string, Formula> OptaxFormulas() => new()
    {
        ["HingeLoss"] = (t, o) => Reduce(Ops.Relu(1 - t["predictor_outputs"] * t["targets"]), o, d: "none"),
        ["PerceptronLoss"] = (t, o) => Reduce(Ops.Relu(-(t["predictor_outputs"] * t["targets"])), o, d: "none"),
        ["SparsemaxLoss"] = (t, o) =>
        {
            Tensor x = t["logits"], y = t["labels"];
            Tensor z = Ops.Where(Ops.Equal(y, y.Constant(1)), -x, x);
            Tensor quadratic = (z + 1) * (z + 1) * 0.25;
            return Reduce(Ops.Where(Ops.GreaterEqual(z, z.Constant(1)), z, Ops.Where(Ops.GreaterEqual(z.Constant(-1), z), z.Constant(0), quadratic)), o, d: "none");
        },
        ["L2Loss"] = (t, o) => Reduce((t["predictions"] - t["targets"]) * (t["predictions"] - t["targets"]) * 0.5, o, d: "none"),
        ["LogCoshLoss"] = (t, o) =>
        {
            Tensor d = t["predictions"] - t["targets"];
            return Reduce(d + Ops.Softplus(-2 * d) - Math.Log(2), o, d: "none");   // Keras's form: the same function
        },
        ["OptaxSoftmaxCrossEntropy"] = (t, o) =>
        {
            Tensor keep = W(o, "where") ?? t["logits"].Constant(1);
            Tensor logp = Ops.LogSoftmax(t["logits"] + (1 - keep) * -1e300, -1);
            return Reduce(-Ops.Sum(t["labels"] * keep * logp, axis: -1), o, d: "none");
        },
        ["FixMatchLoss"] = (t, o) =>
        {
            Tensor weak = t["unlabeled_weak_logits"], strong = t["unlabeled_strong_logits"];
            int u = weak.Shape[0], c = weak.Shape[1];
            double[] pw = Ops.Softmax(weak, -1).ToArray();
            double tau = F(o, "confidence_threshold", 0.95), lambda = F(o, "lambda_u", 1);
            var pseudo = new double[u];
            var mask = new double[u];
            for (int r = 0; r < u; r++)
            {
                int arg = Enumerable.Range(0, c).Aggregate(0, (best, j) => pw[r * c + j] > pw[r * c + best] ? j : best);
                (pseudo[r], mask[r]) = (arg, pw[r * c + arg] >= tau ? 1 : 0);
            }
            Tensor unlabeled = -Ops.Sum(Ops.LogSoftmax(strong, -1) * Ops.OneHot(Tensor.FromArray(pseudo, [u]), c, DType.Float64), axis: -1) * Tensor.FromArray(mask, [u]) * lambda;
            return SemiSupervisedReduce(LabeledCrossEntropy(t), unlabeled, o);
        },
        ["MixMatchLoss"] = (t, o) =>
        {
            Tensor d = Ops.Softmax(t["unlabeled_logits"], -1) - t["unlabeled_targets"].Detach();
            return SemiSupervisedReduce(LabeledCrossEntropy(t), Ops.Sum(d * d, axis: -1) * F(o, "lambda_u", 100), o);
        },
        ["GeneralizedBoxIouLoss"] = (t, o) => BoxIou(t, o, "giou"),
        ["DistanceBoxIouLoss"] = (t, o) => BoxIou(t, o, "diou"),
        ["CompleteBoxIouLoss"] = (t, o) => BoxIou(t, o, "ciou"),
        ["CosineSimilarity"] = (t, o) => Reduce(Cosine(t, o), o, d: "none"),
        ["CosineDistance"] = (t, o) => Reduce(1 - Cosine(t, o), o, d: "none"),
        ["MulticlassSparsemaxLoss"] = (t, o) =>
        {
            Tensor x = t["scores"], p = Sparsemax(x);
            Tensor xy = Ops.Sum(x * Ops.OneHot(t["labels"], x.Shape[1], DType.Float64), axis: -1, keepDim: true);
            return Reduce(Ops.Sum(p * (x - xy), axis: -1) + (1 - Ops.Sum(p * p, axis: -1)) * 0.5, o, d: "none");
        },
        ["FenchelYoungLoss"] = (t, o) =>
        {
            Tensor x = t["scores"];
            Tensor max = (o.GetValueOrDefault("max_fun") as string ?? "logsumexp") switch
            {
                "sparsemax" => SparsemaxCumulant(x),
                "max" => Ops.Max(x, axis: -1),
                _ => Ops.LogSumExp(x, axis: -1),
            };
            return Reduce(max - Ops.Sum(t["targets"] * x, axis: -1), o, d: "none");
        },
        ["RankingSoftmaxLoss"] = (t, o) =>
        {
            Tensor s = t["logits"], y = t["labels"];
            Tensor valid = W(o, "where") ?? s.Constant(1);
            Tensor weights = W(o, "weights") ?? s.Constant(1);
            // Masked items: a logit of −1e300 (exp gives 0 and 0·log p stays finite) and a label of 0.
            Tensor logp = Ops.LogSoftmax(s + (1 - valid) * -1e300, -1);
            Tensor rows = -Ops.Sum(y * valid * weights * logp, axis: -1);
            int lists = rows.Length;
            double counted = W(o, "where") is { } wh ? Enumerable.Range(0, lists).Count(r => wh.ToArray().Skip(r * s.Shape[^1]).Take(s.Shape[^1]).Any(a => a != 0)) : lists;
            return R(o) == "mean" ? Ops.Sum(rows) / counted : Reduce(rows, o);
        },
        ["OptaxTripletMarginLoss"] = (t, o) =>
        {
            double q = F(o, "norm_degree", 2), eps = F(o, "eps", 1e-6);
            Tensor D(Tensor x, Tensor y) => Ops.Pow(Ops.Sum(Ops.Pow(Ops.Abs(x - y), q), axis: -1) + eps, 1 / q);
            return Reduce(Ops.Relu(D(t["anchors"], t["positives"]) - D(t["anchors"], t["negatives"]) + F(o, "margin", 1)), o, d: "none");
        },
        ["OptaxKLDivergence"] = (t, o) =>
        {
            Tensor lp = t["log_predictions"], y = t["targets"], keep = W(o, "where") ?? lp.Constant(1);
            return Reduce(Ops.Sum(keep * y * (Ops.Log(y) - lp), axis: -1), o, d: "none");
        },
        ["OptaxKLDivergenceWithLogTargets"] = (t, o) =>
        {
            Tensor lp = t["log_predictions"], lt = t["log_targets"], keep = W(o, "where") ?? lp.Constant(1);
            return Reduce(Ops.Sum(keep * Ops.Exp(lt) * (lt - lp), axis: -1), o, d: "none");
        },
        ["OptaxDiceLoss"] = (t, o) => OptaxDice(t["predictions"], t["targets"], o, generalized: false),
        ["OptaxGeneralizedDiceLoss"] = (t, o) => Reduce(OptaxDice(t["predictions"], t["targets"], o, generalized: true), o),
        ["OptaxBinaryDiceLoss"] = (t, o) =>
        {
            Tensor x = t["predictions"], y = t["targets"];
            var o2 = new Dictionary<string, object?>(o) { ["reduction"] = "mean", ["apply_softmax"] = !o.TryGetValue("apply_sigmoid", out var a) || a is not false };
            return Reduce(OptaxDice(Ops.Reshape(x, [.. x.Shape.Dims, 1]), Ops.Reshape(y, [.. y.Shape.Dims, 1]), o2, generalized: false), o, d: "none");
        },
    };

    /// <summary>
    /// Optax's dice: softmax (sigmoid for one class), sums over the spatial axes, the Tversky coefficient, class weights
    /// (the generalized ones composed from the targets), background, then the class reduction (none for generalized).
    /// </summary>
    private static Tensor OptaxDice(Tensor x, Tensor y, Dictionary<string, object?> o, bool generalized)
    {
        int rank = x.Shape.Rank, c = x.Shape[-1];
        bool activate = !o.TryGetValue("apply_softmax", out var a) || a is not false;
        Tensor p = !activate ? x : c == 1 ? Ops.Sigmoid(x) : Ops.Softmax(x, -1);
        int[] axes = W(o, "axis") is { } ax ? [.. ax.ToArray().Select(v => (int)v)] : [.. Enumerable.Range(1, Math.Max(0, rank - 2))];
        Tensor Total(Tensor v)
        {
            foreach (int d in axes.Select(d => d < 0 ? d + rank : d).OrderDescending()) v = Ops.Sum(v, axis: d);
            return v;
        }
        Tensor i = Total(p * y), ps = Total(p), ts = Total(y);
        double s = F(o, "smooth", 1), alpha = F(o, "alpha", 0.5), beta = F(o, "beta", 0.5);
        Tensor dice = 1 - (i + s) / (i + alpha * (ps - i) + beta * (ts - i) + s);
        if (generalized)
        {
            Tensor f = y;
            for (int d = rank - 2; d >= 0; d--) f = Ops.Sum(f, axis: d);
            Tensor u = 1 / (f * f + 1e-7);
            dice = dice * (u / Ops.Sum(u) * c);
        }
        else if (W(o, "class_weights") is { } cw) dice = dice * cw;
        if (B(o, "ignore_background") && c > 1)
        {
            int[] keptIdx = [.. Enumerable.Range(1, c - 1)];
            dice = Ops.Gather(dice, dice.Shape.Rank - 1, Tensor.FromData(TensorData.Create(new Shape((int[])[.. dice.Shape.Dims[..^1], c - 1]), DType.Int64,
                Enumerable.Range(0, dice.Length / c).SelectMany(_ => keptIdx.Select(j => (long)j)).ToArray())));
        }
        if (generalized) return dice;
        return R(o, "mean") switch
        {
            "none" => dice,
            "sum" => Ops.Sum(dice, axis: -1),
            _ => Ops.Mean(dice, axis: -1),
        };
    }

    /// <summary>Per-row cross-entropy of the labeled batch, against class indices (B) or probabilities (B, C).</summary>
    private static Tensor LabeledCrossEntropy(IReadOnlyDictionary<string, Tensor> t)
    {
        Tensor x = t["labeled_logits"], y = t["labeled_labels"];
        Tensor target = y.Shape == x.Shape ? y : Ops.OneHot(y, x.Shape[1], DType.Float64);
        return -Ops.Sum(target * Ops.LogSoftmax(x, -1), axis: -1);
    }

    /// <summary>none: the B + U terms; sum: their total; mean: each part averaged over its own batch (Optax).</summary>
    private static Tensor SemiSupervisedReduce(Tensor labeled, Tensor unlabeled, Dictionary<string, object?> o) => R(o) switch
    {
        "none" => Ops.Concat([labeled, unlabeled], 0),
        "sum" => Ops.Sum(labeled) + Ops.Sum(unlabeled),
        _ => Ops.Mean(labeled) + Ops.Sum(unlabeled) / Math.Max(unlabeled.Length, 1),
    };

    /// <summary>torchvision's GIoU/DIoU/CIoU from primitives (the contract samples have overlapping and disjoint pairs, no ties).</summary>
    private static Tensor BoxIou(IReadOnlyDictionary<string, Tensor> t, Dictionary<string, object?> o, string kind)
    {
        Tensor a = t["boxes1"], b = t["boxes2"];
        int n = a.Shape[0];
        Tensor Col(Tensor m, int c) => Ops.Reshape(Ops.Gather(m, 1, Tensor.FromData(TensorData.FromArray(Enumerable.Repeat((long)c, n).ToArray(), n, 1))), -1);
        Tensor x1 = Col(a, 0), y1 = Col(a, 1), x2 = Col(a, 2), y2 = Col(a, 3), u1 = Col(b, 0), v1 = Col(b, 1), u2 = Col(b, 2), v2 = Col(b, 3);
        double eps = F(o, "eps", 1e-7);
        Tensor iw = Ops.Minimum(x2, u2) - Ops.Maximum(x1, u1), ih = Ops.Minimum(y2, v2) - Ops.Maximum(y1, v1);
        double[] overlap = [.. iw.ToArray().Zip(ih.ToArray(), (w, h) => w > 0 && h > 0 ? 1.0 : 0.0)];
        Tensor inter = iw * ih * Tensor.FromArray(overlap, [n]);
        Tensor union = (x2 - x1) * (y2 - y1) + (u2 - u1) * (v2 - v1) - inter, iou = inter / (union + eps);
        Tensor cw = Ops.Maximum(x2, u2) - Ops.Minimum(x1, u1), ch = Ops.Maximum(y2, v2) - Ops.Minimum(y1, v1);
        Tensor l;
        if (kind == "giou") l = 1 - iou + (cw * ch - union) / (cw * ch + eps);
        else
        {
            Tensor dx = (x1 + x2 - u1 - u2) * 0.5, dy = (y1 + y2 - v1 - v2) * 0.5;
            l = 1 - iou + (dx * dx + dy * dy) / (cw * cw + ch * ch + eps);
            if (kind == "ciou")
            {
                double[] io = iou.ToArray();
                Tensor diff = Atan((u2 - u1) / (v2 - v1)) - Atan((x2 - x1) / (y2 - y1));
                Tensor v = diff * diff * (4 / (Math.PI * Math.PI));
                double[] vv = v.ToArray();
                // Constant, as torchvision's no_grad, or differentiated with detach_alpha = false.
                Tensor alpha = o.TryGetValue("detach_alpha", out var da) && da is false
                    ? v / (1 - iou + v + eps)
                    : Tensor.FromArray([.. vv.Select((vi, i) => vi / (1 - io[i] + vi + eps))], [n]);
                l = l + alpha * v;
            }
        }
        return Reduce(l, o, d: "none");
    }

    /// <summary>atan from primitives: atan(z) = 2·atan(z/(1 + √(1 + z²))) halves the argument, then a series (|z| ≤ 1 after two halvings).</summary>
    private static Tensor Atan(Tensor z)
    {
        Tensor h = z / (1 + Ops.Sqrt(1 + z * z));
        h = h / (1 + Ops.Sqrt(1 + h * h));   // atan z = 4·atan h, |h| < tan(π/8)
        Tensor h2 = h * h, term = h, sum = h;
        for (int k = 1; k < 30; k++)
        {
            term = -term * h2;
            sum = sum + term / (2 * k + 1);
        }
        return sum * 4;
    }

    /// <summary>Optax's cosine: masked components left out, the squared norms clipped at ε, then the dot product of the unit vectors.</summary>
    private static Tensor Cosine(IReadOnlyDictionary<string, Tensor> t, Dictionary<string, object?> o)
    {
        Tensor keep = W(o, "where") ?? t["predictions"].Constant(1), a = t["predictions"] * keep, b = t["targets"] * keep;
        double eps = F(o, "epsilon", 0);
        Tensor na = Ops.Sqrt(Ops.Maximum(Ops.Sum(a * a, axis: -1), a.Constant(eps)));
        Tensor nb = Ops.Sqrt(Ops.Maximum(Ops.Sum(b * b, axis: -1), b.Constant(eps)));
        return Ops.Sum(a * b, axis: -1) / (na * nb);
    }

    /// <summary>
    /// sparsemax(x) of (N, C) scores: the support by the sorting algorithm (Held et al.), independent of the library's
    /// Michelot iteration; the threshold τ is then composed from the scores, so that autograd differentiates through it.
    /// </summary>
    private static Tensor Sparsemax(Tensor x)
    {
        int n = x.Shape[0], c = x.Shape[1];
        double[] v = x.ToArray();
        var mask = new double[n * c];
        var k = new double[n];
        for (int r = 0; r < n; r++)
        {
            double[] sorted = [.. v.Skip(r * c).Take(c).OrderByDescending(a => a)];
            double cumulative = 0;
            int size = 0;
            for (int j = 0; j < c; j++)
            {
                cumulative += sorted[j];
                if (1 + (j + 1) * sorted[j] > cumulative) size = j + 1;
            }
            double tau = (sorted.Take(size).Sum() - 1) / size;
            k[r] = size;
            for (int j = 0; j < c; j++) mask[r * c + j] = v[r * c + j] > tau ? 1 : 0;
        }
        Tensor m = Tensor.FromArray(mask, [n, c]), kt = Tensor.FromArray(k, [n, 1]);
        Tensor threshold = (Ops.Sum(m * x, axis: -1, keepDim: true) - 1) / kt;
        return m * (x - threshold);
    }

    /// <summary>Optax's sparsemax cumulant ⟨p, x⟩ + ½⟨p, 1 − p⟩ per row, p = sparsemax(x).</summary>
    private static Tensor SparsemaxCumulant(Tensor x)
    {
        Tensor p = Sparsemax(x);
        return Ops.Sum(p * x, axis: -1) + Ops.Sum(p * (1 - p), axis: -1) * 0.5;
    }
}
