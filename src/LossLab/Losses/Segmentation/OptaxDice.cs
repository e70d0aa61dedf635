using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Segmentation;

/// <summary>How Optax's dice losses are set up: the shared computation of <see cref="OptaxDiceLoss"/>,
/// <see cref="OptaxBinaryDiceLoss"/> and <see cref="OptaxGeneralizedDiceLoss"/>.</summary>
/// <param name="Smooth">Added to the coefficient's numerator and denominator.</param>
/// <param name="Alpha">Weight of the false positives P − I.</param>
/// <param name="Beta">Weight of the false negatives T − I.</param>
/// <param name="Activate">Softmax over the last axis (sigmoid for one class); false: the predictions are probabilities.</param>
/// <param name="ClassReduction">Over the class axis: mean, sum or none (Optax's <c>reduction</c>).</param>
/// <param name="IgnoreBackground">Leave class 0 out (when there is more than one class).</param>
/// <param name="Axis">The summed axes; null: every axis but the first and the last (the spatial ones).</param>
/// <param name="ClassWeights">One weight per class (C or 1 values), or null.</param>
/// <param name="Generalized">Class weights 1/(f_c² + 1e-7) from the targets' class frequencies, normalized to sum to C
/// (Optax then averages over samples and classes: <paramref name="Outer"/> mean).</param>
/// <param name="Outer">LossLab's reduction of the result: none (Optax's output), mean or sum.</param>
internal sealed record OptaxDiceSetup(double Smooth, double Alpha, double Beta, bool Activate, string ClassReduction, bool IgnoreBackground,
    int[]? Axis, TensorData? ClassWeights, bool Generalized, string Outer = "none");

/// <summary>
/// Optax's dice loss (optax/losses/_segmentation.py). Per sample and class, over the summed axes:
/// I = Σ p·t, P = Σ p, T = Σ t, coeff = (I + s)/(I + α(P − I) + β(T − I) + s), ℓ = 1 − coeff (Tversky; Dice at
/// α = β = ½). p is softmax over the last axis, or sigmoid when it has one class (apply_softmax).
/// </summary>
/// <remarks>
/// Derivation: with N = I + s and D = I(1 − α − β) + αP + βT + s, ∂coeff/∂p_e = (t_e·D − N·((1 − α − β)t_e + α))/D²
/// and ∂coeff/∂t_e = (p_e·D − N·((1 − α − β)p_e + β))/D²; then through the softmax (g ↦ p ⊙ (g − Σ p·g) per
/// position) or the sigmoid (g·p(1 − p)). For the generalized loss the weights depend on the targets:
/// u_c = 1/(f_c² + 1e-7), w_c = C·u_c/Σu, ∂w_c/∂f_j = (C·u′_j/Σu)(δ_cj − u_c/Σu) with u′ = −2f/(f² + 1e-7)², and every
/// target element of class j adds ∂ℓ/∂f_j. Sums run in double.
/// </remarks>
internal static class OptaxDice
{
    public static readonly InputSpec[] Inputs =
    [
        new("predictions", InputKind.Floating, true, "logits (…, C), or probabilities without apply_softmax; (…) or (…, 1) for one class"),
        new("targets", InputKind.Floating, true, "one-hot or soft targets, the same shape (a missing class axis is added)"),
    ];

