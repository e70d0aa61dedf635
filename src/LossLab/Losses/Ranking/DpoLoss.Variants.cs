using LossLab.Numerics;

namespace LossLab.Losses.Ranking;

/// <summary>
/// DPO's loss types beyond the margin's four, each as TRL's <c>DPOTrainer.dpo_loss</c> writes it, with its gradient
/// with respect to the four inputs (policy chosen w, policy rejected l, reference chosen w′, reference rejected l′).
/// </summary>
/// <remarks>
/// <para>TRL's log-ratios c = w − [not reference_free]·w′ and r = l − [not reference_free]·l′ feed the margin types'
/// divergences and APO; NCA, SPPO and AOT-pair take w − w′ and l − l′, and AOT and DiscoPOP (w − l) − (w′ − l′), with the
/// reference inputs whatever reference_free says (absent ones are 0), as TRL does.</para>
/// <para><b>Margins</b> (sigmoid, robust, exo_pair, hinge, ipo): z = c − r (reverse KL), z = c − r − (softplus(c) −
/// softplus(r)) (JS: ∂z/∂c = σ(−c), ∂z/∂r = −σ(−r)) or z = (e^{−αr} − e^{−αc})/α (α-divergence: ∂z/∂c = e^{−αc},
/// ∂z/∂r = −e^{−αr}; each exponent capped at log(double.MaxValue), where its slope is 0). <b>NCA</b>:
/// ℓ = softplus(−a) + ½softplus(a) + ½softplus(b), a, b = β(w − w′), β(l − l′). <b>SPPO</b>: (a − 1/(2β))² +
/// (b + 1/(2β))² on the unscaled log-ratios. <b>APO</b>: zero 1 − σ(βc) + σ(βr); down σ(βc) + 1 − σ(β(c − r)).
/// <b>DiscoPOP</b>, m = β((w − l) − (w′ − l′)): ℓ = softplus(−m)·(1 − σ(m/τ)) + e^{−m}·σ(m/τ), the second term as
/// exp(−m − softplus(−m/τ)) so that it stays finite where e^{−m} alone overflows. <b>AOT</b> sorts two vectors over the
/// batch and puts the smoothed logistic on β times their difference, position by position (the value at position i
/// belongs to the i-th smallest of each; its gradient goes back through the two sorts' permutations).</para>
/// </remarks>
public sealed partial class DpoLoss
{
    /// <summary>(ℓ, ∂ℓ/∂w, ∂ℓ/∂l, ∂ℓ/∂w′, ∂ℓ/∂l′) of one pair, for every type but the sorted ones.</summary>
    private (double Loss, double Dw, double Dl, double DwRef, double DlRef) Pair(double w, double l, double wRef, double lRef)
    {
        double beta = Settings.Beta;
        bool reference = !Settings.ReferenceFree;
        double c = w - (reference ? wRef : 0), r = l - (reference ? lRef : 0);
        switch (Settings.LossType)
        {
            case PreferenceLossType.NcaPair:
            {
                double a = beta * (w - wRef), b = beta * (l - lRef);
                double loss = Stable.Softplus(-a) + 0.5 * Stable.Softplus(a) + 0.5 * Stable.Softplus(b);
                double da = beta * (-Stable.Sigmoid(-a) + 0.5 * Stable.Sigmoid(a)), db = beta * 0.5 * Stable.Sigmoid(b);
                return (loss, da, db, -da, -db);
            }
            case PreferenceLossType.SppoHard:
            {
                double a = w - wRef - 0.5 / beta, b = l - lRef + 0.5 / beta;
                return (a * a + b * b, 2 * a, 2 * b, -2 * a, -2 * b);
            }
            case PreferenceLossType.ApoZero:
            {
                double loss = 1 - Stable.Sigmoid(beta * c) + Stable.Sigmoid(beta * r);
                double dc = -beta * Slope(beta * c), dr = beta * Slope(beta * r);
                return (loss, dc, dr, reference ? -dc : 0, reference ? -dr : 0);
            }
            case PreferenceLossType.ApoDown:
            {
                double loss = Stable.Sigmoid(beta * c) + 1 - Stable.Sigmoid(beta * (c - r));
                double both = beta * Slope(beta * (c - r)), dc = beta * Slope(beta * c) - both, dr = both;
                return (loss, dc, dr, reference ? -dc : 0, reference ? -dr : 0);
            }
            case PreferenceLossType.DiscoPop:
            {
                double m = beta * (w - l - (wRef - lRef)), tau = Settings.DiscopopTau;
                double mix = Stable.Sigmoid(m / tau), logistic = Stable.Softplus(-m);
                double exponential = Math.Exp(-m - Stable.Softplus(-m / tau));                           // e^{−m}·σ(m/τ)
                double exponentialSlope = Math.Exp(-m - Stable.Softplus(-m / tau) - Stable.Softplus(m / tau)) / tau;   // e^{−m}·σ'(m/τ)/τ
                double loss = logistic * (1 - mix) + exponential;
                // d/dm: −σ(−m)(1 − σ(m/τ)) − softplus(−m)·σ'(m/τ)/τ − e^{−m}σ(m/τ) + e^{−m}σ'(m/τ)/τ
                double mixSlope = Slope(m / tau) / tau;
                double dm = -Stable.Sigmoid(-m) * (1 - mix) - logistic * mixSlope - exponential + exponentialSlope;
                return (loss, beta * dm, -beta * dm, -beta * dm, beta * dm);
            }
            default:
            {
                var (z, dzc, dzr) = Margin(c, r);
                var (loss, dz) = OfMargin(z);
                double dc = dz * dzc, dr = dz * dzr;
                return (loss, dc, dr, reference ? -dc : 0, reference ? -dr : 0);
            }
        }
    }

