using LossLab.Losses.Core;
using LossLab.Losses.MetricLearning;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// sentence-transformers' <c>GISTEmbedLoss(model, guide, temperature=0.01, margin_strategy="absolute", margin=0.0,
/// contrast_anchors=True, contrast_positives=True)</c> (Solatorio 2024, "GISTEmbed: Guided In-sample Selection of
/// Training Negatives"): in-batch negatives whose false negatives a guide model removes. Row i holds cos(a_i, p_j) for
/// every positive, and with the options cos(a_i, a_j), cos(p_i, p_j) and cos(a_i, n_j), all over the temperature; an
/// entry whose guide similarity exceeds the guide's own cos(a_i, p_i) (less the margin, or times 1 − margin) is left out
/// as a likely positive, the pair (a_i, p_i) itself never. ℓ_i = −log softmax(row i)_{p_i}, averaged over the anchors.
/// </summary>
/// <remarks>
/// <para>The guide's embeddings are inputs (computed without gradient, as sentence-transformers does under
/// <c>no_grad</c>); they only choose the mask. A self-similarity cos(a_i, a_i) is removed by the same rule, so it stays
/// when the guide's positive similarity is 1 with margin 0, as there.</para>
/// <para><b>Gradient:</b> ∂ℓ_i/∂s = (softmax of the kept entries − [the positive])/τ, the positive's −Σ_others e/Σ e/τ summed without the cancellation of 1 − p, through x̂ = x/max(‖x‖, 1e-12) (0 for
/// a zero row; PyTorch's CosineSimilarity clamps at 1e-8, the same for any norm above it).</para>
/// </remarks>
public sealed class GistEmbedLoss : SentenceEmbeddingLoss, ILossDefinition
{
    private const string Name = "GistEmbedLoss";
    private readonly Options _options;

    public GistEmbedLoss() : this(new Options()) { }