    public static LossResult Compute<T>(Loss loss, LossInputs inputs, OptaxDiceSetup s, bool binaryExpand, bool computeGradients)
        where T : struct, IFloatingPointIeee754<T>
    {
        string name = loss.Descriptor.Name;
        Shape xs0 = inputs["predictions"].Shape, ts0 = inputs["targets"].Shape;
        Shape xs = xs0, ts = ts0;
        if (s.Generalized && xs != ts) throw LossArgumentException.Shape($"{name}: 'targets' has shape {ts} but 'predictions' has shape {xs}; they must be equal");
        if (binaryExpand && xs.Rank == ts.Rank && xs.Rank > 0 && xs[-1] != 1) (xs, ts) = (Append1(xs), Append1(ts));   // binary_dice_loss
        if (xs.Rank == ts.Rank - 1) xs = Append1(xs);
        if (ts.Rank == xs.Rank - 1) ts = Append1(ts);
        if (xs != ts) throw LossArgumentException.Shape($"{name}: 'targets' has shape {ts0} but 'predictions' has shape {xs0}; they must be equal, or differ by a trailing class axis");
        if (xs.Rank == 0) throw LossArgumentException.Shape($"{name}: 'predictions' must have a class axis (…, C), got a scalar");
        int rank = xs.Rank, c = xs[-1], numel = xs.Numel;
        if (c == 0) throw LossArgumentException.Shape($"{name}: 'predictions' has shape {xs0}, with no class (the last axis is 0)");
        double[] x = inputs["predictions"].ToArray<double>(), t = inputs["targets"].ToArray<double>();

        bool[] summed = SummedAxes(name, s.Axis, rank);
        var keptDims = Enumerable.Range(0, rank).Where(d => !summed[d]).Select(d => xs[d]).ToArray();
        var keptShape = new Shape(keptDims);
        int kept = keptShape.Numel, batch = c == 0 ? 0 : kept / c;
        int[] slot = KeptSlots(xs, summed);

        double[] p = Activate(name, x, c, s.Activate);
        var inter = new double[kept];
        var psum = new double[kept];
        var tsum = new double[kept];
        for (int e = 0; e < numel; e++)
        {
            inter[slot[e]] += p[e] * t[e];
            psum[slot[e]] += p[e];
            tsum[slot[e]] += t[e];
        }
        double a = s.Alpha, b = s.Beta, k = 1 - a - b;
        var num = new double[kept];
        var den = new double[kept];
        for (int i = 0; i < kept; i++)
        {
            num[i] = inter[i] + s.Smooth;
            den[i] = inter[i] * k + a * psum[i] + b * tsum[i] + s.Smooth;
            if (den[i] == 0)
            {
                throw LossArgumentException.Value($"{name}: class {i % c} of sample {i / c} has no predicted or target mass and smooth = 0, so its coefficient is 0/0; set smooth > 0");
            }
        }

        // Class weights: given (length C or 1), or the generalized loss's from the targets' frequencies.
        int first = s.IgnoreBackground && c > 1 ? 1 : 0, classesKept = c - first;
        double[] w = ClassWeights(name, s, t, c, out double[] f, out double[] u, out double uSum);
        var dice = new double[kept];
        for (int i = 0; i < kept; i++) dice[i] = 1 - num[i] / den[i];

        // Outputs: per sample (mean/sum over classes) or per sample and class (none), then LossLab's outer reduction.
        string red = s.ClassReduction;
        double[] outputs;
        Shape outShape;
        if (red == "none")
        {
            outputs = new double[batch * classesKept];
            for (int n = 0; n < batch; n++)
                for (int j = first; j < c; j++) outputs[n * classesKept + j - first] = w[j] * dice[n * c + j];
            outShape = new Shape((int[])[.. keptDims[..^1], classesKept]);
        }
        else
        {
            outputs = new double[batch];
            for (int n = 0; n < batch; n++)
            {
                double sum = 0;
                for (int j = first; j < c; j++) sum += w[j] * dice[n * c + j];
                outputs[n] = red == "mean" ? sum / classesKept : sum;
            }
            outShape = new Shape(keptDims[..^1]);
        }
        double outerScale = s.Outer == "mean" ? 1.0 / outputs.Length : 1;
        if (s.Outer != "none")
        {
            outputs = [outputs.Sum() * outerScale];
            outShape = Shape.Scalar;
        }
        TensorData value = Loss.FromDoubles<T>(outputs, outShape);
        if (!computeGradients) return new LossResult(value, new Dictionary<string, TensorData>());

        // ∂(Σ outputs)/∂dice for each sample and class.
        double perEntry = (red == "mean" ? 1.0 / classesKept : 1) * outerScale;
        var gp = new double[numel];
        var gt = new double[numel];
        for (int e = 0; e < numel; e++)
        {
            int i = slot[e], j = i % c;
            if (j < first) continue;
            double gCoeff = -w[j] * perEntry, d2 = den[i] * den[i];
            gp[e] = gCoeff * (t[e] * den[i] - num[i] * (k * t[e] + a)) / d2;
            gt[e] = gCoeff * (p[e] * den[i] - num[i] * (k * p[e] + b)) / d2;
        }
        if (s.Generalized) AddWeightGradient(gt, dice, c, first, batch, perEntry, f, u, uSum);
        double[] gx = Backward(p, gp, c, s.Activate);
        return new LossResult(value, new Dictionary<string, TensorData>
        {
            ["predictions"] = Loss.FromDoubles<T>(gx, xs0),
            ["targets"] = Loss.FromDoubles<T>(gt, ts0),
        });
    }

    private static Shape Append1(Shape s) => new((int[])[.. s.Dims, 1]);

    private static bool[] SummedAxes(string name, int[]? axis, int rank)
    {
        var summed = new bool[rank];
        if (axis is null)
        {
            for (int d = 1; d < rank - 1; d++) summed[d] = true;
            return summed;
        }
        foreach (int a0 in axis)
        {
            int a = a0 < 0 ? a0 + rank : a0;
            if (a < 0 || a >= rank) throw LossArgumentException.Value($"{name}: axis {a0} is out of range for rank {rank}");
            if (a == rank - 1) throw LossArgumentException.Value($"{name}: axis {a0} is the class axis; the summed axes must leave it (…, C)");
            if (summed[a]) throw LossArgumentException.Value($"{name}: axis {a0} is given twice");
            summed[a] = true;
        }
        return summed;
    }

