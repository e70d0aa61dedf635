using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// A linear layer followed by cross-entropy, Liger-Kernel's <c>LigerFusedLinearCrossEntropyLoss(ce_weight,
/// ignore_index=-100, lse_square_scale=0, label_smoothing=0, reduction='mean', softcap=None)</c> called as
/// <c>loss(lin_weight, _input, target, bias)</c>: the logits z = H·Wᵀ + b of the hidden states H (N, D), the vocabulary
/// matrix W (V, D) and bias b (V), then <see cref="LigerCrossEntropyLoss"/> on them: soft-capped z' = c·tanh(z/c)
/// when softcap is set, <see cref="CrossEntropy"/> with its class weights, ignore_index, label smoothing and z-loss
/// (lse_square_scale·lse²).
/// </summary>
/// <remarks>
/// <para><b>Gradient:</b> with G = ∂ℓ/∂z' from cross-entropy and G' = G·(1 − (z'/c)²) through the cap, ∂ℓ/∂H = G'·W,
/// ∂ℓ/∂W = G'ᵀ·H, ∂ℓ/∂b = Σ_rows G'. This is the exact path: it holds the N×V logits, in double. For large vocabularies
/// the chunked float32 kernel <see cref="Fused.LinearCrossEntropy"/> computes the same loss without them (Liger's and
/// Cut Cross-Entropy's method, within float32 round-off of this one).</para>
/// </remarks>
public sealed class LinearCrossEntropyLoss : Loss, ILossDefinition
{
    private const string Name = "LinearCrossEntropyLoss";
    private readonly LigerCrossEntropyLoss _logitsLoss;

    public LinearCrossEntropyLoss() : this(new Options()) { }

    public LinearCrossEntropyLoss(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            // The cap, cross-entropy and z-loss on the logits are Liger's cross-entropy; this loss adds the linear layer.
            _logitsLoss = new LigerCrossEntropyLoss(options.Reduction, options.ClassWeight, options.IgnoreIndex, options.LabelSmoothing, options.LseSquareScale, options.Softcap);
        }
        catch (LossArgumentException e)
        {
            throw Renamed(e);
        }
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>One weight per vocabulary entry (V): Liger's ce_weight, cross-entropy's weight.</summary>
        public TensorData? ClassWeight { get; init; }

        public long IgnoreIndex { get; init; } = -100;

        public double LabelSmoothing { get; init; }

        /// <summary>s ≥ 0: adds s·lse(z)² per counted row (the z-loss).</summary>
        public double LseSquareScale { get; init; }

