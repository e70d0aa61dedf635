using System.Numerics.Tensors;
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
        // Each block's model and guide similarities for a chunk of anchors as matrix products, and its gradient folded
        // back the same way (PairBlock), instead of a dot product and a rank-one update per pair.
        PairBlock[] model = [.. blocks.Select(b => new PairBlock(units[b.Left], units[b.Right], n, d))];
        PairBlock[] guided = [.. blocks.Select(b => new PairBlock(guides[b.Left], guides[b.Right], n, g))];
        int chunk = model[0].ChunkRows(n);
        double[][] sims = [.. blocks.Select(_ => new double[chunk * n])], guideSims = [.. blocks.Select(_ => new double[chunk * n])];
        double[][] slopes = [.. blocks.Select(_ => computeGradients ? new double[chunk * n] : [])];
        double[] scratch = computeGradients ? new double[chunk * n] : [];
        for (int i0 = 0; i0 < n; i0 += chunk)
        {
            int count = Math.Min(chunk, n - i0);
            for (int b = 0; b < blocks.Count; b++)
            {
                model[b].Similarities(i0, count, sims[b]);
                guided[b].Similarities(i0, count, guideSims[b]);
                slopes[b].AsSpan().Clear();
            }
            for (int i = i0; i < i0 + count; i++)
            {
                int at = i - i0;   // the anchor's row in the chunk
                double threshold = guideSims[0][at * n + i];   // the guide's cos(a_i, p_i)
                threshold = _options.RelativeMargin ? threshold * (1 - _options.Margin) : threshold - _options.Margin;
                for (int b = 0; b < blocks.Count; b++)
                {
                    ReadOnlySpan<double> s = sims[b].AsSpan(at * n, n), gs = guideSims[b].AsSpan(at * n, n);
                    for (int j = 0; j < n; j++)
                    {
                        bool falseNegative = gs[j] > threshold && !(b == 0 && j == i);
                        row[b * n + j] = falseNegative ? double.NegativeInfinity : inv * s[j];
                    }
                }
                double positive = row[i];
                var (lse, max) = Embeddings.ExpAndLse(row);   // row becomes e^{s − max}
                losses[i] = lse - positive;
                if (!computeGradients) continue;
                double w = reduce * inv * Math.Exp(max - lse);
                // Σ e over every entry but the positive: its weight is −others/Σe, without 1 − p's cancellation.
                double others = SumWithout(row, i);
                for (int b = 0; b < blocks.Count; b++)
                {
                    Span<double> gb = slopes[b].AsSpan(at * n, n);
                    TensorPrimitives.Multiply<double>(row.AsSpan(b * n, n), w, gb);
                    if (b == 0) gb[i] = 0;
                }
                Embeddings.AddPair(grads[0], units[0], i, grads[1], units[1], i, -w * others, d);
            }
            if (!computeGradients) continue;
            for (int b = 0; b < blocks.Count; b++) model[b].Fold(slopes[b], i0, count, grads[blocks[b].Left], grads[blocks[b].Right], scratch);
        }
        TensorData value = ReduceRows<T>(losses, _options.Reduction, new Shape(n)).Value;
        if (!computeGradients) return Result(value);
        return Result(value, [.. names.Select((name, k) => (name, (TensorData?)FromDoubles<T>(Embeddings.BackThroughNormalize(grads[k], units[k], norms[k], n, d), aT.Shape)))]);
    }

    /// <summary>Σ row without entry <paramref name="skip"/>, added in order (no sum-then-subtract, which would lose a small rest).</summary>
    private static double SumWithout(ReadOnlySpan<double> row, int skip)
        => TensorPrimitives.Sum<double>(row[..skip]) + TensorPrimitives.Sum<double>(row[(skip + 1)..]);

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
