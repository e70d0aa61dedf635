using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// The label-distribution-aware margin loss (Cao et al., Learning Imbalanced Datasets with Label-Distribution-Aware
/// Margin Loss, NeurIPS 2019; its reference code's <c>LDAMLoss(cls_num_list, max_m=0.5, weight=None, s=30)</c>):
/// cross-entropy of s·(x − m_y·onehot(y)), the target's logit lowered by a margin that grows as its class gets rarer,
/// m_j = max_m·n_j^{−1/4} / max_k n_k^{−1/4} for class counts n. A rare class must then win by a wider margin, which
/// the paper derives from a generalization bound that is tightest with margins ∝ n^{−1/4}.
/// </summary>
/// <remarks>
/// <para><b>Definition:</b> z = s·(x − m_y·onehot(y)) per row; ℓ = −log softmax(z)_y, with cross-entropy's class
/// weights and weighted mean. <b>Gradient:</b> the margin is a constant, so ∂ℓ/∂x = s·(softmax(z) − onehot(y)) (times the
/// row's weight); the value and gradient come from the cross-entropy kernel at z.</para>
/// <para>The paper applies it to cosine logits (normalized features and weights), where s = 30 is a scale; on raw
/// logits a smaller s suits. Its deferred re-weighting (DRW: class weights switched on late in training) is a schedule,
/// the caller's: pass <c>weight</c> from that epoch on. Without <c>cls_num_list</c> every class gets max_m (the
/// additive-margin softmax); <c>losslab train</c> takes the training split's class counts (at least 1).</para>
/// </remarks>
public sealed class LdamLoss : Loss, ILossDefinition
{
    private const string Name = "LdamLoss";
    private readonly CrossEntropy _crossEntropy;
    private readonly double[]? _margins;
    private readonly double _maxMargin, _scale;

    public LdamLoss() : this(new Options()) { }

