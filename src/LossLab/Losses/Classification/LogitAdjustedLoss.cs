using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Logit-adjusted cross-entropy (Menon et al., Long-tail learning via logit adjustment, ICLR 2021): cross-entropy of
/// the logits shifted by τ·log π, where π are the class priors. Rare classes get their logit lowered during training,
/// so the model must raise it further to win, and the unadjusted argmax at prediction time aims at the balanced error
/// (the mean of per-class errors) instead of the plain error that rewards predicting the majority.
/// </summary>
/// <remarks>
/// <para><b>Definition:</b> ℓ = −log softmax(x + τ·log π)_y over the class axis (dim 1, as cross-entropy's layouts:
/// (C), (N, C), (N, C, d1..dk)). <b>Gradient:</b> the shift is a constant, so ∂ℓ/∂x = softmax(x + τ log π) − onehot(y),
/// cross-entropy's gradient at the shifted logits. The priors need not sum to 1 (a common factor shifts every logit
/// alike); without priors they are uniform and the loss is cross-entropy. τ = 1 is the paper's Fisher-consistent
/// choice for the balanced error.</para>
/// <para>In <c>losslab train</c> the priors default to the training split's class frequencies (counts of at least 1).
/// Reductions and <c>ignore_index</c> are cross-entropy's; its value and gradient come from the same kernel.</para>
/// </remarks>
public sealed class LogitAdjustedLoss : Loss, ILossDefinition
{
    private readonly CrossEntropy _crossEntropy;
    private readonly double[]? _logPriors;
    private readonly double _tau;

    public LogitAdjustedLoss() : this(new Options()) { }

    public LogitAdjustedLoss(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!double.IsFinite(options.Tau)) throw LossArgumentException.Value($"LogitAdjustedLoss: tau must be finite, got {options.Tau}");
        if (options.Priors is TensorData p)
        {
            if (p.Shape.Rank != 1) throw LossArgumentException.Shape($"LogitAdjustedLoss: priors must be one value per class (C), got shape {p.Shape}");
            _logPriors = new double[p.Length];
            for (int c = 0; c < p.Length; c++)
            {
                double v = p.GetDouble(c);
                if (!(v > 0) || !double.IsFinite(v)) throw LossArgumentException.Value($"LogitAdjustedLoss: prior {v} of class {c} must be a finite number > 0");
                _logPriors[c] = Math.Log(v);
            }
        }
        _tau = options.Tau;
        _crossEntropy = new CrossEntropy(new CrossEntropy.Options { Reduction = options.Reduction, IgnoreIndex = options.IgnoreIndex });
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>Class priors π (C), positive; null is uniform (plain cross-entropy).</summary>
        public TensorData? Priors { get; init; }

        /// <summary>τ, the strength of the adjustment (1 in the paper).</summary>
        public double Tau { get; init; } = 1;

        public long IgnoreIndex { get; init; } = -100;
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        TensorData x = inputs["input"];
        if (inputs["target"].Shape == x.Shape && x.Shape.Rank > 0)
            throw LossArgumentException.Shape($"LogitAdjustedLoss: 'target' has the input's shape {x.Shape}; it takes class indices (N) (probability targets: cross_entropy)");
        if (_logPriors is null || _tau == 0) return _crossEntropy.EvaluateFor("LogitAdjustedLoss", inputs, computeGradients);
        Shape shape = x.Shape;
        int classAxis = shape.Rank >= 2 ? 1 : 0;
        if (shape.Rank == 0) throw LossArgumentException.Shape($"LogitAdjustedLoss: 'input' must have a class axis, got a scalar");
        int classes = shape[classAxis], inner = 1;
        for (int d = classAxis + 1; d < shape.Rank; d++) inner *= shape[d];
        if (classes != _logPriors.Length)
            throw LossArgumentException.Shape($"LogitAdjustedLoss: priors has {_logPriors.Length} values but 'input' {shape} has {classes} classes");
        double[] adjusted = (double[])x.ToArray<double>().Clone();   // ToArray may return the tensor's own array
        for (int i = 0; i < adjusted.Length; i++) adjusted[i] += _tau * _logPriors[i / inner % classes];
        TensorData shifted = x.DType == DType.Float32
            ? TensorData.Create(shape, DType.Float32, adjusted.Select(v => (float)v).ToArray())
            : TensorData.Create(shape, DType.Float64, adjusted);
        return _crossEntropy.EvaluateFor("LogitAdjustedLoss", new LossInputs(inputs.Tensors) { AllowNonFinite = inputs.AllowNonFinite }.Add("input", shifted), computeGradients);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "LogitAdjustedLoss",
        Aliases = ["logit_adjusted_loss", "logit_adjustment", "la_loss"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("input", InputKind.Floating, true, "logits (C), (N, C) or (N, C, d1..dk)"),
            new("target", InputKind.Indices, false, "class indices (N, d1..dk) or ()"),
        ],
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Tensor("priors", "class priors π (C), positive; default uniform (cross-entropy); losslab train uses the training class frequencies"),
            OptionSpec.Float("tau", 1, "τ: the strength of the adjustment x + τ·log π"),
            OptionSpec.Int("ignore_index", -100, "rows with this target are skipped"),
        ],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 4, 5);
            long[] labels = [.. Enumerable.Range(0, x[0]).Select(_ => (long)r.Next(x[1]))];
            return new LossInputs().Add("input", Samples.Normal(r, x, 2)).Add("target", TensorData.FromArray(labels, x[0]));
        },
        Formula = "ℓ = −log softmax(x + τ·log π)_y",
        Gradient = "∂ℓ/∂x = softmax(x + τ·log π) − onehot(y)",
        Reference = "Menon et al., Long-tail learning via logit adjustment, ICLR 2021 (the logit-adjusted loss, eq. 10)",
        Stability = "finite for any finite logits (cross-entropy's max-shifted log-softmax at the shifted logits)",
        Libraries = "the paper's reference code (Google Research); torch long-tail libraries",
        Factory = o => new LogitAdjustedLoss(new Options { Reduction = o.Reduction, Priors = o.Tensor("priors"), Tau = o.Float("tau"), IgnoreIndex = o.Int("ignore_index") }),
    };

    public override LossDescriptor Descriptor => Entry;
}
