using System.Numerics.Tensors;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// The bi-tempered logistic loss (Amid, Warmuth, Anil &amp; Koren, Robust Bi-Tempered Logistic Loss Based on Bregman
/// Divergences, NeurIPS 2019; google/bi-tempered-loss's <c>bi_tempered_logistic_loss(activations, labels, t1, t2,
/// label_smoothing)</c>): logistic regression with two temperatures. The tempered softmax (t2 &gt; 1) has a heavier tail
/// than softmax, so that a far-off mislabelled example pulls less on the boundary; the tempered log (t1 &lt; 1) bounds
/// the loss, so that it cannot grow without limit. At t1 = t2 = 1 it is softmax cross-entropy.
/// </summary>
/// <remarks>
/// <para><b>Math:</b> log_t(x) = (x^{1−t} − 1)/(1 − t), exp_t(x) = [1 + (1 − t)x]₊^{1/(1−t)} (log and exp at t = 1).
/// p = exp_{t2}(a − λ(a)) with λ the one number that makes Σ_j p_j = 1. Per row,
/// ℓ = Σ_j [y_j·(log_{t1}(y_j + 10⁻¹⁰) − log_{t1}(p_j)) − (y_j^{2−t1} − p_j^{2−t1})/(2 − t1)].</para>
/// <para><b>Gradient</b> (the reference's custom gradient, exact when λ is): ∂ℓ/∂p_j = p_j^{−t1}(p_j − y_j) and
/// ∂p_j/∂a_k = p_j^{t2}(δ_jk − e_k) with the escort e = p^{t2}/Σ p^{t2} (from Σ p = 1), so
/// ∂ℓ/∂a_k = (p_k − y_k)·p_k^{t2−t1} − e_k·Σ_j (p_j − y_j)·p_j^{t2−t1}.</para>
/// <para>λ is solved to convergence (Newton's method kept inside a bracket that bisection narrows: the sum of
/// exp_{t2}(a − max − λ) is 1 or more at λ = 0 and at most 1 at λ = −log_{t2}(1/C)), so that the value is the exact loss
/// and the gradient its exact derivative. The reference stops after num_iters = 5 fixed-point steps (t2 &gt; 1) or 5
/// bisections (t2 &lt; 1), whose λ is off by up to a few percent of its bracket at t2 &lt; 1: LossLab's value differs from
/// it by that error. Labels are probabilities (N, C) or class indices (N); label smoothing is the reference's,
/// (1 − C·ε/(C − 1))·y + ε/(C − 1). A label of 0 adds its −p^{2−t1}/(2 − t1) part only (0·log_{t1}(0) = 0 where the
/// reference's t1 ≥ 1 gives 0·∞ = NaN for a class that the tempered softmax with t2 &lt; 1 gives exactly 0).</para>
/// </remarks>
public sealed class BiTemperedLogisticLoss : Loss, ILossDefinition
{
    private const string Name = "BiTemperedLogisticLoss";
    private readonly double _t1, _t2, _smoothing;
    private readonly Reduction _reduction;

    public BiTemperedLogisticLoss(double t1 = 0.8, double t2 = 1.2, double labelSmoothing = 0, Reduction reduction = Reduction.Mean)
    {
        if (!(t1 >= 0 && t1 < 2)) throw LossArgumentException.Value($"{Name}: t1 must be in [0, 2) (the tempered log's temperature; 1 is log), got {t1}");
        if (!(t2 > 0 && t2 <= 10)) throw LossArgumentException.Value($"{Name}: t2 must be in (0, 10] (the tempered softmax's temperature; 1 is softmax), got {t2}");
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw LossArgumentException.Value($"{Name}: label_smoothing must be in [0, 1), got {labelSmoothing}");
        if (reduction == Reduction.BatchMean) throw LossArgumentException.Value($"{Name}: reduction must be none, mean or sum");
        (_t1, _t2, _smoothing, _reduction) = (t1, t2, labelSmoothing, reduction);
    }

    /// <summary>log_t(x) = (x^{1−t} − 1)/(1 − t); log at t = 1.</summary>
    public static double LogT(double x, double t) => t == 1 ? Math.Log(x) : (Math.Pow(x, 1 - t) - 1) / (1 - t);

    /// <summary>exp_t(x) = [1 + (1 − t)x]₊^{1/(1−t)}; exp at t = 1.</summary>
    public static double ExpT(double x, double t) => t == 1 ? Math.Exp(x) : Math.Pow(Math.Max(0, 1 + (1 - t) * x), 1 / (1 - t));

