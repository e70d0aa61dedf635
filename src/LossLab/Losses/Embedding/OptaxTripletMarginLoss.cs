using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// Optax's triplet margin loss (<c>optax.losses.triplet_margin_loss(anchors, positives, negatives, norm_degree=2,
/// margin=1, eps=1e-6)</c>): ℓ = max(0, d(a, p) − d(a, n) + margin) with d(x, y) = (Σ|x − y|^q + eps)^(1/q). Unlike
/// PyTorch's <see cref="TripletMarginLoss"/>, eps is added once under the root (so d ≥ eps^(1/q) &gt; 0 and the gradient
/// is defined at x = y), not to every difference.
/// </summary>
/// <remarks>
/// Gradient: ∂d/∂x_i = sgn(u_i)|u_i|^(q−1)·(Σ|u|^q + eps)^(1/q − 1), u = x − y (for q = 2: u_i/d); the hinge passes it
/// where its argument is ≥ 0. Optax raises the signed difference to the power (for even q, the default 2, the same
/// thing); LossLab takes |u|^q, the norm the docstring describes, so odd or fractional degrees give a distance and not
/// NaN. Degrees below 1 would make the gradient infinite at u = 0 and are an error. Shapes (N, D) or (D), distances over
/// the last axis (Optax's <c>axis</c> is not offered: transpose first); default reduction <c>none</c> (Optax).
/// </remarks>
public sealed class OptaxTripletMarginLoss : Loss, ILossDefinition
{
    private readonly RootEpsDistance _distance;
    private readonly double _margin;
    private readonly Reduction _reduction;

    public OptaxTripletMarginLoss(double normDegree = 2, double margin = 1, double eps = 1e-6, Reduction reduction = Reduction.None)
    {
        _distance = new RootEpsDistance(normDegree, eps);
        _margin = margin;
        _reduction = reduction;
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
        => Triplets.Compute<T>(this, inputs, _distance, _margin, swap: false, _reduction, computeGradients, Triplets.OptaxNames);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "OptaxTripletMarginLoss",
        Aliases = ["optax.triplet_margin_loss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs =
        [
            new("anchors", InputKind.Floating, true, "embeddings (N, D) or (D)"),
            new("positives", InputKind.Floating, true, "same-class embeddings, same shape"),
            new("negatives", InputKind.Floating, true, "other-class embeddings, same shape"),
        ],
        Options =
        [
            OptionSpec.Choice("reduction", "none", "none (Optax: one value per triplet), mean or sum", "none", "mean", "sum"),
            OptionSpec.Float("norm_degree", 2, "q of the distance (Σ|x − y|^q + eps)^(1/q), ≥ 1"),
            OptionSpec.Float("margin", 1, "required gap between the negative and the positive distance"),
            OptionSpec.Float("eps", 1e-6, "added once under the root (≥ 0)"),
        ],
        Sample = (r, s) => Triplets.Sample(r, s, Triplets.OptaxNames),
        Formula = "ℓ = max(0, d(a, p) − d(a, n) + margin),  d(x, y) = (Σ|x − y|^q + eps)^(1/q)",
        Gradient = "∂d/∂x_i = sgn(u_i)|u_i|^(q−1)·(Σ|u|^q + eps)^(1/q − 1),  u = x − y",
        Reference = "optax.losses.triplet_margin_loss (Balntas et al., 2016)",
        Stability = "finite for every finite input (eps > 0 keeps d away from 0)",
        Libraries = "Optax",
        Factory = o => new OptaxTripletMarginLoss(o.Float("norm_degree"), o.Float("margin"), o.Float("eps"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}

/// <summary>d(x, y) = (Σ|x − y|^q + eps)^(1/q): Optax's distance, eps once under the root.</summary>
public sealed class RootEpsDistance : IEmbeddingDistance
{
    public RootEpsDistance(double q = 2, double eps = 1e-6)
    {
        if (!(q >= 1) || double.IsInfinity(q)) throw LossArgumentException.Value($"OptaxTripletMarginLoss: norm_degree must be a finite number ≥ 1, got {q}");
        if (!(eps >= 0) || double.IsInfinity(eps)) throw LossArgumentException.Value($"OptaxTripletMarginLoss: eps must be a finite number ≥ 0, got {eps}");
        Q = q;
        Eps = eps;
    }

    public double Q { get; }

    public double Eps { get; }

    /// <summary>
    /// (Σ|u_i|^q + eps)^(1/q) with u = x − y. q = 1 and 2 sum the powers as Optax; any other q takes the root of a
    /// log-sum-exp of q·log|u_i| and log eps, so that no power overflows (a large q gives max(max|u|, eps^(1/q))).
    /// </summary>
    public double Distance(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (Q == 1 || Q == 2)
        {
            double s = Eps;
            for (int i = 0; i < x.Length; i++)
            {
                double u = Math.Abs(x[i] - y[i]);
                s += Q == 2 ? u * u : u;
            }
            return Q == 2 ? Math.Sqrt(s) : s;
        }
        double top = Eps > 0 ? Math.Log(Eps) : double.NegativeInfinity;
        for (int i = 0; i < x.Length; i++) top = Math.Max(top, Q * Math.Log(Math.Abs(x[i] - y[i])));
        if (double.IsNegativeInfinity(top)) return 0;
        if (!double.IsFinite(top)) return top;   // ∞ or NaN inputs (allow_nonfinite)
        double sum = Eps > 0 ? Math.Exp(Math.Log(Eps) - top) : 0;
        for (int i = 0; i < x.Length; i++) sum += Math.Exp(Q * Math.Log(Math.Abs(x[i] - y[i])) - top);
        return Math.Exp((top + Math.Log(sum)) / Q);
    }

    public void Backward(ReadOnlySpan<double> x, ReadOnlySpan<double> y, double g, Span<double> gx, Span<double> gy)
    {
        double d = Distance(x, y);
        if (d == 0 || g == 0) return;   // eps = 0 and x = y: the subgradient 0
        for (int i = 0; i < x.Length; i++)
        {
            double u = x[i] - y[i];
            // ∂d/∂u = sgn(u)|u|^(q−1)·s^(1/q − 1) = sgn(u)(|u|/d)^(q−1), with |u| ≤ d: no power overflows.
            double du = Q == 1 ? Stable.Sign(u) : Q == 2 ? u / d : Stable.Sign(u) * Math.Pow(Math.Abs(u) / d, Q - 1);
            gx[i] += g * du;
            gy[i] -= g * du;
        }
    }
}
