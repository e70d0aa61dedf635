using LossLab.Autograd;

namespace LossLab.Tests.Autograd;

public sealed partial class CatalogAutogradTests
{
    /// <summary>The cross-encoders' listwise losses over padded document lists, written per query.</summary>
    private static Dictionary<string, Formula> ListFormulas() => new()
    {
        ["ListNetLoss"] = (t, o) =>
        {
            // Padding as sentence-transformers pads: logits and labels −1e30 (their softmax weight is 0).
            Tensor s = t["logits"], y = t["labels"];
            if (t.TryGetValue("mask", out Tensor? mask))
            {
                Tensor pad = (1 - mask) * -1e30;
                s = s * mask + pad;
                y = y * mask + pad;
            }
            Tensor perQuery = -Ops.Sum(Ops.Softmax(y, 1) * Ops.LogSoftmax(s, 1), axis: 1);
            return Reduce(perQuery, o);
        },
        ["ListMleLoss"] = (t, o) =>
        {
            // Per query: its documents (mask) in input or label order, log of the suffix sums of e^s plus 1e-10.
            double[] labels = t["labels"].ToArray(), mask = t.TryGetValue("mask", out Tensor? m) ? m.ToArray() : [.. labels.Select(_ => 1.0)];
            int n = t["logits"].Shape[0], l = t["logits"].Shape[1];
            bool position = o.GetValueOrDefault("lambda_weight") is "position", inputOrder = o.GetValueOrDefault("respect_input_order") is not false;
            var perQuery = new List<Tensor>();
            for (int q = 0; q < n; q++)
            {
                int[] docs = [.. Enumerable.Range(q * l, l).Where(i => mask[i] == 1)];
                if (!inputOrder) docs = [.. docs.OrderByDescending(i => labels[i])];
                Tensor flat = Ops.Reshape(t["logits"], n * l);
                Tensor[] s = [.. docs.Select(i => Ops.Sum(flat * Tensor.FromArray([.. Enumerable.Range(0, n * l).Select(k => k == i ? 1.0 : 0.0)], [n * l])))];
                int count = docs.Length;
                double[] w = [.. Enumerable.Range(0, count).Select(k => position ? Math.Pow(2, count - k) - 1 : 1.0)];
                double norm = position ? 1 / (w.Sum() + 1e-10) : 1;
                Tensor loss = Tensor.Scalar(0);
                for (int k = 0; k < count; k++)
                {
                    Tensor suffix = Tensor.Scalar(1e-10);
                    for (int j = k; j < count; j++) suffix = suffix + Ops.Exp(s[j]);
                    loss = loss - w[k] * norm * (s[k] - Ops.Log(suffix));
                }
                perQuery.Add(Ops.Reshape(loss, 1));
            }
            return Reduce(Ops.Concat(perQuery, 0), o);
        },
        ["LambdaLoss"] = (t, o) => Lambda(t, o, o.GetValueOrDefault("weighting_scheme") as string ?? "ndcg_loss2pp"),
        ["RankNetLoss"] = (t, o) => Lambda(t, o, "none"),
    };

    /// <summary>
    /// LambdaLoss written pair by pair: each query's documents sorted by score (a constant permutation), the NDCG weights
    /// as constants, log of clamp(clamp(σ(σ_s·(s_i − s_j)), ε)^w, ε), −mean over the batch's selected pairs.
    /// </summary>
    private static Tensor Lambda(IReadOnlyDictionary<string, Tensor> t, Dictionary<string, object?> o, string scheme)
    {
        double[] s = t["logits"].ToArray(), y = t["labels"].ToArray(), mask = t.TryGetValue("mask", out Tensor? m) ? m.ToArray() : [.. s.Select(_ => 1.0)];
        int n = t["logits"].Shape[0], l = t["logits"].Shape[1];
        int k = o.GetValueOrDefault("k") is long kk ? (int)kk : int.MaxValue;
        double sigma = F(o, "sigma", 1), eps = F(o, "eps", 1e-10), mu = F(o, "mu", 10), logBase = o.GetValueOrDefault("reduction_log") is "natural" ? 1 : Math.Log(2);
        Tensor flat = Ops.Reshape(t["logits"], n * l);
        Tensor Score(int i) => Ops.Sum(flat * Tensor.FromArray([.. Enumerable.Range(0, n * l).Select(e => e == i ? 1.0 : 0.0)], [n * l]));
        static double D(int p) => Math.Log2(2 + p);
        Tensor total = Tensor.Scalar(0);
        int pairs = 0;
        for (int q = 0; q < n; q++)
        {
            int[] order = [.. Enumerable.Range(q * l, l).Where(i => mask[i] == 1).OrderByDescending(i => s[i])];
            int top = Math.Min(k, order.Length);
            double[] ideal = [.. order.Select(i => Math.Max(y[i], 0)).OrderDescending()];
            double maxDcg = Math.Max(Enumerable.Range(0, top).Sum(p => (Math.Pow(2, ideal[p]) - 1) / D(p)), eps);
            double[] gain = [.. order.Select(i => (Math.Pow(2, Math.Max(y[i], 0)) - 1) / maxDcg)];
            for (int i = 0; i < top; i++)
                for (int j = 0; j < top; j++)
                {
                    if (scheme != "ndcg_loss1" && !(y[order[i]] > y[order[j]])) continue;
                    int d = Math.Abs(i - j);
                    double ndcg2 = d == 0 ? 0 : Math.Abs(1 / Math.Log2(1 + d) - 1 / Math.Log2(2 + d)) * Math.Abs(gain[i] - gain[j]);
                    double lambdaRank = Math.Abs(1 / D(i) - 1 / D(j)) * Math.Abs(gain[i] - gain[j]);
                    double w = scheme switch { "none" => 1, "ndcg_loss1" => gain[i] / D(i), "ndcg_loss2" => ndcg2, "lambda_rank" => lambdaRank, _ => mu * ndcg2 + lambdaRank };
                    Tensor u = Ops.Clamp(Ops.Sigmoid(sigma * (Score(order[i]) - Score(order[j]))), lo: eps);
                    total = total + Ops.Log(Ops.Clamp(Ops.Pow(u, w), lo: eps)) / logBase;
                    pairs++;
                }
        }
        return pairs == 0 ? total : -total / pairs;
    }
}
