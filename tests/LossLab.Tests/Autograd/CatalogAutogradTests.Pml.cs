using LossLab.Autograd;

namespace LossLab.Tests.Autograd;

public sealed partial class CatalogAutogradTests
{
    /// <summary>
    /// pytorch-metric-learning's lifted-structure, tuplet-margin and intra-pair-variance losses, composed pair by pair
    /// from autograd primitives (the losses themselves stream rows of similarities and never form a pair list).
    /// </summary>
    private static Dictionary<string, Formula> PmlFormulas() => new()
    {
        ["GeneralizedLiftedStructureLoss"] = (t, o) =>
        {
            long[] labels = Labels(t, "labels");
            Func<int, int, Tensor> dist = Distances(t["embeddings"], o);
            double mPos = F(o, "pos_margin", 0), mNeg = F(o, "neg_margin", 1);
            int n = labels.Length;
            var anchors = new List<Tensor>();
            for (int a = 0; a < n; a++)
            {
                var pos = Enumerable.Range(0, n).Where(j => j != a && labels[j] == labels[a]).Select(j => Ops.Reshape(dist(a, j) - mPos, 1)).ToList();
                var neg = Enumerable.Range(0, n).Where(j => labels[j] != labels[a]).Select(j => Ops.Reshape(mNeg - dist(a, j), 1)).ToList();
                Tensor zero = t["embeddings"].Constant(0);
                Tensor lp = pos.Count == 0 ? zero : Ops.LogSumExp(Ops.Concat(pos, 0));
                Tensor ln = neg.Count == 0 ? zero : Ops.LogSumExp(Ops.Concat(neg, 0));
                anchors.Add(Ops.Reshape(Ops.Relu(lp + ln), 1));
            }
            return Reduce(Ops.Concat(anchors, 0), o);
        },
        ["LiftedStructureLoss"] = (t, o) =>
        {
            long[] labels = Labels(t, "labels");
            Func<int, int, Tensor> dist = Distances(t["embeddings"], o);
            double mPos = F(o, "pos_margin", 0), mNeg = F(o, "neg_margin", 1);
            int n = labels.Length;
            // Per ordered positive pair (i, j): the negatives of i and of j in one log-sum-exp.
            return PerPositivePair(t["embeddings"], labels, o, (i, j) =>
            {
                var negatives = new List<Tensor>();
                foreach (int a in new[] { i, j })
                    for (int k = 0; k < n; k++)
                        if (labels[k] != labels[a]) negatives.Add(Ops.Reshape(mNeg - dist(a, k), 1));
                Tensor r = Ops.Relu(Ops.LogSumExp(Ops.Concat(negatives, 0)) + dist(i, j) - mPos);
                return r * r / 2;
            });
        },
        ["TupletMarginLoss"] = (t, o) =>
        {
            long[] labels = Labels(t, "labels");
            Tensor xh = Normalized(t["embeddings"]);
            int n = labels.Length;
            double m = F(o, "margin", 5.73) * Math.PI / 180, s = F(o, "scale", 64);
            Tensor Cos(int i, int j) => Ops.Sum(RowOf(xh, i, n) * RowOf(xh, j, n));
            return PerPositivePair(t["embeddings"], labels, o, (a, p) =>
            {
                // cos(θ − m) = cos θ·cos m + sin θ·sin m: the arccosine written out.
                Tensor c = Cos(a, p), shifted = c * Math.Cos(m) + Ops.Sqrt(1 - c * c) * Math.Sin(m);
                var z = new List<Tensor> { t["embeddings"].Constant(0) };
                for (int k = 0; k < n; k++)
                    if (labels[k] != labels[a]) z.Add(Ops.Reshape(s * (Cos(a, k) - shifted), 1));
                return Ops.LogSumExp(Ops.Concat([.. z.Select(v => Ops.Reshape(v, 1))], 0));
            });
        },
        ["IntraPairVarianceLoss"] = (t, o) =>
        {
            long[] labels = Labels(t, "labels");
            Tensor xh = Normalized(t["embeddings"]);
            int n = labels.Length;
            Tensor Cos(int i, int j) => Ops.Sum(RowOf(xh, i, n) * RowOf(xh, j, n));
            Tensor zero = t["embeddings"].Constant(0);
            var perAnchor = Enumerable.Range(0, n).Select(_ => zero).ToArray();
            Tensor total = zero;
            foreach (bool positive in new[] { true, false })
            {
                var pairs = (from a in Enumerable.Range(0, n) from j in Enumerable.Range(0, n)
                             where a != j && (labels[a] == labels[j]) == positive select (a, j)).ToList();
                if (pairs.Count == 0) continue;
                Tensor[] s = [.. pairs.Select(p => Cos(p.a, p.j))];
                Tensor mean = s.Aggregate(zero, (acc, v) => acc + v) / pairs.Count;
                Tensor sum = zero;
                for (int k = 0; k < pairs.Count; k++)
                {
                    Tensor r = positive ? Ops.Relu((1 - F(o, "pos_eps", 0.01)) * mean - s[k]) : Ops.Relu(s[k] - (1 + F(o, "neg_eps", 0.01)) * mean);
                    perAnchor[pairs[k].a] = perAnchor[pairs[k].a] + r * r;
                    sum = sum + r * r;
                }
                total = total + (R(o) == "sum" ? sum : sum / pairs.Count);
            }
            return R(o) == "none" ? Ops.Concat([.. perAnchor.Select(v => Ops.Reshape(v, 1))], 0) : total;
        },
        ["MarginLoss"] = (t, o) =>
        {
            // Every triplet (a, p, n) listed; β the option, the input's one value, or the anchor's class's.
            long[] labels = Labels(t, "labels");
            Func<int, int, Tensor> dist = Distances(t["embeddings"], o);
            double m = F(o, "margin", 0.2), nu = F(o, "nu", 0);
            int n = labels.Length;
            Tensor zero = t["embeddings"].Constant(0);
            bool learned = t.ContainsKey("beta");
            Tensor Beta(int a) => !learned ? zero + F(o, "beta", 1.2)
                : t["beta"].Length == 1 ? Ops.Sum(t["beta"])
                : Ops.Sum(t["beta"] * Tensor.FromArray([.. Enumerable.Range(0, t["beta"].Length).Select(c => c == labels[a] ? 1.0 : 0.0)], [t["beta"].Length]));
            var perAnchor = Enumerable.Range(0, n).Select(_ => zero).ToArray();
            Tensor reg = zero;
            int active = 0, triplets = 0;
            for (int a = 0; a < n; a++)
                for (int p = 0; p < n; p++)
                {
                    if (p == a || labels[p] != labels[a]) continue;
                    for (int k = 0; k < n; k++)
                    {
                        if (labels[k] == labels[a]) continue;
                        Tensor pl = Ops.Relu(dist(a, p) - Beta(a) + m), nl = Ops.Relu(Beta(a) - dist(a, k) + m);
                        active += (pl.ToArray()[0] > 0 ? 1 : 0) + (nl.ToArray()[0] > 0 ? 1 : 0);
                        triplets++;
                        perAnchor[a] = perAnchor[a] + pl + nl;
                        reg = reg + nu * Beta(a);
                    }
                }
            Tensor all = Ops.Concat([.. perAnchor.Select(v => Ops.Reshape(v, 1))], 0);
            if (R(o) == "none") return all;
            Tensor total = R(o) == "sum" ? Ops.Sum(all) : active == 0 ? Ops.Sum(all) * 0 : Ops.Sum(all) / active;
            if (!learned || triplets == 0) return total;
            if (t["beta"].Length == 1) return total + nu * Ops.Sum(t["beta"]);
            return total + (R(o) == "sum" ? reg : active == 0 ? reg * 0 : reg / active);
        },
        ["SignalToNoiseRatioContrastiveLoss"] = (t, o) =>
        {
            // var(x̂_i − x̂_j)/var(x̂_i), unbiased variances over the features, then the contrastive hinges.
            Tensor x = t["embeddings"];
            int n = x.Shape[0], d = x.Shape[1];
            if (!o.TryGetValue("normalize_embeddings", out var ne) || ne is not false) x = Normalized(x);
            Tensor Var(Tensor v) { Tensor c = v - Ops.Sum(v) / d; return Ops.Sum(c * c) / (d - 1); }
            return ContrastiveHinges(x, Labels(t, "labels"), o, (a, j) => Var(RowOf(x, a, n) - RowOf(x, j, n)) / Var(RowOf(x, a, n)));
        },
        ["RankedListLoss"] = (t, o) =>
        {
            // Per anchor the two weighted means, the exponential weights differentiated too.
            long[] labels = Labels(t, "labels");
            Func<int, int, Tensor> dist = Distances(t["embeddings"], o);
            double m = F(o, "margin", 0.4), tn = F(o, "Tn", 10), tp = F(o, "Tp", 0), lambda = F(o, "imbalance", 0.5);
            double alpha = o.TryGetValue("alpha", out var al) && al is not null ? Convert.ToDouble(al, System.Globalization.CultureInfo.InvariantCulture) : 1 + m / 2;
            int n = labels.Length;
            Tensor zero = t["embeddings"].Constant(0);
            Tensor WeightedMean(List<Tensor> excess, double temperature)
            {
                if (excess.Count == 0) return zero;
                Tensor e = Ops.Concat(excess, 0), w = Ops.Exp(temperature * e);
                return Ops.Sum(w * e) / Ops.Sum(w);
            }
            var anchors = new List<Tensor>();
            for (int a = 0; a < n; a++)
            {
                var pos = new List<Tensor>();
                var neg = new List<Tensor>();
                for (int j = 0; j < n; j++)
                {
                    if (j == a) continue;
                    Tensor dj = dist(a, j);
                    double v = dj.ToArray()[0];
                    if (labels[j] == labels[a] && v > alpha - m) pos.Add(Ops.Reshape(dj - (alpha - m), 1));
                    else if (labels[j] != labels[a] && v > 0 && v < alpha) neg.Add(Ops.Reshape(alpha - dj, 1));
                }
                anchors.Add(Ops.Reshape((1 - lambda) * WeightedMean(pos, tp) + lambda * WeightedMean(neg, tn), 1));
            }
            return Reduce(Ops.Concat(anchors, 0), o);
        },
        ["PnpLoss"] = (t, o) =>
        {
            // Soft counts of negatives before each positive (the anchor itself included), written pair by pair.
            long[] labels = Labels(t, "labels");
            Tensor xh = Normalized(t["embeddings"]);
            int n = labels.Length;
            double tau = F(o, "anneal", 0.01), alpha = F(o, "alpha", 1), b = F(o, "b", 2);
            string variant = o.TryGetValue("variant", out var v) && v is string vs ? vs : "O";
            Tensor zero = t["embeddings"].Constant(0);
            Tensor Cos(int i, int j) => Ops.Sum(RowOf(xh, i, n) * RowOf(xh, j, n));
            Tensor f(Tensor r) => variant switch
            {
                "Ds" => Ops.Log(1 + r),
                "Dq" => Ops.Pow(1 + r, -alpha),
                "Iu" => (1 + r) * Ops.Log(1 + r),
                "Ib" => (b * r - Ops.Log(1 + b * r)) / (b * b),
                _ => r,
            };
            Tensor total = zero;
            for (int i = 0; i < n; i++)
            {
                int[] positives = [.. Enumerable.Range(0, n).Where(k => labels[k] == labels[i])];
                if (positives.Length < 2) continue;
                foreach (int k in positives)
                {
                    Tensor r = zero;
                    for (int j = 0; j < n; j++)
                        if (labels[j] != labels[i]) r = r + Ops.Sigmoid(Ops.Clamp((Cos(i, j) - Cos(i, k)) / tau, lo: -50, hi: 50));
                    total = total + f(r) / positives.Length;
                }
            }
            return variant == "Dq" ? 1 - total / n : total / n;
        },
        ["ThresholdConsistentMarginLoss"] = (t, o) =>
        {
            // The base loss's own composed formula (its defaults) plus the two margin terms.
            string baseName = LossLab.Losses.Core.LossRegistry.Default.Get(o.TryGetValue("base_loss", out var bl) && bl is string bs ? bs : "multi_similarity_loss").Name;
            Tensor total = Formulas[baseName](t, []);
            long[] labels = Labels(t, "labels");
            Tensor xh = Normalized(t["embeddings"]);
            int n = labels.Length;
            double lp = F(o, "lambda_plus", 1), lm = F(o, "lambda_minus", 1), mp = F(o, "margin_plus", 0.9), mm = F(o, "margin_minus", 0.5);
            Tensor pos = t["embeddings"].Constant(0), neg = pos;
            int cp = 0, cn = 0;
            for (int a = 0; a < n; a++)
                for (int j = 0; j < n; j++)
                {
                    if (j == a) continue;
                    Tensor c = Ops.Sum(RowOf(xh, a, n) * RowOf(xh, j, n));
                    double v = c.ToArray()[0];
                    if (labels[j] == labels[a] && v <= mp) (pos, cp) = (pos + (mp - c), cp + 1);
                    else if (labels[j] != labels[a] && v >= mm) (neg, cn) = (neg + (c - mm), cn + 1);
                }
            if (cp > 0) total = total + lp * pos / cp;
            if (cn > 0) total = total + lm * neg / cn;
            return total;
        },
        ["P2SGradLoss"] = (t, o) =>
        {
            // W's unit columns straight through (pml renormalizes the parameter outside autograd), clamped cosines, MSE.
            Tensor w = t["W"], x = t["embeddings"];
            int n = x.Shape[0], c = w.Shape[1];
            Tensor unitColumns = w / Ops.Sqrt(Ops.Sum(w * w, axis: 0, keepDim: true));
            Tensor wHat = o.TryGetValue("renorm_in_place", out var rp) && rp is false ? unitColumns : w + (unitColumns - w).Detach();
            Tensor cos = Ops.Clamp(Ops.MatMul(x, wHat) / Ops.Sqrt(Ops.Sum(x * x, axis: -1, keepDim: true)), lo: -1, hi: 1);
            long[] labels = Labels(t, "labels");
            Tensor onehot = Tensor.FromArray([.. Enumerable.Range(0, n * c).Select(k => labels[k / c] == k % c ? 1.0 : 0.0)], [n, c]);
            Tensor rows = Ops.Sum(Ops.Pow(cos - onehot, 2), axis: 1) / c;
            return Reduce(rows, o);
        },
        ["InstanceLoss"] = (t, o) =>
        {
            // Cross-entropy of γ·ÛÛᵀ, û = x/(‖x‖ + 1e-6), each row's target column its label's rank.
            Tensor x = t["embeddings"];
            long[] labels = Labels(t, "labels");
            int n = labels.Length;
            long[] distinct = [.. labels.Distinct().Order()];
            Tensor u = x / (Ops.Sqrt(Ops.Sum(x * x, axis: -1, keepDim: true)) + 1e-6);
            Tensor z = F(o, "gamma", 64) * Ops.MatMul(u, Ops.Transpose(u, 0, 1));
            Tensor onehot = Tensor.FromArray([.. Enumerable.Range(0, n * n).Select(k => Array.BinarySearch(distinct, labels[k / n]) == k % n ? 1.0 : 0.0)], [n, n]);
            Tensor rows = -Ops.Sum(Ops.LogSoftmax(z, 1) * onehot, axis: 1);
            int nonZero = rows.ToArray().Count(v => v > 0);
            return R(o) switch
            {
                "none" => rows,
                "sum" => Ops.Sum(rows),
                _ => nonZero == 0 ? Ops.Sum(rows) * 0 : Ops.Sum(rows) / nonZero,
            };
        },
        ["AngularLoss"] = (t, o) =>
        {
            // Per ordered positive pair: normalized anchor and positive, raw negatives, log(1 + Σ e^z).
            Tensor x = t["embeddings"], xh = Normalized(x);
            long[] labels = Labels(t, "labels");
            int n = labels.Length;
            double tan2 = Math.Pow(Math.Tan(F(o, "alpha", 40) * Math.PI / 180), 2);
            return PerPositivePair(x, labels, o, (a, p) =>
            {
                Tensor ua = RowOf(xh, a, n), up = RowOf(xh, p, n);
                var z = new List<Tensor> { x.Constant(0) };
                for (int k = 0; k < n; k++)
                    if (labels[k] != labels[a]) z.Add(4 * tan2 * Ops.Sum((ua + up) * RowOf(x, k, n)) - 2 * (1 + tan2) * Ops.Sum(ua * up));
                return Ops.LogSumExp(Ops.Concat([.. z.Select(v => Ops.Reshape(v, 1))], 0));
            });
        },
    };