    /// <summary>
    /// The tempered softmax of a row of activations a (C), written into <paramref name="p"/>: exp_t(a − λ) with
    /// Σ p = 1. Returns λ.
    /// </summary>
    public static double TemperedSoftmax(ReadOnlySpan<double> a, double t, Span<double> p)
    {
        double max = double.NegativeInfinity;
        foreach (double v in a) max = Math.Max(max, v);
        if (t == 1)
        {
            double sum = 0;
            for (int j = 0; j < a.Length; j++) sum += p[j] = Math.Exp(a[j] - max);
            for (int j = 0; j < a.Length; j++) p[j] /= sum;
            return max + Math.Log(sum);
        }
        // f(λ) = Σ exp_t(a_j − max − λ) − 1 falls from ≥ 0 at λ = 0 to ≤ 0 at λ = −log_t(1/C) (every entry at the max).
        // Each step's exp_t and exp_t^t run on vectors (TensorPrimitives' power, within a few ulp of Math.Pow): 40 ns an
        // entry a step with two scalar powers, about 530 ms for 1024 rows of 1000.
        double lo = 0, hi = -LogT(1.0 / a.Length, t), lambda = 0;
        double[] shifted = System.Buffers.ArrayPool<double>.Shared.Rent(a.Length), power = System.Buffers.ArrayPool<double>.Shared.Rent(a.Length);
        Span<double> u = shifted.AsSpan(0, a.Length), et = power.AsSpan(0, a.Length);
        TensorPrimitives.Subtract<double>(a, max, u);   // a − max, as the scalar form's first subtraction
        for (int iteration = 0; iteration < 200; iteration++)
        {
            ExpT(u, lambda, t, p);
            double f = TensorPrimitives.Sum<double>(p) - 1;
            TensorPrimitives.Pow<double>(p, t, et);
            double slope = TensorPrimitives.Sum<double>(et);   // d exp_t(u)/du = exp_t(u)^t; ∂f/∂λ = −Σ exp_t^t
            if (f == 0) break;
            if (f > 0) lo = lambda; else hi = lambda;
            double next = slope > 0 ? lambda + f / slope : double.NaN;   // Newton: f' = −slope
            if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
            bool done = Math.Abs(next - lambda) <= 1e-16 * Math.Max(1, Math.Abs(lambda));
            lambda = next;
            if (done) break;
        }
        ExpT(u, lambda, t, p);
        System.Buffers.ArrayPool<double>.Shared.Return(shifted);
        System.Buffers.ArrayPool<double>.Shared.Return(power);
        return max + lambda;
    }

    /// <summary>p = exp_t(u − λ) = [1 + (1 − t)(u − λ)]₊^{1/(1−t)} on vectors (t ≠ 1).</summary>
    private static void ExpT(ReadOnlySpan<double> u, double lambda, double t, Span<double> p)
    {
        TensorPrimitives.Subtract<double>(u, lambda, p);
        TensorPrimitives.Multiply<double>(p, 1 - t, p);
        TensorPrimitives.Add<double>(p, 1.0, p);
        TensorPrimitives.Max<double>(p, 0.0, p);
        TensorPrimitives.Pow<double>(p, 1 / (1 - t), p);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        TensorData aT = inputs["activations"], yT = inputs["labels"];
        if (aT.Shape.Rank != 2 || aT.Shape[1] < 2) throw LossArgumentException.Shape($"{Name}: 'activations' must be (N, C) with C ≥ 2 classes, got shape {aT.Shape}");
        int n = aT.Shape[0], c = aT.Shape[1];
        double[] a = aT.ToArray<double>();
        double[] y = Labels(yT, n, c);
        if (_smoothing > 0)
            for (int k = 0; k < y.Length; k++) y[k] = (1 - c * _smoothing / (c - 1)) * y[k] + _smoothing / (c - 1);
        var p = new double[a.Length];
        var losses = new double[n];
        double twoMinus = 2 - _t1;
        for (int i = 0; i < n; i++)
        {
            TemperedSoftmax(a.AsSpan(i * c, c), _t2, p.AsSpan(i * c, c));
            double l = 0;
            for (int j = 0; j < c; j++)
            {
                double yj = y[i * c + j], pj = p[i * c + j];
                if (yj != 0) l += yj * (LogT(yj + 1e-10, _t1) - LogT(pj, _t1));
                l -= (Math.Pow(yj, twoMinus) - Math.Pow(pj, twoMinus)) / twoMinus;
            }
            losses[i] = l;
        }
        var (value, scale) = ReduceRows<T>(losses, _reduction, new Shape(n));
        if (!computeGradients) return Result(value);
        var g = new double[a.Length];
        var escort = new double[c];   // p^{t2} of the row, normalized below
        for (int i = 0; i < n; i++)
        {
            double forgetSum = 0, escortSum = 0;
            for (int j = 0; j < c; j++)
            {
                double pj = p[i * c + j];
                // (p − y)·p^{t2 − t1}, the reference's custom gradient. At p = 0 (outside a t2 < 1 support) with t1 > t2
                // it is (0 − y)·∞: −∞ for a labelled class, NaN for the others, where the reference's gradient is NaN.
                // There the class adds 0, the true slope (its p stays 0 near a). With t1 ≤ t2 the custom gradient is
                // finite (−y at t1 = t2, which pulls the labelled class back into the support) and kept.
                double forget = pj == 0 && (y[i * c + j] == 0 || _t2 < _t1) ? 0 : (pj - y[i * c + j]) * Math.Pow(pj, _t2 - _t1);
                g[i * c + j] = forget;
                forgetSum += forget;
                escortSum += escort[j] = Math.Pow(pj, _t2);
            }
            for (int j = 0; j < c; j++) g[i * c + j] = scale * (g[i * c + j] - escort[j] / escortSum * forgetSum);
        }
        return Result(value, ("activations", FromDoubles<T>(g, aT.Shape)));
    }

