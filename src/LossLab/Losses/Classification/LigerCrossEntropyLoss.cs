using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Liger-Kernel's <c>LigerCrossEntropyLoss(weight=None, ignore_index=-100, lse_square_scale=0.0, label_smoothing=0.0,
/// reduction='mean', softcap=None)</c> called as <c>loss(_input, target)</c> on logits (BT, V): the logits soft-capped
/// z' = c·tanh(z/c) when softcap is set (Gemma 2's final-logit capping), then <see cref="CrossEntropy"/> with its class
/// weights, ignore_index, label smoothing and the z-loss lse_square_scale·lse(z')² on the counted rows.
/// </summary>
/// <remarks>
/// <para><b>Gradient:</b> G = ∂ℓ/∂z' from cross-entropy (with the z-loss's 2s·lse·softmax), then G·(1 − (z'/c)²) through
/// the cap. <see cref="LinearCrossEntropyLoss"/> (Liger's fused linear loss) is this loss evaluated on the logits of a
/// linear layer.</para>
/// <para>Liger's extra outputs (return_z_loss, return_token_accuracy, return_predicted_tokens) are diagnostics, not part
/// of the loss: left out.</para>
/// </remarks>
public sealed class LigerCrossEntropyLoss : Loss, ILossDefinition
{
    private const string Name = "LigerCrossEntropyLoss";
    private readonly CrossEntropy _crossEntropy;
    private readonly double _softcap;

    public LigerCrossEntropyLoss(Reduction reduction = Reduction.Mean, TensorData? weight = null, long ignoreIndex = -100, double labelSmoothing = 0, double lseSquareScale = 0, double? softcap = null)
    {
        if (softcap is double c && !(c > 0 && double.IsFinite(c)))
            throw LossArgumentException.Value($"{Name}: softcap must be a finite number > 0 (or None), got {c}");
        _softcap = softcap ?? 0;
        try
        {
            _crossEntropy = new CrossEntropy(new CrossEntropy.Options
            {
                Reduction = reduction, Weight = weight, IgnoreIndex = ignoreIndex, LabelSmoothing = labelSmoothing, ZLoss = lseSquareScale,
            });
        }
        catch (LossArgumentException e)
        {
            throw new LossArgumentException(e.Code, e.Message.Replace("CrossEntropy: ", Name + ": ", StringComparison.Ordinal).Replace("z_loss", "lse_square_scale", StringComparison.Ordinal));
        }
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        TensorData x = inputs["_input"];
        if (x.Shape.Rank != 2) throw LossArgumentException.Shape($"{Name}: '_input' must be logits (BT, V), got shape {x.Shape}");
        if (inputs["target"].Shape != new Shape(x.Shape[0]))
            throw LossArgumentException.Shape($"{Name}: 'target' has shape {inputs["target"].Shape}; expected ({x.Shape[0]}), one class index per row of '_input'");
        double[] z = x.ToArray<double>();
        if (_softcap > 0) z = (double[])z.Clone();   // capped in place: ToArray may hand back the tensor's own storage
        double[]? slope = _softcap > 0 ? new double[z.Length] : null;   // 1 − (z'/c)², the cap's derivative
        for (int k = 0; slope is not null && k < z.Length; k++)
        {
            double t = Math.Tanh(z[k] / _softcap);
            slope[k] = 1 - t * t;
            z[k] = _softcap * t;
        }
        LossResult r;
        try
        {
            r = _crossEntropy.Evaluate(new LossInputs { AllowNonFinite = inputs.AllowNonFinite }.Add("input", TensorData.FromArray(z, x.Shape[0], x.Shape[1])).Add("target", inputs["target"]), computeGradients);
        }
        catch (LossArgumentException e) when (e.Message.StartsWith("CrossEntropy: ", StringComparison.Ordinal))
        {
            throw new LossArgumentException(e.Code, Name + ": " + e.Message["CrossEntropy: ".Length..].Replace("'input'", "'_input'", StringComparison.Ordinal));
        }
        TensorData value = FromDoubles<T>(r.Value.ToArray<double>(), r.Value.Shape);
        if (!computeGradients) return Result(value);
        double[] g = r.Gradient("input").ToArray<double>();   // the inner result's own array: scaled in place
        for (int k = 0; slope is not null && k < g.Length; k++) g[k] *= slope[k];
        return Result(value, ("_input", FromDoubles<T>(g, x.Shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["liger_cross_entropy", "liger.LigerCrossEntropyLoss"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("_input", InputKind.Floating, true, "logits (BT, V)"),
            new("target", InputKind.Indices, false, "class indices (BT), or ignore_index"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Tensor("weight", "one weight per class (V), cross-entropy's weight"),
            OptionSpec.Int("ignore_index", -100, "rows with this target are skipped"),
            OptionSpec.Float("label_smoothing", 0.0, "ε in [0, 1]: target → (1 − ε)·onehot + ε/V"),
            OptionSpec.Float("lse_square_scale", 0.0, "s ≥ 0: add s·lse(z)² per counted row (the z-loss)"),
            OptionSpec.OptionalFloat("softcap", "c > 0: logits → c·tanh(z/c) before the softmax (Gemma 2); None: off"),
        ],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(4, 5);
            return new LossInputs().Add("_input", Samples.Normal(r, x, 2)).Add("target", Samples.Classes(r, new Shape(x[0]), x[1]));
        },
        Formula = "ℓ = cross_entropy(cap(z), y) + s·lse(cap(z))²,  cap(z) = c·tanh(z/c)",
        Gradient = "∂ℓ/∂z = G·(1 − (z'/c)²),  G = cross-entropy's (with 2s·lse·softmax)",
        Reference = "Liger-Kernel LigerCrossEntropyLoss (liger_kernel.ops.cross_entropy)",
        Stability = "max-shifted log-softmax in double: finite for any finite logits; the cap bounds them by ±c",
        Libraries = "Liger-Kernel (LigerCrossEntropyLoss)",
        Factory = o => new LigerCrossEntropyLoss(o.Reduction, o.Tensor("weight"), o.Int("ignore_index"), o.Float("label_smoothing"), o.Float("lse_square_scale"), o.NullableFloat("softcap")),
    };

    public override LossDescriptor Descriptor => Entry;
}
