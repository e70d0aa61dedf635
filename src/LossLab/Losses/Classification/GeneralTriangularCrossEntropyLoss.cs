using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// General triangular unimodal regularised cross-entropy (Vargas et al., Generalised triangular distributions for ordinal
/// deep learning, 2023; dlordinal's <c>GeneralTriangularCrossEntropyLoss</c>, and <c>GeneralTriangularLoss</c> with
/// <c>CrossEntropyLoss</c> as base_loss): as the triangular loss, but each class chooses the mass its distribution puts
/// on the class below and on the class above. [0, 1] is cut into K equal intervals; class j (1-based) has the mode at its
/// interval's centre c = (2j − 1)/2K and ends a &lt; (j − 1)/K, b &gt; j/K such that the mass below its interval is
/// α_left and the mass above it α_right.
/// </summary>
/// <remarks>
/// <para><b>alphas</b> is dlordinal's vector of 2K values: class j takes α_left = alphas[2j − 1] and α_right = alphas[2j]
/// (0-based indices; alphas[0] is unused and the last class has no right side), as dlordinal reads it. The first class is
/// dlordinal's (a, c) = (0, 0), b = 1/((1 − √α_right)·K); the last a = 1 − 1/(K(1 − √α_left)), b = c = 1.</para>
/// <para>For an inner class, with u = L − a, v = b − R and h = 1/2K (L, R its interval's ends), the two masses are
/// u² = α_left·(u + v + 2h)(u + h) and v² = α_right·(u + v + 2h)(v + h): each is a quadratic in one unknown given the
/// other, with one non-negative root. dlordinal solves the system with sympy (nsolve from (1, 1), then every solution
/// with a &lt; L and b &gt; R); here v is found by bisection on v ↦ v(u(v)) − v, whose root is that solution (the
/// masses grow with both ends, so there is one). α = 0 on a side puts that end on the interval's edge (dlordinal divides
/// by zero there). The soft labels stay in double where dlordinal rounds them to float32.</para>
/// </remarks>
public sealed class GeneralTriangularCrossEntropyLoss : UnimodalSoftLabelLoss, ILossDefinition
{
    private readonly double[]? _alphas;

    public GeneralTriangularCrossEntropyLoss(TensorData? alphas = null, double eta = 1, TensorData? weight = null, double labelSmoothing = 0, Reduction reduction = Reduction.Mean)
        : base(eta, weight, labelSmoothing, reduction)
    {
        if (alphas is null) return;
        if (alphas.Shape.Rank != 1 || alphas.Shape[0] < 4 || alphas.Shape[0] % 2 != 0)
            throw LossArgumentException.Shape($"GeneralTriangularCrossEntropyLoss: alphas must be dlordinal's vector of 2K values (K ≥ 2 classes), got shape {alphas.Shape}");
        _alphas = alphas.ToArray<double>();
        for (int i = 0; i < _alphas.Length; i++)
        {
            if (!(_alphas[i] >= 0 && _alphas[i] < 0.5))
                throw LossArgumentException.Value($"GeneralTriangularCrossEntropyLoss: alphas[{i}] = {_alphas[i]}; a side's mass must be in [0, 0.5)");
        }
    }

    protected override double[,] SoftLabels(int classes)
    {
        if (_alphas is not null && _alphas.Length != 2 * classes)
            throw LossArgumentException.Shape($"GeneralTriangularCrossEntropyLoss: alphas holds {_alphas.Length} values but the input has {classes} classes (it needs 2K = {2 * classes})");
        return Probabilities(classes, _alphas ?? Uniform(classes));
    }

    /// <summary>The default: 0.05 on each inner side of every class (the triangular loss's default α₂).</summary>
    private static double[] Uniform(int k) => [.. Enumerable.Range(0, 2 * k).Select(i => i == 0 || i == 2 * k - 1 ? 0.0 : 0.05)];

    /// <summary>Row j: the class's triangular distribution's mass on the K intervals.</summary>
    internal static double[,] Probabilities(int k, double[] alphas)
    {
        double[] t = IntervalEnds(k);
        var s = new double[k, k];
        for (int j = 1; j <= k; j++)
        {
            (double a, double b, double c) = j == 1 ? (0.0, 1.0 / ((1 - Math.Sqrt(alphas[2])) * k), 0.0)
                : j == k ? (1 - 1.0 / (k * (1 - Math.Sqrt(alphas[2 * k - 1]))), 1.0, 1.0)
                : Inner(k, j, alphas[2 * j - 1], alphas[2 * j]);
            for (int i = 0; i < k; i++) s[j - 1, i] = TriangularCrossEntropyLoss.Cdf(t[i + 1], a, b, c) - TriangularCrossEntropyLoss.Cdf(t[i], a, b, c);
        }
        return s;
    }

    /// <summary>(a, b, c) of inner class j: the ends whose outer masses are α_left and α_right.</summary>
    internal static (double A, double B, double C) Inner(int k, int j, double alphaLeft, double alphaRight)
    {
        double h = 0.5 / k, left = (j - 1.0) / k, right = (double)j / k;
        // u from v (and v from u): the non-negative root of u²(1 − α) − α(v + 3h)u − αh(v + 2h) = 0.
        static double Root(double alpha, double other, double h)
        {
            double p = alpha * (other + 3 * h), q = alpha * h * (other + 2 * h);
            return (p + Math.Sqrt(p * p + 4 * (1 - alpha) * q)) / (2 * (1 - alpha));
        }
        // φ(v) = v(u(v)) − v is positive at 0 and falls below 0: its slope is under 1 for masses under ½. Bisect to the last bit.
        double lo = 0, hi = h;
        while (Root(alphaRight, Root(alphaLeft, hi, h), h) - hi > 0) hi *= 2;
        for (int it = 0; it < 200 && hi - lo > 0; it++)
        {
            double mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) break;
            if (Root(alphaRight, Root(alphaLeft, mid, h), h) - mid > 0) lo = mid;
            else hi = mid;
        }
        double v = 0.5 * (lo + hi), u = Root(alphaLeft, v, h);
        return (left - u, right + v, 0.5 * (left + right));
    }

    public static LossDescriptor Entry { get; } = Describe(
        "GeneralTriangularCrossEntropyLoss",
        ["general_triangular_cross_entropy_loss", "general_triangular_ce_loss", "GeneralTriangularLoss"],
        [OptionSpec.Tensor("alphas", "dlordinal's 2K masses: class j's below its interval at [2j − 1], above at [2j] (default 0.05 each)")],
        "ℓ = CE(x, (1 − η)·onehot(y) + η·T_y),  T_y = the mass on K equal intervals of a triangular distribution with mode at class y's centre and outer masses α_left, α_right",
        "Vargas et al., Generalised triangular distributions for ordinal deep learning: novel proposal and optimisation, Information Sciences 2023; dlordinal GeneralTriangularCrossEntropyLoss",
        "dlordinal (GeneralTriangularCrossEntropyLoss, GeneralTriangularLoss)",
        o => new GeneralTriangularCrossEntropyLoss(o.Tensor("alphas"), o.Float("eta"), o.Tensor("weight"), o.Float("label_smoothing"), o.Reduction));

    public override LossDescriptor Descriptor => Entry;
}
