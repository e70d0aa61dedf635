using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Sequence;

/// <summary>
/// Soft-DTW (Cuturi &amp; Blondel, Soft-DTW: a Differentiable Loss Function for Time-Series, ICML 2017; Maghoumi's
/// pytorch-softdtw-cuda <c>SoftDTW(gamma=1.0, normalize=False, bandwidth=None)</c>, tslearn's <c>soft_dtw</c>): dynamic
/// time warping with the hard minimum over alignments replaced by a soft minimum, so that the best-alignment cost of two
/// sequences of different lengths and speeds becomes a smooth function of both.
/// </summary>
/// <remarks>
/// <para><b>Definition</b> (x (n, d), y (m, d), costs D_ij = ‖x_i − y_j‖²): R_00 = 0, R_i0 = R_0j = ∞,
/// R_ij = D_ij + min_γ(R_{i−1,j−1}, R_{i−1,j}, R_{i,j−1}) with min_γ(a) = −γ·log Σ e^{−a_k/γ}; the loss is R_nm. With a
/// bandwidth b &gt; 0, cells with |i − j| &gt; b are left out (∞; the reference's Sakoe–Chiba pruning, which 0 turns off). normalize gives the
/// soft-DTW divergence R(x, y) − ½(R(x, x) + R(y, y)) (Blondel et al. 2021), which is 0 for x = y.</para>
/// <para><b>Gradient</b> (the paper's Algorithm 2): E = ∂R_nm/∂D by the backward recursion E_nm = 1,
/// E_ij = Σ over the successors (i', j') of E_i'j'·e^{(R_i'j' − R_ij − D_i'j')/γ}, unreachable cells contributing 0; then
/// ∂/∂x_i = Σ_j E_ij·2(x_i − y_j) and ∂/∂y_j = −Σ_i E_ij·2(x_i − y_j). As γ → 0 it is DTW with its (sub)gradient.</para>
/// <para>Inputs are batches (N, n, d) and (N, m, d), or one pair (n, d) and (m, d); one value per pair, then the
/// reduction (the reference returns the per-pair vector: none; LossLab's default is its mean).</para>
/// </remarks>
public sealed class SoftDtwLoss : Loss, ILossDefinition
{
    private const string Name = "SoftDtwLoss";
    private readonly double _gamma;
    private readonly bool _normalize;
    private readonly int? _bandwidth;
    private readonly Reduction _reduction;

