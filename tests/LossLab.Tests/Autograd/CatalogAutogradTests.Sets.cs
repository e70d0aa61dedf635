using LossLab.Autograd;
using LossLab.Losses.Core;
using LossLab.Losses.Custom;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Autograd;

public sealed partial class CatalogAutogradTests
{
    /// <summary>Segmentation and metric-learning losses (over classes, pixels and pairs), composed from autograd primitives.</summary>
    private static Dictionary<string, Formula> SetFormulas() => new()
    {
        ["SoftDiceLoss"] = (t, o) => Overlap(t, o, "dice"),
        ["JaccardLoss"] = (t, o) => Overlap(t, o, "jaccard"),
        ["TverskyLoss"] = (t, o) => Overlap(t, o, "tversky"),
        ["NTXentLoss"] = (t, o) =>
        {
            Tensor x = t["embeddings"];
            long[] labels = Labels(t, "labels");
            int n = labels.Length;
            double tau = F(o, "temperature", 0.07);
            Tensor xh = Normalized(x);
            Tensor s = Ops.MatMul(xh, Ops.Transpose(xh, 0, 1)) / tau;
            var anchors = new List<Tensor>();
            int pairs = 0;
            for (int a = 0; a < n; a++)
            {
                Tensor rowA = RowOf(s, a, n);
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
            int n = x.Shape[0];
            if (!o.TryGetValue("normalize_embeddings", out var ne) || ne is not false) x = Normalized(x);
            return ContrastiveHinges(x, Labels(t, "labels"), o, (a, j) => Ops.Sqrt(Ops.Sum(Ops.Pow(RowOf(x, a, n) - RowOf(x, j, n), 2))));
        },
        ["SupConLoss"] = (t, o) =>
        {
            Tensor x = t["embeddings"];
            long[] labels = Labels(t, "labels");
            int n = labels.Length;
            double tau = F(o, "temperature", 0.1);
            Tensor xh = Normalized(x);
            Tensor s = Ops.MatMul(xh, Ops.Transpose(xh, 0, 1)) / tau;
            var anchors = new List<Tensor>();
            int nonZero = 0;
            for (int a = 0; a < n; a++)
            {
                Tensor rowA = RowOf(s, a, n);
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
            long[] labels = Labels(t, "labels");
            int n = labels.Length;
            double alpha = F(o, "alpha", 2), beta = F(o, "beta", 50), lambda = F(o, "base", 0.5);
            Tensor xh = Normalized(x);
            Tensor s = Ops.MatMul(xh, Ops.Transpose(xh, 0, 1));
            var anchors = new List<Tensor>();
            for (int a = 0; a < n; a++)
            {
                Tensor rowA = RowOf(s, a, n);
                Tensor pos = Tensor.FromArray([.. Enumerable.Range(0, n).Select(j => j != a && labels[j] == labels[a] ? 1.0 : 0.0)], [n]);
                Tensor neg = Tensor.FromArray([.. Enumerable.Range(0, n).Select(j => labels[j] != labels[a] ? 1.0 : 0.0)], [n]);
                Tensor lp = Ops.Log(1 + Ops.Sum(pos * Ops.Exp(-alpha * (rowA - lambda)))) / alpha;
                Tensor ln = Ops.Log(1 + Ops.Sum(neg * Ops.Exp(beta * (rowA - lambda)))) / beta;
                anchors.Add(Ops.Reshape(lp + ln, 1));
            }
            return Reduce(Ops.Concat(anchors, 0), o);
        },
        ["CircleLoss"] = (t, o) => Circle(t["embeddings"], Labels(t, "labels"), F(o, "m", 0.4), F(o, "gamma", 80),
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
            long[] labels = Labels(t, "target");
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
    };
}
