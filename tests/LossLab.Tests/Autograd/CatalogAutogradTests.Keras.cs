using LossLab.Autograd;
using LossLab.Losses.Core;
using LossLab.Losses.Custom;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Autograd;

public sealed partial class CatalogAutogradTests
{
    /// <summary>Keras 3 losses with Keras semantics, composed from autograd primitives.</summary>
    private static Dictionary<string, Formula> KerasFormulas() => new()
    {
        ["KerasHinge"] = (t, o) => KerasMean(t, o, (y, p) => Ops.Relu(1 - Signed(y) * p), differentiateTrue: false),
        ["KerasSquaredHinge"] = (t, o) => KerasMean(t, o, (y, p) => Ops.Pow(Ops.Relu(1 - Signed(y) * p), 2), differentiateTrue: false),
        ["KerasLogCosh"] = (t, o) => KerasMean(t, o, (y, p) => (p - y) + Ops.Softplus(-2 * (p - y)) - Math.Log(2)),
        ["KerasMeanAbsolutePercentageError"] = (t, o) => KerasMean(t, o, (y, p) => 100 * Ops.Abs(y - p) / Ops.Maximum(Ops.Abs(y), y.Constant((double)1e-7f))),
        ["KerasMeanSquaredLogarithmicError"] = (t, o) => KerasMean(t, o, (y, p) =>
            Ops.Pow(Ops.Log(Ops.Maximum(p, p.Constant((double)1e-7f)) + 1) - Ops.Log(Ops.Maximum(y, y.Constant((double)1e-7f)) + 1), 2)),
        ["KerasPoisson"] = (t, o) => KerasMean(t, o, (y, p) => p - y * Ops.Log(p + (double)1e-7f)),
        ["KerasBinaryFocalCrossentropy"] = (t, o) => KerasMean(t, o, (y, p) =>
        {
            double ls = F(o, "label_smoothing", 0), alpha = F(o, "alpha", 0.25), gamma = F(o, "gamma", 2), eps = (double)1e-7f;
            Tensor ts = y * (1 - ls) + ls / 2;
            if (B(o, "from_logits")) p = Ops.Sigmoid(p);
            Tensor c = Ops.Clamp(p, eps, 1 - eps);
            Tensor bce = -(ts * Ops.Log(c) + (1 - ts) * Ops.Log(1 - c));
            Tensor l = Ops.Pow(1 - (ts * p + (1 - ts) * (1 - p)), gamma) * bce;
            return B(o, "apply_class_balancing") ? (alpha * ts + (1 - alpha) * (1 - ts)) * l : l;
        }),
        ["KerasCategoricalFocalCrossentropy"] = (t, o) =>
        {
            Tensor y = t["y_true"], p = t["y_pred"];
            double ls = F(o, "label_smoothing", 0), alpha = F(o, "alpha", 0.25), gamma = F(o, "gamma", 2), eps = (double)1e-7f;
            Tensor ts = y * (1 - ls) + ls / y.Shape[-1];
            if (B(o, "from_logits")) p = Ops.Softmax(p, -1);
            Tensor c = Ops.Clamp(p / Ops.Sum(p, axis: -1, keepDim: true), eps, 1 - eps);
            return KerasReduce(Ops.Sum(alpha * Ops.Pow(1 - c, gamma) * -ts * Ops.Log(c), axis: -1), o);
        },
        ["KerasCategoricalHinge"] = (t, o) =>
        {
            Tensor y = t["y_true"], p = t["y_pred"];
            return KerasReduce(Ops.Relu(Ops.Max((1 - y) * p, axis: -1) - Ops.Sum(y * p, axis: -1) + 1), o);
        },
        ["KerasCosineSimilarity"] = (t, o) =>
        {
            Tensor y = t["y_true"], p = t["y_pred"];
            Tensor norms = Ops.Sqrt(Ops.Sum(y * y, axis: -1)) * Ops.Sqrt(Ops.Sum(p * p, axis: -1));
            return KerasReduce(-Ops.Sum(y * p, axis: -1) / norms, o);
        },
        // Contract samples use axis = 1: one value per row.
        ["KerasDice"] = (t, o) =>
        {
            Tensor y = t["y_true"], p = t["y_pred"];
            return KerasReduce(1 - 2 * Ops.Sum(y * p, axis: -1) / (Ops.Sum(y, axis: -1) + Ops.Sum(p, axis: -1) + (double)1e-7f), o);
        },
        ["KerasTversky"] = (t, o) =>
        {
            Tensor y = t["y_true"], p = t["y_pred"];
            double alpha = F(o, "alpha", 0.5), beta = F(o, "beta", 0.5);
            Tensor tp = Ops.Sum(y * p, axis: -1), fp = Ops.Sum((1 - y) * p, axis: -1), fn = Ops.Sum(y * (1 - p), axis: -1);
            return KerasReduce(1 - tp / (tp + alpha * fp + beta * fn + (double)1e-7f), o);
        },
        ["KerasIoU"] = (t, o) =>
        {
            Tensor y = t["y_true"], p = t["y_pred"];
            Tensor inter = Ops.Sum(y * p, axis: -1);
            return KerasReduce(1 - inter / (Ops.Sum(y, axis: -1) + Ops.Sum(p, axis: -1) - inter + (double)1e-7f), o);
        },
        ["KerasMeanSquaredError"] = (t, o) => KerasMean(t, o, (y, p) => Ops.Pow(p - y, 2)),
        ["KerasMeanAbsoluteError"] = (t, o) => KerasMean(t, o, (y, p) => Ops.Abs(p - y)),
        ["KerasHuber"] = (t, o) => KerasMean(t, o, (y, p) =>
        {
            double delta = F(o, "delta", 1);
            Tensor d = Ops.Abs(p - y);
            return Ops.Where(Ops.LessEqual(d, d.Constant(delta)), 0.5 * Ops.Pow(d, 2), delta * d - 0.5 * delta * delta);
        }),
        ["KerasBinaryCrossentropy"] = (t, o) => KerasMean(t, o, (y, p) =>
        {
            double ls = F(o, "label_smoothing", 0), eps = (double)1e-7f;
            Tensor ts = y * (1 - ls) + ls / 2;
            if (B(o, "from_logits")) return Ops.Softplus(p) - ts * p;
            Tensor c = Ops.Clamp(p, eps, 1 - eps);
            return -(ts * Ops.Log(c) + (1 - ts) * Ops.Log(1 - c));
        }),
        ["KerasCategoricalCrossentropy"] = (t, o) =>
        {
            Tensor y = t["y_true"], p = t["y_pred"];
            double ls = F(o, "label_smoothing", 0), eps = (double)1e-7f;
            Tensor ts = y * (1 - ls) + ls / y.Shape[-1];
            Tensor logp = B(o, "from_logits") ? Ops.LogSoftmax(p, -1) : Ops.Log(Ops.Clamp(p / Ops.Sum(p, axis: -1, keepDim: true), eps, 1 - eps));
            return KerasReduce(-Ops.Sum(ts * logp, axis: -1), o);
        },
        ["KerasKLDivergence"] = (t, o) =>
        {
            double eps = (double)1e-7f;
            Tensor y = Ops.Clamp(t["y_true"], eps, 1), p = Ops.Clamp(t["y_pred"], eps, 1);
            return KerasReduce(Ops.Sum(y * Ops.Log(y / p), axis: -1), o);
        },
        // Keras's distillation losses: the Keras loss named by `loss` on the teacher (y_true) and the student (y_pred).
        ["KerasLogitsDistillation"] = (t, o) =>
        {
            double temperature = F(o, "temperature", 3);
            Tensor a = t["teacher_logits"] * (1 / temperature), b = t["student_logits"] * (1 / temperature);
            string loss = o.GetValueOrDefault("loss") as string ?? "kl_divergence";
            return loss is "kl_divergence" or "kld" or "KLD"
                ? temperature * temperature * DistilledKeras("kl_divergence", Ops.Softmax(a, -1), Ops.Softmax(b, -1))
                : DistilledKeras(loss, a, b);
        },
        ["KerasFeatureDistillation"] = (t, o) => DistilledKeras(o.GetValueOrDefault("loss") as string ?? "mse", t["teacher_features"], t["student_features"]),
        ["KerasSparseCategoricalCrossentropy"] = (t, o) =>
        {
            Tensor p = t["y_pred"];
            long[] labels = Labels(t, "y_true");
            Tensor logp = B(o, "from_logits") ? Ops.LogSoftmax(p, -1) : Ops.Log(Ops.Clamp(p / Ops.Sum(p, axis: -1, keepDim: true), (double)1e-7f, 1 - (double)1e-7f));
            Tensor picked = -Ops.Sum(logp * Ops.OneHot(Ops.Reshape(t["y_true"], -1), p.Shape[-1], DType.Float64), axis: -1);
            Tensor? mask = o.TryGetValue("ignore_class", out var ic) && ic is long ignore
                ? Tensor.FromArray(labels.Select(v => v == ignore ? 0.0 : 1.0).ToArray(), [labels.Length]) : null;
            return KerasReduceMasked(picked, o, mask);
        },
        ["KerasCategoricalGeneralizedCrossEntropy"] = (t, o) =>
        {
            Tensor p = t["y_pred"];
            double q = F(o, "q", 0.5);
            Tensor py = Ops.Sum(p * Ops.OneHot(Ops.Reshape(t["y_true"], -1), p.Shape[-1], DType.Float64), axis: -1);
            return KerasReduce((1 - Ops.Pow(py, q)) / q, o);
        },
        ["KerasCircle"] = (t, o) =>
        {
            // Keras's own recipe: distances from the raw (already unit) embeddings, masked log-sum-exps, softplus, and
            // the values that are not > 0 masked out of the reduction.
            Tensor e = t["y_pred"];
            long[] labels = Labels(t, "y_true");
            int n = labels.Length;
            double gamma = F(o, "gamma", 80), m = F(o, "margin", 0.4);
            bool removeDiagonal = !o.TryGetValue("remove_diagonal", out var rd) || rd is not false;
            Tensor dist = Ops.Relu(1 - Ops.MatMul(e, Ops.Transpose(e, 0, 1)));
            var anchors = new List<Tensor>();
            for (int i = 0; i < n; i++)
            {
                Tensor row = RowOf(dist, i, n);
                bool[] pos = [.. Enumerable.Range(0, n).Select(j => labels[j] == labels[i] && (j != i || !removeDiagonal))];
                bool[] neg = [.. labels.Select(l => l != labels[i])];
                if (!pos.Any(v => v) || !neg.Any(v => v))
                {
                    anchors.Add(Ops.Reshape(row.Constant(0), 1));
                    continue;
                }
                Tensor maskP = Tensor.FromArray([.. pos.Select(v => v ? 0.0 : -1e300)], [n]), maskN = Tensor.FromArray([.. neg.Select(v => v ? 0.0 : -1e300)], [n]);
                Tensor a = -gamma * Ops.Relu(m + row) * (m - row), b = gamma * Ops.Relu(1 + m - row) * (1 - m - row);
                anchors.Add(Ops.Reshape(Ops.Softplus(Ops.LogSumExp(a + maskP) + Ops.LogSumExp(b + maskN)), 1));
            }
            Tensor per = Ops.Concat(anchors, 0);
            return KerasReduceMasked(per, o, Tensor.FromArray([.. per.ToArray().Select(v => v > 0 ? 1.0 : 0.0)], [n]));
        },
    };

    /// <summary>ops.mean of a Keras loss function's per-sample values for the losses the distillation samples use.</summary>
    private static Tensor DistilledKeras(string loss, Tensor y, Tensor p)
    {
        double eps = (double)1e-7f;
        return Ops.Mean(loss switch
        {
            "kl_divergence" => Ops.Sum(Ops.Clamp(y, eps, 1) * Ops.Log(Ops.Clamp(y, eps, 1) / Ops.Clamp(p, eps, 1)), axis: -1),
            "mse" => Ops.Mean(Ops.Pow(p - y, 2), axis: -1),
            "mae" => Ops.Mean(Ops.Abs(p - y), axis: -1),
            "cosine_similarity" => -Ops.Sum(y * p, axis: -1) / (Ops.Sqrt(Ops.Sum(y * y, axis: -1)) * Ops.Sqrt(Ops.Sum(p * p, axis: -1))),
            "log_cosh" => Ops.Mean((p - y) + Ops.Softplus(-2 * (p - y)) - Math.Log(2), axis: -1),
            _ => throw new ArgumentException(loss),
        });
    }
}