    public LdamLoss(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.MaxMargin >= 0 && double.IsFinite(options.MaxMargin))) throw LossArgumentException.Value($"{Name}: max_m must be a finite margin ≥ 0, got {options.MaxMargin}");
        if (!(options.Scale > 0 && double.IsFinite(options.Scale))) throw LossArgumentException.Value($"{Name}: s must be a finite scale > 0, got {options.Scale}");
        if (options.Reduction == Reduction.BatchMean) throw LossArgumentException.Value($"{Name}: reduction must be none, mean or sum");
        if (options.ClassCounts is TensorData counts)
        {
            if (counts.Shape.Rank != 1 || counts.Length == 0) throw LossArgumentException.Shape($"{Name}: cls_num_list must be one count per class (C), got shape {counts.Shape}");
            var quarter = new double[counts.Length];
            for (int c = 0; c < counts.Length; c++)
            {
                double n = counts.GetDouble(c);
                if (!(n > 0) || !double.IsFinite(n)) throw LossArgumentException.Value($"{Name}: cls_num_list[{c}] = {n} must be a finite count > 0");
                quarter[c] = 1 / Math.Sqrt(Math.Sqrt(n));
            }
            double largest = quarter.Max();
            _margins = [.. quarter.Select(q => options.MaxMargin * q / largest)];
        }
        (_maxMargin, _scale) = (options.MaxMargin, options.Scale);
        _crossEntropy = new CrossEntropy(new CrossEntropy.Options { Reduction = options.Reduction, Weight = options.Weight });
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>n, the training examples of each class (C); null: every class's margin is max_m.</summary>
        public TensorData? ClassCounts { get; init; }

        /// <summary>The largest margin, the rarest class's (0.5 in the paper).</summary>
        public double MaxMargin { get; init; } = 0.5;

        /// <summary>s, the scale of the margined logits (30 for the paper's cosine logits).</summary>
        public double Scale { get; init; } = 30;

        /// <summary>Cross-entropy's class weights (C), e.g. DRW's re-weighting; null: none.</summary>
        public TensorData? Weight { get; init; }
    }

    /// <summary>m_j, the margin of each class (C classes).</summary>
    public double[] Margins(int classes)
    {
        if (_margins is null) return [.. Enumerable.Repeat(_maxMargin, classes)];
        if (_margins.Length != classes) throw LossArgumentException.Shape($"{Name}: cls_num_list has {_margins.Length} counts but 'input' has {classes} classes");
        return (double[])_margins.Clone();
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        TensorData x = inputs["input"], y = inputs["target"];
        if (x.Shape.Rank != 2 || x.Shape[1] == 0) throw LossArgumentException.Shape($"{Name}: 'input' must be logits (N, C), got shape {x.Shape}");
        int n = x.Shape[0], c = x.Shape[1];
        if (y.Shape.Rank != 1 || y.Shape[0] != n) throw LossArgumentException.Shape($"{Name}: 'target' must be class indices (N) = ({n}), got shape {y.Shape}");
        double[] margins = Margins(c);
        long[] target = inputs.Indices("target");
        double[] z = (double[])x.ToArray<double>().Clone();   // ToArray may return the tensor's own array
        for (int i = 0; i < n; i++)
        {
            if (target[i] < 0 || target[i] >= c) throw LossArgumentException.Value($"{Name}: target {target[i]} at position {i} is out of range: class indices must be in [0, {c - 1}]");
            z[i * c + target[i]] -= margins[target[i]];
        }
        for (int k = 0; k < z.Length; k++) z[k] *= _scale;
        // z in double even for float32 logits: rounding z = s·(x − m) to float32 would cost the gradient s·ulp(z), 1 % of
        // a confident row's s·(p − 1) at s = 30; cross-entropy's double path then gives float32 its last digit.
        TensorData scaled = TensorData.Create(x.Shape, DType.Float64, z);
        LossResult r = _crossEntropy.EvaluateFor(Name, new LossInputs(inputs.Tensors) { AllowNonFinite = inputs.AllowNonFinite }.Add("input", scaled), computeGradients);
        TensorData value = FromDoubles<T>(r.Value.ToArray<double>(), r.Value.Shape);
        if (!computeGradients) return Result(value);
        double[] g = r.Gradient("input").ToArray<double>();
        var gx = new double[g.Length];
        for (int k = 0; k < g.Length; k++) gx[k] = _scale * g[k];
        return Result(value, ("input", FromDoubles<T>(gx, x.Shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["ldam_loss", "LDAMLoss", "ldam", "label_distribution_aware_margin_loss"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("input", InputKind.Floating, true, "logits (N, C) (the paper's: cosines of normalized features and weights)"),
            new("target", InputKind.Indices, false, "class indices (N)"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Tensor("cls_num_list", "training examples per class (C); margins ∝ n^(−1/4), the largest max_m; default every class max_m (losslab train: the training counts)"),
            OptionSpec.Float("max_m", 0.5, "the largest margin, the rarest class's"),
            OptionSpec.Float("s", 30, "the scale of the margined logits"),
            OptionSpec.Tensor("weight", "cross-entropy's class weights (C): the paper's deferred re-weighting from the epoch it starts"),
        ],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 4, 5);
            long[] labels = [.. Enumerable.Range(0, x[0]).Select(_ => (long)r.Next(x[1]))];
            return new LossInputs().Add("input", Samples.Normal(r, x, 0.5)).Add("target", TensorData.FromArray(labels, x[0]));
        },
        Formula = "ℓ = −log softmax(s·(x − m_y·onehot(y)))_y,  m_j = max_m·n_j^(−1/4)/max_k n_k^(−1/4)",
        Gradient = "∂ℓ/∂x = s·(softmax(z) − onehot(y)),  z the margined, scaled logits",
        Reference = "Cao et al., Learning Imbalanced Datasets with Label-Distribution-Aware Margin Loss, NeurIPS 2019 (reference code LDAMLoss)",
        Stability = "cross-entropy's max-shifted log-softmax at z: finite for any finite logits",
        LowerBound = 0,
        Libraries = "the paper's reference code (LDAMLoss); long-tail libraries",
        Factory = o => new LdamLoss(new Options
        {
            Reduction = o.Reduction,
            ClassCounts = o.Tensor("cls_num_list"),
            MaxMargin = o.Float("max_m"),
            Scale = o.Float("s"),
            Weight = o.Tensor("weight"),
        }),
    };

    public override LossDescriptor Descriptor => Entry;
}
