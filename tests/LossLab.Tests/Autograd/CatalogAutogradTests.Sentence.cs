using LossLab.Autograd;

namespace LossLab.Tests.Autograd;

public sealed partial class CatalogAutogradTests
{
    /// <summary>
    /// sentence-transformers' losses composed from matrix products, masks and log-sum-exps (the catalog computes them
    /// row by row): in-batch negatives in its four directions and two partitions, CoSENT and AnglE's ranking of pairs.
    /// </summary>
    private static Dictionary<string, Formula> SentenceFormulas() => SentenceBase().ToDictionary(kv => kv.Key, kv => WithMatryoshka(kv.Value));

    /// <summary>
    /// MatryoshkaLoss around a formula: Σ_k w_k·formula(embeddings[…, :k]), the cut a product with a constant (D × k)
    /// selection matrix (the guide's embeddings and the labels stay whole).
    /// </summary>
    private static Formula WithMatryoshka(Formula f) => (t, o) =>
    {
        if (o.GetValueOrDefault("matryoshka_dims") is not LossLab.Numerics.TensorData dims) return f(t, o);
        double[] k = [.. Enumerable.Range(0, dims.Length).Select(dims.GetDouble)];
        double[] w = o.GetValueOrDefault("matryoshka_weights") is LossLab.Numerics.TensorData ws ? [.. Enumerable.Range(0, ws.Length).Select(ws.GetDouble)] : [.. k.Select(_ => 1.0)];
        var plain = new Dictionary<string, object?>(o.Where(kv => !kv.Key.StartsWith("matryoshka_", StringComparison.Ordinal)));
        Tensor? total = null;
        for (int m = 0; m < k.Length; m++)
        {
            var cut = new Dictionary<string, Tensor>();
            foreach (var (name, x) in t)
            {
                bool embedding = x.Shape.Rank >= 2 && name is not "labels" && !name.StartsWith("guide_", StringComparison.Ordinal);
                cut[name] = embedding ? Prefix(x, (int)k[m]) : x;
            }
            Tensor term = w[m] * f(cut, plain);
            total = total is null ? term : total + term;
        }
        return total!;
    };

    /// <summary>x[…, :k] as a product with the first k columns of the identity.</summary>
    private static Tensor Prefix(Tensor x, int k)
    {
        int d = x.Shape[^1], rows = x.Shape.Numel / d;
        Tensor select = Tensor.FromArray([.. Enumerable.Range(0, d * k).Select(e => e / k == e % k ? 1.0 : 0.0)], [d, k]);
        int[] shape = [.. x.Shape.Dims];
        shape[^1] = k;
        return Ops.Reshape(Ops.MatMul(Ops.Reshape(x, rows, d), select), shape);
    }

