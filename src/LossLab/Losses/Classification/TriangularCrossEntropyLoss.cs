using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Triangular unimodal regularised cross-entropy (Vargas et al., Soft labelling based on triangular distributions for
/// ordinal classification, Information Fusion 2023; dlordinal's <c>TriangularCrossEntropyLoss</c>): [0, 1] is cut into K
/// equal intervals, class y gets a triangular distribution (a_y, b_y, mode c_y) whose mass outside its own interval is
/// α₂ on each inner side, and row y of the soft labels is that distribution's mass on each interval.
/// </summary>
/// <remarks>
/// The parameters follow dlordinal's get_triangular_probabilities: α₁ and α₃ (the first and last classes' outer mass)
/// from α₂, a_j and b_j by the ± root that lands on the right side of the class's interval, the interval ends
/// linspace(10⁻⁹, 1 − 10⁻⁹, K + 1), and its CDF, which gives 1 at x = c exactly (as dlordinal's does).
/// </remarks>
public sealed class TriangularCrossEntropyLoss : UnimodalSoftLabelLoss, ILossDefinition
{
    private readonly double _alpha2;

    public TriangularCrossEntropyLoss(double eta = 1, double alpha2 = 0.05, TensorData? weight = null, double labelSmoothing = 0, Reduction reduction = Reduction.Mean)
        : base(eta, weight, labelSmoothing, reduction)
    {
        if (!(alpha2 >= 0 && alpha2 < 0.5)) throw LossArgumentException.Value($"TriangularCrossEntropyLoss: alpha2 must be in [0, 0.5) (the mass each neighbour gets), got {alpha2}");
        _alpha2 = alpha2;
    }

    protected override double[,] SoftLabels(int classes) => Probabilities(classes, _alpha2);

    internal static double[,] Probabilities(int j, double alpha2)
    {
        double r2 = Math.Sqrt(2 * alpha2), den = 2.0 * j * (1 - 2 * alpha2);
        double cMinus = (1 - 2 * alpha2) * (2 * alpha2 - r2);
        double alpha1 = Math.Pow((1 - Math.Sqrt(1 - 4 * cMinus)) / 2, 2);
        double c1 = Math.Pow((j - 1.0) / j, 2) * (1 - 2 * alpha2) * (r2 * (-1 + r2));
        double alpha3 = Math.Pow((1 - Math.Sqrt(1 - 4 * c1)) / 2, 2);
        double A(int q)
        {
            double num = 2.0 * q - 2 - 4 * q * alpha2 + 2 * alpha2;
            return (num + r2) / den < (q - 1.0) / j ? (num + r2) / den : (num - r2) / den;
        }
        double B(int q)
        {
            double num = 2.0 * q - 4 * q * alpha2 + 2 * alpha2;
            return (num + r2) / den > (double)q / j ? (num + r2) / den : (num - r2) / den;
        }
        double aPlus = 1.0 + 1.0 / (j * (Math.Sqrt(alpha3) - 1.0)), aMinus = 1.0 + 1.0 / (-j * (Math.Sqrt(alpha3) - 1.0));
        double aLast = aPlus > 0 ? aPlus : aMinus;
        double[] points = IntervalEnds(j);
        var s = new double[j, j];
        for (int q = 1; q <= j; q++)
        {
            (double a, double b, double c) = q == 1 ? (0.0, 1.0 / ((1 - Math.Sqrt(alpha1)) * j), 0.0)
                : q == j ? (aLast, 1.0, 1.0)
                : (A(q), B(q), (A(q) + B(q)) / 2);
            for (int i = 0; i < j; i++) s[q - 1, i] = Cdf(points[i + 1], a, b, c) - Cdf(points[i], a, b, c);
        }
        foreach (double v in s)
        {
            if (!double.IsFinite(v)) throw LossArgumentException.Value($"TriangularCrossEntropyLoss: alpha2 = {alpha2} gives no triangular soft labels for {j} classes");
        }
        return s;
    }

    internal static double Cdf(double x, double a, double b, double c)
    {
        if (x <= a) return 0;
        if (a < x && x < c) return (x - a) * (x - a) / ((b - a) * (c - a));
        if (c < x && x < b) return 1 - (b - x) * (b - x) / ((b - a) * (b - c));
        return 1;
    }

    public static LossDescriptor Entry { get; } = Describe(
        "TriangularCrossEntropyLoss",
        ["triangular_cross_entropy_loss", "triangular_ce_loss", "TriangularLoss"],
        [OptionSpec.Float("alpha2", 0.05, "α₂ in [0, 0.5): the soft label's mass on each neighbouring class")],
        "ℓ = CE(x, (1 − η)·onehot(y) + η·T_y),  T_y = a triangular distribution's mass on K equal intervals of [0, 1]",
        "Vargas et al., Soft labelling based on triangular distributions for ordinal classification, Information Fusion 2023; dlordinal TriangularCrossEntropyLoss",
        "dlordinal (TriangularCrossEntropyLoss)",
        o => new TriangularCrossEntropyLoss(o.Float("eta"), o.Float("alpha2"), o.Tensor("weight"), o.Float("label_smoothing"), o.Reduction));

    public override LossDescriptor Descriptor => Entry;
}
