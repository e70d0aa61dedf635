using System.Numerics.Tensors;
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
/// normalize them); uniform 1/N and 1/M by default. One value per pair of clouds; (N + M)² kernel evaluations with the
/// gradients, on double lanes and both cores (values under e^−700 ≈ 10⁻³⁰⁴ count as 0).</para>
/// </remarks>
public sealed partial class KernelMmdLoss(MmdKernel kernel = MmdKernel.Gaussian, double blur = 0.05) : Loss, ILossDefinition
{
    private const string Name = "KernelMmdLoss";

    public MmdKernel Kernel { get; } = kernel;

    public double Blur { get; } = blur > 0 && double.IsFinite(blur)
        ? (kernel != MmdKernel.Gaussian || double.IsFinite(1 / (blur * blur)) ? blur
            // The gaussian divides the squared distance by blur²: at a blur below 1.5e-154 that is 0 and the kernel NaN.
            : throw LossArgumentException.Value($"{Name}: blur = {blur} squares to {blur * blur}, whose reciprocal overflows; the gaussian kernel needs blur ≥ 1.5e-154"))
        : throw LossArgumentException.Value($"{Name}: blur must be a finite number > 0, got {blur}");

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (xs, ys, n, m, d, x, y) = PointClouds.Read(inputs, Name);
        double[] a = PointClouds.Weights(inputs, "x_weights", n, Name), b = PointClouds.Weights(inputs, "y_weights", m, Name);
        double[] xt = ByCoordinate(x, n, d), yt = ByCoordinate(y, m, d);
        // Each point's two sums against both clouds: kxx_i = Σ_j α_j k(x_i, x_j), kxy_i = Σ_j β_j k(x_i, y_j), and for y
        // kyy_j and kyx_j. Then value = ½⟨α, kxx⟩ + ½⟨β, kyy⟩ − ⟨α, kxy⟩, ∂/∂α = kxx − kxy, ∂/∂β = kyy − kyx, and each
        // point's pull gathered from its own row: ∂/∂x_i = α_i·Σ_j α_j ∇k(x_i, x_j) − α_i·Σ_j β_j ∇k(x_i, y_j) (the
        // symmetric term's two halves, x_i on either side, make one full pull). The cross kernel is evaluated from both
        // sides (once more than a shared loop would) so that every row writes only its own point.
        double[]? gx = computeGradients ? new double[n * d] : null, gy = computeGradients ? new double[m * d] : null;
        double[] kxx = new double[n], kxy = new double[n], kyy = new double[m], kyx = computeGradients ? new double[m] : [];
        Side(x, n, d, xt, a, kxx, a, 1, gx);
        Side(y, m, d, yt, b, kyy, b, 1, gy);
        Side(x, n, d, yt, b, kxy, a, -1, gx);
        if (computeGradients) Side(y, m, d, xt, a, kyx, b, -1, gy);
        double value = 0.5 * Dot(a, kxx) + 0.5 * Dot(b, kyy) - Dot(a, kxy);
        TensorData result = FromDoubles<T>([value], Shape.Scalar);
        if (!computeGradients) return Result(result);
        var grads = new List<(string, TensorData?)> { ("x", FromDoubles<T>(gx!, xs)), ("y", FromDoubles<T>(gy!, ys)) };
        if (inputs.Contains("x_weights")) grads.Add(("x_weights", FromDoubles<T>(Difference(kxx, kxy), new Shape(n))));
        if (inputs.Contains("y_weights")) grads.Add(("y_weights", FromDoubles<T>(Difference(kyy, kyx), new Shape(m))));
        return Result(result, [.. grads]);
    }

    private static double[] Difference(double[] a, double[] b)
    {
        var r = new double[a.Length];
        TensorPrimitives.Subtract<double>(a, b, r);
        return r;
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
