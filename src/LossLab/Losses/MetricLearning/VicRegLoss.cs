using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// VICReg (Bardes, Ponce &amp; LeCun, ICLR 2022), the self-supervised loss of the authors' code, on the embeddings of two
/// views x and y (N, D): invariance (the views' mean squared error), variance (a hinge keeping each feature's standard
/// deviation over the batch at 1 or more, so the embeddings do not collapse) and covariance (off-diagonal covariances
/// driven to 0, so the features carry different information).
/// </summary>
/// <remarks>
/// <para><b>Definition:</b> ℓ = λ·mean((x − y)²) + μ·[mean_j relu(1 − √(Var x_j + ε)) + mean_j relu(1 − √(Var y_j + ε))]/2
/// + ν·[Σ_{i≠j} Cov(x)_ij² + Σ_{i≠j} Cov(y)_ij²]/D, with the unbiased variance and covariance (N − 1) over the batch;
/// λ = μ = 25, ν = 1, ε = 1e-4 (the authors' sim_coeff, std_coeff, cov_coeff).</para>
/// <para><b>Derivation:</b> invariance: 2(x − y)/(N·D). Variance: with v_j = √(Var x_j + ε), ∂v_j/∂x_kj = (x_kj − μ_j)/((N − 1)v_j),
/// so each feature below 1 adds −μ/(2D)·(x_kj − μ_j)/((N − 1)v_j). Covariance: with x̄ the centred batch and G = ∂/∂Cov =
/// 2ν·Cov/D off the diagonal, ∂/∂x̄ = 2x̄G/(N − 1), and centring passes g on as g − mean over rows. One value per batch.</para>
/// </remarks>
public sealed class VicRegLoss : Loss, ILossDefinition
{
    private readonly double _sim, _std, _cov, _eps;

    public VicRegLoss(double simCoeff = 25, double stdCoeff = 25, double covCoeff = 1, double eps = 1e-4)
    {
        foreach (var (v, n) in new[] { (simCoeff, "sim_coeff"), (stdCoeff, "std_coeff"), (covCoeff, "cov_coeff"), (eps, "eps") })
            if (!(v >= 0) || !double.IsFinite(v)) throw LossArgumentException.Value($"VicRegLoss: {n} must be a finite number ≥ 0, got {v}");
        (_sim, _std, _cov, _eps) = (simCoeff, stdCoeff, covCoeff, eps);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        string name = Entry.Name;
        RequireSameShape(inputs, "x", "y");
        Shape shape = inputs["x"].Shape;
        if (shape.Rank != 2) throw LossArgumentException.Shape($"{name}: 'x' must be embeddings (N, D), got {shape}");
        int n = shape[0], d = shape[1];
        if (n < 2) throw LossArgumentException.Shape($"{name}: a batch of {n} has no variance over the batch; give at least 2 rows");
        double[] x = inputs.Floating<double>("x"), y = inputs.Floating<double>("y");
        double invariance = 0;
        for (int i = 0; i < x.Length; i++) invariance += (x[i] - y[i]) * (x[i] - y[i]);
        invariance /= (double)n * d;
        var (vx, gx) = Spread(x, n, d, computeGradients);
        var (vy, gy) = Spread(y, n, d, computeGradients);
        double loss = _sim * invariance + _std * (vx.Std + vy.Std) / 2 + _cov * (vx.Cov + vy.Cov);
        TensorData value = FromDoubles<T>([loss], Shape.Scalar);
        if (!computeGradients) return Result(value);
        var dx = new double[x.Length];
        var dy = new double[y.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double inv = _sim * 2 * (x[i] - y[i]) / ((double)n * d);
            dx[i] = inv + gx![i];
            dy[i] = -inv + gy![i];
        }
        return Result(value, ("x", FromDoubles<T>(dx, shape)), ("y", FromDoubles<T>(dy, shape)));
    }

