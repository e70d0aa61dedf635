using LossLab.Autograd;
using LossLab.Losses.Core;
using LossLab.Losses.Custom;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Autograd;

public sealed partial class CatalogAutogradTests
{
    /// <summary>PyTorch losses and the losses beyond PyTorch/Keras, composed from autograd primitives.</summary>
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
        ["BarlowTwinsLoss"] = (t, o) =>
        {
            double lambda = F(o, "lambd", 0.0051), eps = F(o, "eps", 1e-5);
            Tensor Bn(Tensor z)
            {
                Tensor c = z - Ops.Mean(z, axis: 0, keepDim: true);
                return c / Ops.Sqrt(Ops.Mean(c * c, axis: 0, keepDim: true) + eps);
            }
            Tensor a = Bn(t["z_a"]), b = Bn(t["z_b"]);
            int n = a.Shape[0], d = a.Shape[1];
            Tensor cross = Ops.MatMul(Ops.Transpose(a), b) * (1.0 / n);
            Tensor eye = Tensor.FromArray([.. Enumerable.Range(0, d * d).Select(i => i / d == i % d ? 1.0 : 0.0)], [d, d]);
            return Ops.Sum(eye * (cross - 1) * (cross - 1)) + lambda * Ops.Sum((1 - eye) * cross * cross);
        },
        ["VicRegLoss"] = (t, o) =>
        {
            double sim = F(o, "sim_coeff", 25), std = F(o, "std_coeff", 25), cov = F(o, "cov_coeff", 1), eps = F(o, "eps", 1e-4);
            Tensor x = t["x"], y = t["y"];
            int n = x.Shape[0], d = x.Shape[1];
            Tensor eye = Tensor.FromArray([.. Enumerable.Range(0, d * d).Select(i => i / d == i % d ? 1.0 : 0.0)], [d, d]);
            (Tensor Std, Tensor Cov) Spread(Tensor z)
            {
                Tensor c = z - Ops.Mean(z, axis: 0, keepDim: true);
                Tensor s = Ops.Sqrt(Ops.Sum(c * c, axis: 0) * (1.0 / (n - 1)) + eps);
                Tensor covariance = Ops.MatMul(Ops.Transpose(c), c) * (1.0 / (n - 1));
                return (Ops.Mean(Ops.Relu(1 - s)), Ops.Sum((1 - eye) * covariance * covariance) * (1.0 / d));
            }
            var (sx, cx) = Spread(x);
            var (sy, cy) = Spread(y);
            return sim * Ops.Mean((x - y) * (x - y)) + std * (sx + sy) * 0.5 + cov * (cx + cy);
        },
        ["ArcFaceLoss"] = (t, o) => AngularMargin(t, o, F(o, "scale", 64), c => ArcMargin(c, F(o, "margin", 28.6))),
        ["SubCenterArcFaceLoss"] = (t, o) => AngularMargin(t, o, F(o, "scale", 64), c => ArcMargin(c, F(o, "margin", 28.6)), (int)F(o, "sub_centers", 3)),
        ["CosFaceLoss"] = (t, o) => AngularMargin(t, o, F(o, "scale", 64), c => c - F(o, "margin", 0.35)),
        ["NormalizedSoftmaxLoss"] = (t, o) => AngularMargin(t, o, 1 / F(o, "temperature", 0.05), c => c),
        ["SoftTripleLoss"] = (t, o) =>
        {
            // The paper's S_ic = Σ_k softmax_k(c/γ)·c, the margin softmax, and the centre-pair regularizer.
            int k = (int)(o.TryGetValue("centers_per_class", out var kv) && kv is long kl ? kl : 10);
            double la = F(o, "la", 20), gamma = F(o, "gamma", 0.1), reg = F(o, "reg_weight", 0.2), margin = F(o, "margin", 0.01);
            Tensor e = Unit(t["embeddings"], 1), w = Unit(t["fc"], 0);
            int n = e.Shape[0], c = w.Shape[1] / k;
            Tensor sim = Ops.Reshape(Ops.MatMul(e, w), n, c, k);
            Tensor s = Ops.Sum(Ops.Softmax(sim * (1 / gamma), 2) * sim, axis: 2);
            Tensor oh = Ops.OneHot(t["labels"], c, DType.Float64);
            Tensor rows = -Ops.Sum(oh * Ops.LogSoftmax(la * (s - margin * oh), -1), axis: -1);
            Tensor r = rows.Constant(0);
            if (reg > 0 && k > 1)
            {
                Tensor cs = Ops.MatMul(Ops.Transpose(w), w);
                double[] pairs = [.. Enumerable.Range(0, c * k * c * k).Select(i => i / (c * k) / k == i % (c * k) / k && i % (c * k) > i / (c * k) ? 1.0 : 0.0)];
                Tensor mask = Tensor.FromArray(pairs, [c * k, c * k]);
                r = reg * Ops.Sum(Ops.Sqrt(2.0 + 2.2250738585072014e-308 - 2 * cs * mask) * mask) * (1 / (2 * pairs.Sum()));
            }
            return R(o) switch
            {
                "none" => rows + r * (1.0 / n),
                "sum" => Ops.Sum(rows) + r,
                _ => Ops.Mean(rows) + r,
            };
        },
        ["NPairsLoss"] = (t, o) =>
        {
            // The first two rows of each label with two, as anchor and positive; cross-entropy over the pairs' cosines.
            double[] y = t["labels"].ToArray();
            var groups = y.Select((label, i) => (label, i)).GroupBy(p => p.label).OrderBy(g => g.Key).Where(g => g.Count() >= 2).ToArray();
            int n = y.Length, m = groups.Length;
            if (m == 0) return R(o) == "none" ? t["embeddings"].Constant(0) * Tensor.FromArray(new double[n], [n]) : Ops.Sum(t["embeddings"] * 0);
            Tensor e = Unit(t["embeddings"], 1);
            double[] pickA = new double[m * n], pickP = new double[m * n], scatter = new double[n * m];
            for (int g = 0; g < m; g++)
            {
                int a = groups[g].ElementAt(0).i, p = groups[g].ElementAt(1).i;
                pickA[g * n + a] = 1;
                pickP[g * n + p] = 1;
                scatter[a * m + g] = 1;
            }
            Tensor anchors = Ops.MatMul(Tensor.FromArray(pickA, [m, n]), e), positives = Ops.MatMul(Tensor.FromArray(pickP, [m, n]), e);
            Tensor logits = Ops.MatMul(anchors, Ops.Transpose(positives));
            Tensor rows = -Ops.Sum(Tensor.FromArray([.. Enumerable.Range(0, m * m).Select(k => k / m == k % m ? 1.0 : 0.0)], [m, m]) * Ops.LogSoftmax(logits, -1), axis: -1);
            return R(o) switch
            {
                "none" => Ops.Reshape(Ops.MatMul(Tensor.FromArray(scatter, [n, m]), Ops.Reshape(rows, m, 1)), n),
                "sum" => Ops.Sum(rows),
                _ => Ops.Mean(rows),
            };
        },
        ["NcaLoss"] = (t, o) =>
        {
            // nca_computation: −s·‖ê_i − ê_j‖², the diagonal −∞, softmax, the same-label sum, −log where it is not 0.
            Tensor e = Unit(t["embeddings"], 1);
            int n = e.Shape[0];
            double[] y = t["labels"].ToArray();
            Tensor sq = Ops.Sum(e * e, axis: 1, keepDim: true);
            Tensor dist = sq + Ops.Transpose(sq) - 2 * Ops.MatMul(e, Ops.Transpose(e));
            double[] off = [.. Enumerable.Range(0, n * n).Select(k => k / n == k % n ? -1e300 : 0.0)];
            double[] same = [.. Enumerable.Range(0, n * n).Select(k => k / n != k % n && y[k / n] == y[k % n] ? 1.0 : 0.0)];
            Tensor p = Ops.Sum(Ops.Softmax(-F(o, "softmax_scale", 1) * dist + Tensor.FromArray(off, [n, n]), 1) * Tensor.FromArray(same, [n, n]), axis: 1);
            double[] keep = [.. Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Any(j => same[i * n + j] > 0) ? 1.0 : 0.0)];
            Tensor keepT = Tensor.FromArray(keep, [n]);
            Tensor rows = -Ops.Log(p + (1 - keepT)) * keepT;
            return Reduce(rows, o, denominator: rows.Constant(Math.Max(keep.Sum(), 1)));
        },
        ["ProxyNcaLoss"] = (t, o) =>
        {
            Tensor e = Unit(t["embeddings"], 1), p = Unit(t["proxies"], 1);
            Tensor dist = Ops.Sum(e * e, axis: 1, keepDim: true) + Ops.Transpose(Ops.Sum(p * p, axis: 1, keepDim: true)) - 2 * Ops.MatMul(e, Ops.Transpose(p));
            Tensor oh = Ops.OneHot(t["labels"], p.Shape[0], DType.Float64);
            return Reduce(-Ops.Sum(oh * Ops.LogSoftmax(-F(o, "softmax_scale", 1) * dist, -1), axis: -1), o);
        },
        ["LargeMarginSoftmaxLoss"] = (t, o) => MultiplicativeMargin(t, o, weightLengths: true),
        ["SphereFaceLoss"] = (t, o) => MultiplicativeMargin(t, o, weightLengths: false),
        ["SmoothedHingeLoss"] = (t, o) =>
        {
            // ML.NET's three pieces of u = 1 − t·x: 0, u²/(2s), u − s/2.
            double s = F(o, "smoothing", 1);
            Tensor sign = Tensor.FromArray([.. t["label"].ToArray().Select(y => y > 0 ? 1.0 : -1.0)], [.. t["label"].Shape.Dims]);
            Tensor u = 1 - sign * t["output"];
            double[] uv = u.ToArray();
            Tensor Mask(Func<double, bool> f) => Tensor.FromArray([.. uv.Select(v => f(v) ? 1.0 : 0.0)], [.. u.Shape.Dims]);
            Tensor l = s > 0 ? Mask(v => v >= 0 && v < s) * u * u * (1 / (2 * s)) + Mask(v => v >= s) * (u - s / 2) : Mask(v => v >= 0) * u;
            return Reduce(l, o, d: "none");
        },
        ["ExpLoss"] = (t, o) =>
        {
            Tensor sign = Tensor.FromArray([.. t["label"].ToArray().Select(y => y > 0 ? 1.0 : -1.0)], [.. t["label"].Shape.Dims]);
            return Reduce(Ops.Exp(-F(o, "beta", 1) * sign * t["output"]), o, d: "none");
        },
        ["TotalVariationDistance"] = (t, o) =>
        {
            Tensor p = t["p"], q = t["q"].Detach();
            int rows = p.Shape[0], v = p.Shape[1];
            long ignore = o.TryGetValue("ignore_index", out var ig) && ig is long l ? l : -100;
            double[] keep = t.TryGetValue("shift_labels", out Tensor? labels) ? [.. labels.ToArray().Select(y => (long)y == ignore ? 0.0 : 1.0)] : [.. Enumerable.Repeat(1.0, rows)];
            Tensor terms = 0.5 * Ops.Abs(p - q) * Tensor.FromArray(keep, [rows, 1]);
            double counted = keep.Sum();
            return (o.GetValueOrDefault("reduction") as string ?? "batchmean") switch
            {
                "none" => terms,
                "sum" => Ops.Sum(terms),
                "mean" => Ops.Sum(terms) * (1 / (counted * v)),
                _ => Ops.Sum(terms) * (1 / counted),
            };
        },
        ["MccLoss"] = (t, o) =>
        {
            // smp's MCCLoss as written: four soft counts over the batch, then 1 − MCC.
            double eps = F(o, "eps", 1e-5);
            Tensor p = Ops.Reshape(t["y_pred"], t["y_pred"].Length), y = Ops.Reshape(t["y_true"], t["y_true"].Length);
            Tensor tp = Ops.Sum(p * y) + eps, tn = Ops.Sum((1 - p) * (1 - y)) + eps, fp = Ops.Sum(p * (1 - y)) + eps, fn = Ops.Sum((1 - p) * y) + eps;
            return 1 - (tp * tn - fp * fn) / Ops.Sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
        },
        ["ProxyAnchorLoss"] = (t, o) =>
        {
            // The paper's two sums over proxies, log(1 + Σ e^·) written as it reads.
            double margin = F(o, "margin", 0.1), alpha = F(o, "alpha", 32);
            Tensor e = t["embeddings"], p = t["proxies"];
            Tensor cos = Ops.MatMul(Unit(e, 1), Ops.Transpose(Unit(p, 1)));
            int c = p.Shape[0];
            Tensor own = Ops.OneHot(t["labels"], c, DType.Float64);
            Tensor pos = Ops.Log(1 + Ops.Sum(own * Ops.Exp(alpha * (margin - cos)), axis: 0));
            Tensor neg = Ops.Log(1 + Ops.Sum((1 - own) * Ops.Exp(alpha * (cos + margin)), axis: 0));
            int withPositives = Labels(t, "labels").Distinct().Count();
            return Ops.Sum(pos) * (1.0 / withPositives) + Ops.Sum(neg) * (1.0 / c);
        },
        ["DistillationLoss"] = (t, o) =>
        {
            double temperature = F(o, "temperature", 2), alpha = F(o, "alpha", 0);
            Tensor logP = Ops.LogSoftmax(t["student_logits"] * (1 / temperature), -1), logQ = Ops.LogSoftmax(t["teacher_logits"] * (1 / temperature), -1);
            Tensor l = (1 - alpha) * temperature * temperature * Ops.Sum(Ops.Exp(logQ) * (logQ - logP), axis: -1);
            if (alpha > 0)
            {
                Tensor oh = Ops.OneHot(t["target"], t["student_logits"].Shape[-1], DType.Float64);
                l = l - alpha * Ops.Sum(oh * Ops.LogSoftmax(t["student_logits"], -1), axis: -1);
            }
            return Reduce(l, o);
        },
        ["LogitAdjustedLoss"] = (t, o) =>
        {
            Tensor x = t["input"];
            if (W(o, "priors") is Tensor p) x = x + F(o, "tau", 1) * Ops.Reshape(Ops.Log(p), 1, -1);   // (N, C) + (1, C)
            Tensor oh = Ops.OneHot(t["target"], x.Shape[-1], DType.Float64);
            return Reduce(-Ops.Sum(oh * Ops.LogSoftmax(x, -1), axis: -1), o);
        },
        ["DpoLoss"] = (t, o) =>
        {
            // TRL's dpo_loss, type by type; AOT's sorts as constant permutation matrices (P·v picks v in ascending order).
            double beta = F(o, "beta", 0.1), eps = F(o, "label_smoothing", 0);
            bool free = o.GetValueOrDefault("reference_free") is true;
            Tensor w = t["policy_chosen_logps"], l = t["policy_rejected_logps"];
            int n = w.Shape[0];
            Tensor zero = 0 * w, wr = t.TryGetValue("reference_chosen_logps", out Tensor? a) ? a : zero, lr = t.TryGetValue("reference_rejected_logps", out Tensor? b) ? b : zero;
            Tensor c = free ? w : w - wr, r = free ? l : l - lr;
            Tensor Smoothed(Tensor m) => (1 - eps) * Ops.Softplus(-m) + eps * Ops.Softplus(m);
            Tensor Sorted(Tensor v)
            {
                double[] x = v.ToArray();
                int[] order = [.. Enumerable.Range(0, n).OrderBy(i => x[i])];
                return Ops.Reshape(Ops.MatMul(Tensor.FromArray([.. Enumerable.Range(0, n * n).Select(e => order[e / n] == e % n ? 1.0 : 0.0)], [n, n]), Ops.Reshape(v, n, 1)), n);
            }
            string type = o.GetValueOrDefault("loss_type") as string ?? "sigmoid";
            Tensor z = (o.GetValueOrDefault("f_divergence_type") as string) switch
            {
                "js_divergence" => c - r - (Ops.Softplus(c) - Ops.Softplus(r)),
                "alpha_divergence" => (Ops.Exp(-F(o, "alpha_divergence_coef", 1) * r) - Ops.Exp(-F(o, "alpha_divergence_coef", 1) * c)) * (1 / F(o, "alpha_divergence_coef", 1)),
                _ => c - r,
            };
            Tensor bz = beta * z;
            double e = eps == 0 ? 1e-3 : eps;
            Tensor lossValues = type switch
            {
                "hinge" => Ops.Relu(1 - bz),
                "ipo" => Ops.Pow(z - 1 / (2 * beta), 2),
                "robust" => ((1 - eps) * Ops.Softplus(-bz) - eps * Ops.Softplus(bz)) * (1 / (1 - 2 * eps)),
                "exo_pair" => Ops.Sigmoid(bz) * (-Ops.Softplus(-bz) - Math.Log(1 - e)) + Ops.Sigmoid(-bz) * (-Ops.Softplus(bz) - Math.Log(e)),
                "nca_pair" => Ops.Softplus(-beta * (w - wr)) + 0.5 * Ops.Softplus(beta * (w - wr)) + 0.5 * Ops.Softplus(beta * (l - lr)),
                "sppo_hard" => Ops.Pow(w - wr - 0.5 / beta, 2) + Ops.Pow(l - lr + 0.5 / beta, 2),
                "aot" => Smoothed(beta * (Sorted(w - l) - Sorted(wr - lr))),
                "aot_pair" => Smoothed(beta * (Sorted(w - wr) - Sorted(l - lr))),
                "apo_zero" => 1 - Ops.Sigmoid(beta * c) + Ops.Sigmoid(beta * r),
                "apo_down" => Ops.Sigmoid(beta * c) + 1 - Ops.Sigmoid(beta * (c - r)),
                "discopop" => DiscoPop(beta * (w - l - (wr - lr)), F(o, "discopop_tau", 0.05)),
                _ => Smoothed(bz),
            };
            return Reduce(lossValues, o);

            static Tensor DiscoPop(Tensor m, double tau)
            {
                Tensor mix = Ops.Sigmoid(m * (1 / tau));
                return Ops.Softplus(-m) * (1 - mix) + Ops.Exp(-m) * mix;
            }
        },
        ["GrpoLoss"] = (t, o) =>
        {
            // TRL's _compute_loss as written: ratio, clipped ratio, −min, k3 KL, the masked reduction of loss_type.
            Tensor logp = t["per_token_logps"];
            int b = logp.Shape[0], len = logp.Shape[1];
            Tensor old = t.TryGetValue("old_per_token_logps", out Tensor? given) ? given : logp.Detach();
            double eps = F(o, "epsilon", 0.2), high = o.GetValueOrDefault("epsilon_high") is double h ? h : eps, beta = F(o, "beta", 0);
            Tensor mask = t.TryGetValue("completion_mask", out Tensor? m) ? m : Tensor.FromArray([.. Enumerable.Repeat(1.0, b * len)], [b, len]);
            double[] rows = [.. Enumerable.Range(0, b).Select(i => Math.Max(mask.ToArray().Skip(i * len).Take(len).Sum(), 1))];
            Tensor logRatio = logp - old;
            if (o.GetValueOrDefault("importance_sampling_level") as string == "sequence")   // GSPO: (B, 1), broadcast over the tokens
                logRatio = Ops.Reshape(Ops.Sum(logRatio * mask, axis: 1) / Tensor.FromArray(rows, [b]), b, 1) + logp.Constant(0) * Tensor.FromArray(new double[b * len], [b, len]);
            Tensor ratio = Ops.Exp(logRatio), adv = Ops.Reshape(t["advantages"], b, 1);
            Tensor loss = -Ops.Minimum(ratio * adv, Ops.Clamp(ratio, 1 - eps, 1 + high) * adv);
            if (beta != 0)
            {
                Tensor d = t["ref_per_token_logps"] - logp;
                loss = loss + beta * (Ops.Exp(d) - d - 1);
            }
            return (o.GetValueOrDefault("loss_type") as string ?? "grpo") switch
            {
                "bnpo" => Ops.Sum(loss * mask) * (1 / Math.Max(mask.ToArray().Sum(), 1)),
                "dr_grpo" => Ops.Sum(loss * mask) * (1.0 / (b * (o.GetValueOrDefault("max_completion_length") is long l ? l : len))),
                "dapo" => Ops.Sum(loss * mask) * (1 / (o.GetValueOrDefault("num_items_in_batch") is double items ? items : Math.Max(mask.ToArray().Sum(), 1))),
                _ => Ops.Mean(Ops.Sum(loss * mask, axis: 1) / Tensor.FromArray(rows, [b])),
            };
        },
        ["KtoLoss"] = (t, o) =>
        {
            // TRL's kto_loss as written: KL detached and clamped, 1 − σ per response, the two groups concatenated.
            double beta = F(o, "beta", 0.1);
            bool apo = o.GetValueOrDefault("loss_type") as string == "apo_zero_unpaired";
            Tensor rc = t["policy_chosen_logps"] - t["reference_chosen_logps"], rr = t["policy_rejected_logps"] - t["reference_rejected_logps"];
            if (apo)   // APO-zero, unpaired: 1 − σ(β·r) for desirable responses, σ(β·r) for undesirable ones
            {
                return Reduce(Ops.Concat([F(o, "desirable_weight", 1) * (1 - Ops.Sigmoid(beta * rc)), F(o, "undesirable_weight", 1) * Ops.Sigmoid(beta * rr)], 0), o);
            }
            double z = Math.Max(0, (t["policy_KL_logps"] - t["reference_KL_logps"]).ToArray().Average());
            Tensor chosen = F(o, "desirable_weight", 1) * (1 - Ops.Sigmoid(beta * (rc - z)));
            Tensor rejected = F(o, "undesirable_weight", 1) * (1 - Ops.Sigmoid(beta * (z - rr)));
            return Reduce(Ops.Concat([chosen, rejected], 0), o);
        },
        ["SimPoLoss"] = (t, o) =>
        {
            double eps = F(o, "label_smoothing", 0);
            Tensor m = F(o, "beta", 0.1) * (t["policy_chosen_logps"] - t["policy_rejected_logps"]) - F(o, "gamma", 0.5);
            return Reduce((1 - eps) * Ops.Softplus(-m) + eps * Ops.Softplus(m), o);
        },
        ["OrpoLoss"] = (t, o) =>
        {
            // TRL's odds_ratio_loss as written, log(1 − p) directly.
            Tensor c = t["policy_chosen_logps"], r = t["policy_rejected_logps"];
            Tensor lo = c - Ops.Log(1 - Ops.Exp(c)) - (r - Ops.Log(1 - Ops.Exp(r)));
            return Reduce(F(o, "beta", 0.1) * Ops.Softplus(-lo), o);
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