        /// <summary>c &gt; 0 caps the logits at ±c smoothly, c·tanh(z/c) (Gemma 2); null leaves them.</summary>
        public double? Softcap { get; init; }
    }

    /// <summary>The logits loss's error in this loss's words: its name, and the logits it was given.</summary>
    private static LossArgumentException Renamed(LossArgumentException e) => new(e.Code, e.Message
        .Replace("LigerCrossEntropyLoss: ", Name + ": ", StringComparison.Ordinal)
        .Replace("'_input'", "the logits", StringComparison.Ordinal)
        .Replace("'weight'", "'ce_weight'", StringComparison.Ordinal));

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        TensorData hT = inputs["_input"], wT = inputs["lin_weight"];
        if (hT.Shape.Rank != 2) throw LossArgumentException.Shape($"{Name}: '_input' must be the hidden states (N, D), got shape {hT.Shape}");
        int n = hT.Shape[0], d = hT.Shape[1];
        if (wT.Shape.Rank != 2 || wT.Shape[1] != d || wT.Shape[0] == 0)
            throw LossArgumentException.Shape($"{Name}: 'lin_weight' has shape {wT.Shape}; expected (V, D) = (V, {d}) for hidden states {hT.Shape}");
        int v = wT.Shape[0];
        TensorData? bT = inputs.Contains("bias") ? inputs["bias"] : null;
        if (bT is not null && (bT.Shape.Rank != 1 || bT.Shape[0] != v)) throw LossArgumentException.Shape($"{Name}: 'bias' has shape {bT.Shape}; expected (V) = ({v})");
        if (inputs["target"].Shape != new Shape(n)) throw LossArgumentException.Shape($"{Name}: 'target' has shape {inputs["target"].Shape}; expected ({n}), one class index per row of '_input'");
        double[] h = hT.ToArray<double>(), w = wT.ToArray<double>(), b = bT?.ToArray<double>() ?? [];
        var z = new double[n * v];
        GemmF64.Affine(h, GemmF64.Transposed(w, v, d), b, z, n, d, v);
        var logitsInputs = new LossInputs { AllowNonFinite = inputs.AllowNonFinite }
            .Add("_input", TensorData.FromArray(z, n, v)).Add("target", inputs["target"]);
        LossResult r;
        try
        {
            r = _logitsLoss.Evaluate(logitsInputs, computeGradients);
        }
        catch (LossArgumentException e)
        {
            throw Renamed(e);
        }
        TensorData value = FromDoubles<T>(r.Value.ToArray<double>(), r.Value.Shape);
        if (!computeGradients) return Result(value);
        double[] g = r.Gradient("_input").ToArray<double>();   // ∂ℓ/∂z, through the cap
        var gh = new double[n * d];
        var gw = new double[v * d];
        var gb = new double[v];
        GemmF64.AffineBackward(g, h, w, gh, gw, gb, new double[v * n], n, d, v);
        var grads = new List<(string, TensorData)> { ("_input", FromDoubles<T>(gh, hT.Shape)), ("lin_weight", FromDoubles<T>(gw, wT.Shape)) };
        if (bT is not null) grads.Add(("bias", FromDoubles<T>(gb, bT.Shape)));
        return Result(value, [.. grads]);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "LinearCrossEntropyLoss",
        Aliases = ["linear_cross_entropy", "fused_linear_cross_entropy", "LigerFusedLinearCrossEntropyLoss"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("lin_weight", InputKind.Floating, true, "the vocabulary matrix W (V, D)"),
            new("_input", InputKind.Floating, true, "hidden states H (N, D)"),
            new("target", InputKind.Indices, false, "class indices (N), or ignore_index"),
            new("bias", InputKind.Floating, true, "bias b (V)") { Optional = true },
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Tensor("ce_weight", "one weight per vocabulary entry (V), cross-entropy's weight"),
            OptionSpec.Int("ignore_index", -100, "rows with this target are skipped"),
            OptionSpec.Float("label_smoothing", 0.0, "ε in [0, 1]: target → (1 − ε)·onehot + ε/V"),
            OptionSpec.Float("lse_square_scale", 0.0, "s ≥ 0: add s·lse(z)² per counted row (the z-loss)"),
            OptionSpec.OptionalFloat("softcap", "c > 0: logits → c·tanh(z/c) before the softmax (Gemma 2); None: off"),
        ],
        Sample = (r, s) =>
        {
            int n = s.Rank == 2 ? s[0] : 4, d = s.Rank == 2 ? s[1] : 3;
            return new LossInputs().Add("lin_weight", Samples.Normal(r, new Shape(5, d))).Add("_input", Samples.Normal(r, new Shape(n, d)))
                .Add("target", Samples.Classes(r, new Shape(n), 5)).Add("bias", Samples.Normal(r, new Shape(5)));
        },
        Formula = "ℓ = cross_entropy(cap(H·Wᵀ + b), y) + s·lse²,  cap(z) = c·tanh(z/c)",
        Gradient = "G = ∂ℓ/∂z'·(1 − (z'/c)²);  ∂H = G·W, ∂W = Gᵀ·H, ∂b = Σ_rows G",
        Reference = "Liger-Kernel LigerFusedLinearCrossEntropyLoss; torch.nn.functional.linear followed by cross_entropy",
        Stability = "cross-entropy's max-shifted log-softmax in double: finite for any finite input",
        Libraries = "Liger-Kernel (LigerFusedLinearCrossEntropyLoss), Apple's Cut Cross-Entropy (linear_cross_entropy)",
        Factory = o => new LinearCrossEntropyLoss(new Options
        {
            Reduction = o.Reduction,
            ClassWeight = o.Tensor("ce_weight"),
            IgnoreIndex = o.Int("ignore_index"),
            LabelSmoothing = o.Float("label_smoothing"),
            LseSquareScale = o.Float("lse_square_scale"),
            Softcap = o.NullableFloat("softcap"),
        }),
    };

    public override LossDescriptor Descriptor => Entry;
}
