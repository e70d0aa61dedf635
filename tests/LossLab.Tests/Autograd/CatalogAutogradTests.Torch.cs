using LossLab.Autograd;
using LossLab.Losses.Core;
using LossLab.Losses.Custom;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Autograd;

public sealed partial class CatalogAutogradTests
{
    /// <summary>PyTorch's losses and the robust classification and regression losses, composed from autograd primitives.</summary>
    private static Dictionary<string, Formula> TorchFormulas() => new()
    {
        ["MseLoss"] = (t, o) => Pointwise(t, o, (x, y) => Ops.Pow(x - y, 2), true),
        ["L1Loss"] = (t, o) => Pointwise(t, o, (x, y) => Ops.Abs(x - y), true),
        ["AsymmetricLoss"] = (t, o) =>
        {
            // The authors' formula as written (σ, clamps, pow), the focal weight detached when they detach it.
            double gn = F(o, "gamma_neg", 4), gp = F(o, "gamma_pos", 1), m = F(o, "clip", 0.05), eps = F(o, "eps", 1e-8);
            bool detach = o.GetValueOrDefault("disable_torch_grad_focal_loss") is not false;
            Tensor x = t["input"], y = t["target"];
            Tensor p = Ops.Sigmoid(x), neg = 1 - p;
            if (m > 0) neg = Ops.Clamp(neg + m, hi: 1);
            Tensor l = y * Ops.Log(Ops.Clamp(p, lo: eps)) + (1 - y) * Ops.Log(Ops.Clamp(neg, lo: eps));
            Tensor pt = p * y + neg * (1 - y), gamma = gp * y + gn * (1 - y);
            Tensor w = Ops.Pow(1 - pt, gamma);
            return Reduce(-(l * (detach ? w.Detach() : w)), o, d: "sum");
        },
        ["TweedieLoss"] = (t, o) =>
        {
            double rho = F(o, "power", 1.5);
            bool logInput = o.GetValueOrDefault("log_input") is not false;
            return Pointwise(t, o, (x, y) =>
            {
                Tensor mu = logInput ? Ops.Exp(x) : x;
                // The target-only term as a constant (targets get no gradient); 0·log 0 = 0 and 0^(2−ρ) = 0.
                double[] yv = y.ToArray();
                Tensor yTerm = Tensor.FromArray([.. yv.Select(v => v <= 0 ? 0 : rho == 1 ? v * Math.Log(v) - v : Math.Pow(v, 2 - rho) / ((1 - rho) * (2 - rho)))], [.. y.Shape.Dims]);
                Tensor rest = rho == 1 ? mu - y * Ops.Log(mu) : y * Ops.Pow(mu, 1 - rho) * (-1 / (1 - rho)) + Ops.Pow(mu, 2 - rho) * (1 / (2 - rho));
                return 2 * (yTerm + rest);
            }, true);
        },
        ["QuantileLoss"] = (t, o) =>
        {
            double tau = F(o, "quantile", 0.5);
            return Pointwise(t, o, (x, y) => Ops.Maximum(tau * (y - x), (tau - 1) * (y - x)), true);
        },
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
        ["SoftBceWithLogitsLoss"] = (t, o) =>
        {
            // smp as written: soft targets (1 − y)·s + y·(1 − s), BCE-with-logits, times the mask y ≠ ignore_index, mean over all.
            Tensor x = t["y_pred"], y = t["y_true"];
            double sf = F(o, "smooth_factor", 0);
            long ignore = o.TryGetValue("ignore_index", out var ig) && ig is long l ? l : -100;
            Tensor soft = (1 - y) * sf + y * (1 - sf);
            Tensor pw = W(o, "pos_weight") ?? x.Constant(1);
            Tensor loss = ((1 - soft) * x - (1 + (pw - 1) * soft) * LogSigmoid(x)) * Ops.NotEqual(y, y.Constant(ignore));
            Tensor? w = W(o, "weight");
            return Reduce(w is null ? loss : loss * w, o);
        },
        ["SoftCrossEntropyLoss"] = (t, o) =>
        {
            // fairseq's label_smoothed_nll_loss: (1 − ε)·nll + (ε/C)·Σ −log p, 0 at ignore_index, mean over every position.
            Tensor x = t["y_pred"], target = t["y_true"];
            double eps = F(o, "smooth_factor", 0);
            long ignore = o.TryGetValue("ignore_index", out var ig) && ig is long l ? l : -100;
            Tensor logp = Ops.LogSoftmax(x, 1);
            Tensor mask = Ops.NotEqual(target, target.Constant(ignore));
            Tensor safe = Ops.Where(mask, target, target.Constant(0));
            Tensor picked = Ops.Reshape(Ops.Gather(logp, 1, Ops.Reshape(safe, -1, 1)), -1);
            Tensor rows = ((1 - eps) * -picked + eps / x.Shape[1] * -Ops.Sum(logp, axis: 1)) * mask;
            return Reduce(rows, o);
        },
        ["LinearCrossEntropyLoss"] = (t, o) =>
        {
            // F.linear, the soft cap, then cross-entropy with Liger's option names.
            Tensor z = Ops.MatMul(t["_input"], Ops.Transpose(t["lin_weight"]));
            if (t.TryGetValue("bias", out Tensor? b)) z = z + Ops.Reshape(b, 1, -1);
            if (o.GetValueOrDefault("softcap") is double cap) z = cap * Ops.Tanh(z * (1 / cap));
            var ce = new Dictionary<string, object?>(o.Where(kv => kv.Key is "reduction" or "label_smoothing"));
            if (o.GetValueOrDefault("lse_square_scale") is double s) ce["z_loss"] = s;
            if (o.GetValueOrDefault("ce_weight") is TensorData w) ce["weight"] = w;
            return CrossEntropy(z, t["target"], ce);
        },
        ["LigerCrossEntropyLoss"] = (t, o) =>
        {
            // The soft cap, then cross-entropy with Liger's option names.
            Tensor z = t["_input"];
            if (o.GetValueOrDefault("softcap") is double cap) z = cap * Ops.Tanh(z * (1 / cap));
            var ce = new Dictionary<string, object?>(o.Where(kv => kv.Key is "reduction" or "label_smoothing" or "weight" or "ignore_index"));
            if (o.GetValueOrDefault("lse_square_scale") is double s) ce["z_loss"] = s;
            return CrossEntropy(z, t["target"], ce);
        },
        ["AdaptiveLogSoftmaxWithLoss"] = (t, o) =>
        {
            // The head's log-softmax at the row's class (shortlist) or at its cluster's entry, plus the cluster's log-softmax
            // of O_i·P_i·x at the class: one-hot masks built from the targets pick them.
            Tensor x = t["input"];
            bool unbatched = x.Shape.Rank == 1;
            if (unbatched) x = Ops.Reshape(x, 1, -1);
            double[] y = t["target"].ToArray();
            int n = y.Length, clusters = 0;
            while (t.ContainsKey($"tail.{clusters}.0.weight")) clusters++;
            Tensor z = Ops.MatMul(x, Ops.Transpose(t["head.weight"]));
            if (t.TryGetValue("head.bias", out Tensor? b)) z = z + Ops.Reshape(b, 1, -1);
            int head = z.Shape[1], shortlist = head - clusters;
            var cut = new List<int> { shortlist };
            for (int i = 0; i < clusters; i++) cut.Add(cut[^1] + t[$"tail.{i}.1.weight"].Shape[0]);
            int ClusterOf(double c) => Enumerable.Range(0, clusters).LastOrDefault(i => c >= cut[i], -1);
            Tensor Mask(int columns, Func<int, int> column) => Tensor.FromArray(
                [.. Enumerable.Range(0, n * columns).Select(k => column(k / columns) == k % columns ? 1.0 : 0.0)], [n, columns]);
            Tensor l = -Ops.Sum(Ops.LogSoftmax(z, 1) * Mask(head, r => ClusterOf(y[r]) < 0 ? (int)y[r] : shortlist + ClusterOf(y[r])), axis: 1);
            for (int i = 0; i < clusters; i++)
            {
                int size = cut[i + 1] - cut[i], cluster = i;
                Tensor oi = Ops.MatMul(Ops.MatMul(x, Ops.Transpose(t[$"tail.{i}.0.weight"])), Ops.Transpose(t[$"tail.{i}.1.weight"]));
                l = l - Ops.Sum(Ops.LogSoftmax(oi, 1) * Mask(size, r => ClusterOf(y[r]) == cluster ? (int)y[r] - cut[cluster] : -1), axis: 1);
            }
            return Reduce(unbatched ? Ops.Reshape(l) : l, o);
        },
        ["WingLoss"] = (t, o) =>
        {
            double w = F(o, "width", 5), eps = F(o, "curvature", 0.5);
            Tensor d = Ops.Abs(t["target"] - t["output"]);
            double[] dv = d.ToArray();
            Tensor inside = Tensor.FromArray([.. dv.Select(v => v < w ? 1.0 : 0.0)], [.. d.Shape.Dims]);
            Tensor l = inside * (w * Ops.Log(1 + d * (1 / eps))) + (1 - inside) * (d - (w - w * Math.Log(1 + w / eps)));
            return Reduce(l, o);
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
            // where: masked logits −1e300 (exp gives 0), masked labels 0.
            Tensor keep = W(o, "where") ?? t["logits"].Constant(1), y = t["labels"] * keep;
            Tensor logp = Ops.LogSoftmax(t["logits"] + (1 - keep) * -1e300, -1);
            Tensor l = -Ops.Sum(y * logp, axis: -1) + F(o, "epsilon", 2.0) * Ops.Sum(y * (1 - Ops.Exp(logp)), axis: -1);
            return Reduce(l, o, d: "none");
        },
        ["ConvexKLDivergence"] = (t, o) =>
        {
            Tensor lp = t["log_predictions"], y = t["targets"], keep = W(o, "where") ?? lp.Constant(1);
            return Reduce(Ops.Sum(keep * (y * (Ops.Log(y) - lp) + Ops.Exp(lp) - y), axis: -1), o, d: "none");
        },
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

    /// <summary>pytorch-metric-learning's ArcFace target: cos(arccos c + m) while arccos c ≤ π − m, else c − m·sin m.</summary>
    private static Tensor ArcMargin(Tensor c, double degrees)
    {
        double m = degrees * Math.PI / 180;
        double[] v = c.ToArray();
        Tensor branch = Tensor.FromArray([.. v.Select(x => Math.Acos(Math.Clamp(x, -1, 1)) <= Math.PI - m ? 1.0 : 0.0)], [.. c.Shape.Dims]);
        Tensor arc = c * Math.Cos(m) - Ops.Sqrt(Ops.Clamp(1 - c * c, lo: 1e-24)) * Math.Sin(m);
        return Ops.Where(branch, arc, c - m * Math.Sin(m));
    }
}