    private static Dictionary<string, Formula> SentenceBase() => new()
    {
        ["MultipleNegativesRankingLoss"] = (t, o) =>
        {
            bool cosine = !(o.GetValueOrDefault("similarity_fct") is "dot_score");
            double scale = F(o, "scale", 20);
            Tensor q = t["anchors"], p = t["positives"];
            int n = q.Shape[0], d = q.Shape[1];
            // The documents: the positives, then the hard negatives flattened (row i·K + c belongs to anchor i).
            Tensor docs = p;
            int k = 0;
            if (t.TryGetValue("negatives", out Tensor? neg))
            {
                k = neg.Shape.Rank == 2 ? 1 : neg.Shape[1];
                docs = Ops.Concat([p, Ops.Reshape(neg, n * k, d)], 0);
            }
            int m = n * (1 + k);
            int Owner(int c) => c < n ? c : (c - n) / k;
            if (cosine) { q = Normalized(q); p = Normalized(p); docs = Normalized(docs); }
            Tensor Mask(int cols, Func<int, int, bool> masked)
                => Tensor.FromArray([.. Enumerable.Range(0, n * cols).Select(e => masked(e / cols, e % cols) ? -1e300 : 0.0)], [n, cols]);
            var mats = new List<Tensor> { scale * Ops.MatMul(q, Ops.Transpose(docs)) };
            if (B(o, "query_to_query")) mats.Add(scale * Ops.MatMul(q, Ops.Transpose(q)) + Mask(n, (i, j) => i == j));
            if (B(o, "doc_to_query")) mats.Add(scale * Ops.MatMul(p, Ops.Transpose(q)));
            if (B(o, "doc_to_doc")) mats.Add(scale * Ops.MatMul(p, Ops.Transpose(docs)) + Mask(m, (i, c) => Owner(c) == i));
            Tensor positive = scale * Ops.Sum(q * p, axis: 1);
            Tensor logZ = o.GetValueOrDefault("partition_mode") is "per_direction"
                ? mats.Select(s => Ops.LogSumExp(s, 1)).Aggregate((a, b) => a + b) * (1.0 / mats.Count)
                : Ops.LogSumExp(Ops.Concat(mats, 1), 1);
            return Reduce(logZ - positive, o);
        },
        // open_clip's image–text losses from the logit matrix L = s·I·Tᵀ (+ b); the learned scalars as (1, 1) for broadcasting.
        ["ClipLoss"] = (t, o) =>
        {
            Tensor i = t["image_features"], x = t["text_features"], s = Ops.Reshape(t["logit_scale"], 1, 1);
            Tensor l = s * Ops.MatMul(i, Ops.Transpose(x));
            Tensor diagonal = Ops.Reshape(s, 1) * Ops.Sum(i * x, axis: 1);
            return Reduce(0.5 * (Ops.LogSumExp(l, 1) - diagonal + (Ops.LogSumExp(l, 0) - diagonal)), o);
        },
        ["SigLipLoss"] = (t, o) =>
        {
            Tensor i = t["image_features"], x = t["text_features"];
            int n = i.Shape[0];
            Tensor l = Ops.Reshape(t["logit_scale"], 1, 1) * Ops.MatMul(i, Ops.Transpose(x));
            if (t.TryGetValue("logit_bias", out Tensor? b)) l = l + Ops.Reshape(b, 1, 1);
            Tensor z = Tensor.FromArray([.. Enumerable.Range(0, n * n).Select(e => e / n == e % n ? 1.0 : -1.0)], [n, n]);
            return Reduce(Ops.Sum(Ops.Softplus(-(z * l)), axis: 1), o);
        },
        ["GlobalOrthogonalRegularizationLoss"] = (t, o) =>
        {
            // Columns cut out by a one-hot (1 × C) product; gemma's diagonal removed by a constant 0/1 mask.
            Tensor e = t["embeddings"];
            int c = e.Shape.Rank == 3 ? e.Shape[0] : 1, n = e.Shape[^2], d = e.Shape[^1];
            Tensor Column(int k) => c == 1 ? Ops.Reshape(e, n, d)
                : Ops.Reshape(Ops.MatMul(Tensor.FromArray([.. Enumerable.Range(0, c).Select(j => j == k ? 1.0 : 0.0)], [1, c]), Ops.Reshape(e, c, n * d)), n, d);
            bool original = o.GetValueOrDefault("mode") is "original", dot = o.GetValueOrDefault("similarity_fct") is "dot_score";
            int[] cols = o.GetValueOrDefault("embedding_indices") is LossLab.Numerics.TensorData ix
                ? [.. Enumerable.Range(0, ix.Length).Select(i => ((int)ix.GetDouble(i) + c) % c)] : [.. Enumerable.Range(0, c)];
            string threshold = o.GetValueOrDefault("second_moment_threshold") as string ?? "auto";
            bool thresholded = threshold == "dimension" || (threshold == "auto" && original);
            double wMean = o.GetValueOrDefault("mean_weight") is double m ? m : original ? 1 : 0;
            double wSecond = o.GetValueOrDefault("second_moment_weight") is double w2 ? w2 : 1;
            Tensor Unit(Tensor x) => dot ? x : Normalized(x);
            Tensor Second(Tensor m2) => thresholded ? Ops.Relu(m2 - 1.0 / d) : m2;
            var means = new List<Tensor>();
            var seconds = new List<Tensor>();
            if (original)
            {
                for (int a = 0; a < cols.Length; a++)
                    for (int b = a + 1; b < cols.Length; b++)
                    {
                        Tensor s = Ops.Sum(Unit(Column(cols[a])) * Unit(Column(cols[b])), axis: 1);   // (N) paired similarities
                        Tensor m1 = Ops.Mean(s);
                        means.Add(m1 * m1);
                        seconds.Add(Second(Ops.Mean(s * s)));
                    }
            }
            else
            {
                Tensor offDiagonal = Tensor.FromArray([.. Enumerable.Range(0, n * n).Select(k => k / n == k % n ? 0.0 : 1.0)], [n, n]);
                foreach (int k in cols)
                {
                    Tensor u = Unit(Column(k)), s = Ops.MatMul(u, Ops.Transpose(u)) * offDiagonal;
                    Tensor m1 = Ops.Sum(s) * (1.0 / (n * (n - 1)));
                    means.Add(m1 * m1);
                    seconds.Add(Second(Ops.Sum(s * s) * (1.0 / (n * (n - 1)))));
                }
            }
            double per = o.GetValueOrDefault("aggregation") is "mean" ? 1.0 / means.Count : 1;
            Tensor total = Tensor.Scalar(0);
            if (wMean != 0) total = total + wMean * per * means.Aggregate((a, b) => a + b);
            if (wSecond != 0) total = total + wSecond * per * seconds.Aggregate((a, b) => a + b);
            return total;
        },
        ["FlopsLoss"] = (t, o) =>
        {
            // The l0 mask is a constant (the count of non-zeros is a step); the mean over every row, masked or not.
            Tensor w = t["embeddings"];
            int n = w.Shape[0], v = w.Shape[1];
            double[] x = w.ToArray();
            double[] mask = [.. Enumerable.Range(0, n).Select(i => o.GetValueOrDefault("threshold") is double th && Enumerable.Range(0, v).Count(k => x[i * v + k] != 0) <= th ? 0.0 : 1.0)];
            Tensor mean = Ops.Mean(w * Tensor.FromArray(mask, [n, 1]), axis: 0);
            return Ops.Sum(mean * mean);
        },
        ["CosineSimilarityLoss"] = (t, o) =>
        {
            Tensor e = Ops.Sum(Normalized(t["embeddings1"]) * Normalized(t["embeddings2"]), axis: 1) - t["labels"];
            return Reduce(e * e, o);
        },
        ["MarginMSELoss"] = (t, o) =>
        {
            Tensor q = t["query"], p = t["passage"], neg = t["negatives"];
            int n = q.Shape[0], d = q.Shape[1], k = neg.Shape.Rank == 2 ? 1 : neg.Shape[1];
            if (o.GetValueOrDefault("similarity_fct") is "pairwise_cos_sim") { q = Normalized(q); p = Normalized(p); neg = Normalized(neg); }
            Tensor positive = Ops.Reshape(Ops.Sum(q * p, axis: 1), n, 1);
            Tensor second = Ops.Sum(Ops.Reshape(q, n, 1, d) * Ops.Reshape(neg, n, k, d), axis: 2);   // (N, K)
            Tensor e = Ops.Reshape(positive - second, [.. t["labels"].Shape.Dims]) - t["labels"];
            return Reduce(e * e, o);
        },
        ["GistEmbedLoss"] = (t, o) =>
        {
            // The guide's mask as constant −1e300 entries, the blocks concatenated, cross-entropy at each anchor's positive.
            Tensor a = Normalized(t["anchors"]), p = Normalized(t["positives"]);
            int n = a.Shape[0];
            double[] Unit(string name)
            {
                double[] v = t[name].ToArray();
                int g = v.Length / n;
                for (int i = 0; i < n; i++)
                {
                    double norm = Math.Sqrt(Enumerable.Range(0, g).Sum(k => v[i * g + k] * v[i * g + k]));
                    for (int k = 0; k < g; k++) v[i * g + k] /= norm;
                }
                return v;
            }
            double GuideCos(double[] x, int i, double[] y, int j) { int g = x.Length / n; return Enumerable.Range(0, g).Sum(k => x[i * g + k] * y[j * g + k]); }
            double[] ga = Unit("guide_anchors"), gp = Unit("guide_positives");
            double margin = F(o, "margin", 0);
            bool relative = o.GetValueOrDefault("margin_strategy") is "relative";
            double Threshold(int i) => relative ? GuideCos(ga, i, gp, i) * (1 - margin) : GuideCos(ga, i, gp, i) - margin;
            Tensor Mask(double[] gl, double[] gr, bool protect) => Tensor.FromArray([.. Enumerable.Range(0, n * n).Select(e =>
                GuideCos(gl, e / n, gr, e % n) > Threshold(e / n) && !(protect && e / n == e % n) ? -1e300 : 0.0)], [n, n]);
            var blocks = new List<Tensor> { Ops.MatMul(a, Ops.Transpose(p)) + Mask(ga, gp, true) };
            if (!(o.GetValueOrDefault("contrast_anchors") is false)) blocks.Add(Ops.MatMul(a, Ops.Transpose(a)) + Mask(ga, ga, false));
            if (!(o.GetValueOrDefault("contrast_positives") is false)) blocks.Add(Ops.MatMul(p, Ops.Transpose(p)) + Mask(gp, gp, false));
            if (t.TryGetValue("negatives", out Tensor? neg)) blocks.Add(Ops.MatMul(a, Ops.Transpose(Normalized(neg))) + Mask(ga, Unit("guide_negatives"), false));
            Tensor scores = Ops.Concat(blocks, 1) * (1 / F(o, "temperature", 0.01));
            Tensor positive = Ops.Sum(a * p, axis: 1) * (1 / F(o, "temperature", 0.01));
            return Reduce(Ops.LogSumExp(scores, 1) - positive, o);
        },
        ["PairContrastiveLoss"] = (t, o) =>
        {
            Tensor d = SiameseDistance(t, o), y = t["labels"];
            Tensor hinge = Ops.Relu(F(o, "margin", 0.5) - d);
            return Reduce(0.5 * (y * d * d + (1 - y) * hinge * hinge), o);
        },
        ["OnlineContrastiveLoss"] = (t, o) =>
        {
            // The hard pairs picked from the distances' values (as constants), then the differentiable sum over them.
            Tensor d = SiameseDistance(t, o);
            double[] dv = d.ToArray(), y = t["labels"].ToArray();
            double[] poss = [.. dv.Where((_, k) => y[k] == 1)], negs = [.. dv.Where((_, k) => y[k] == 0)];
            double negMax = poss.Length > 1 ? poss.Max() : negs.Length == 0 ? double.NaN : negs.Average();
            double posMin = negs.Length > 1 ? negs.Min() : poss.Length == 0 ? double.NaN : poss.Average();
            int n = dv.Length;
            Tensor hardPos = Tensor.FromArray([.. Enumerable.Range(0, n).Select(k => y[k] == 1 && dv[k] > posMin ? 1.0 : 0.0)], [n]);
            Tensor hardNeg = Tensor.FromArray([.. Enumerable.Range(0, n).Select(k => y[k] == 0 && dv[k] < negMax ? 1.0 : 0.0)], [n]);
            Tensor hinge = Ops.Relu(F(o, "margin", 0.5) - d);
            return Ops.Sum(hardPos * d * d + hardNeg * hinge * hinge);
        },
        ["BatchHardTripletLoss"] = (t, o) =>
        {
            // Each anchor's hardest positive and negative picked from D's values (constant one-hot rows).
            var (dist, y, n) = BatchDistances(t, o);
            double[] dv = dist.ToArray();
            var hp = new double[n * n];
            var hn = new double[n * n];
            for (int i = 0; i < n; i++)
            {
                int p = -1, q = -1, far = 0;
                for (int j = 0; j < n; j++)
                {
                    if (dv[i * n + j] > dv[i * n + far]) far = j;
                    if (j != i && y[j] == y[i] && (p < 0 || dv[i * n + j] > dv[i * n + p])) p = j;
                    if (y[j] != y[i] && (q < 0 || dv[i * n + j] < dv[i * n + q])) q = j;
                }
                if (p >= 0) hp[i * n + p] = 1;
                hn[i * n + (q >= 0 ? q : far)] = 1;
            }
            Tensor gap = Ops.Sum(dist * Tensor.FromArray(hp, [n, n]), axis: 1) - Ops.Sum(dist * Tensor.FromArray(hn, [n, n]), axis: 1);
            return Ops.Mean(B(o, "soft_margin") ? Ops.Softplus(gap) : Ops.Relu(gap + F(o, "margin", 5)));
        },
        ["BatchAllTripletLoss"] = (t, o) =>
        {
            var (dist, y, n) = BatchDistances(t, o);
            double m = F(o, "margin", 5);
            Tensor valid = Tensor.FromArray([.. Enumerable.Range(0, n * n * n).Select(e =>
                { int i = e / (n * n), j = e / n % n, k = e % n; return j != i && y[j] == y[i] && y[k] != y[i] ? 1.0 : 0.0; })], [n, n, n]);
            Tensor triplets = Ops.Relu((Ops.Reshape(dist, n, n, 1) - Ops.Reshape(dist, n, 1, n) + m) * valid) * valid;
            double count = triplets.ToArray().Count(v => v > 1e-16);
            return Ops.Sum(triplets) * (1 / (count + 1e-16));
        },
        ["BatchSemiHardTripletLoss"] = (t, o) =>
        {
            // Per positive pair (i, j): the nearest negative farther than j, else i's farthest negative, as constants.
            var (dist, y, n) = BatchDistances(t, o);
            double[] dv = dist.ToArray();
            var choice = new double[n * n * n];
            var positive = new double[n * n];
            for (int i = 0; i < n; i++)
            {
                int farthest = -1;
                for (int k = 0; k < n; k++) if (y[k] != y[i] && (farthest < 0 || dv[i * n + k] > dv[i * n + farthest])) farthest = k;
                for (int j = 0; j < n; j++)
                {
                    if (j == i || y[j] != y[i]) continue;
                    int c = -1;
                    for (int k = 0; k < n; k++) if (y[k] != y[i] && dv[i * n + k] > dv[i * n + j] && (c < 0 || dv[i * n + k] < dv[i * n + c])) c = k;
                    c = c >= 0 ? c : farthest;
                    if (c < 0) continue;   // no negative at all: the samples always have one
                    positive[i * n + j] = 1;
                    choice[(i * n + j) * n + c] = 1;
                }
            }
            Tensor negative = Ops.Sum(Ops.Reshape(dist, n, 1, n) * Tensor.FromArray(choice, [n, n, n]), axis: 2);
            Tensor mask = Tensor.FromArray(positive, [n, n]);
            return Ops.Sum(Ops.Relu((dist - negative + F(o, "margin", 5)) * mask) * mask) * (1 / positive.Sum());
        },
        ["SoftmaxLoss"] = (t, o) =>
        {
            Tensor a = t["embeddings1"], b = t["embeddings2"];
            var parts = new List<Tensor>();
            if (!(o.GetValueOrDefault("concatenation_sent_rep") is false)) { parts.Add(a); parts.Add(b); }
            if (!(o.GetValueOrDefault("concatenation_sent_difference") is false)) parts.Add(Ops.Abs(a - b));
            if (B(o, "concatenation_sent_multiplication")) parts.Add(a * b);
            Tensor z = Ops.MatMul(Ops.Concat(parts, 1), Ops.Transpose(t["classifier.weight"]));
            if (t.TryGetValue("classifier.bias", out Tensor? bias)) z = z + Ops.Reshape(bias, 1, -1);
            return CrossEntropy(z, t["labels"], new Dictionary<string, object?>(o.Where(kv => kv.Key == "reduction")));
        },
        ["CoSENTLoss"] = (t, o) => RankedPairs(t, o, (u, v) => Ops.Sum(Normalized(u) * Normalized(v), axis: 1)),
        ["AnglELoss"] = (t, o) => RankedPairs(t, o, (x, y) =>
        {
            // The halves as real and imaginary parts, picked by constant selection matrices (an odd D padded with a zero).
            int d = x.Shape[1], h = (d + 1) / 2;
            Tensor Pick(int offset) => Tensor.FromArray([.. Enumerable.Range(0, d * h).Select(e => e / h == e % h + offset ? 1.0 : 0.0)], [d, h]);
            Tensor a = Ops.MatMul(x, Pick(0)), b = Ops.MatMul(x, Pick(h)), c = Ops.MatMul(y, Pick(0)), e = Ops.MatMul(y, Pick(h));
            Tensor num = Ops.Sum(a * c + b * e + b * c - a * e, axis: 1);
            return Ops.Abs(num) / (Ops.Sqrt(Ops.Sum(x * x, axis: 1)) * Ops.Sqrt(Ops.Sum(y * y, axis: 1)));
        }),
    };

