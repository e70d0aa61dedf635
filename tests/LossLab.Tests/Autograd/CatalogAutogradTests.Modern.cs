using LossLab.Autograd;
using LossLab.Numerics;

namespace LossLab.Tests.Autograd;

public sealed partial class CatalogAutogradTests
{
    /// <summary>
    /// The modern losses of single papers' reference code (LDAM, Barron's robust loss, the bi-tempered and active–passive
    /// losses) and mmdetection's dense-detection losses (varifocal, quality focal, distribution focal).
    /// </summary>
    private static Dictionary<string, Formula> ModernFormulas() => new()
    {
        ["LdamLoss"] = (t, o) =>
        {
            // Margins m_j = max_m·n_j^(−1/4)/max_k n_k^(−1/4) (all max_m without counts), subtracted at the target by a one-hot.
            Tensor x = t["input"];
            int c = x.Shape[-1];
            double maxM = F(o, "max_m", 0.5);
            double[] m = o.GetValueOrDefault("cls_num_list") is TensorData counts
                ? [.. Enumerable.Range(0, c).Select(j => Math.Pow(counts.GetDouble(j), -0.25))] : [.. Enumerable.Repeat(1.0, c)];
            double top = m.Max();
            Tensor margins = Tensor.FromArray([.. m.Select(v => maxM * v / top)], [1, c]);
            Tensor oh = Ops.OneHot(t["target"], c, DType.Float64);
            Tensor ce = -Ops.Sum(oh * Ops.LogSoftmax(F(o, "s", 30) * (x - oh * margins), -1), axis: -1);
            if (W(o, "weight") is not Tensor w) return Reduce(ce, o);
            Tensor wy = Ops.Sum(oh * Ops.Reshape(w, 1, -1), axis: -1);
            return Reduce(wy * ce, o, Ops.Sum(wy));
        },
        ["GeneralRobustLoss"] = (t, o) =>
        {
            // Barron's ρ from its definition: the limits at α ∈ {2, 0, ±∞}, else (b/α)·((u/b + 1)^{α/2} − 1) with b's
            // float32-epsilon guard; the clamps of the α = 0 and +∞ cases as constant masks (0 slope past them).
            double alpha = F(o, "alpha", 1), c = F(o, "scale", 1), eps = 1.1920928955078125e-7;
            Tensor r = (t["input"] - t["target"]) * (1 / c);
            Tensor u = r * r;
            Tensor Below(double bound) => Tensor.FromArray([.. u.ToArray().Select(v => 0.5 * v < bound ? 1.0 : 0.0)], [.. u.Shape.Dims]);
            Tensor l;
            if (alpha == 2) l = 0.5 * u;
            else if (alpha == 0) { Tensor m = Below(3e37); l = Ops.Log(1 + m * (0.5 * u) + (1 - m) * 3e37); }
            else if (double.IsNegativeInfinity(alpha)) l = 1 - Ops.Exp(-0.5 * u);
            else if (double.IsPositiveInfinity(alpha)) { Tensor m = Below(87.5); l = Ops.Exp(m * (0.5 * u) + (1 - m) * 87.5) - 1; }
            else
            {
                double b = Math.Max(eps, Math.Abs(alpha - 2));
                l = b / alpha * (Ops.Pow(u * (1 / b) + 1, 0.5 * alpha) - 1);
            }
            return Reduce(l, o);
        },
        ["AdaptiveRobustLoss"] = (t, o) =>
        {
            // The NLL from its definition, α and c broadcast along the last axis: (b/α)·((u/b + 1)^{α/2} − 1) with
            // b = |α − 2| (the samples keep α off 0 and 2), + log c + log Z(α) (the autograd primitive).
            Tensor alpha = t["alpha"], c = t["scale"], r = t["x"] / c, u = r * r, b = Ops.Abs(alpha - 2);
            Tensor rho = b / alpha * (Ops.Exp(0.5 * alpha * Ops.Log(u / b + 1)) - 1);
            return Reduce(rho + Ops.Log(c) + Ops.RobustLogPartition(alpha), o);
        },
        ["SinkhornDivergence"] = (t, o) =>
        {
            // The dual objective ⟨α, f⟩ + ⟨β, g⟩ − ε⟨α⊗β, e^{(f⊕g − C)/ε} − 1⟩ at the loss's own potentials held constant (the
            // envelope theorem): its value is the divergence and autograd gives every gradient. Costs, weights' normalization
            // and the dual are written out here; the potentials' own accuracy is torch_diff's.
            int power = o.GetValueOrDefault("p") is long pl ? (int)pl : 2;
            double eps = Math.Pow(F(o, "blur", 0.05), power);
            bool debias = o.GetValueOrDefault("debias") is not false;
            Tensor x = t["x"], y = t["y"];
            int n = x.Shape[0], m = y.Shape[0], d = x.Shape[1];
            Tensor Uniform(int k) => Tensor.FromArray([.. Enumerable.Repeat(1.0 / k, k)], [k]);
            Tensor a = t.TryGetValue("x_weights", out Tensor? wa) ? wa / Ops.Sum(wa) : Uniform(n), b = t.TryGetValue("y_weights", out Tensor? wb) ? wb / Ops.Sum(wb) : Uniform(m);
            Tensor Cost(Tensor u, Tensor v, int nu, int nv)
            {
                Tensor diff = Ops.Reshape(u, nu, 1, d) - Ops.Reshape(v, 1, nv, d), sq = Ops.Sum(diff * diff, axis: 2);
                if (power == 2) return 0.5 * sq;
                Tensor positive = Ops.Greater(sq, sq.Constant(0));
                return Ops.Where(positive, Ops.Sqrt(Ops.Where(positive, sq, sq.Constant(1))), sq.Constant(0));
            }
            Tensor cxy = Cost(x, y, n, m), cxx = Cost(x, x, n, n), cyy = Cost(y, y, m, m);
            var loss = (LossLab.Losses.Probabilistic.SinkhornDivergence)LossLab.Losses.Core.LossRegistry.Default.Create("SinkhornDivergence", o);
            double[] logA = Array.ConvertAll(a.ToArray(), Math.Log), logB = Array.ConvertAll(b.ToArray(), Math.Log);
            var (f, g, p, q) = loss.Potentials(cxy.ToArray(), debias ? cxx.ToArray() : [], debias ? cyy.ToArray() : [], n, m, logA, logB, 10);
            Tensor Dual(Tensor wu, Tensor wv, Tensor c, double[] fu, double[] gv)
            {
                int nu = fu.Length, nv = gv.Length;
                Tensor fT = Tensor.FromArray(fu, [nu]), gT = Tensor.FromArray(gv, [nv]);
                Tensor plan = Ops.Reshape(wu, nu, 1) * Ops.Reshape(wv, 1, nv) * (Ops.Exp((Ops.Reshape(fT, nu, 1) + Ops.Reshape(gT, 1, nv) - c) * (1 / eps)) - 1);
                return Ops.Sum(wu * fT) + Ops.Sum(wv * gT) - eps * Ops.Sum(plan);
            }
            Tensor value = Dual(a, b, cxy, f, g);
            return debias ? value - 0.5 * Dual(a, a, cxx, p, p) - 0.5 * Dual(b, b, cyy, q, q) : value;
        },
        ["KernelMmdLoss"] = (t, o) =>
        {
            // ½⟨α, K_xx α⟩ + ½⟨β, K_yy β⟩ − ⟨α, K_xy β⟩, distances with a zero slope where points coincide.
            string kernel = o.GetValueOrDefault("kernel") as string ?? "gaussian";
            double blur = F(o, "blur", 0.05);
            Tensor x = t["x"], y = t["y"];
            int n = x.Shape[0], m = y.Shape[0], d = x.Shape[1];
            Tensor Uniform(int k) => Tensor.FromArray([.. Enumerable.Repeat(1.0 / k, k)], [k]);
            Tensor a = t.TryGetValue("x_weights", out Tensor? wa) ? wa : Uniform(n), b = t.TryGetValue("y_weights", out Tensor? wb) ? wb : Uniform(m);
            Tensor K(Tensor u, Tensor v, int nu, int nv)
            {
                Tensor diff = Ops.Reshape(u, nu, 1, d) - Ops.Reshape(v, 1, nv, d), sq = Ops.Sum(diff * diff, axis: 2);
                if (kernel == "gaussian") return Ops.Exp(-0.5 / (blur * blur) * sq);
                Tensor positive = Ops.Greater(sq, sq.Constant(0));
                Tensor dist = Ops.Where(positive, Ops.Sqrt(Ops.Where(positive, sq, sq.Constant(1))), sq.Constant(0));
                return kernel == "laplacian" ? Ops.Exp(-1 / blur * dist) : -dist;
            }
            Tensor Quad(Tensor wu, Tensor k, Tensor wv, int nu, int nv) => Ops.Sum(Ops.MatMul(Ops.MatMul(Ops.Reshape(wu, 1, nu), k), Ops.Reshape(wv, nv, 1)));
            return 0.5 * Quad(a, K(x, x, n, n), a, n, n) + 0.5 * Quad(b, K(y, y, m, m), b, m, m) - Quad(a, K(x, y, n, m), b, n, m);
        },
        ["BiTemperedLogisticLoss"] = (t, o) =>
        {
            // λ(a) is implicit (Σ exp_t2(a − λ) = 1). At the evaluated a*, λ(a) = λ* + e·(a − a*) to first order, e the
            // escort p^{t2}/Σp^{t2} (the implicit function theorem): the composed value is exact there and its gradient
            // carries λ's. The rest is the definition, one-hot labels (or the given probabilities), smoothing, log_t, exp_t.
            double t1 = F(o, "t1", 0.8), t2 = F(o, "t2", 1.2), eps = F(o, "label_smoothing", 0);
            Tensor a = t["activations"];
            int n = a.Shape[0], c = a.Shape[1];
            double[] av = a.ToArray(), lv = t["labels"].ToArray();
            double[] y = lv.Length == n * c ? lv : [.. Enumerable.Range(0, n * c).Select(k => (int)lv[k / c] == k % c ? 1.0 : 0.0)];
            if (eps > 0) y = [.. y.Select(v => (1 - c * eps / (c - 1)) * v + eps / (c - 1))];
            var lambda = new double[n];
            var escort = new double[n * c];
            for (int i = 0; i < n; i++)
            {
                var p = new double[c];
                lambda[i] = LossLab.Losses.Classification.BiTemperedLogisticLoss.TemperedSoftmax(av.AsSpan(i * c, c), t2, p);
                double sum = p.Sum(v => Math.Pow(v, t2));
                for (int j = 0; j < c; j++) escort[i * c + j] = Math.Pow(p[j], t2) / sum;
            }
            Tensor lam = Tensor.FromArray(lambda, [n, 1]) + Ops.Sum(Tensor.FromArray(escort, [n, c]) * (a - Tensor.FromArray(av, [n, c])), axis: 1, keepDim: true);
            Tensor u = a - lam;
            Tensor pt = t2 == 1 ? Ops.Exp(u) : Ops.Pow(Ops.Relu(1 + (1 - t2) * u), 1 / (1 - t2));
            Tensor logT = t1 == 1 ? Ops.Log(pt) : (Ops.Pow(pt, 1 - t1) - 1) * (1 / (1 - t1));
            Tensor yt = Tensor.FromArray(y, [n, c]);
            double[] yLog = [.. y.Select(v => v == 0 ? 0 : v * (t1 == 1 ? Math.Log(v + 1e-10) : (Math.Pow(v + 1e-10, 1 - t1) - 1) / (1 - t1)))];
            double[] yPow = [.. y.Select(v => Math.Pow(v, 2 - t1))];
            Tensor rows = Ops.Sum(Tensor.FromArray(yLog, [n, c]) - yt * logT - (Tensor.FromArray(yPow, [n, c]) - Ops.Pow(pt, 2 - t1)) * (1 / (2 - t1)), axis: 1);
            return Reduce(rows, o);
        },
        ["ActivePassiveLoss"] = (t, o) =>
        {
            // The reference's terms: the normalized active loss over every label, the clamped reverse cross-entropy
            // (its p ≤ 1e-7 entries held at the clamp: constant), or 1 − p_y.
            Tensor x = t["input"];
            int c = x.Shape[-1];
            Tensor lp = Ops.LogSoftmax(x, -1), p = Ops.Exp(lp), oh = Ops.OneHot(t["target"], c, DType.Float64);
            double gamma = F(o, "gamma", 0.5);
            Tensor FocalTerms() => gamma == 0 ? -lp : -(Ops.Pow(1 - p, gamma) * lp);
            Tensor active = o.GetValueOrDefault("active") is "nfl"
                ? Ops.Sum(oh * FocalTerms(), axis: -1) / Ops.Sum(FocalTerms(), axis: -1)
                : Ops.Sum(oh * lp, axis: -1) / Ops.Sum(lp, axis: -1);
            Tensor rows = F(o, "alpha", 1) * active;
            string passive = o.GetValueOrDefault("passive") as string ?? "rce";
            if (passive == "rce")
            {
                Tensor above = Tensor.FromArray([.. p.ToArray().Select(v => v > 1e-7 ? 1.0 : 0.0)], [.. p.Shape.Dims]);
                rows = rows + F(o, "beta", 1) * -Math.Log(1e-4) * Ops.Sum((1 - oh) * (above * p + (1 - above) * 1e-7), axis: -1);
            }
            else if (passive == "mae") rows = rows + F(o, "beta", 1) * (1 - Ops.Sum(oh * p, axis: -1));
            return Reduce(rows, o);
        },
        ["TaylorCrossEntropy"] = (t, o) =>
        {
            Tensor q = 1 - Ops.Sum(Ops.OneHot(t["target"], t["input"].Shape[-1], DType.Float64) * Ops.Softmax(t["input"], -1), axis: -1);
            int order = o.GetValueOrDefault("t") is long k ? (int)k : 2;
            Tensor total = q;
            for (int i = 2; i <= order; i++) total = total + Ops.Pow(q, i) * (1.0 / i);
            return Reduce(total, o);
        },
        ["PerClassMseLoss"] = (t, o) =>
        {
            // dlordinal's MCE: per-class squared errors of the softmax against one-hot targets, averaged over the rows.
            Tensor x = t["input"];
            int n = x.Shape[0], c = x.Shape[1];
            Tensor se = Ops.Pow(Ops.OneHot(t["target"], c, DType.Float64) - Ops.Softmax(x, 1), 2);
            if (W(o, "weight") is Tensor w) se = se * Ops.Reshape(w, 1, -1);
            Tensor perClass = Ops.Sum(se, axis: 0) * (1.0 / n);
            return R(o) switch { "none" => perClass, "sum" => Ops.Sum(perClass), _ => Ops.Mean(perClass) };
        },
        ["MceAndWkLoss"] = (t, o) =>
        {
            // dlordinal: C·WKLoss on the outputs as given + (1 − C)·MCELoss on their softmax.
            Tensor x = t["input"];
            int n = x.Shape[0], c = x.Shape[1];
            double cw = F(o, "C", 0.5);
            Tensor oh = Ops.OneHot(t["target"], c, DType.Float64);
            Tensor? w = W(o, "weight");
            double[] dist = [.. Enumerable.Range(0, c * c).Select(q => (double)((q / c) - (q % c)) * ((q / c) - (q % c)) / ((c - 1) * (c - 1)))];
            Tensor wk = Tensor.FromArray(dist, [c, c]);
            if (w is not null) wk = wk * Ops.Reshape(w, 1, -1);
            Tensor pw = o.GetValueOrDefault("wk_penalization_type") as string == "linear" ? x : x * x;
            Tensor pred = pw / (Ops.Sum(pw, axis: 1, keepDim: true) + 1e-10);
            Tensor nom = Ops.Sum(wk * Ops.MatMul(Ops.Transpose(pred), oh));
            Tensor expected = Ops.MatMul(Ops.Reshape(Ops.Sum(pred, axis: 0), -1, 1), Ops.Reshape(Ops.Sum(oh, axis: 0), 1, -1));
            Tensor kappa = nom / (Ops.Sum(wk * expected) * (1.0 / n) + 1e-10);
            Tensor se = Ops.Pow(oh - Ops.Softmax(x, 1), 2);
            if (w is not null) se = se * Ops.Reshape(w, 1, -1);
            return cw * kappa + (1 - cw) * Ops.Mean(Ops.Sum(se, axis: 0) * (1.0 / n));
        },
        ["OrdinalEcocDistanceLoss"] = (t, o) =>
        {
            // The code of rank y is [q < y]: a one-hot of y over K classes, cumulated from the right and shifted by one.
            Tensor p = t["input"];
            int n = p.Shape[0], thresholds = p.Shape[1];
            long[] y = Labels(t, "target");
            Tensor code = Tensor.FromArray([.. Enumerable.Range(0, n * thresholds).Select(q => q % thresholds < y[q / thresholds] ? 1.0 : 0.0)], [n, thresholds]);
            Tensor rows = Ops.Sum(Ops.Pow(p - code, 2), axis: 1);
            if (W(o, "weights") is Tensor w) rows = rows * Ops.Sum(Ops.OneHot(t["target"], thresholds + 1, DType.Float64) * Ops.Reshape(w, 1, -1), axis: 1);
            return Reduce(rows, o, d: "sum");
        },
        ["SlaceLoss"] = (t, o) =>
        {
            // The accumulated mass as a product with the 0/1 "at least as close" matrix of each row's label.
            Tensor x = t["input"];
            int n = x.Shape[0], k = x.Shape[1];
            long[] y = Labels(t, "target");
            Tensor p = o.GetValueOrDefault("use_logits") is false ? x : Ops.Softmax(x, 1);
            double alpha = F(o, "alpha", 1);
            var rows = new List<Tensor>();
            for (int i = 0; i < n; i++)
            {
                long yi = y[i];
                Tensor q = Ops.Softmax(Tensor.FromArray([.. Enumerable.Range(0, k).Select(c => -alpha * Math.Abs(c - yi))], [1, k]), 1);
                Tensor prox = Tensor.FromArray([.. Enumerable.Range(0, k * k).Select(e => Math.Abs(e % k - yi) <= Math.Abs(e / k - yi) ? 1.0 : 0.0)], [k, k]);
                Tensor a = Ops.MatMul(prox, Ops.Reshape(RowOf(p, i, n), k, 1));
                Tensor row = -Ops.Sum(Ops.Reshape(q, k, 1) * Ops.Log(a + 1e-9));
                if (W(o, "weight") is Tensor w) row = row * Ops.Sum(w * Tensor.FromArray([.. Enumerable.Range(0, k).Select(c => c == yi ? 1.0 : 0.0)], [k]));
                rows.Add(Ops.Reshape(row, 1));
            }
            return Reduce(Ops.Concat(rows), o);
        },
        ["SquaredEmdLoss"] = (t, o) =>
        {
            // dlordinal's EMDLoss: Σ_k (cumsum(softmax(x)) − cumsum(onehot(y)))², written as it is.
            Tensor x = t["input"];
            int c = x.Shape[-1];
            Tensor upper = Tensor.FromArray([.. Enumerable.Range(0, c * c).Select(i => i / c <= i % c ? 1.0 : 0.0)], [c, c]);   // (j ≤ k): cumsum as a product
            Tensor d = Ops.MatMul(Ops.Softmax(x, -1) - Ops.OneHot(t["target"], c, DType.Float64), upper);
            return Reduce(Ops.Sum(d * d, axis: -1), o);
        },
        ["ClassDistanceWeightedCrossEntropy"] = (t, o) =>
        {
            // Polat et al.: −Σ_j |j − y|^α·log(1 − p_j), a row scaled by its class's weight over the weights' sum.
            Tensor x = t["input"];
            int c = x.Shape[-1];
            double alpha = o.GetValueOrDefault("alpha") is double a ? a : 0.5;
            long[] y = t["target"].ToArray().Select(v => (long)v).ToArray();
            int n = y.Length;
            Tensor dist = Tensor.FromArray([.. Enumerable.Range(0, n * c).Select(i => Math.Pow(Math.Abs(i % c - y[i / c]), alpha))], x.Shape.Rank == 1 ? [c] : [n, c]);
            Tensor row = -Ops.Sum(dist * Ops.Log(1 - Ops.Softmax(x, -1)), axis: -1);
            if (o.GetValueOrDefault("weight") is TensorData w)
            {
                double[] wv = w.ToArray<double>();
                double total = wv.Sum();
                row = row * Tensor.FromArray([.. y.Select(k => wv[k] / total)], x.Shape.Rank == 1 ? [] : [n]);
            }
            return Reduce(row, o);
        },
        ["WeightedKappaLoss"] = (t, o) =>
        {
            // de la Torre et al. as dlordinal writes it: P = y^e / (ε + Σ y^e), C = Pᵀ·Y, ℓ = Σ W∘C / (Σ W∘(h tᵀ) / N + ε).
            Tensor y = t["input"];
            int n = y.Shape[0], k = y.Shape[1];
            double eps = o.GetValueOrDefault("epsilon") is double e ? e : 1e-10;
            Tensor target = t["target"].Shape.Rank == 1 ? Ops.OneHot(t["target"], k, DType.Float64) : t["target"];
            double[] wc = o.GetValueOrDefault("weight") is TensorData wt ? wt.ToArray<double>() : [.. Enumerable.Repeat(1.0, k)];
            Tensor w = Tensor.FromArray([.. Enumerable.Range(0, k * k).Select(q => Math.Pow(q / k - q % k, 2) / Math.Pow(k - 1, 2) * wc[q % k])], [k, k]);
            Tensor q = o.GetValueOrDefault("penalization_type") is "linear" ? y : y * y;
            Tensor p = q / (Ops.Sum(q, axis: 1, keepDim: true) + eps);
            Tensor observed = Ops.Sum(w * Ops.MatMul(Ops.Transpose(p), target));
            Tensor expected = Ops.Sum(w * Ops.MatMul(Ops.Transpose(Ops.Sum(p, axis: 0, keepDim: true)), Ops.Sum(target, axis: 0, keepDim: true))) * (1.0 / n);
            return observed / (expected + eps);
        },
        ["SordLoss"] = (t, o) =>
        {
            // Díaz and Marathe: CE against softmax(−α·|j − y|), or the proximity φ from the class counts (dlordinal's create_prox_mat).
            Tensor x = t["input"];
            int k = x.Shape[-1];
            long[] y = [.. t["target"].ToArray().Select(v => (long)v)];
            double alpha = o.GetValueOrDefault("alpha") is double a ? a : 1;
            Func<int, int, double> phi = (r, j) => Math.Abs(j - r);
            if (o.GetValueOrDefault("prox") is true)
            {
                double[] c = ((TensorData)o["class_counts"]!).ToArray<double>();
                double total = c.Sum();
                double Prox(int p, int q)
                {
                    double num = c[p] / 2;
                    if (p <= q) for (int m = p + 1; m <= q; m++) num += c[m];
                    else for (int m = p - 1; m >= q; m--) num += c[m];
                    return -Math.Log(num / total);
                }
                double Norm(int p, int q) => Prox(p, q) / Enumerable.Range(0, k).Sum(m => Math.Abs(Prox(m, q)));
                double maxP = Enumerable.Range(0, k * k).Max(i => Prox(i / k, i % k)), maxN = Enumerable.Range(0, k * k).Max(i => Norm(i / k, i % k));
                string f = o.GetValueOrDefault("ftype") as string ?? "max";
                phi = (r, j) => f switch
                {
                    "max" => maxP - Prox(r, j), "norm_max" => maxN - Norm(r, j), "log" => -Math.Log(Prox(r, j)),
                    "norm_log" => -Math.Log(Norm(r, j)), "division" => 1 / Prox(r, j), _ => 1 / Norm(r, j),
                };
            }
            int n = y.Length;
            int[] shape = x.Shape.Rank == 1 ? [k] : [n, k];
            Tensor q = Ops.Softmax(Tensor.FromArray([.. Enumerable.Range(0, n * k).Select(i => -alpha * phi((int)y[i / k], i % k))], shape), -1);
            Tensor logp = o.GetValueOrDefault("use_logits") is false ? Ops.Log(x + 1e-9) : Ops.LogSoftmax(x, -1);
            Tensor row = -Ops.Sum(q * logp, axis: -1);
            if (o.GetValueOrDefault("weight") is TensorData w)
            {
                double[] wv = w.ToArray<double>();
                row = row * Tensor.FromArray([.. y.Select(r => wv[r])], x.Shape.Rank == 1 ? [] : [n]);
            }
            return Reduce(row, o);
        },
        ["BinomialCrossEntropyLoss"] = (t, o) => Unimodal(t, o, (k, y) =>
        {
            // Binomial(K − 1, π_y), π_y = linspace(0.1, 0.9, K)[y], from the pmf's product form.
            double pi = 0.1 + 0.8 * y / (k - 1);
            return [.. Enumerable.Range(0, k).Select(j => Enumerable.Range(1, j).Aggregate(1.0, (c, i) => c * (k - 1 - j + i) / i) * Math.Pow(pi, j) * Math.Pow(1 - pi, k - 1 - j))];
        }),
        ["PoissonCrossEntropyLoss"] = (t, o) => Unimodal(t, o, (k, y) =>
            SoftmaxOf([.. Enumerable.Range(0, k).Select(j => Math.Pow(y + 1, j) * Math.Exp(-(y + 1)) / Enumerable.Range(1, j).Aggregate(1.0, (f, i) => f * i))])),
        ["ExponentialCrossEntropyLoss"] = (t, o) => Unimodal(t, o, (k, y) =>
            SoftmaxOf([.. Enumerable.Range(0, k).Select(j => -Math.Pow(Math.Abs(j - y), o.GetValueOrDefault("p") is double p ? p : 1))])),
        // The triangular soft labels are the kernel's own (their golden rows are dlordinal's, in OrdinalLossTests); the twin
        // checks the cross-entropy built on them.
        ["TriangularCrossEntropyLoss"] = (t, o) => Unimodal(t, o, (k, y) =>
        {
            double[,] m = LossLab.Losses.Classification.TriangularCrossEntropyLoss.Probabilities(k, o.GetValueOrDefault("alpha2") is double a ? a : 0.05);
            return [.. Enumerable.Range(0, k).Select(j => m[y, j])];
        }),
        ["BetaCrossEntropyLoss"] = (t, o) => Unimodal(t, o, (k, y) =>
        {
            // The beta table's rows from their closed form for integer (p, q): I_x(p, q) = 1 − Σ_{i<p} C(n, i) xⁱ(1 − x)ⁿ⁻ⁱ,
            // n = p + q − 1, differenced over dlordinal's interval ends (the kernel takes the smaller tail; plain here).
            (int p, int q) = BetaParameters(k, y);
            int n = p + q - 1;
            double Cdf(double x) => 1 - Enumerable.Range(0, p).Sum(i => Choose(n, i) * Math.Pow(x, i) * Math.Pow(1 - x, n - i));
            double[] ends = [.. Enumerable.Range(0, k).Select(i => 1e-9 + i * ((1 - 2e-9) / k)), 1 - 1e-9];
            return [.. Enumerable.Range(0, k).Select(j => Cdf(ends[j + 1]) - Cdf(ends[j]))];
        }),
        // As the triangular twin: the rows are the kernel's (their golden values are dlordinal's, in OrdinalLossTests).
        ["GeneralTriangularCrossEntropyLoss"] = (t, o) => Unimodal(t, o, (k, y) =>
        {
            double[] a = o.GetValueOrDefault("alphas") is TensorData at ? at.ToArray<double>() : [.. Enumerable.Range(0, 2 * k).Select(i => i == 0 || i == 2 * k - 1 ? 0.0 : 0.05)];
            double[,] m = LossLab.Losses.Classification.GeneralTriangularCrossEntropyLoss.Probabilities(k, a);
            return [.. Enumerable.Range(0, k).Select(j => m[y, j])];
        }),
        ["GeometricLoss"] = (t, o) => Unimodal(t, o, (k, y) =>
        {
            // Haas and Hüllermeier as dlordinal writes them: 1 − α at y, α spread ∝ α^|j − y| (one side per F when asymmetric).
            double[] a = o.GetValueOrDefault("alphas") switch { TensorData at => at.ToArray<double>(), double d => [d], _ => [0.1] };
            bool rows3 = a.Length == 3 * k && o["alphas"] is TensorData { Shape.Rank: 2 };
            double alpha = rows3 ? a[3 * y] : a.Length == k ? a[y] : a[0];
            double fl = rows3 ? (y == k - 1 ? 1 : y == 0 ? 0 : a[3 * y + 1]) : 0, fr = rows3 ? (y == k - 1 ? 0 : y == 0 ? 1 : a[3 * y + 2]) : 0;
            double Term(int j) => Math.Pow(alpha, Math.Abs(y - j)) * (1 - alpha);
            double left = Enumerable.Range(0, y).Sum(Term), right = Enumerable.Range(y + 1, k - y - 1).Sum(Term);
            return [.. Enumerable.Range(0, k).Select(j => j == y ? 1 - alpha : alpha == 0 ? 0
                : !rows3 ? alpha * Term(j) / (left + right)
                : j < y ? (fl > 0 ? fl * alpha * Term(j) / left : 0) : (fr > 0 ? fr * alpha * Term(j) / right : 0))];
        }),
        ["CoralLoss"] = (t, o) =>
        {
            // coral_pytorch: −Σ_k λ_k·(log σ(z)·y + (log σ(z) − z)(1 − y)), the levels from ranks when ranks are given.
            Tensor z = t["logits"];
            int n = z.Shape[0], k = z.Shape[1];
            double[] y = t["levels"].ToArray();
            Tensor levels = y.Length == n * k ? Tensor.FromArray(y, [n, k]) : Tensor.FromArray([.. Enumerable.Range(0, n * k).Select(q => q % k < y[q / k] ? 1.0 : 0.0)], [n, k]);
            Tensor term = LogSigmoid(z) * levels + (LogSigmoid(z) - z) * (1 - levels);
            if (W(o, "importance_weights") is Tensor w) term = term * Ops.Reshape(w, 1, -1);
            return Reduce(-Ops.Sum(term, axis: 1), o);
        },
        ["CornLoss"] = (t, o) =>
        {
            // Threshold k on the rows of rank ≥ k (a constant 0/1 mask), target rank > k; the sum over the count of pairs.
            Tensor z = t["logits"];
            int n = z.Shape[0], k = z.Shape[1];
            double[] r = t["labels"].ToArray();
            Tensor used = Tensor.FromArray([.. Enumerable.Range(0, n * k).Select(q => r[q / k] >= q % k ? 1.0 : 0.0)], [n, k]);
            Tensor above = Tensor.FromArray([.. Enumerable.Range(0, n * k).Select(q => r[q / k] > q % k ? 1.0 : 0.0)], [n, k]);
            return Ops.Sum(used * (above * Ops.Softplus(-z) + (1 - above) * Ops.Softplus(z))) * (1 / used.ToArray().Sum());
        },
        ["SoftDtwLoss"] = (t, o) =>
        {
            // The recursion cell by cell on scalar tensors: R_ij = D_ij + softmin_γ(predecessors) = D_ij − γ·lse(−prev/γ).
            double gamma = F(o, "gamma", 1);
            long band = o.GetValueOrDefault("bandwidth") is long b ? b : 0;
            Tensor x = t["x"], y = t["y"];
            bool single = x.Shape.Rank == 2;
            int batch = single ? 1 : x.Shape[0], n = x.Shape[^2], m = y.Shape[^2], d = x.Shape[^1];
            Tensor Rows(Tensor s, int p, int len) => single ? s : Ops.Reshape(Ops.MatMul(Tensor.FromArray([.. Enumerable.Range(0, batch).Select(k => k == p ? 1.0 : 0.0)], [1, batch]), Ops.Reshape(s, batch, len * d)), len, d);
            Tensor Sdtw(Tensor a, Tensor c)
            {
                int la = a.Shape[0], lc = c.Shape[0];
                Tensor cost = Ops.Sum(Ops.Pow(Ops.Reshape(a, la, 1, d) - Ops.Reshape(c, 1, lc, d), 2), axis: 2);   // (la, lc)
                Tensor Cell(int i, int j) => Ops.Reshape(Ops.MatMul(Ops.MatMul(Tensor.FromArray([.. Enumerable.Range(0, la).Select(k => k == i ? 1.0 : 0.0)], [1, la]), cost),
                    Tensor.FromArray([.. Enumerable.Range(0, lc).Select(k => k == j ? 1.0 : 0.0)], [lc, 1])), 1);
                var r = new Tensor?[la + 1, lc + 1];
                r[0, 0] = Tensor.FromArray([0.0], [1]);
                for (int i = 1; i <= la; i++)
                    for (int j = 1; j <= lc; j++)
                    {
                        if (band > 0 && Math.Abs(i - j) > band) continue;
                        Tensor?[] prev = [r[i - 1, j - 1], r[i - 1, j], r[i, j - 1]];
                        Tensor[] live = [.. prev.Where(v => v is not null).Select(v => v!)];
                        if (live.Length == 0) continue;
                        r[i, j] = Cell(i - 1, j - 1) - gamma * Ops.LogSumExp(Ops.Concat([.. live.Select(v => v * (-1 / gamma))], 0), 0);
                    }
                return Ops.Reshape(r[la, lc]!);
            }
            var values = new List<Tensor>();
            for (int p = 0; p < batch; p++)
            {
                Tensor xp = Rows(x, p, n), yp = Rows(y, p, m);
                Tensor v = Sdtw(xp, yp);
                if (o.GetValueOrDefault("normalize") is true) v = v - 0.5 * (Sdtw(xp, xp) + Sdtw(yp, yp));
                values.Add(Ops.Reshape(v, 1));
            }
            Tensor all = Ops.Concat([.. values], 0);
            return Reduce(single && R(o) == "none" ? Ops.Reshape(all) : all, o);
        },
        ["VarifocalLoss"] = (t, o) =>
        {
            // mmdetection: w = q·[q > 0] (1 without iou_weighted) + α·|σ(x) − q|^γ·[q ≤ 0], not detached, times BCE. The
            // IoU target is a constant (not differentiated: its weight jumps at q = 0).
            Tensor x = t["pred"], q = Tensor.FromArray(t["target"].ToArray(), [.. t["target"].Shape.Dims]);
            double alpha = F(o, "alpha", 0.75), gamma = F(o, "gamma", 2);
            bool iou = o.GetValueOrDefault("iou_weighted") is not false;
            Tensor pos = Tensor.FromArray([.. q.ToArray().Select(v => v > 0 ? 1.0 : 0.0)], [.. q.Shape.Dims]);
            Tensor diff = Ops.Abs(Ops.Sigmoid(x) - q);
            Tensor w = (iou ? q : 1 + 0 * q) * pos + alpha * (gamma == 0 ? 1 + 0 * diff : Ops.Pow(diff, gamma)) * (1 - pos);
            return Reduce(((1 - q) * Ops.Softplus(x) + q * Ops.Softplus(-x)) * w, o);
        },
        ["QualityFocalLoss"] = (t, o) =>
        {
            // Background: softplus(x)·σ^β; the positive box's label: BCE(x, s)·|s − σ|^β; summed over the classes.
            Tensor x = t["pred"];
            int n = x.Shape[0], c = x.Shape[1];
            double beta = F(o, "beta", 2);
            double[] labels = t["label"].ToArray();
            Tensor at = Tensor.FromArray([.. Enumerable.Range(0, n * c).Select(e => labels[e / c] >= 0 && labels[e / c] < c && (int)labels[e / c] == e % c ? 1.0 : 0.0)], [n, c]);
            Tensor s = Ops.Reshape(t["score"], n, 1) * at;   // the box's score at its label, 0 elsewhere
            Tensor p = Ops.Sigmoid(x);
            Tensor Pow(Tensor v) => beta == 0 ? 1 + 0 * v : Ops.Pow(v, beta);
            Tensor background = Ops.Softplus(x) * Pow(p);
            Tensor labelled = ((1 - s) * Ops.Softplus(x) + s * Ops.Softplus(-x)) * Pow(Ops.Abs(s - p));
            return Reduce(Ops.Sum(at * labelled + (1 - at) * background, axis: 1), o);
        },
        ["DistributionFocalLoss"] = (t, o) =>
        {
            // Cross-entropy at ⌊y⌋ and ⌊y⌋ + 1 with the constant weights (⌊y⌋ + 1 − y, y − ⌊y⌋) as one target row.
            Tensor x = t["pred"];
            int n = x.Shape[0], c = x.Shape[1];
            double[] y = t["label"].ToArray();
            double[] target = new double[n * c];
            for (int i = 0; i < n; i++)
            {
                int left = (int)Math.Floor(y[i]);
                target[i * c + left] = left + 1 - y[i];
                target[i * c + left + 1] = y[i] - left;
            }
            return Reduce(-Ops.Sum(Tensor.FromArray(target, [n, c]) * Ops.LogSoftmax(x, -1), axis: 1), o);
        },
    };

