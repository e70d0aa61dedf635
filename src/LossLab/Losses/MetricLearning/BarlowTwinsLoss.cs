using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Barlow Twins (Zbontar et al., ICML 2021), the self-supervised loss of the authors' code: the embeddings of two views
/// of a batch, z_a and z_b (N, D), are standardized per feature over the batch (batch norm without affine:
/// (z − μ)/√(σ² + ε), σ² biased), their cross-correlation C = ẑ_aᵀẑ_b/N (D, D) is driven to the identity:
/// ℓ = Σ_i (1 − C_ii)² + λ·Σ_{i≠j} C_ij². The diagonal makes the views agree; the off-diagonal decorrelates the features.
/// </summary>
/// <remarks>
/// <para><b>Derivation:</b> with G = ∂ℓ/∂C (G_ii = 2(C_ii − 1), G_ij = 2λC_ij), ∂ℓ/∂ẑ_a = ẑ_b·Gᵀ/N and ∂ℓ/∂ẑ_b =
/// ẑ_a·G/N (N, D). Batch normalization passes a gradient g on per feature as (g − mean(g) − ẑ·mean(g·ẑ))/√(σ² + ε),
/// since ∂μ/∂z_k = 1/N and ∂√(σ² + ε)/∂z_k = ẑ_k/N. One value per batch (reduction <c>sum</c> only has meaning across
/// batches, so there is none); O(N·D²) time, O(D²) memory.</para>
/// </remarks>
public sealed class BarlowTwinsLoss : Loss, ILossDefinition
{
    private readonly double _lambda, _eps;

    public BarlowTwinsLoss(double lambda = 0.0051, double eps = 1e-5)
    {
        if (!(lambda >= 0) || !double.IsFinite(lambda)) throw LossArgumentException.Value($"BarlowTwinsLoss: lambd must be a finite number ≥ 0, got {lambda}");
        if (!(eps >= 0) || !double.IsFinite(eps)) throw LossArgumentException.Value($"BarlowTwinsLoss: eps must be a finite number ≥ 0, got {eps}");
        (_lambda, _eps) = (lambda, eps);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        string name = Entry.Name;
        RequireSameShape(inputs, "z_a", "z_b");
        Shape shape = inputs["z_a"].Shape;
        if (shape.Rank != 2) throw LossArgumentException.Shape($"{name}: 'z_a' must be embeddings (N, D), got {shape}");
        int n = shape[0], d = shape[1];
        if (n < 2) throw LossArgumentException.Shape($"{name}: a batch of {n} has no per-feature variance to standardize by; give at least 2 rows");
        var (a, sa) = BatchNorm(inputs.Floating<double>("z_a"), n, d, _eps, name, "z_a");
        var (b, sb) = BatchNorm(inputs.Floating<double>("z_b"), n, d, _eps, name, "z_b");
        double[] c = BatchColumns.Cross(a, b, n, d, n);
        double loss = 0;
        var g = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
            {
                double cij = c[i * d + j];
                if (i == j) { loss += (1 - cij) * (1 - cij); g[i * d + j] = 2 * (cij - 1); }
                else { loss += _lambda * cij * cij; g[i * d + j] = 2 * _lambda * cij; }
            }
        TensorData value = FromDoubles<T>([loss], Shape.Scalar);
        if (!computeGradients) return Result(value);
        // ∂ℓ/∂ẑ_a = ẑ_b·Gᵀ/N and ∂ℓ/∂ẑ_b = ẑ_a·G/N, two blocked double products.
        for (int q = 0; q < g.Length; q++) g[q] /= n;
        var ga = new double[n * d];
        var gb = new double[n * d];
        GemmF64.MultiplyAdd(b, d, GemmF64.Transposed(g, d, d), d, ga, d, n, d, d);
        GemmF64.MultiplyAdd(a, d, g, d, gb, d, n, d, d);
        return Result(value, ("z_a", FromDoubles<T>(BatchNormBackward(ga, a, sa, n, d), shape)), ("z_b", FromDoubles<T>(BatchNormBackward(gb, b, sb, n, d), shape)));
    }

    /// <summary>(z − μ)/√(σ² + ε) per feature (σ² biased, as batch norm in training), and the denominators.</summary>
    internal static (double[] Z, double[] S) BatchNorm(double[] z, int n, int d, double eps, string loss, string input)
    {
        double[] zn = BatchColumns.Centred(z, n, d);
        var s = new double[d];
        for (int j = 0; j < d; j++)
        {
            double variance = 0;
            for (int k = 0; k < n; k++) variance += zn[k * d + j] * zn[k * d + j];
            s[j] = Math.Sqrt(variance / n + eps);
            if (s[j] == 0) throw LossArgumentException.Value($"{loss}: feature {j} of '{input}' is constant over the batch and eps is 0: it cannot be standardized");
            for (int k = 0; k < n; k++) zn[k * d + j] /= s[j];
        }
        return (zn, s);
    }

    /// <summary>Batch norm's backward pass per feature: (g − mean(g) − ẑ·mean(g·ẑ)) / s.</summary>
    internal static double[] BatchNormBackward(double[] g, double[] zn, double[] s, int n, int d)
    {
        var gz = new double[g.Length];
        for (int j = 0; j < d; j++)
        {
            double mg = 0, mgz = 0;
            for (int k = 0; k < n; k++) { mg += g[k * d + j]; mgz += g[k * d + j] * zn[k * d + j]; }
            mg /= n;
            mgz /= n;
            for (int k = 0; k < n; k++) gz[k * d + j] = (g[k * d + j] - mg - zn[k * d + j] * mgz) / s[j];
        }
        return gz;
    }

    internal static LossInputs TwoViews(Random r, Shape s)
    {
        Shape x = s.Rank == 2 ? s : new Shape(8, 4);
        TensorData a = Samples.Normal(r, x);
        double[] av = a.ToArray<double>();
        // The second view: the first plus noise, as two augmentations of one batch give.
        double[] bv = [.. av.Select(v => v + 0.3 * (r.NextDouble() * 2 - 1))];
        return new LossInputs().Add("z_a", a).Add("z_b", TensorData.Create(x, DType.Float64, bv));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "BarlowTwinsLoss",
        Aliases = ["barlow_twins_loss", "barlow_twins"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs =
        [
            new("z_a", InputKind.Floating, true, "embeddings of the first view (N, D), N ≥ 2"),
            new("z_b", InputKind.Floating, true, "embeddings of the second view of the same rows, same shape"),
        ],
        Options =
        [
            OptionSpec.Float("lambd", 0.0051, "λ: the weight of the off-diagonal (redundancy) terms, the authors' lambd"),
            OptionSpec.Float("eps", 1e-5, "batch norm's ε inside the square root"),
        ],
        Sample = TwoViews,
        Formula = "ℓ = Σ_i (1 − C_ii)² + λ·Σ_{i≠j} C_ij²,  C = BN(z_a)ᵀ·BN(z_b)/N",
        Gradient = "∂ℓ/∂BN(z_a) = BN(z_b)·Gᵀ/N, G = ∂ℓ/∂C; then batch norm's backward pass per feature",
        Reference = "Zbontar et al., Barlow Twins: Self-Supervised Learning via Redundancy Reduction, ICML 2021 (the authors' code)",
        Stability = "finite for every finite batch with non-constant features (or eps > 0)",
        Libraries = "the authors' reference code (facebookresearch/barlowtwins), lightly",
        LowerBound = 0,
        Factory = o => new BarlowTwinsLoss(o.Float("lambd"), o.Float("eps")),
    };

    public override LossDescriptor Descriptor => Entry;
}
