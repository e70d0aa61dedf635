using LossLab.Autograd;
using LossLab.Losses.Core;
using LossLab.Losses.Custom;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Autograd;

public sealed partial class CatalogAutogradTests
{
    /// <summary>
    /// Losses beyond PyTorch and Keras, composed from autograd primitives: self-supervised (Barlow Twins, VICReg), angular
    /// and multiplicative margins, proxies, distillation, logit adjustment and preference optimization (DPO, GRPO, KTO,
    /// SimPO, ORPO, CPO).
    /// </summary>
    private static Dictionary<string, Formula> BeyondFormulas() => new()
    {
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
        ["CenterLoss"] = (t, o) =>
        {
            // Each row's centre picked by a one-hot product (N, C)·(C, D), then the squared distance.
            Tensor c = t["centers"], diff = t["embeddings"] - Ops.MatMul(Ops.OneHot(t["labels"], c.Shape[0], DType.Float64), c);
            return Reduce(Ops.Sum(diff * diff, axis: 1), o);
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
        ["GeneralizedJsdLoss"] = (t, o) =>
        {
            // Liger's JSD on log-values: the mixture's log formed from probabilities here (the loss uses log-add-exp).
            Tensor x = t["_input"], y = t["target"].Detach();
            double beta = F(o, "beta", 0.5);
            int rows = x.Shape[0];
            long ignore = o.TryGetValue("ignore_index", out var ig) && ig is long l ? l : -100;
            double[] keep = t.TryGetValue("shift_labels", out Tensor? labels) ? [.. labels.ToArray().Select(v => (long)v == ignore ? 0.0 : 1.0)] : [.. Enumerable.Repeat(1.0, rows)];
            return LigerMean(Jsd(x, y, beta) * Tensor.FromArray(keep, [rows]), o, keep.Sum());
        },
        ["LinearJsdLoss"] = (t, o) => LinearDistillation(t, o, (s, z, keep) => Jsd(Ops.LogSoftmax(s, -1), Ops.LogSoftmax(z, -1), F(o, "beta", 0.5)) * keep),
        ["LinearCosineSimilarityLoss"] = (t, o) => LinearDistillation(t, o, (s, z, keep) =>
            F(o, "beta", 0.5) * (1 - Ops.Sum(s * z, axis: -1) / Ops.Sqrt(Ops.Sum(s * s, axis: -1) * Ops.Sum(z * z, axis: -1)))),
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
                "sft" => 0 * w,
                _ => Smoothed(bz),
            };
            // TRL: the chosen tokens' NLL is sft's loss and RPO's rpo_alpha·nll term, broadcast to every pair.
            double nllWeight = (type == "sft" ? 1 : 0) + F(o, "rpo_alpha", 0);
            if (t.TryGetValue("policy_nll_loss", out Tensor? nll)) lossValues = lossValues + nllWeight * nll;
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
        ["CpoLoss"] = (t, o) =>
        {
            // TRL's cpo_loss: the AlphaPO reward (1 − e^{−αx})/α as written; the mean of ℓ + cpo_alpha·nll is TRL's losses.mean() + cpo_alpha·nll.
            double beta = F(o, "beta", 0.1), eps = F(o, "label_smoothing", 0), alpha = F(o, "alpha", 0);
            string type = o.GetValueOrDefault("loss_type") as string ?? "sigmoid";
            Tensor Reward(Tensor x) => alpha == 0 ? x : (1 - Ops.Exp(-alpha * x)) * (1 / alpha);
            Tensor z = Reward(t["policy_chosen_logps"]) - Reward(t["policy_rejected_logps"]);
            Tensor Logistic(Tensor m) => (1 - eps) * Ops.Softplus(-m) + eps * Ops.Softplus(m);
            Tensor l = type switch
            {
                "hinge" => Ops.Relu(1 - beta * z),
                "ipo" => (z - 1 / (2 * beta)) * (z - 1 / (2 * beta)),
                "simpo" or "alphapo" => Logistic(beta * z - F(o, "simpo_gamma", 0.5)),
                _ => Logistic(beta * z),
            };
            double weight = type == "alphapo" ? 0 : F(o, "cpo_alpha", 1);
            return Reduce(t.TryGetValue("policy_nll_loss", out Tensor? nll) ? l + weight * nll : l, o);   // every pair carries the batch's NLL
        },
        ["OrpoLoss"] = (t, o) =>
        {
            // TRL's odds_ratio_loss as written, log(1 − p) directly.
            Tensor c = t["policy_chosen_logps"], r = t["policy_rejected_logps"];
            Tensor lo = c - Ops.Log(1 - Ops.Exp(c)) - (r - Ops.Log(1 - Ops.Exp(r)));
            return Reduce(F(o, "beta", 0.1) * Ops.Softplus(-lo), o);
        },
    };

