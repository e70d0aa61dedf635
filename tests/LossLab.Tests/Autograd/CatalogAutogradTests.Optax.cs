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
        ["CosineSimilarity"] = (t, o) => Reduce(Cosine(t, o), o, d: "none"),
        ["CosineDistance"] = (t, o) => Reduce(1 - Cosine(t, o), o, d: "none"),
        ["MulticlassSparsemaxLoss"] = (t, o) =>
        {
            Tensor x = t["scores"];
            int n = x.Shape[0], c = x.Shape[1];
            double[] v = x.ToArray();
            // The support by the sorting algorithm (Held et al.), independent of the library's Michelot iteration; the
            // threshold τ is then composed from the scores, so that autograd differentiates through it.
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
            Tensor p = m * (x - threshold);
            Tensor xy = Ops.Sum(x * Ops.OneHot(t["labels"], c, DType.Float64), axis: -1, keepDim: true);
            return Reduce(Ops.Sum(p * (x - xy), axis: -1) + (1 - Ops.Sum(p * p, axis: -1)) * 0.5, o, d: "none");
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
    };

    /// <summary>Optax's cosine: the squared norms clipped at ε, then the dot product of the unit vectors.</summary>
    private static Tensor Cosine(IReadOnlyDictionary<string, Tensor> t, Dictionary<string, object?> o)
    {
        Tensor a = t["predictions"], b = t["targets"];
        double eps = F(o, "epsilon", 0);
        Tensor na = Ops.Sqrt(Ops.Maximum(Ops.Sum(a * a, axis: -1), a.Constant(eps)));
        Tensor nb = Ops.Sqrt(Ops.Maximum(Ops.Sum(b * b, axis: -1), b.Constant(eps)));
        return Ops.Sum(a * b, axis: -1) / (na * nb);
    }
}