    /// <summary>σ'(x) = σ(x)σ(−x).</summary>
    private static double Slope(double x)
    {
        double up = Stable.SigmoidPair(x, out double down);
        return up * down;
    }

    /// <summary>The margin z of the log-ratios c and r in the chosen divergence, with ∂z/∂c and ∂z/∂r.</summary>
    private (double Z, double Dc, double Dr) Margin(double c, double r)
    {
        switch (Settings.Divergence)
        {
            case PreferenceDivergence.JsDivergence:
                return (c - r - (Stable.Softplus(c) - Stable.Softplus(r)), Stable.Sigmoid(-c), -Stable.Sigmoid(-r));
            case PreferenceDivergence.AlphaDivergence:
            {
                // TRL's cap_exp: e^{min(x, log(max float))}; past the cap the slope is 0.
                double alpha = Settings.AlphaDivergenceCoef, cap = Math.Log(double.MaxValue);
                double xr = -alpha * r, xc = -alpha * c;
                double er = Math.Exp(Math.Min(xr, cap)), ec = Math.Exp(Math.Min(xc, cap));
                return ((er - ec) / alpha, xc < cap ? ec : 0, xr < cap ? -er : 0);
            }
            default:
                return (c - r, 1, -1);
        }
    }

    /// <summary>AOT and AOT-pair: ℓ_i of the i-th smallest values; d receives each input's gradient (per unit ℓ_i).</summary>
    private double[] Sorted(double[][] x, double[][] d)
    {
        int n = x[0].Length;
        bool pairType = Settings.LossType == PreferenceLossType.AotPair;
        // aot_pair: sort(w − w′) against sort(l − l′); aot: sort(w − l) against sort(w′ − l′).
        double[] first = new double[n], second = new double[n];
        for (int i = 0; i < n; i++)
        {
            first[i] = pairType ? x[0][i] - x[2][i] : x[0][i] - x[1][i];
            second[i] = pairType ? x[1][i] - x[3][i] : x[2][i] - x[3][i];
        }
        int[] orderFirst = [.. Enumerable.Range(0, n).OrderBy(i => first[i])], orderSecond = [.. Enumerable.Range(0, n).OrderBy(i => second[i])];
        var values = new double[n];
        for (int k = 0; k < n; k++)
        {
            int i = orderFirst[k], j = orderSecond[k];
            var (loss, dm) = SmoothedLogistic(Settings.Beta * (first[i] - second[j]), Settings.LabelSmoothing);
            values[k] = loss;
            double g = Settings.Beta * dm;
            // The first sorted value moves with +g, the second with −g; each goes back to its inputs' signs.
            if (pairType) { d[0][i] += g; d[2][i] -= g; d[1][j] -= g; d[3][j] += g; }
            else { d[0][i] += g; d[1][i] -= g; d[2][j] -= g; d[3][j] += g; }
        }
        return values;
    }
}