    /// <summary>The labels as probabilities (N, C): given so, or one-hot from class indices (N).</summary>
    private static double[] Labels(TensorData yT, int n, int c)
    {
        if (yT.Shape.Rank == 2 && yT.Shape[0] == n && yT.Shape[1] == c)
        {
            double[] probabilities = (double[])yT.ToArray<double>().Clone();
            for (int k = 0; k < probabilities.Length; k++)
                if (!(probabilities[k] >= 0)) throw LossArgumentException.Value($"{Name}: labels[{k / c}, {k % c}] = {probabilities[k]} is not a probability (≥ 0): its tempered log is undefined");
            return probabilities;
        }
        if (yT.Shape.Rank == 1 && yT.Shape[0] == n)
        {
            var y = new double[n * c];
            for (int i = 0; i < n; i++)
            {
                double label = yT.GetDouble(i);
                if (!(label >= 0 && label < c && label == Math.Floor(label)))
                    throw LossArgumentException.Value($"{Name}: label {label} at position {i} is not a class index in [0, {c - 1}]");
                y[i * c + (int)label] = 1;
            }
            return y;
        }
        throw LossArgumentException.Shape($"{Name}: 'labels' must be probabilities ({n}, {c}) or class indices ({n}), got shape {yT.Shape}");
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["bi_tempered_logistic_loss", "bi_tempered_loss", "bitempered_loss"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("activations", InputKind.Floating, true, "logits (N, C)"),
            new("labels", InputKind.Floating, false, "label probabilities (N, C) (one-hot or soft), or class indices (N)"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("t1", 0.8, "the tempered log's temperature: < 1 bounds the loss (1: log)"),
            OptionSpec.Float("t2", 1.2, "the tempered softmax's temperature: > 1 gives it a heavier tail (1: softmax)"),
            OptionSpec.Float("label_smoothing", 0, "ε: labels become (1 − C·ε/(C − 1))·y + ε/(C − 1)"),
        ],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 4, 5);
            var y = new double[x.Numel];
            for (int i = 0; i < x[0]; i++) y[i * x[1] + r.Next(x[1])] = 1;
            return new LossInputs().Add("activations", Samples.Normal(r, x, 2)).Add("labels", TensorData.Create(x, DType.Float64, y));
        },
        Formula = "ℓ = Σ_j [y_j(log_t1(y_j + 1e-10) − log_t1 p_j) − (y_j^{2−t1} − p_j^{2−t1})/(2 − t1)],  p = exp_t2(a − λ), Σp = 1",
        Gradient = "∂ℓ/∂a_k = (p_k − y_k)p_k^{t2−t1} − e_k·Σ_j (p_j − y_j)p_j^{t2−t1},  e = p^{t2}/Σp^{t2}",
        Reference = "Amid et al., Robust Bi-Tempered Logistic Loss Based on Bregman Divergences, NeurIPS 2019 (google/bi-tempered-loss)",
        Stability = "λ by a bracketed Newton iteration in double, to convergence: finite for any finite logits",
        LowerBound = 0,
        Libraries = "google/bi-tempered-loss (TensorFlow, JAX); PyTorch ports",
        Factory = o => new BiTemperedLogisticLoss(o.Float("t1"), o.Float("t2"), o.Float("label_smoothing"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