    /// <summary>
    /// sentence-transformers' batch distance matrix (N × N) with its labels: Euclidean (the diagonal's √0 kept finite by
    /// adding and removing the identity), squared, or 1 − cos.
    /// </summary>
    private static (Tensor Distances, long[] Labels, int N) BatchDistances(IReadOnlyDictionary<string, Tensor> t, Dictionary<string, object?> o)
    {
        Tensor x = t["embeddings"];
        long[] y = Labels(t, "labels");
        int n = y.Length, d = x.Shape[1];
        if (o.GetValueOrDefault("distance_metric") is "cosine_distance")
        {
            Tensor u = Normalized(x);
            return (1 - Ops.MatMul(u, Ops.Transpose(u)), y, n);
        }
        Tensor diff = Ops.Reshape(x, n, 1, d) - Ops.Reshape(x, 1, n, d);
        Tensor squared = Ops.Sum(diff * diff, axis: 2);
        if (o.GetValueOrDefault("distance_metric") is "squared_euclidean") return (squared, y, n);
        Tensor eye = Tensor.FromArray([.. Enumerable.Range(0, n * n).Select(e => e / n == e % n ? 1.0 : 0.0)], [n, n]);
        return (Ops.Sqrt(squared + eye) - eye, y, n);
    }

    /// <summary>sentence-transformers' SiameseDistanceMetric per pair: 1 − cos (eps-free here: the samples have no zero rows), or ‖x − y + 10⁻⁶‖ with p = 2 or 1.</summary>
    private static Tensor SiameseDistance(IReadOnlyDictionary<string, Tensor> t, Dictionary<string, object?> o)
    {
        Tensor x = t["embeddings1"], y = t["embeddings2"];
        return o.GetValueOrDefault("distance_metric") switch
        {
            "euclidean" => Ops.Sqrt(Ops.Sum(Ops.Pow(x - y + 1e-6, 2), axis: 1)),
            "manhattan" => Ops.Sum(Ops.Abs(x - y + 1e-6), axis: 1),
            _ => 1 - Ops.Sum(Normalized(x) * Normalized(y), axis: 1),
        };
    }

    /// <summary>CoSENT's log(1 + Σ_{y_i &lt; y_j} e^{s_i − s_j}) over the pairs' scaled similarities.</summary>
    private static Tensor RankedPairs(IReadOnlyDictionary<string, Tensor> t, Dictionary<string, object?> o, Func<Tensor, Tensor, Tensor> similarity)
    {
        double[] y = t["labels"].ToArray();
        int n = y.Length;
        Tensor s = F(o, "scale", 20) * similarity(t["embeddings1"], t["embeddings2"]);
        Tensor diff = Ops.Reshape(s, n, 1) - Ops.Reshape(s, 1, n);
        Tensor mask = Tensor.FromArray([.. Enumerable.Range(0, n * n).Select(e => y[e / n] < y[e % n] ? 0.0 : -1e300)], [n, n]);
        return Ops.LogSumExp(Ops.Concat([Ops.Reshape(s.Constant(0), 1), Ops.Reshape(diff + mask, n * n)], 0));
    }
}