    /// <summary>Liger's generalized JSD per row of log-values x (student) and y (teacher); β = 0 and 1 its KL special cases.</summary>
    private static Tensor Jsd(Tensor x, Tensor y, double beta)
    {
        if (beta == 0) return Ops.Sum(Ops.Exp(y) * (y - x), axis: -1);
        if (beta == 1) return Ops.Sum(Ops.Exp(x) * (x - y), axis: -1);
        Tensor logM = Ops.Log(beta * Ops.Exp(y) + (1 - beta) * Ops.Exp(x));
        return Ops.Sum(beta * Ops.Exp(y) * (y - logM) + (1 - beta) * Ops.Exp(x) * (x - logM), axis: -1);
    }

    /// <summary>Liger's reductions of rows: none, sum, or Σ / max(1, counted rows).</summary>
    private static Tensor LigerMean(Tensor rows, Dictionary<string, object?> o, double counted) => R(o) switch
    {
        "none" => rows,
        "sum" => Ops.Sum(rows),
        _ => Ops.Sum(rows) * (1 / Math.Max(1, counted)),
    };

    /// <summary>
    /// Liger's fused linear distillation frame, unfused: both models' logits, the student's cross-entropy on the labelled
    /// rows, the soft loss between the scaled logits (the student's padded with zeros to the teacher's vocabulary).
    /// </summary>
    private static Tensor LinearDistillation(IReadOnlyDictionary<string, Tensor> t, Dictionary<string, object?> o, Func<Tensor, Tensor, Tensor, Tensor> soft)
    {
        Tensor zs = Ops.MatMul(t["student_input"], Ops.Transpose(t["student_weight"]));
        if (t.TryGetValue("student_bias", out Tensor? bs)) zs = zs + Ops.Reshape(bs, 1, -1);
        Tensor zt = Ops.MatMul(t["teacher_input"].Detach(), Ops.Transpose(t["teacher_weight"].Detach()));
        if (t.TryGetValue("teacher_bias", out Tensor? bt)) zt = zt + Ops.Reshape(bt.Detach(), 1, -1);
        long ignore = o.TryGetValue("ignore_index", out var ig) && ig is long l ? l : -100;
        double[] labels = t["true_labels"].ToArray();
        int n = labels.Length, vs = zs.Shape[1], vt = zt.Shape[1];
        double[] keep = [.. labels.Select(y => (long)y == ignore ? 0.0 : 1.0)];
        Tensor keepT = Tensor.FromArray(keep, [n]);
        Tensor oh = Ops.OneHot(Tensor.FromArray([.. labels.Select(y => (long)y == ignore ? 0.0 : y)], [n]), vs, DType.Float64);
        Tensor hard = -Ops.Sum(oh * Ops.LogSoftmax(zs, -1), axis: -1) * keepT;
        double invT = 1 / F(o, "temperature", 1);
        Tensor s = zs * invT;
        if (vt > vs) s = Ops.Concat([s, Tensor.Zeros(new Shape(n, vt - vs))], axis: 1);
        Tensor rows = F(o, "weight_hard_loss", 0.5) * hard + F(o, "weight_soft_loss", 0.5) * soft(s, zt * invT, keepT);
        return LigerMean(rows, o, keep.Sum());
    }
}