    /// <summary>One view's variance hinge (mean over features) and covariance penalty (Σ off-diagonal² / D), and their weighted gradient.</summary>
    private ((double Std, double Cov) Terms, double[]? Gradient) Spread(double[] z, int n, int d, bool gradient)
    {
        double[] centred = BatchColumns.Centred(z, n, d);
        double[] cov = BatchColumns.Cross(centred, centred, n, d, n - 1);
        double std = 0, covTerm = 0;
        var v = new double[d];
        for (int j = 0; j < d; j++)
        {
            v[j] = Math.Sqrt(cov[j * d + j] + _eps);
            std += Math.Max(0, 1 - v[j]);
        }
        std /= d;
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) if (i != j) covTerm += cov[i * d + j] * cov[i * d + j];
        covTerm /= d;
        if (!gradient) return ((std, covTerm), null);
        // ∂/∂centred: the variance hinge through v_j, and the covariance through Cov = centredᵀcentred/(N − 1).
        // Σ_{i≠j} centred[k, i]·Cov[i, j] for every (k, j): one blocked double product with Cov's diagonal zeroed (in
        // place: the diagonal has given v above and is not read again).
        for (int j = 0; j < d; j++) cov[j * d + j] = 0;
        var gcs = new double[z.Length];
        GemmF64.MultiplyAdd(centred, d, cov, d, gcs, d, n, d, d);
        var g = new double[z.Length];
        for (int k = 0; k < n; k++)
            for (int j = 0; j < d; j++)
            {
                double gk = v[j] < 1 && v[j] > 0 ? -_std / (2.0 * d) * centred[k * d + j] / ((n - 1) * v[j]) : 0;
                g[k * d + j] = gk + _cov * 4 * gcs[k * d + j] / (d * (double)(n - 1));
            }
        // Centring: subtract each feature's mean gradient (the variance term's is already 0; the covariance's too, but exactly so only in exact arithmetic).
        BatchColumns.SubtractMeans(g, n, d);
        return ((std, covTerm), g);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "VicRegLoss",
        Aliases = ["vicreg_loss", "vicreg", "VICRegLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs =
        [
            new("x", InputKind.Floating, true, "embeddings of the first view (N, D), N ≥ 2"),
            new("y", InputKind.Floating, true, "embeddings of the second view of the same rows, same shape"),
        ],
        Options =
        [
            OptionSpec.Float("sim_coeff", 25, "λ: the invariance (mean squared error) weight"),
            OptionSpec.Float("std_coeff", 25, "μ: the variance hinge weight"),
            OptionSpec.Float("cov_coeff", 1, "ν: the covariance weight"),
            OptionSpec.Float("eps", 1e-4, "ε inside each standard deviation's square root"),
        ],
        Sample = (r, s) =>
        {
            LossInputs views = BarlowTwinsLoss.TwoViews(r, s);
            return new LossInputs().Add("x", views["z_a"]).Add("y", views["z_b"]);
        },
        Formula = "ℓ = λ·mean((x − y)²) + μ·[mean relu(1 − std(x)) + mean relu(1 − std(y))]/2 + ν·[Σ_{i≠j} Cov(x)²_ij + Σ_{i≠j} Cov(y)²_ij]/D",
        Gradient = "invariance 2λ(x − y)/(N·D); variance −μ/(2D)·(x − μ_x)/((N − 1)·std) below 1; covariance 4ν·x̄·Cov_off/(D(N − 1)), centred",
        Reference = "Bardes, Ponce & LeCun, VICReg: Variance-Invariance-Covariance Regularization for Self-Supervised Learning, ICLR 2022 (the authors' code)",
        Stability = "finite for every finite batch (ε > 0 keeps each standard deviation positive)",
        Libraries = "the authors' reference code (facebookresearch/vicreg), pytorch-metric-learning (VICRegLoss), lightly",
        LowerBound = 0,
        Factory = o => new VicRegLoss(o.Float("sim_coeff"), o.Float("std_coeff"), o.Float("cov_coeff"), o.Float("eps")),
    };

    public override LossDescriptor Descriptor => Entry;
}
