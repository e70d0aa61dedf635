using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Beta unimodal regularised cross-entropy (Vargas et al., Unimodal regularisation based on beta distribution for deep
/// ordinal regression, Pattern Recognition 2022; dlordinal's <c>BetaCrossEntropyLoss</c>, and <c>BetaLoss</c> with
/// <c>CrossEntropyLoss</c> as base_loss): [0, 1] is cut into K equal intervals and row y of the soft labels is the mass a
/// beta distribution B(p_y, q_y) puts on each, with (p_y, q_y) from the paper's table for K = 3 … 14 ("standard").
/// </summary>
/// <remarks>
/// <para>The mass on (t_k, t_k+1] is I(t_k+1) − I(t_k), I_x(p, q) the regularised incomplete beta function. The table's p and
/// q are integers, so I_x(p, q) = P(Binomial(p + q − 1, x) ≥ p), a finite sum of binomial probabilities, each from
/// log-factorials (no cancellation: every term is positive). Where I is above ½ at the upper end, the mass is taken from
/// the upper tails instead, 1 − I_x(p, q) = P(Binomial(p + q − 1, x) &lt; p), so that the small masses far from the mode
/// keep their digits (dlordinal subtracts two values near 1 there: its documented rows differ from these by up to
/// 10⁻¹⁵ in absolute terms, 10⁻¹⁰ relative in the smallest entries).</para>
/// <para>The interval ends are dlordinal's numpy linspace(10⁻⁹, 1 − 10⁻⁹, K + 1), so a row sums to slightly less than 1,
/// as dlordinal's. Its scale parameter a is 1 throughout the table (B(p, q, a) at x is I at x^a); other parameter sets
/// are not offered.</para>
/// </remarks>
public sealed class BetaCrossEntropyLoss(double eta = 1, TensorData? weight = null, double labelSmoothing = 0, Reduction reduction = Reduction.Mean)
    : UnimodalSoftLabelLoss(eta, weight, labelSmoothing, reduction), ILossDefinition
{
    /// <summary>The fewest and most classes the table covers.</summary>
    public const int MinClasses = 3, MaxClasses = 14;

    protected override double[,] SoftLabels(int classes) => Probabilities(classes);

    /// <summary>
    /// The K × K soft labels: row y the beta distribution (p_y, q_y)'s mass on the K intervals. The table is fixed, so each
    /// K's matrix is computed once and shared (callers only read it); a race computes it twice, to the same values.
    /// </summary>
    internal static double[,] Probabilities(int k)
    {
        if (k < MinClasses || k > MaxClasses)
            throw LossArgumentException.Shape($"BetaCrossEntropyLoss: the beta parameters are tabulated for {MinClasses} to {MaxClasses} ordered classes, got K = {k}");
        return Tables[k] ??= Compute(k);
    }

    private static readonly double[,]?[] Tables = new double[,]?[MaxClasses + 1];

    private static double[,] Compute(int k)
    {
        double[] t = IntervalEnds(k);
        (int P, int Q)[] rows = Standard[k];
        var s = new double[k, k];
        for (int y = 0; y < k; y++)
        {
            for (int j = 0; j < k; j++) s[y, j] = Mass(rows[y].P, rows[y].Q, t[j], t[j + 1]);
        }
        return s;
    }

    /// <summary>I_hi(p, q) − I_lo(p, q), from the tail that is the smaller at <paramref name="hi"/>.</summary>
    private static double Mass(int p, int q, double lo, double hi)
    {
        int n = p + q - 1;
        double lowerHi = BinomialRange(n, hi, p, n);
        return lowerHi <= 0.5
            ? lowerHi - BinomialRange(n, lo, p, n)
            : BinomialRange(n, lo, 0, p - 1) - BinomialRange(n, hi, 0, p - 1);
    }

    /// <summary>P(from ≤ Binomial(n, x) ≤ to) for x in (0, 1), term by term: C(n, i)·xⁱ·(1 − x)ⁿ⁻ⁱ from log-factorials.</summary>
    private static double BinomialRange(int n, double x, int from, int to)
    {
        double lx = Math.Log(x), l1x = Math.Log(1 - x), sum = 0;   // 1 − x is exact for x ≥ ½ and within an ulp below
        double[] lf = LogFactorials;
        for (int i = from; i <= to; i++) sum += Math.Exp(lf[n] - lf[i] - lf[n - i] + i * lx + (n - i) * l1x);
        return sum;
    }

    /// <summary>ln m! for m below 200 (the table's largest p + q − 1 is 164), each the running sum of ln 2 … ln m.</summary>
    private static readonly double[] LogFactorials = RunningLogSums(200);

    private static double[] RunningLogSums(int count)
    {
        var f = new double[count];
        for (int m = 2; m < count; m++) f[m] = f[m - 1] + Math.Log(m);
        return f;
    }

    /// <summary>
    /// (p, q) for each true rank y = 0 … K − 1 (the scale a is 1 in every row): Vargas et al. 2022's table, as dlordinal's
    /// "standard" parameter set.
    /// </summary>
    private static readonly Dictionary<int, (int P, int Q)[]> Standard = new()
    {
        [3] = [(1, 4), (4, 4), (4, 1)],
        [4] = [(1, 6), (6, 10), (10, 6), (6, 1)],
        [5] = [(1, 8), (6, 14), (12, 12), (14, 6), (8, 1)],
        [6] = [(1, 10), (7, 20), (15, 20), (20, 15), (20, 7), (10, 1)],
        [7] = [(1, 12), (7, 26), (16, 28), (24, 24), (28, 16), (26, 7), (12, 1)],
        [8] = [(1, 14), (7, 31), (17, 37), (27, 35), (35, 27), (37, 17), (31, 7), (14, 1)],
        [9] = [(1, 16), (8, 40), (18, 47), (30, 47), (40, 40), (47, 30), (47, 18), (40, 8), (16, 1)],
        [10] = [(1, 18), (8, 45), (19, 57), (32, 59), (45, 55), (55, 45), (59, 32), (57, 19), (45, 8), (18, 1)],
        [11] = [(1, 21), (8, 51), (20, 68), (34, 73), (48, 69), (60, 60), (69, 48), (73, 34), (68, 20), (51, 8), (21, 1)],
        [12] = [(1, 23), (8, 56), (20, 76), (35, 85), (51, 85), (65, 77), (77, 65), (85, 51), (85, 35), (76, 20), (56, 8), (23, 1)],
        [13] = [(1, 25), (8, 61), (20, 84), (36, 98), (53, 100), (70, 95), (84, 84), (95, 70), (100, 53), (98, 36), (84, 20), (61, 8), (25, 1)],
        [14] = [(1, 27), (2, 17), (5, 23), (9, 27), (13, 28), (18, 28), (23, 27), (27, 23), (28, 18), (28, 13), (27, 9), (23, 5), (17, 2), (27, 1)],
    };

    /// <summary>Ranks with K kept in the table's range (the other unimodal losses take any K ≥ 2).</summary>
    private static LossInputs SampleTabulated(Random r, Shape s)
    {
        Shape x = Samples.Or(s, 4, 5);
        int n = x.Rank == 2 ? x[0] : Math.Max(1, x.Numel / Math.Max(1, x[x.Rank - 1]));
        int k = Math.Clamp(x[x.Rank - 1], MinClasses, MaxClasses);
        return new LossInputs().Add("input", Samples.Normal(r, new Shape(n, k), 2)).Add("target", Samples.Classes(r, new Shape(n), k));
    }

    public static LossDescriptor Entry { get; } = Describe(
        "BetaCrossEntropyLoss",
        ["beta_cross_entropy_loss", "beta_ce_loss", "BetaLoss"],
        [],
        "ℓ = CE(x, (1 − η)·onehot(y) + η·B_y),  B_yk = I_{t_k+1}(p_y, q_y) − I_{t_k}(p_y, q_y), K equal intervals of [0, 1], (p_y, q_y) tabulated for K = 3 … 14",
        "Vargas et al., Unimodal regularisation based on beta distribution for deep ordinal regression, Pattern Recognition 2022; dlordinal BetaCrossEntropyLoss",
        "dlordinal (BetaCrossEntropyLoss, BetaLoss)",
        o => new BetaCrossEntropyLoss(o.Float("eta"), o.Tensor("weight"), o.Float("label_smoothing"), o.Reduction)) with { Sample = SampleTabulated };

    public override LossDescriptor Descriptor => Entry;
}
