using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// The shared parts of Optax's semi-supervised losses (<see cref="FixMatchLoss"/>, <see cref="MixMatchLoss"/>): the
/// supervised cross-entropy of a labeled batch with integer or soft labels, the row softmax, and the reduction rule.
/// </summary>
/// <remarks>
/// Reduction: <c>mean</c> (default) is Optax's value, each part averaged over its own batch; <c>none</c> gives the
/// per-example terms, the B labeled cross-entropies then the U weighted unlabeled terms (B + U values), and <c>sum</c>
/// their total. Gradients are those of the returned value (of the total for <c>none</c>).
/// </remarks>
internal static class SemiSupervised
{
    /// <summary>Checks (B, C) logits, and labels (B) of indices or (B, C) probabilities; returns B, C and whether soft.</summary>
    public static (int B, int C, bool Soft) Labeled(string name, LossInputs inputs)
    {
        Shape xs = inputs["labeled_logits"].Shape, ys = inputs["labeled_labels"].Shape;
        if (xs.Rank != 2 || xs[1] == 0) throw LossArgumentException.Shape($"{name}: 'labeled_logits' must be (B, C) with C ≥ 1 classes, got {xs}");
        bool soft = ys == xs;
        if (!soft && !(ys.Rank == 1 && ys[0] == xs[0]))
            throw LossArgumentException.Shape($"{name}: 'labeled_labels' has shape {ys}; expected ({xs[0]}) class indices or {xs} probabilities");
        return (xs[0], xs[1], soft);
    }

    /// <summary>(U, C) logits whose class count matches the labeled batch's.</summary>
    public static int Unlabeled(string name, LossInputs inputs, string input, int c)
    {
        Shape s = inputs[input].Shape;
        if (s.Rank != 2 || s[1] != c) throw LossArgumentException.Shape($"{name}: '{input}' has shape {s}; expected (U, {c}), the labeled logits' class count");
        return s[0];
    }

    /// <summary>Softmax of each row of (rows, C) logits, in double, max-shifted.</summary>
    public static double[] Softmax(double[] x, int c)
    {
        var p = new double[x.Length];
        for (int r = 0; c > 0 && r < x.Length / c; r++) Stable.Softmax<double>(x.AsSpan(r * c, c), p.AsSpan(r * c, c));
        return p;
    }

    /// <summary>Cross-entropy of row r of (·, C) logits x against class y: lse − x_y, with log p computed as (x − max) − log Σ.</summary>
    public static double RowCrossEntropy(double[] x, int r, int c, int y)
    {
        double logSum = Stable.ShiftedLogSumExp<double>(x.AsSpan(r * c, c), out double max);
        return -((x[r * c + y] - max) - logSum);
    }

    /// <summary>
    /// The labeled batch's per-row cross-entropies, and (when the gradient spans are not empty) their gradients times
    /// <paramref name="scale"/>: ∂/∂x = (Σy)p − y; ∂/∂y = −log p for soft labels.
    /// </summary>
    public static double[] LabeledCrossEntropy(string name, LossInputs inputs, int b, int c, bool soft, double scale, Span<double> gx, Span<double> gy)
    {
        double[] x = inputs["labeled_logits"].ToArray<double>();
        double[] p = Softmax(x, c);
        var ce = new double[b];
        if (soft)
        {
            double[] y = inputs["labeled_labels"].ToArray<double>();
            for (int r = 0; r < b; r++)
            {
                double logSum = Stable.ShiftedLogSumExp<double>(x.AsSpan(r * c, c), out double max), total = 0;
                for (int j = r * c; j < (r + 1) * c; j++)
                {
                    double logP = (x[j] - max) - logSum;
                    if (y[j] != 0) ce[r] -= y[j] * logP;
                    total += y[j];
                    if (!gy.IsEmpty) gy[j] = -scale * logP;
                }
                if (gx.IsEmpty) continue;
                for (int j = r * c; j < (r + 1) * c; j++) gx[j] = scale * (total * p[j] - y[j]);
            }
            return ce;
        }
        long[] labels = inputs.Indices("labeled_labels");
        for (int r = 0; r < b; r++)
        {
            if (labels[r] < 0 || labels[r] >= c) throw LossArgumentException.Value($"{name}: labeled_labels[{r}] = {labels[r]} is out of range: class indices must be in [0, {c - 1}]");
            ce[r] = RowCrossEntropy(x, r, c, (int)labels[r]);
            if (gx.IsEmpty) continue;
            for (int j = r * c; j < (r + 1) * c; j++) gx[j] = scale * p[j];
            gx[r * c + (int)labels[r]] -= scale;
        }
        return ce;
    }

    /// <summary>
    /// The gradient scales of the labeled terms and of the unlabeled ones (λ included) under <paramref name="reduction"/>:
    /// mean averages each part over its own batch (an empty unlabeled batch over 1, adding 0).
    /// </summary>
    public static (double Labeled, double Unlabeled) Scales(string reduction, int b, int u, double lambda)
        => reduction == "mean" ? (1.0 / b, lambda / Math.Max(u, 1)) : (1, lambda);

    /// <summary>
    /// The result from the per-example terms (B labeled, then U unlabeled, λ included) and the gradients already scaled
    /// by <see cref="Scales"/>: the logits', the soft labels' (when <paramref name="soft"/>) and the unlabeled input's.
    /// </summary>
    public static LossResult Result<T>(string reduction, LossInputs inputs, double[] labeled, double[] unlabeled, bool soft,
        double[] gx, double[] gy, string unlabeledInput, double[] gu, bool computeGradients) where T : struct, IFloatingPointIeee754<T>
    {
        int b = labeled.Length, u = unlabeled.Length;
        double[] values = reduction switch
        {
            "none" => [.. labeled, .. unlabeled],
            "sum" => [labeled.Sum() + unlabeled.Sum()],
            _ => [labeled.Sum() / b + unlabeled.Sum() / Math.Max(u, 1)],
        };
        TensorData value = Loss.FromDoubles<T>(values, reduction == "none" ? new Shape(b + u) : Shape.Scalar);
        var grads = new Dictionary<string, TensorData>();
        if (computeGradients)
        {
            grads["labeled_logits"] = Loss.FromDoubles<T>(gx, inputs["labeled_logits"].Shape);
            if (soft) grads["labeled_labels"] = Loss.FromDoubles<T>(gy, inputs["labeled_labels"].Shape);
            grads[unlabeledInput] = Loss.FromDoubles<T>(gu, inputs[unlabeledInput].Shape);
        }
        return new LossResult(value, grads);
    }

    public static readonly string[] Reductions = ["mean", "sum", "none"];

    public static OptionSpec ReductionOption => OptionSpec.Choice("reduction", "mean",
        "mean: Optax's value (each part averaged over its batch); sum; none: the B + U per-example terms", Reductions);

    public static InputSpec LabeledLogits => new("labeled_logits", InputKind.Floating, true, "labeled logits (B, C)");

    public static InputSpec LabeledLabels => new("labeled_labels", InputKind.IndicesOrFloating, true, "class indices (B), or probabilities (B, C)");
}