    /// <summary>dlordinal's CustomTargetsCrossEntropyLoss: PyTorch's CE against (1 − η)·onehot(y) + η·S_y (probability targets).</summary>
    private static Tensor Unimodal(IReadOnlyDictionary<string, Tensor> t, Dictionary<string, object?> o, Func<int, int, double[]> soft)
    {
        Tensor x = t["input"];
        int n = x.Shape[0], k = x.Shape[1];
        double eta = o.GetValueOrDefault("eta") is double e ? e : 1;
        long[] y = [.. t["target"].ToArray().Select(v => (long)v)];
        double[] target = new double[n * k];
        for (int i = 0; i < n; i++)
        {
            double[] row = soft(k, (int)y[i]);
            for (int j = 0; j < k; j++) target[i * k + j] = eta * row[j] + (j == y[i] ? 1 - eta : 0);
        }
        double ls = o.GetValueOrDefault("label_smoothing") is double l ? l : 0;
        Tensor q = Tensor.FromArray([.. target.Select(v => v * (1 - ls) + ls / k)], [n, k]);
        Tensor w = o.GetValueOrDefault("weight") is TensorData wt ? Tensor.FromArray(wt.ToArray<double>(), [1, k]) : Tensor.FromArray([.. Enumerable.Repeat(1.0, k)], [1, k]);
        return Reduce(-Ops.Sum(w * q * Ops.LogSoftmax(x, -1), axis: -1), o);
    }

    /// <summary>Vargas et al.'s beta parameters (p, q) for the class counts the samples use (the kernel holds K = 3 … 14).</summary>
    private static (int P, int Q) BetaParameters(int k, int y) => k switch
    {
        4 => new[] { (1, 6), (6, 10), (10, 6), (6, 1) }[y],
        5 => new[] { (1, 8), (6, 14), (12, 12), (14, 6), (8, 1) }[y],
        _ => throw new ArgumentOutOfRangeException(nameof(k), k, "the twin knows the beta table for 4 and 5 classes"),
    };

    private static double Choose(int n, int i) => Enumerable.Range(1, i).Aggregate(1.0, (c, j) => c * (n - i + j) / j);

    private static double[] SoftmaxOf(double[] v)
    {
        double m = v.Max(), z = v.Sum(a => Math.Exp(a - m));
        return [.. v.Select(a => Math.Exp(a - m) / z)];
    }
}
