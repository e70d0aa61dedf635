using System.Numerics;
using System.Numerics.Tensors;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Angular loss (Wang, Zhou, Wen, Liu &amp; Lin, ICCV 2017; pytorch-metric-learning <c>AngularLoss(alpha=40)</c>): per
/// positive pair (a, p), in both orders, ℓ_ap = log(1 + Σ_{n∈N(a)} e^{4·tan²α·(x̂_a + x̂_p)·x_n − 2·(1 + tan²α)·x̂_a·x̂_p}),
/// the angle at the negative of the triangle (a, p, n) kept below α.
/// </summary>
/// <remarks>
/// <para>As in pytorch-metric-learning, the anchor and the positive are L2-normalized but the negatives x_n are the
/// embeddings as given (its <c>ref_emb</c> is not normalized there). <c>mean</c> averages over the ordered positive pairs
/// (its MeanReducer on pos_pair losses), <c>sum</c> adds them, <c>none</c> gives each anchor the sum of its pairs' (N).
/// Without a positive or without a negative pair the loss is 0.</para>
/// <para>Each class c is one block: T = Û_c·X_negᵀ (its m rows against the other classes' rows), then per pair the
/// log-sum-exp after its maximum over z_n = k(T_an + T_pn) − c·s_ap. Gradient, w_n = e^{z_n − softplus(lse z)}:
/// ∂/∂T_an = ∂/∂T_pn = k·w_n, ∂/∂s_ap = −c·Σ_n w_n; back through T (to Û_c and to the raw negatives) and s, then the
/// anchors' normalization. Time O(Σ_c m_c²·N), memory O(N·D + m_max·N) for the largest class's block.</para>
/// </remarks>
public sealed class AngularLoss : Loss, ILossDefinition
{
    private readonly double _k, _c;
    private readonly Reduction _reduction;