    public SoftDtwLoss(double gamma = 1.0, bool normalize = false, int? bandwidth = null, Reduction reduction = Reduction.Mean)
    {
        if (!(gamma > 0 && double.IsFinite(gamma))) throw LossArgumentException.Value($"{Name}: gamma must be a finite number > 0, got {gamma}");
        if (bandwidth is int b && b < 0) throw LossArgumentException.Value($"{Name}: bandwidth must be ≥ 0 or None, got {b}");
        if (reduction == Reduction.BatchMean) throw LossArgumentException.Value($"{Name}: reduction must be none, mean or sum");
        (_gamma, _normalize, _bandwidth, _reduction) = (gamma, normalize, bandwidth, reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        TensorData xT = inputs["x"], yT = inputs["y"];
        bool single = xT.Shape.Rank == 2;
        if (!(xT.Shape.Rank is 2 or 3) || yT.Shape.Rank != xT.Shape.Rank)
            throw LossArgumentException.Shape($"{Name}: 'x' and 'y' must be sequences (n, d) and (m, d), or batches (N, n, d) and (N, m, d), got {xT.Shape} and {yT.Shape}");
        int batch = single ? 1 : xT.Shape[0], n = xT.Shape[^2], m = yT.Shape[^2], d = xT.Shape[^1];
        if ((!single && yT.Shape[0] != batch) || yT.Shape[^1] != d)
            throw LossArgumentException.Shape($"{Name}: 'y' has shape {yT.Shape}; it must match 'x' {xT.Shape} in the batch and feature sizes");
        if (n == 0 || m == 0) throw LossArgumentException.Shape($"{Name}: sequences must have at least one step, got lengths {n} and {m}");
        if (_bandwidth is int b && b > 0 && Math.Abs(n - m) > b)
            throw LossArgumentException.Value($"{Name}: bandwidth {b} leaves no alignment between lengths {n} and {m} (it must be at least |n − m|)");
        double[] x = xT.ToArray<double>(), y = yT.ToArray<double>();
        var losses = new double[batch];
        double[] gx = computeGradients ? new double[x.Length] : [], gy = computeGradients ? new double[y.Length] : [];
        for (int p = 0; p < batch; p++)
        {
            int xo = p * n * d, yo = p * m * d;
            losses[p] = Accumulate(x, xo, n, y, yo, m, d, computeGradients ? 1 : 0, gx, gy);
            if (_normalize)
            {
                losses[p] -= 0.5 * Accumulate(x, xo, n, x, xo, n, d, computeGradients ? -0.5 : 0, gx, gx);
                losses[p] -= 0.5 * Accumulate(y, yo, m, y, yo, m, d, computeGradients ? -0.5 : 0, gy, gy);
            }
        }
        var (value, scale) = ReduceRows<T>(losses, _reduction, single ? Shape.Scalar : new Shape(batch));
        if (!computeGradients) return Result(value);
        for (int q = 0; q < gx.Length; q++) gx[q] *= scale;
        for (int q = 0; q < gy.Length; q++) gy[q] *= scale;
        return Result(value, ("x", FromDoubles<T>(gx, xT.Shape)), ("y", FromDoubles<T>(gy, yT.Shape)));
    }

    /// <summary>
    /// Soft-DTW of a (la, d) at offset ao against b (lb, d) at bo; when <paramref name="weight"/> ≠ 0, adds weight·∂/∂a and
    /// weight·∂/∂b into ga and gb (the same array for a sequence against itself).
    /// </summary>
    private double Accumulate(double[] a, int ao, int la, double[] b, int bo, int lb, int d, double weight, double[] ga, double[] gb)
    {
        double gamma = _gamma;
        var cost = new double[(la + 2) * (lb + 2)];   // D padded: row and column la + 1, lb + 1 for the backward pass
        var r = new double[(la + 2) * (lb + 2)];
        int w = lb + 2;
        Array.Fill(r, double.PositiveInfinity);
        r[0] = 0;
        for (int i = 1; i <= la; i++)
            for (int j = 1; j <= lb; j++)
            {
                if (_bandwidth is int band && band > 0 && Math.Abs(i - j) > band) continue;   // 0 prunes nothing, as the reference
                double c = 0;
                for (int k = 0; k < d; k++) { double diff = a[ao + (i - 1) * d + k] - b[bo + (j - 1) * d + k]; c += diff * diff; }
                cost[i * w + j] = c;
                r[i * w + j] = c + SoftMin(r[(i - 1) * w + j - 1], r[(i - 1) * w + j], r[i * w + j - 1], gamma);
            }
        double value = r[la * w + lb];
        if (weight == 0) return value;
        // Backward (Algorithm 2): unreachable cells as −∞ so that their terms vanish; E at (la + 1, lb + 1) seeds 1.
        var e = new double[(la + 2) * (lb + 2)];
        for (int q = 0; q < r.Length; q++) if (double.IsPositiveInfinity(r[q])) r[q] = double.NegativeInfinity;
        for (int i = 0; i <= la + 1; i++) r[i * w + lb + 1] = double.NegativeInfinity;
        for (int j = 0; j <= lb + 1; j++) r[(la + 1) * w + j] = double.NegativeInfinity;
        r[(la + 1) * w + lb + 1] = value;
        e[(la + 1) * w + lb + 1] = 1;
        for (int j = lb; j >= 1; j--)
            for (int i = la; i >= 1; i--)
            {
                double here = r[i * w + j];
                if (double.IsNegativeInfinity(here)) continue;
                double down = Math.Exp((r[(i + 1) * w + j] - here - cost[(i + 1) * w + j]) / gamma);
                double right = Math.Exp((r[i * w + j + 1] - here - cost[i * w + j + 1]) / gamma);
                double diagonal = Math.Exp((r[(i + 1) * w + j + 1] - here - cost[(i + 1) * w + j + 1]) / gamma);
                e[i * w + j] = e[(i + 1) * w + j] * down + e[i * w + j + 1] * right + e[(i + 1) * w + j + 1] * diagonal;
            }
        for (int i = 1; i <= la; i++)
            for (int j = 1; j <= lb; j++)
            {
                double eij = e[i * w + j];
                if (eij == 0) continue;
                for (int k = 0; k < d; k++)
                {
                    double g = weight * eij * 2 * (a[ao + (i - 1) * d + k] - b[bo + (j - 1) * d + k]);
                    ga[ao + (i - 1) * d + k] += g;
                    gb[bo + (j - 1) * d + k] -= g;
                }
            }
        return value;
    }

    /// <summary>min_γ(a, b, c) = −γ·log(e^{−a/γ} + e^{−b/γ} + e^{−c/γ}), by the minimum; ∞ when all three are.</summary>
    private static double SoftMin(double a, double b, double c, double gamma)
    {
        double min = Math.Min(a, Math.Min(b, c));
        if (double.IsPositiveInfinity(min)) return min;
        return min - gamma * Math.Log(Math.Exp(-(a - min) / gamma) + Math.Exp(-(b - min) / gamma) + Math.Exp(-(c - min) / gamma));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["soft_dtw_loss", "soft_dtw", "SoftDTW", "sdtw"],
        Family = LossFamily.Sequence,
        Task = LossTask.Sequence,
        Inputs =
        [
            new("x", InputKind.Floating, true, "sequences (N, n, d), or one (n, d)"),
            new("y", InputKind.Floating, true, "sequences (N, m, d), or one (m, d): the lengths may differ"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("gamma", 1.0, "γ > 0, the soft minimum's smoothing (→ 0: DTW)"),
            OptionSpec.Bool("normalize", false, "the soft-DTW divergence R(x, y) − ½(R(x, x) + R(y, y)), 0 for x = y"),
            OptionSpec.OptionalInt("bandwidth", "Sakoe–Chiba band: leave out the cells with |i − j| above it; None or 0: all"),
        ],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 3 ? s : new Shape(3, 5, 2);
            Shape y = new(x[0], Math.Max(1, x[1] - 1), x[2]);
            return new LossInputs().Add("x", Samples.Normal(r, x)).Add("y", Samples.Normal(r, y));
        },
        Formula = "R_ij = ‖x_i − y_j‖² + min_γ(R_{i−1,j−1}, R_{i−1,j}, R_{i,j−1}),  ℓ = R_nm,  min_γ = −γ·log Σ e^{−·/γ}",
        Gradient = "E = ∂R_nm/∂D by the backward recursion;  ∂ℓ/∂x_i = Σ_j E_ij·2(x_i − y_j)",
        Reference = "Cuturi & Blondel, Soft-DTW, ICML 2017; pytorch-softdtw-cuda (SoftDTW); tslearn (soft_dtw)",
        Stability = "soft minimum by the smallest of its three arguments, in double: finite for every finite input",
        LowerBound = double.NegativeInfinity,   // a soft minimum can fall below the hard one; the divergence is ≥ 0
        Libraries = "pytorch-softdtw-cuda, tslearn, sdtw-pytorch, Blondel's soft-dtw",
        Factory = o => new SoftDtwLoss(o.Float("gamma"), o.Bool("normalize"), o.NullableInt("bandwidth") is long band ? (int)Math.Min(band, int.MaxValue) : null, o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