    /// <summary>For every element, the flat index of its (kept axes…, class) entry.</summary>
    private static int[] KeptSlots(Shape shape, bool[] summed)
    {
        int rank = shape.Rank, numel = shape.Numel;
        var slot = new int[numel];
        var index = new int[rank];
        for (int e = 0; e < numel; e++)
        {
            int k = 0;
            for (int d = 0; d < rank; d++) if (!summed[d]) k = k * shape[d] + index[d];
            slot[e] = k;
            for (int d = rank - 1; d >= 0 && ++index[d] == shape[d]; d--) index[d] = 0;
        }
        return slot;
    }

    private static double[] Activate(string name, double[] x, int c, bool activate)
    {
        if (!activate)
        {
            if (c == 1)
            {
                // Optax checks that each position sums to 1 over the class axis, which for one class rejects every map
                // that is not all ones; LossLab checks probabilities instead.
                for (int e = 0; e < x.Length; e++)
                    if (!(x[e] >= 0 && x[e] <= 1)) throw LossArgumentException.Value($"{name}: without the sigmoid, 'predictions' holds probabilities in [0, 1]; predictions[{e}] = {x[e]}");
                return x;
            }
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            for (int r = 0; r < x.Length / c; r++)
            {
                double sum = 0;
                for (int j = 0; j < c; j++) sum += x[r * c + j];
                (lo, hi) = (Math.Min(lo, sum), Math.Max(hi, sum));
            }
            if (x.Length > 0 && !(Math.Abs(lo - 1) <= 1e-8 + 1e-5 && Math.Abs(hi - 1) <= 1e-8 + 1e-5))
                throw LossArgumentException.Value($"{name}: without apply_softmax, 'predictions' must be probability distributions that sum to 1 over the class axis; found sums in [{lo:G7}, {hi:G7}]");
            return x;
        }
        var p = new double[x.Length];
        if (c == 1)
        {
            for (int e = 0; e < x.Length; e++) p[e] = Stable.Sigmoid(x[e]);
            return p;
        }
        for (int r = 0; r < x.Length / c; r++) Stable.Softmax<double>(x.AsSpan(r * c, c), p.AsSpan(r * c, c));
        return p;
    }

    private static double[] Backward(double[] p, double[] gp, int c, bool activate)
    {
        if (!activate) return gp;
        var gx = new double[p.Length];
        if (c == 1)
        {
            for (int e = 0; e < p.Length; e++) gx[e] = gp[e] * p[e] * (1 - p[e]);
            return gx;
        }
        for (int r = 0; r < p.Length / c; r++)
        {
            double dot = 0;
            for (int j = r * c; j < (r + 1) * c; j++) dot += p[j] * gp[j];
            for (int j = r * c; j < (r + 1) * c; j++) gx[j] = p[j] * (gp[j] - dot);
        }
        return gx;
    }

    private static double[] ClassWeights(string name, OptaxDiceSetup s, double[] t, int c, out double[] f, out double[] u, out double uSum)
    {
        f = u = [];
        uSum = 0;
        if (s.Generalized)
        {
            f = new double[c];
            for (int e = 0; e < t.Length; e++) f[e % c] += t[e];
            u = [.. f.Select(v => 1 / (v * v + 1e-7))];
            uSum = u.Sum();
            double total = uSum;
            return [.. u.Select(v => v / total * c)];
        }
        if (s.ClassWeights is null) return [.. Enumerable.Repeat(1.0, c)];
        TensorData cw = s.ClassWeights;
        if (cw.Shape.Rank != 1 || !(cw.Length == c || cw.Length == 1))
            throw LossArgumentException.Shape($"{name}: class_weights has shape {cw.Shape}; expected ({c}), one weight per class");
        double[] given = cw.ToArray<double>();
        return given.Length == c ? given : [.. Enumerable.Repeat(given[0], c)];
    }

    /// <summary>The generalized loss's weights depend on the targets: adds ∂ℓ/∂f_j to every target element of class j.</summary>
    private static void AddWeightGradient(double[] gt, double[] dice, int c, int first, int batch, double perEntry, double[] f, double[] u, double uSum)
    {
        // A_c = ∂ℓ/∂w_c = perEntry·Σ_n dice[n, c] for the kept classes.
        var weightGrad = new double[c];
        for (int n = 0; n < batch; n++)
            for (int j = first; j < c; j++) weightGrad[j] += perEntry * dice[n * c + j];
        double mix = 0;
        for (int j = 0; j < c; j++) mix += weightGrad[j] * u[j] / uSum;
        var df = new double[c];
        for (int j = 0; j < c; j++)
        {
            double q = f[j] * f[j] + 1e-7, du = -2 * f[j] / (q * q);
            df[j] = c * du / uSum * (weightGrad[j] - mix);
        }
        for (int e = 0; e < gt.Length; e++) gt[e] += df[e % c];
    }

    public static LossInputs Sample(Random r, Shape s)
    {
        Shape x = Samples.Or(s, 2, 3, 4);
        return new LossInputs().Add("predictions", Samples.Normal(r, x)).Add("targets", Samples.Simplex(r, x));
    }
}
