using LossLab.Autograd;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// A regularized max function max_Ω(s) = max_{p ∈ dom Ω} ⟨p, s⟩ − Ω(p) over one row of scores, the building block of a
/// <see cref="FenchelYoungLoss"/>. Its gradient ŷ = ∇max_Ω(s) is the regularized prediction (the softmax for the
/// log-sum-exp, the sparsemax for the Gini regularizer, the one-hot arg max for the hard max).
/// </summary>
public interface IMaxFunction
{
    /// <summary>A short name for messages and <c>losslab losses</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Returns max_Ω(<paramref name="scores"/>) and writes ∇max_Ω(scores) into <paramref name="prediction"/> (the
    /// same length, C ≥ 1). Called once per row; the scores are finite.
    /// </summary>
    double Evaluate(ReadOnlySpan<double> scores, Span<double> prediction);

    /// <summary>
    /// Whether max_Ω(s + c·1) = max_Ω(s) + c for every c (true when dom Ω is the simplex). The loss then evaluates it on
    /// s − max s, so that max_Ω(s) − ⟨t, s⟩ does not cancel in large scores.
    /// </summary>
    bool ShiftEquivariant { get; }
}

/// <summary>The max functions of <see cref="FenchelYoungLoss"/>: three built in, or any written with autograd.</summary>
public static class MaxFunctions
{
    /// <summary>log Σ e^{s_j} (Ω = the negative Shannon entropy on the simplex); ∇ = softmax(s). Fenchel–Young: cross-entropy.</summary>
    public static IMaxFunction LogSumExp { get; } = new LogSumExpMax();

    /// <summary>
    /// Optax's sparsemax cumulant ⟨p, s⟩ + ½⟨p, 1 − p⟩ with p = sparsemax(s) (Ω = the Gini negentropy ½‖p‖² − ½ on the
    /// simplex); ∇ = sparsemax(s). With one-hot targets the Fenchel–Young loss is <c>multiclass_sparsemax_loss</c>.
    /// </summary>
    public static IMaxFunction Sparsemax { get; } = new SparsemaxMax();

    /// <summary>max_j s_j (no regularization); subgradient one-hot at the first arg max. Fenchel–Young: the perceptron loss.</summary>
    public static IMaxFunction HardMax { get; } = new HardMaxFunction();

    /// <summary>The built-in max functions by their option name (<c>max_fun</c>).</summary>
    public static IMaxFunction FromName(string name) => name switch
    {
        "logsumexp" => LogSumExp,
        "sparsemax" => Sparsemax,
        "max" => HardMax,
        _ => throw new LossArgumentException(LossErrorCode.UnsupportedOption, $"FenchelYoungLoss: max_fun '{name}' is not one of logsumexp, sparsemax, max (from C#, pass any IMaxFunction or MaxFunctions.FromAutograd)"),
    };

    /// <summary>
    /// A max function written with the autograd core: <paramref name="maxFunction"/> maps one row of scores, shape (C),
    /// to a scalar, and its gradient comes from reverse-mode autograd (Optax's <c>make_fenchel_young_loss(max_fun)</c>
    /// with any JAX function). It is called row by row, as Optax vectorizes it over the last axis.
    /// </summary>
    public static IMaxFunction FromAutograd(string name, Func<Tensor, Tensor> maxFunction)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(maxFunction);
        return new AutogradMax(name, maxFunction);
    }

    private sealed class LogSumExpMax : IMaxFunction
    {
        public bool ShiftEquivariant => true;

        public string Name => "logsumexp";

        public double Evaluate(ReadOnlySpan<double> scores, Span<double> prediction)
        {
            Stable.Softmax(scores, prediction);
            return Stable.LogSumExp(scores);
        }
    }

    private sealed class SparsemaxMax : IMaxFunction
    {
        public bool ShiftEquivariant => true;

        public string Name => "sparsemax";

        public double Evaluate(ReadOnlySpan<double> scores, Span<double> prediction)
        {
            double tau = MulticlassSparsemaxLoss.Threshold(scores), max = double.NegativeInfinity;
            foreach (double s in scores) max = Math.Max(max, s);
            // ⟨p, s⟩ + ½(1 − ‖p‖²) = max + ⟨p, s − max⟩ + ½(1 − ‖p‖²) (Σp = 1): the shift keeps large scores exact.
            double cross = 0, squares = 0;
            for (int j = 0; j < scores.Length; j++)
            {
                double p = Math.Max(scores[j] - tau, 0);
                prediction[j] = p;
                cross += p * (scores[j] - max);
                squares += p * p;
            }
            return max + cross + 0.5 * (1 - squares);
        }
    }

    private sealed class HardMaxFunction : IMaxFunction
    {
        public bool ShiftEquivariant => true;

        public string Name => "max";

        public double Evaluate(ReadOnlySpan<double> scores, Span<double> prediction)
        {
            int arg = 0;
            for (int j = 1; j < scores.Length; j++) if (scores[j] > scores[arg]) arg = j;
            prediction.Clear();
            prediction[arg] = 1;
            return scores[arg];
        }
    }

    private sealed class AutogradMax(string name, Func<Tensor, Tensor> f) : IMaxFunction
    {
        public bool ShiftEquivariant => false;   // unknown: evaluated on the scores as given

        public string Name => name;

        public double Evaluate(ReadOnlySpan<double> scores, Span<double> prediction)
        {
            Tensor s = Tensor.FromArray(scores.ToArray(), [scores.Length], DType.Float64, requiresGrad: true);
            Tensor m = f(s) ?? throw new LossArgumentException(LossErrorCode.InvalidValue, $"FenchelYoungLoss: max function '{name}' returned null");
            if (m.Length != 1) throw LossArgumentException.Shape($"FenchelYoungLoss: max function '{name}' must map a row of scores ({scores.Length}) to a scalar, got shape {m.Shape}");
            if (m.RequiresGrad) m.Backward();
            if (s.Grad is null) prediction.Clear();   // a constant: its gradient is 0
            else s.Grad.Values.CopyTo(prediction);
            return m.Values[0];
        }
    }
}
