using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Probabilistic;

/// <summary>The kernel of <see cref="KernelMmdLoss"/> (geomloss's SamplesLoss names).</summary>
public enum MmdKernel
{
    /// <summary>k(x, y) = e^{−|x − y|²/(2σ²)}.</summary>
    Gaussian,
    /// <summary>k(x, y) = e^{−|x − y|/σ}.</summary>
    Laplacian,
    /// <summary>k(x, y) = −|x − y|: the energy distance (no scale).</summary>
    Energy,
}

/// <summary>
/// Half the squared maximum mean discrepancy between two weighted point clouds, geomloss's kernel losses
/// (<c>SamplesLoss("gaussian" | "laplacian" | "energy", blur=σ)</c>): ½‖α − β‖²_k = ½·Σ α_i α_j k(x_i, x_j) +
/// ½·Σ β_i β_j k(y_i, y_j) − Σ α_i β_j k(x_i, y_j). It compares the clouds through the kernel's smoothing at scale σ:
/// cheap and unbiased by entropy, but blind to detail below σ (the Sinkhorn divergence interpolates between it and
/// optimal transport).
/// </summary>
/// <remarks>
/// <para><b>Gradient:</b> ∂/∂α_i = Σ_j α_j k(x_i, x_j) − Σ_j β_j k(x_i, y_j) (β likewise, with the signs of its own
/// terms); ∂/∂x_i = α_i·(Σ_j α_j ∇k(x_i, x_j) − Σ_j β_j ∇k(x_i, y_j)), with ∇k = −k·(x − y)/σ² (gaussian),
/// −k·(x − y)/(σ|x − y|) (laplacian), −(x − y)/|x − y| (energy), and 0 where two points coincide (geomloss's sqrt with
/// a zero slope at 0; a point against itself in the first sum). The weights are used as given (geomloss does not
/// normalize them); uniform 1/N and 1/M by default. One value per pair of clouds; O(N·M) kernel evaluations.</para>
/// </remarks>
public sealed class KernelMmdLoss(MmdKernel kernel = MmdKernel.Gaussian, double blur = 0.05) : Loss, ILossDefinition
{
    private const string Name = "KernelMmdLoss";

    public MmdKernel Kernel { get; } = kernel;