    public AngularLoss(double alpha = 40, Reduction reduction = Reduction.Mean)
    {
        if (!double.IsFinite(alpha) || alpha <= 0 || alpha >= 90)
            throw LossArgumentException.Value($"AngularLoss: alpha must be an angle in (0, 90) degrees, got {alpha}");
        double tan2 = Math.Pow(Math.Tan(alpha * Math.PI / 180), 2);
        (_k, _c, _reduction) = (4 * tan2, 2 * (1 + tan2), reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "AngularLoss");
        var (unit, norms) = Embeddings.Normalize(x, n, d);
        var (members, group) = Embeddings.Groups(labels);
        long pairs = members.Sum(m => (long)m.Length * (m.Length - 1));
        bool active = pairs > 0 && members.Length > 1;
        double scale = _reduction == Reduction.Mean ? (active ? 1.0 / pairs : 0) : 1;
        var perAnchor = new double[n];
        double[] gUnit = new double[x.Length], gRaw = new double[x.Length];
        if (active)
            foreach (int[] block in members)
                if (block.Length > 1) Block(block);
        double total = Reducer.Sum<double>(perAnchor);
        TensorData value = _reduction == Reduction.None
            ? Wrap(perAnchor.Select(T.CreateTruncating).ToArray(), new Shape(n))
            : Wrap(new[] { T.CreateTruncating(total * scale) }, Shape.Scalar);
        if (!computeGradients) return Result(value);
        double[] gx = Embeddings.BackThroughNormalize(gUnit, unit, norms, n, d);
        for (int i = 0; i < gx.Length; i++) gx[i] += gRaw[i];
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));

        // One class: its m unit rows against the raw rows of every other class.
        void Block(int[] rows)
        {
            int m = rows.Length;
            int[] negatives = [.. Enumerable.Range(0, n).Where(j => group[j] != group[rows[0]])];
            int q = negatives.Length;
            double[] um = Gather(unit, rows, d), xNeg = Gather(x, negatives, d);
            var t = new double[m * q];
            GemmF64.MultiplyAdd(um, d, GemmF64.Transposed(xNeg, q, d), q, t, q, m, d, q);
            var dT = computeGradients ? new double[m * q] : [];
            var z = new double[q];
            for (int a = 0; a < m; a++)
                for (int p = 0; p < m; p++)
                {
                    if (p == a) continue;
                    double s = TensorPrimitives.Dot(um.AsSpan(a * d, d), um.AsSpan(p * d, d));
                    TensorPrimitives.Add(t.AsSpan(a * q, q), t.AsSpan(p * q, q), z);
                    TensorPrimitives.Multiply<double>(z, _k, z);
                    TensorPrimitives.Add<double>(z, -_c * s, z);
                    double max = TensorPrimitives.Max<double>(z);
                    TensorPrimitives.Subtract(z, max, z);
                    TensorPrimitives.Exp(z, z);   // e^{z_n − max}
                    double lse = max + Math.Log(TensorPrimitives.Sum<double>(z)), sp = Stable.Softplus(lse);
                    perAnchor[rows[a]] += sp;
                    if (!computeGradients) continue;
                    // w_n = e^{z_n − softplus(lse)} = e^{z_n − max}·e^{max − sp}, times the reduction's factor.
                    double factor = scale * Math.Exp(max - sp);
                    TensorPrimitives.MultiplyAdd(z, _k * factor, dT.AsSpan(a * q, q), dT.AsSpan(a * q, q));
                    TensorPrimitives.MultiplyAdd(z, _k * factor, dT.AsSpan(p * q, q), dT.AsSpan(p * q, q));
                    double ds = -_c * factor * TensorPrimitives.Sum<double>(z);
                    Embeddings.AddPair(gUnit, unit, rows[a], rows[p], ds, d);
                }
            if (!computeGradients) return;
            // T = Û_c·X_negᵀ: ∂Û_c = dT·X_neg, ∂X_neg = dTᵀ·Û_c, scattered back to their rows.
            var gUm = new double[m * d];
            GemmF64.MultiplyAdd(dT, q, xNeg, d, gUm, d, m, q, d);
            var gNeg = new double[q * d];
            GemmF64.MultiplyAdd(GemmF64.Transposed(dT, m, q), m, um, d, gNeg, d, q, m, d);
            for (int a = 0; a < m; a++)
                TensorPrimitives.Add(gUnit.AsSpan(rows[a] * d, d), gUm.AsSpan(a * d, d), gUnit.AsSpan(rows[a] * d, d));
            for (int j = 0; j < q; j++)
                TensorPrimitives.Add(gRaw.AsSpan(negatives[j] * d, d), gNeg.AsSpan(j * d, d), gRaw.AsSpan(negatives[j] * d, d));
        }
    }

    private static double[] Gather(double[] source, int[] rows, int d)
    {
        var g = new double[rows.Length * d];
        for (int i = 0; i < rows.Length; i++) source.AsSpan(rows[i] * d, d).CopyTo(g.AsSpan(i * d, d));
        return g;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "AngularLoss",
        Aliases = ["angular_loss", "pml.AngularLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("alpha", 40.0, "α: the largest angle at the negative, in degrees"),
        ],
        Sample = Embeddings.Sample,
        Formula = "ℓ_ap = log(1 + Σ_{N(a)} e^{4tan²α·(x̂_a + x̂_p)·x_n − 2(1 + tan²α)·x̂_a·x̂_p}) per ordered positive pair; mean over them",
        Gradient = "w_n = e^{z_n − softplus(lse z)}: k·w_n to (x̂_a + x̂_p)·x_n's both rows, −c·Σw to x̂_a·x̂_p; through the anchors' normalization (negatives raw)",
        Reference = "pytorch_metric_learning.losses.AngularLoss (Wang, Zhou, Wen, Liu & Lin, ICCV 2017, Deep Metric Learning with Angular Loss)",
        Stability = "softplus of a max-shifted log-sum-exp: finite for every finite embedding; memory O(N·D + largest class × N)",
        Libraries = "pytorch-metric-learning",
        Factory = o => new AngularLoss(o.Float("alpha"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
