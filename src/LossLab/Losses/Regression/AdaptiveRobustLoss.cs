using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Regression;

/// <summary>
/// Barron's adaptive robust loss (A General and Adaptive Robust Loss Function, CVPR 2019; robust_loss_pytorch's
/// <c>AdaptiveLossFunction.lossfun</c> and <c>distribution.nllfun</c>): the negative log-likelihood of a residual x under
/// the density e^{−ρ(x/c, α)}/(c·Z(α)), so that the shape α and the scale c of <see cref="GeneralRobustLoss"/> can be
/// learned with the model: ℓ = ρ(x/c, α) + log c + log Z(α), one α and c per dimension (the last axis).
/// </summary>
/// <remarks>
/// <para><b>Why the partition function:</b> ρ alone would be minimized by making every residual cheap (α → −∞, c → ∞);
/// log c + log Z(α) charges for that, as a likelihood does. Z(α) = ∫ e^{−ρ(x, α)} dx is finite only for α ≥ 0, which
/// is the shape's range here (the reference keeps α in [0.001, 1.999] through a sigmoid of a latent variable and c above
/// 1e-5 through a softplus; those reparametrizations are the caller's: this loss takes α and c themselves).</para>
/// <para><b>Gradients</b> (u = (x/c)², ρ_u = ∂ρ/∂u = ½(u/b + 1)^{α/2 − 1}): ∂ℓ/∂x = 2ρ_u·x/c², ∂ℓ/∂c = 1/c −
/// 2ρ_u·u/c, ∂ℓ/∂α = ∂ρ/∂α + d log Z/dα (<see cref="RobustDistribution"/>: ρ's α-derivative without its cancellation
/// near 0, and log Z by quadrature). α and c are summed over the rows they serve.</para>
/// <para><b>Against the reference:</b> it interpolates log Z with a cubic spline fitted once; this computes the integral
/// (to about 1e-14). ρ is GeneralRobustLoss's, with the reference's ε guard on |α − 2|, which also keeps ∂ρ/∂α finite at
/// α = 2 (unguarded it grows like log(1/|α − 2|)). A residual so large that ρ overflows double (|x/c| beyond about
/// 10^{300/α} for α &gt; 2) is an error naming it.</para>
/// </remarks>
public sealed class AdaptiveRobustLoss(Reduction reduction = Reduction.Mean) : Loss, ILossDefinition
{
    private const string Name = "AdaptiveRobustLoss";