    public double Blur { get; } = blur > 0 && double.IsFinite(blur) ? blur : throw LossArgumentException.Value($"{Name}: blur must be a finite number > 0, got {blur}");

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (xs, ys, n, m, d, x, y) = PointClouds.Read(inputs, Name);
        double[] a = PointClouds.Weights(inputs, "x_weights", n, Name), b = PointClouds.Weights(inputs, "y_weights", m, Name);
        // ∂/∂α_i = Σ_j α_j k(x_i, x_j) − Σ_j β_j k(x_i, y_j); then value = ½⟨α, K_xx α⟩ + ½⟨β, K_yy β⟩ − ⟨α, K_xy β⟩.
        var ga = new double[n];
        var gb = new double[m];
        var gx = new double[n * d];
        var gy = new double[m * d];
        double value = 0;
        Pairs(x, n, x, n, d, a, a, 0.5, ga, null, gx, null);
        Pairs(y, m, y, m, d, b, b, 0.5, gb, null, gy, null);
        value += Dot(a, ga) + Dot(b, gb);   // the halves of the symmetric terms (ga, gb hold ½K·w so far)
        for (int i = 0; i < n; i++) ga[i] *= 2;
        for (int j = 0; j < m; j++) gb[j] *= 2;
        var cross = new double[n];
        var crossY = new double[m];
        Pairs(x, n, y, m, d, a, b, -1, cross, crossY, gx, gy);
        value += Dot(a, cross);
        for (int i = 0; i < n; i++) ga[i] += cross[i];
        for (int j = 0; j < m; j++) gb[j] += crossY[j];
        TensorData result = FromDoubles<T>([value], Shape.Scalar);
        if (!computeGradients) return Result(result);
        var grads = new List<(string, TensorData?)> { ("x", FromDoubles<T>(gx, xs)), ("y", FromDoubles<T>(gy, ys)) };
        if (inputs.Contains("x_weights")) grads.Add(("x_weights", FromDoubles<T>(ga, new Shape(n))));
        if (inputs.Contains("y_weights")) grads.Add(("y_weights", FromDoubles<T>(gb, new Shape(m))));
        return Result(result, [.. grads]);
    }

    /// <summary>
    /// For the kernel between u (nu, d) and v (nv, d) scaled by s: rowU_i += s·Σ_j wv_j k_ij, rowV_j += s·Σ_i wu_i k_ij
    /// (when given), gu_i += 2s·wu_i·Σ_j wv_j ∇k_ij for the symmetric case (s = ½: both arguments move) or s·… across
    /// (and gv_j −= the same pull).
    /// </summary>
    private void Pairs(double[] u, int nu, double[] v, int nv, int d, double[] wu, double[] wv, double s, double[] rowU, double[]? rowV, double[] gu, double[]? gv)
    {
        bool symmetric = rowV is null;
        for (int i = 0; i < nu; i++)
            for (int j = 0; j < nv; j++)
            {
                double sq = 0;
                for (int k = 0; k < d; k++) sq += (u[i * d + k] - v[j * d + k]) * (u[i * d + k] - v[j * d + k]);
                double dist = Math.Sqrt(sq);
                var (value, slope) = Kernel switch   // k and dk/d(dist)/dist, so that ∇_u k = slope·(u − v)
                {
                    MmdKernel.Gaussian => (Math.Exp(-0.5 * sq / (Blur * Blur)), -Math.Exp(-0.5 * sq / (Blur * Blur)) / (Blur * Blur)),
                    MmdKernel.Laplacian => (Math.Exp(-dist / Blur), dist > 0 ? -Math.Exp(-dist / Blur) / (Blur * dist) : 0),
                    _ => (-dist, dist > 0 ? -1 / dist : 0),
                };
                rowU[i] += s * wv[j] * value;
                if (rowV is not null) rowV[j] += s * wu[i] * value;
                double pull = (symmetric ? 2 * s : s) * wu[i] * wv[j] * slope;
                if (pull == 0) continue;
                for (int k = 0; k < d; k++)
                {
                    double g = pull * (u[i * d + k] - v[j * d + k]);
                    gu[i * d + k] += g;
                    if (gv is not null) gv[j * d + k] -= g;
                }
            }
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["kernel_mmd_loss", "mmd_loss", "geomloss.SamplesLoss.gaussian", "energy_distance_loss"],
        Family = LossFamily.Probabilistic,
        Task = LossTask.Distribution,
        Inputs = PointClouds.Inputs("as given"),
        Options =
        [
            OptionSpec.Choice("kernel", "gaussian", "gaussian e^{−|x − y|²/(2σ²)}, laplacian e^{−|x − y|/σ} or energy −|x − y|", "gaussian", "laplacian", "energy"),
            OptionSpec.Float("blur", 0.05, "σ, the kernel's scale (geomloss's blur; unused by energy)"),
        ],
        Sample = (r, s) => PointClouds.Sample(r, s, 0.2),
        Formula = "ℓ = ½·Σ α_i α_j k(x_i, x_j) + ½·Σ β_i β_j k(y_i, y_j) − Σ α_i β_j k(x_i, y_j) = ½‖α − β‖²_k",
        Gradient = "∂/∂α_i = Σ_j α_j k(x_i, x_j) − Σ_j β_j k(x_i, y_j);  ∂/∂x_i = α_i·(Σ_j α_j ∇k(x_i, x_j) − Σ_j β_j ∇k(x_i, y_j)), 0 where points coincide",
        Reference = "Gretton et al., A Kernel Two-Sample Test, JMLR 2012; geomloss SamplesLoss(\"gaussian\" | \"laplacian\" | \"energy\")",
        Stability = "bounded kernels (energy: distances); finite for every finite input",
        LowerBound = double.NegativeInfinity,   // ≥ 0 for the gaussian and laplacian kernels; energy's only when both clouds weigh the same
        Libraries = "geomloss, torch-two-sample, many domain-adaptation codebases",
        Factory = o => new KernelMmdLoss(Enum.Parse<MmdKernel>(o.Choice("kernel"), ignoreCase: true), o.Float("blur")),
    };

    public override LossDescriptor Descriptor => Entry;
}
