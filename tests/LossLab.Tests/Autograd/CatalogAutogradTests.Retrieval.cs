using LossLab.Autograd;

namespace LossLab.Tests.Autograd;

public sealed partial class CatalogAutogradTests
{
    /// <summary>
    /// Losses of a retrieval metric made differentiable, written node by node: FastAP's and the histogram loss's soft
    /// histograms, Smooth-AP's sigmoid ranks.
    /// </summary>
    private static Dictionary<string, Formula> RetrievalFormulas() => new()
    {
        ["FastApLoss"] = (t, o) =>
        {
            // Soft histograms of squared distances per anchor, written bin by bin.
            long[] labels = Labels(t, "labels");
            Tensor xh = Normalized(t["embeddings"]);
            int n = labels.Length, bins = (int)F(o, "num_bins", 10);
            double delta = 4.0 / bins;
            Tensor zero = t["embeddings"].Constant(0);
            Tensor Sq(int i, int j) => Ops.Sum(Ops.Pow(RowOf(xh, i, n) - RowOf(xh, j, n), 2));
            var anchors = new List<Tensor>();
            int counted = 0;
            for (int a = 0; a < n; a++)
            {
                int positives = Enumerable.Range(0, n).Count(j => j != a && labels[j] == labels[a]);
                if (positives == 0) { anchors.Add(Ops.Reshape(zero, 1)); continue; }
                counted++;
                Tensor cumPos = zero, cumAll = zero, ap = zero;
                for (int b = 0; b <= bins; b++)
                {
                    Tensor hp = zero, hn = zero;
                    for (int j = 0; j < n; j++)
                    {
                        if (j == a) continue;
                        Tensor pulse = Ops.Relu(1 - Ops.Abs(Sq(a, j) - b * delta) / delta);
                        if (labels[j] == labels[a]) hp = hp + pulse; else hn = hn + pulse;
                    }
                    cumPos = cumPos + hp;
                    cumAll = cumAll + hp + hn;
                    if ((hp * cumPos).ToArray()[0] > 0 && cumAll.ToArray()[0] > 0) ap = ap + hp * cumPos / cumAll;
                }
                anchors.Add(Ops.Reshape(1 - ap / positives, 1));
            }
            Tensor all = Ops.Concat(anchors, 0);
            return R(o) switch
            {
                "none" => all,
                "sum" => Ops.Sum(all),
                _ => counted == 0 ? Ops.Sum(all) * 0 : Ops.Sum(all) / counted,
            };
        },
        ["HistogramLoss"] = (t, o) =>
        {
            // The two histograms node by node; each pair's bin read off its value (float32, as pml), its shares differentiated.
            long[] labels = Labels(t, "labels");
            Tensor xh = Normalized(t["embeddings"]);
            int n = labels.Length, bins = (int)F(o, "n_bins", 100);
            double delta = 2.0 / bins;
            Tensor zero = t["embeddings"].Constant(0);
            if (labels.Distinct().Count() < 2 || labels.GroupBy(l => l).All(g => g.Count() < 2)) return zero;
            bool HasPositive(int i) => labels.Count(l => l == labels[i]) > 1;
            var pos = Enumerable.Range(0, bins + 1).Select(_ => zero).ToArray();
            var neg = Enumerable.Range(0, bins + 1).Select(_ => zero).ToArray();
            int np = 0, nn = 0;
            for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++)
                {
                    bool positive = labels[i] == labels[j];
                    if (!positive && !HasPositive(i) && !HasPositive(j)) continue;
                    Tensor sim = Ops.Sum(RowOf(xh, i, n) * RowOf(xh, j, n));
                    int r = (int)Math.Clamp(MathF.Floor(((float)sim.ToArray()[0] + 1f) / (float)delta), 0, bins - 1);
                    Tensor[] h = positive ? pos : neg;
                    h[r + 1] = h[r + 1] + (sim + 1 - (float)(r * (float)delta)) / delta;
                    h[r] = h[r] + ((float)((r + 1) * (float)delta) - 1 - sim) / delta;
                    if (positive) np++; else nn++;
                }
            Tensor loss = zero, phi = zero;
            for (int r = 0; r <= bins; r++)
            {
                phi = phi + pos[r] / np;
                loss = loss + neg[r] / nn * phi;
            }
            return loss;
        },
        ["SmoothApLoss"] = (t, o) =>
        {
            // Each query's row of cosines; for each of its positives p the sigmoid ranks among the positives and all rows.
            long[] labels = Labels(t, "labels");
            Tensor xh = Normalized(t["embeddings"]);
            int n = labels.Length;
            double tau = F(o, "temperature", 0.01);
            bool exclude = o.GetValueOrDefault("exclude_query") is true;
            Tensor s = Ops.MatMul(xh, Ops.Transpose(xh));
            Tensor total = t["embeddings"].Constant(0);
            int counted = 0;
            for (int q = 0; q < n; q++)
            {
                int[] positives = [.. Enumerable.Range(0, n).Where(j => labels[j] == labels[q] && !(exclude && j == q))];
                if (positives.Length == 0) continue;
                counted++;
                Tensor row = RowOf(s, q, n), ap = total.Constant(0);
                foreach (int p in positives)
                {
                    Tensor sp = Ops.Sum(row * Tensor.FromArray([.. Enumerable.Range(0, n).Select(k => k == p ? 1.0 : 0.0)], [n]));
                    double[] inPositives = [.. Enumerable.Range(0, n).Select(j => j != p && labels[j] == labels[q] && !(exclude && j == q) ? 1.0 : 0.0)];
                    double[] inAll = [.. Enumerable.Range(0, n).Select(j => j != p && !(exclude && j == q) ? 1.0 : 0.0)];
                    Tensor sigma = Ops.Sigmoid((row - sp) / tau);
                    Tensor rankPositive = 1 + Ops.Sum(sigma * Tensor.FromArray(inPositives, [n])), rankAll = 1 + Ops.Sum(sigma * Tensor.FromArray(inAll, [n]));
                    ap = ap + rankPositive / rankAll / positives.Length;
                }
                total = total + ap;
            }
            return counted == 0 ? total : 1 - total / counted;
        },
    };
}