    public GistEmbedLoss(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.Temperature > 0 && double.IsFinite(options.Temperature))) throw LossArgumentException.Value($"{Name}: temperature must be a finite number > 0, got {options.Temperature}");
        if (!double.IsFinite(options.Margin)) throw LossArgumentException.Value($"{Name}: margin must be finite, got {options.Margin}");
        _options = options;
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        public double Temperature { get; init; } = 0.01;

        /// <summary>False: an entry is a false negative above the guide's positive similarity − margin; true: above it × (1 − margin).</summary>
        public bool RelativeMargin { get; init; }

        public double Margin { get; init; }

        public bool ContrastAnchors { get; init; } = true;

        public bool ContrastPositives { get; init; } = true;
    }

    protected override bool IsOptionalInput(string name) => name is "negatives" or "guide_negatives";

    protected override string[] EmbeddingInputs => ["anchors", "positives", "negatives"];

    protected override LossResult ComputeEmbeddings<T>(LossInputs inputs, bool computeGradients)
    {
        TensorData aT = inputs["anchors"];
        if (aT.Shape.Rank != 2) throw LossArgumentException.Shape($"{Name}: 'anchors' must be (N, D), got shape {aT.Shape}");
        int n = aT.Shape[0], d = aT.Shape[1];
        bool hasNegatives = inputs.Contains("negatives");
        if (hasNegatives != inputs.Contains("guide_negatives"))
            throw LossArgumentException.Value($"{Name}: 'negatives' and 'guide_negatives' go together; only '{(hasNegatives ? "negatives" : "guide_negatives")}' is given");
        string[] names = hasNegatives ? ["anchors", "positives", "negatives"] : ["anchors", "positives"];
        int g = -1;
        foreach (string name in names)
        {
            if (inputs[name].Shape != aT.Shape) throw LossArgumentException.Shape($"{Name}: '{name}' has shape {inputs[name].Shape}; expected {aT.Shape}, one per anchor");
            TensorData guide = inputs["guide_" + name];
            if (guide.Shape.Rank != 2 || guide.Shape[0] != n || g >= 0 && guide.Shape[1] != g)
                throw LossArgumentException.Shape($"{Name}: 'guide_{name}' has shape {guide.Shape}; expected ({n}, G), the guide model's embeddings of the same {n} texts (G its width, the same for every input)");
            g = guide.Shape[1];
        }
        // Unit rows: the model's (with gradient) and the guide's, in the order anchors, positives, negatives.
        var units = new double[names.Length][];
        var norms = new double[names.Length][];
        var guides = new double[names.Length][];
        for (int k = 0; k < names.Length; k++)
        {
            (units[k], norms[k]) = Embeddings.Normalize(inputs[names[k]].ToArray<double>(), n, d);
            guides[k] = Embeddings.Normalize(inputs["guide_" + names[k]].ToArray<double>(), n, g).Unit;
        }
        // The blocks of each row: (left input, right input) = ap, aa, pp, an.
        var blocks = new List<(int Left, int Right)> { (0, 1) };
        if (_options.ContrastAnchors) blocks.Add((0, 0));
        if (_options.ContrastPositives) blocks.Add((1, 1));
        if (hasNegatives) blocks.Add((0, 2));
        double inv = 1 / _options.Temperature, reduce = Reducer.Scale(_options.Reduction, n);
        var grads = computeGradients ? units.Select(u => new double[u.Length]).ToArray() : [];
        var losses = new double[n];
        var row = new double[blocks.Count * n];
        for (int i = 0; i < n; i++)
        {
            double threshold = Embeddings.Dot(guides[0], i, guides[1], i, g);
            threshold = _options.RelativeMargin ? threshold * (1 - _options.Margin) : threshold - _options.Margin;
            for (int b = 0; b < blocks.Count; b++)
            {
                var (left, right) = blocks[b];
                for (int j = 0; j < n; j++)
                {
                    bool falseNegative = Embeddings.Dot(guides[left], i, guides[right], j, g) > threshold && !(b == 0 && j == i);
                    row[b * n + j] = falseNegative ? double.NegativeInfinity : inv * Embeddings.Dot(units[left], i, units[right], j, d);
                }
            }
            double positive = row[i];
            var (lse, max) = Embeddings.ExpAndLse(row);   // row becomes e^{s − max}
            losses[i] = lse - positive;
            if (!computeGradients) continue;
            double w = reduce * inv * Math.Exp(max - lse);
            double others = 0;   // Σ e over every entry but the positive: its weight is −others/Σe, without 1 − p's cancellation
            for (int b = 0; b < blocks.Count; b++)
            {
                var (left, right) = blocks[b];
                for (int j = 0; j < n; j++)
                {
                    double e = row[b * n + j];
                    if (e == 0 || b == 0 && j == i) continue;
                    others += e;
                    Embeddings.AddPair(grads[left], units[left], i, grads[right], units[right], j, w * e, d);
                }
            }
            Embeddings.AddPair(grads[0], units[0], i, grads[1], units[1], i, -w * others, d);
        }
        TensorData value = ReduceRows<T>(losses, _options.Reduction, new Shape(n)).Value;
        if (!computeGradients) return Result(value);
        return Result(value, [.. names.Select((name, k) => (name, (TensorData?)FromDoubles<T>(Embeddings.BackThroughNormalize(grads[k], units[k], norms[k], n, d), aT.Shape)))]);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["gist_embed_loss", "st.GISTEmbedLoss", "GISTEmbedLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs =
        [
            new("anchors", InputKind.Floating, true, "anchor embeddings (N, D)"),
            new("positives", InputKind.Floating, true, "each anchor's positive (N, D)"),
            new("guide_anchors", InputKind.Floating, false, "the guide model's embeddings of the anchors (N, G)"),
            new("guide_positives", InputKind.Floating, false, "the guide model's embeddings of the positives (N, G)"),
            new("negatives", InputKind.Floating, true, "one hard negative per anchor (N, D)") { Optional = true },
            new("guide_negatives", InputKind.Floating, false, "the guide model's embeddings of the negatives (N, G)") { Optional = true },
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("temperature", 0.01, "the similarities are divided by it"),
            OptionSpec.Choice("margin_strategy", "absolute", "absolute: a false negative's guide similarity exceeds the positive's − margin; relative: × (1 − margin)", "absolute", "relative"),
            OptionSpec.Float("margin", 0.0, "the margin of margin_strategy"),
            OptionSpec.Bool("contrast_anchors", true, "add the anchor–anchor similarities to each row"),
            OptionSpec.Bool("contrast_positives", true, "add the positive–positive similarities to each row"),
            .. MatryoshkaOptions,
        ],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(5, 4);
            return new LossInputs().Add("anchors", Samples.Normal(r, x)).Add("positives", Samples.Normal(r, x))
                .Add("guide_anchors", Samples.Normal(r, new Shape(x[0], 3))).Add("guide_positives", Samples.Normal(r, new Shape(x[0], 3)))
                .Add("negatives", Samples.Normal(r, x)).Add("guide_negatives", Samples.Normal(r, new Shape(x[0], 3)));
        },
        Formula = "ℓ_i = −log softmax(row_i / τ)_{p_i},  row_i = cos(a_i, ·) over p, a, n and cos(p_i, p), guide false negatives left out",
        Gradient = "∂ℓ_i/∂s = (softmax of the kept entries − [p_i])/τ;  ∂s/∂x̂ = ŷ",
        Reference = "sentence-transformers GISTEmbedLoss; Solatorio 2024 (GISTEmbed)",
        Stability = "a log-sum-exp by its maximum in double: finite for any finite input",
        Libraries = "sentence-transformers (GISTEmbedLoss; the guide's embeddings as inputs)",
        Factory = o => new GistEmbedLoss(new Options
        {
            Reduction = o.Reduction,
            Temperature = o.Float("temperature"),
            RelativeMargin = o.Choice("margin_strategy") == "relative",
            Margin = o.Float("margin"),
            ContrastAnchors = o.Bool("contrast_anchors"),
            ContrastPositives = o.Bool("contrast_positives"),
        }) { Matryoshka = MatryoshkaDims.From(o, "GistEmbedLoss") },
    };

    public override LossDescriptor Descriptor => Entry;
}