    public Reduction Reduction { get; } = reduction;

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        Shape shape = inputs["x"].Shape;
        int dims = shape.Rank == 0 ? 1 : shape[^1], count = shape.Numel;
        double[] x = inputs.Floating<double>("x");
        double[] alpha = PerDimension(inputs, "alpha", dims, shape), scale = PerDimension(inputs, "scale", dims, shape);
        for (int j = 0; j < alpha.Length; j++)
        {
            if (!(alpha[j] >= 0)) throw LossArgumentException.Value($"{Name}: 'alpha'[{j}] = {alpha[j]}; the shape must be ≥ 0 (the density's partition function diverges below 0)");
        }
        for (int j = 0; j < scale.Length; j++)
        {
            if (!(scale[j] > 0)) throw LossArgumentException.Value($"{Name}: 'scale'[{j}] = {scale[j]}; the scale must be > 0");
        }
        // One log Z (a quadrature) per distinct α: usually one per dimension.
        var logZ = new double[alpha.Length];
        var dLogZ = new double[alpha.Length];
        RobustDistribution.LogPartitions(alpha, logZ, dLogZ);
        var loss = new T[count];
        var dx = new double[count];
        var da = new double[count];
        var dc = new double[count];
        for (int i = 0; i < count; i++)
        {
            int ja = alpha.Length == 1 ? 0 : i % dims, jc = scale.Length == 1 ? 0 : i % dims;
            double c = scale[jc], r = x[i] / c, u = r * r;
            double rho = RobustDistribution.Rho(u, alpha[ja], out double rhoU, out double rhoA);
            if (!double.IsFinite(rho))
                throw LossArgumentException.Value($"{Name}: 'x'[{i}] = {x[i]}: ρ overflows double at x/c = {r} with α = {alpha[ja]}; rescale the residuals or lower α");
            loss[i] = T.CreateTruncating(rho + Math.Log(c) + logZ[ja]);
            dx[i] = 2 * rhoU * r / c;
            dc[i] = 1 / c - 2 * rhoU * u / c;
            da[i] = rhoA + dLogZ[ja];
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, Reduction, count);
        TensorData value = ValueTensor(Reduction, reduced, loss, shape);
        if (!computeGradients) return Result(value);
        var gx = new T[count];
        var ga = new double[alpha.Length];
        var gc = new double[scale.Length];
        for (int i = 0; i < count; i++)
        {
            gx[i] = T.CreateTruncating(reduced.Scale * dx[i]);
            ga[alpha.Length == 1 ? 0 : i % dims] += reduced.Scale * da[i];
            gc[scale.Length == 1 ? 0 : i % dims] += reduced.Scale * dc[i];
        }
        return Result(value, ("x", Wrap(gx, shape)), ("alpha", FromDoubles<T>(ga, inputs["alpha"].Shape)), ("scale", FromDoubles<T>(gc, inputs["scale"].Shape)));
    }

    /// <summary>A per-dimension parameter: one value () for every dimension, or one per dimension (D).</summary>
    private static double[] PerDimension(LossInputs inputs, string name, int dims, Shape xShape)
    {
        Shape s = inputs[name].Shape;
        if (s.Rank == 0 || s.Rank == 1 && s[0] == dims) return inputs.Floating<double>(name);
        throw LossArgumentException.Shape($"{Name}: '{name}' must be one value () or one per dimension ({dims}) for x of shape {xShape}, got shape {s}");
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["adaptive_robust_loss", "AdaptiveLossFunction", "barron_adaptive_loss", "robust_loss_pytorch.adaptive"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs =
        [
            new("x", InputKind.Floating, true, "residuals (…, D): prediction − target"),
            new("alpha", InputKind.Floating, true, "the shape α ≥ 0, one per dimension (D) or one for all (): 0 Cauchy, 1 Charbonnier, 2 normal"),
            new("scale", InputKind.Floating, true, "the scale c > 0, one per dimension (D) or one for all ()"),
        ],
        Options = [OptionSpec.Reduction()],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 5, 3);
            int d = x.Rank == 0 ? 1 : x[^1];
            return new LossInputs().Add("x", Samples.Normal(r, x, 2)).Add("alpha", Samples.Uniform(r, new Shape(d), 0.05, 1.95)).Add("scale", Samples.Uniform(r, new Shape(d), 0.5, 2));
        },
        Formula = "ℓ = ρ(x/c, α) + log c + log Z(α),  ρ Barron's general robust loss,  Z(α) = ∫ e^{−ρ(t, α)} dt",
        Gradient = "∂ℓ/∂x = ρ′·x/c²;  ∂ℓ/∂c = 1/c − ρ′·u/c;  ∂ℓ/∂α = ∂ρ/∂α + d log Z/dα  (ρ′ = (u/b + 1)^{α/2 − 1}, u = (x/c)²)",
        Reference = "Barron, A General and Adaptive Robust Loss Function, CVPR 2019 (robust_loss_pytorch AdaptiveLossFunction, distribution.nllfun)",
        Stability = "ρ in expm1/log1p form (exact for small residuals, no 0/0 at α = 0); log Z by double-exponential quadrature; ρ's overflow is an error",
        LowerBound = double.NegativeInfinity,   // log c → −∞ as the scale shrinks
        Libraries = "robust_loss_pytorch, google-research robust_loss (TensorFlow, JAX)",
        Factory = o => new AdaptiveRobustLoss(o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