    /// <summary>
    /// The contrastive loss's hinges over ordered pairs for a distance <paramref name="dist"/>(a, j): positives
    /// relu(d − m⁺), negatives relu(m⁻ − d); mean = AvgNonZero per kind, sum, or each anchor's sum for none.
    /// </summary>
    private static Tensor ContrastiveHinges(Tensor x, long[] labels, Dictionary<string, object?> o, Func<int, int, Tensor> dist)
    {
        int n = labels.Length;
        double mPos = F(o, "pos_margin", 0), mNeg = F(o, "neg_margin", 1);
        var anchors = new List<Tensor>();
        Tensor pos = x.Constant(0), neg = pos;
        int posCount = 0, negCount = 0;
        for (int a = 0; a < n; a++)
        {
            Tensor sum = x.Constant(0);
            for (int j = 0; j < n; j++)
            {
                if (j == a) continue;
                bool same = labels[a] == labels[j];
                Tensor dj = dist(a, j), term = same ? Ops.Relu(dj - mPos) : Ops.Relu(mNeg - dj);
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
    }

    /// <summary>d(i, j) = ‖x̂_i − x̂_j‖ (x̂ the unit rows unless normalize_embeddings is false).</summary>
    private static Func<int, int, Tensor> Distances(Tensor x, Dictionary<string, object?> o)
    {
        int n = x.Shape[0];
        if (!o.TryGetValue("normalize_embeddings", out var ne) || ne is not false) x = Normalized(x);
        return (i, j) => Ops.Sqrt(Ops.Sum(Ops.Pow(RowOf(x, i, n) - RowOf(x, j, n), 2)));
    }

    /// <summary>
    /// pytorch-metric-learning's per-positive-pair losses: <paramref name="term"/> of every ordered positive pair, 0
    /// without a positive or without a negative pair; mean over the pairs, sum, or each anchor's sum for none.
    /// </summary>
    private static Tensor PerPositivePair(Tensor x, long[] labels, Dictionary<string, object?> o, Func<int, int, Tensor> term)
    {
        int n = labels.Length;
        bool hasNegative = labels.Distinct().Count() > 1;
        Tensor zero = x.Constant(0);
        var perAnchor = new Tensor[n];
        int pairs = 0;
        for (int a = 0; a < n; a++)
        {
            perAnchor[a] = zero;
            for (int j = 0; j < n && hasNegative; j++)
            {
                if (j == a || labels[j] != labels[a]) continue;
                perAnchor[a] = perAnchor[a] + term(a, j);
                pairs++;
            }
        }
        Tensor all = Ops.Concat([.. perAnchor.Select(v => Ops.Reshape(v, 1))], 0);
        return R(o) switch
        {
            "none" => all,
            "sum" => Ops.Sum(all),
            _ => pairs == 0 ? Ops.Sum(all) * 0 : Ops.Sum(all) / pairs,
        };
    }
}
