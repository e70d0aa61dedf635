using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// segmentation_models_pytorch's <c>SoftCrossEntropyLoss(reduction, smooth_factor, ignore_index=-100, dim=1)</c>:
/// cross-entropy with label smoothing (fairseq's label_smoothed_nll_loss) over the class axis 1.
/// </summary>
/// <remarks>
/// <para><b>Math:</b> with log p = log_softmax(x) over the C classes and ε = smooth_factor, each position gives
/// ℓ = (1 − ε)·(−log p_y) + (ε/C)·(−Σ_c log p_c), and 0 where y = ignore_index: PyTorch's cross-entropy with
/// label_smoothing ε, element by element. <b>Gradient:</b> ∂ℓ/∂x_j = p_j − (1 − ε)[j = y] − ε/C (0 at ignored
/// positions), cross-entropy's.</para>
/// <para><b>Reduction as smp, not as PyTorch:</b> <c>mean</c> divides by every position (N·d1⋯dk), the ignored ones
/// included, where PyTorch's cross_entropy divides by the counted ones; every position ignored gives 0, not NaN.
/// <c>sum</c> and <c>none</c> are cross-entropy's. smp raises a TypeError for its default smooth_factor=None; here
/// the default is 0 (plain cross-entropy). Shapes as cross-entropy's with class indices: (N, C) with (N), (N, C,
/// d1..dk) with (N, d1..dk), (C) with ().</para>
/// </remarks>
public sealed class SoftCrossEntropyLoss : Loss, ILossDefinition
{
    private readonly CrossEntropy _crossEntropy;
    private readonly Reduction _reduction;

    public SoftCrossEntropyLoss() : this(new Options()) { }

    public SoftCrossEntropyLoss(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.SmoothFactor is >= 0 and <= 1)) throw LossArgumentException.Value($"SoftCrossEntropyLoss: smooth_factor must be in [0, 1], got {options.SmoothFactor}");
        _reduction = options.Reduction;
        _crossEntropy = new CrossEntropy(new CrossEntropy.Options
        {
            Reduction = options.Reduction == Reduction.None ? Reduction.None : Reduction.Sum,
            IgnoreIndex = options.IgnoreIndex,
            LabelSmoothing = options.SmoothFactor,
        });
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>ε in [0, 1]: (1 − ε)·NLL + (ε/C)·Σ_c −log p_c.</summary>
        public double SmoothFactor { get; init; }

        /// <summary>Positions whose target equals this give 0 (and count in the mean).</summary>
        public long IgnoreIndex { get; init; } = -100;
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        TensorData x = inputs["y_pred"], y = inputs["y_true"];
        if (y.Shape == x.Shape && x.Shape.Rank > 0)
        {
            throw LossArgumentException.Shape($"SoftCrossEntropyLoss: 'y_true' has the input's shape {x.Shape}; it takes class indices (N, d1..dk), as smp's gather does");
        }
        LossResult r;
        try
        {
            r = _crossEntropy.Evaluate(new LossInputs { AllowNonFinite = inputs.AllowNonFinite }.Add("input", x).Add("target", y), computeGradients);
        }
        catch (LossArgumentException e) when (e.Message.StartsWith("CrossEntropy: ", StringComparison.Ordinal))
        {
            throw new LossArgumentException(e.Code, "SoftCrossEntropyLoss: " + e.Message["CrossEntropy: ".Length..]
                .Replace("'input'", "'y_pred'", StringComparison.Ordinal).Replace("'target'", "'y_true'", StringComparison.Ordinal));
        }
        // smp's mean: the sum over every position, ignored ones included, divided by their number.
        double scale = _reduction == Reduction.Mean ? 1.0 / Math.Max(1, y.Length) : 1.0;
        var gradients = new Dictionary<string, TensorData>();
        if (r.Gradients.TryGetValue("input", out TensorData? g)) gradients["y_pred"] = Scaled(g, scale);
        return new LossResult(Scaled(r.Value, scale), gradients);
    }

    private static TensorData Scaled(TensorData t, double scale)
    {
        if (scale == 1) return t;
        return t.DType == DType.Float32
            ? TensorData.Create(t.Shape, DType.Float32, t.ToArray<float>().Select(v => (float)(v * scale)).ToArray())
            : TensorData.Create(t.Shape, DType.Float64, t.ToArray<double>().Select(v => v * scale).ToArray());
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "SoftCrossEntropyLoss",
        Aliases = ["soft_cross_entropy_loss", "smp.SoftCrossEntropyLoss", "label_smoothed_nll_loss"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("y_pred", InputKind.Floating, true, "logits (C), (N, C) or (N, C, d1..dk)"),
            new("y_true", InputKind.Indices, false, "class indices (N, d1..dk) or (), or ignore_index"),
        ],
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Float("smooth_factor", 0.0, "ε in [0, 1]: (1 − ε)·NLL + (ε/C)·Σ −log p_c (smp's None raises; 0 here)"),
            OptionSpec.Int("ignore_index", -100, "positions with this target give 0 (and count in the mean)"),
        ],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 4, 5);
            long[] labels = [.. Enumerable.Range(0, x[0]).Select(i => i == 1 ? -100L : r.Next(x[1]))];
            return new LossInputs().Add("y_pred", Samples.Normal(r, x, 2)).Add("y_true", TensorData.FromArray(labels, x[0]));
        },
        Formula = "ℓ = [y ≠ ignore]·((1 − ε)·(−log p_y) + (ε/C)·Σ_c −log p_c), p = softmax(x); mean over every position",
        Gradient = "∂ℓ/∂x_j = [y ≠ ignore]·(p_j − (1 − ε)[j = y] − ε/C)",
        Reference = "segmentation_models_pytorch.losses.SoftCrossEntropyLoss (label_smoothed_nll_loss, after fairseq)",
        Stability = "cross-entropy's max-shifted log-softmax: finite for any finite logits",
        Libraries = "segmentation_models_pytorch, pytorch-toolbelt, fairseq",
        Factory = o => new SoftCrossEntropyLoss(new Options { Reduction = o.Reduction, SmoothFactor = o.Float("smooth_factor"), IgnoreIndex = o.Int("ignore_index") }),
    };

    public override LossDescriptor Descriptor => Entry;
}
