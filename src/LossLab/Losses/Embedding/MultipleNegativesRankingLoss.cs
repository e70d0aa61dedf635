using System.Numerics.Tensors;
using LossLab.Losses.Core;
using LossLab.Losses.MetricLearning;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// sentence-transformers' <c>MultipleNegativesRankingLoss(scale=20.0, similarity_fct=cos_sim, directions=("query_to_doc",),
/// partition_mode="joint")</c>: InfoNCE with in-batch negatives. Anchors q (N, D) are queries, their positives p (N, D)
/// and optional hard negatives (N, K, D) are the documents d (the positives first, then each hard-negative column). With
/// s = scale·sim, the row of anchor i holds s(q_i, d_c) for every document c ("query_to_doc"), and optionally
/// s(q_i, q_j) for j ≠ i ("query_to_query"), s(q_j, p_i) for every query j ("doc_to_query": the symmetric term) and
/// s(d_c, p_i) for the documents of other anchors ("doc_to_doc"). ℓ_i = log Z_i − s(q_i, p_i), where log Z_i is one
/// log-sum-exp over all selected entries (<c>joint</c>) or the mean of one per direction (<c>per_direction</c>).
/// sentence-transformers returns the mean over anchors.
/// </summary>
/// <remarks>
/// <para>Variants (its documentation's): InfoNCE is the default; symmetric InfoNCE is doc_to_query with per_direction
/// (the former MultipleNegativesSymmetricRankingLoss); GTE's improved contrastive loss is all four directions, joint.</para>
/// <para><b>Gradient:</b> ∂ℓ_i/∂s = the softmax weights of the entries in log Z_i (divided by the number of directions
/// for per_direction), minus 1 at s(q_i, p_i), there taken as minus the weights of the other entries (1 − P without its
/// cancellation: a confident row's P rounds to 1); ∂s(x, y)/∂x̂ = scale·ŷ for cosine (then through x̂ = x/max(‖x‖, 1e-12):
/// (g − (g·x̂)x̂)/‖x‖, 0 for a zero row where PyTorch's clamp gives g/1e-12), scale·y for the dot product.</para>
/// </remarks>
public sealed class MultipleNegativesRankingLoss : SentenceEmbeddingLoss, ILossDefinition
{
    private const string Name = "MultipleNegativesRankingLoss";
    private readonly Options _options;

    public MultipleNegativesRankingLoss() : this(new Options()) { }

    public MultipleNegativesRankingLoss(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.Scale > 0 && double.IsFinite(options.Scale))) throw LossArgumentException.Value($"{Name}: scale must be a positive value, got {options.Scale}");
        _options = options;
    }

    public enum Similarity { Cosine, Dot }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>1/temperature: the similarities are multiplied by it (20 = temperature 0.05).</summary>
        public double Scale { get; init; } = 20.0;

        /// <summary>cos_sim (the default) or dot_score (then a scale near 1, says sentence-transformers).</summary>
        public Similarity SimilarityFunction { get; init; } = Similarity.Cosine;

        /// <summary>The directions beyond query_to_doc, which is always included (it holds the positive pair).</summary>
        public bool QueryToQuery { get; init; }

        public bool DocToQuery { get; init; }

        public bool DocToDoc { get; init; }

        /// <summary>False: one softmax over every selected entry (joint); true: one per direction, their log Z averaged.</summary>
        public bool PerDirection { get; init; }
    }

    protected override bool IsOptionalInput(string name) => name == "negatives";

    protected override string[] EmbeddingInputs => ["anchors", "positives", "negatives"];

    protected override LossResult ComputeEmbeddings<T>(LossInputs inputs, bool computeGradients)
    {
        TensorData aT = inputs["anchors"], pT = inputs["positives"];
        if (aT.Shape.Rank != 2) throw LossArgumentException.Shape($"{Name}: 'anchors' must be (N, D), got shape {aT.Shape}");
        int n = aT.Shape[0], d = aT.Shape[1];
        if (pT.Shape != aT.Shape) throw LossArgumentException.Shape($"{Name}: 'positives' has shape {pT.Shape}; expected {aT.Shape}, one positive per anchor");
        TensorData? nT = inputs.Contains("negatives") ? inputs["negatives"] : null;
        int k = nT is null ? 0 : EmbeddingPairs.NegativesPerRow(nT, n, d, Name, "hard negatives per anchor");
        int m = n * (1 + k);   // documents: the positives, then hard-negative column 0, 1, …
        var docs = new double[m * d];
        pT.ToArray<double>().CopyTo(docs, 0);
        if (nT is not null)
        {
            double[] neg = nT.ToArray<double>();
            for (int i = 0; i < n; i++)
                for (int c = 0; c < k; c++) Array.Copy(neg, (i * k + c) * d, docs, ((1 + c) * n + i) * d, d);
        }
        int directions = 1 + (_options.QueryToQuery ? 1 : 0) + (_options.DocToQuery ? 1 : 0) + (_options.DocToDoc ? 1 : 0);
        if (_options.PerDirection && n == 1 && (_options.QueryToQuery || _options.DocToDoc))
            throw LossArgumentException.Value($"{Name}: with one anchor, {(_options.QueryToQuery ? "query_to_query" : "doc_to_doc")} has no entry to normalize over, and per_direction would average a log-sum-exp of nothing (−∞); use joint or a larger batch");
        bool cosine = _options.SimilarityFunction == Similarity.Cosine;
        double[] q = aT.ToArray<double>(), qNorms = [], dNorms = [];
        if (cosine) { (q, qNorms) = Embeddings.Normalize(q, n, d); (docs, dNorms) = Embeddings.Normalize(docs, m, d); }
        double scale = _options.Scale;
        double[] gq = computeGradients ? new double[q.Length] : [], gDocs = computeGradients ? new double[docs.Length] : [];
        double reduce = Reducer.Scale(_options.Reduction, n);
        var losses = new double[n];
        // One row per direction, reused: its scores, then its softmax weights.
        double[] qd = new double[m], qq = new double[n], dq = new double[n], dd = new double[m];
        var rows = new List<(double[] Row, double Max, int Kind, double Sum, double Others)>(4);
        // The directions' similarities for a chunk of anchors as matrix products, and their gradients folded back the
        // same way: query_to_doc q_i·d_c, query_to_query q_i·q_j, doc_to_query p_i·q_j (row i of P·Qᵀ), doc_to_doc p_i·d_c.
        PairBlock?[] blocks =
        [
            new PairBlock(q, docs, m, d),
            _options.QueryToQuery ? new PairBlock(q, q, n, d) : null,
            _options.DocToQuery ? new PairBlock(docs, q, n, d) : null,
            _options.DocToDoc ? new PairBlock(docs, docs, m, d) : null,
        ];
        int chunk = PairBlock.Chunk(n, m);   // the widest direction's rows: M similarities
        double[][] sims = [.. blocks.Select(b => b is null ? [] : new double[chunk * b.Columns])];
        double[][] gs = [.. blocks.Select(b => b is null || !computeGradients ? [] : new double[chunk * b.Columns])];
        double[] scratch = computeGradients ? new double[chunk * m] : [];
        for (int i0 = 0; i0 < n; i0 += chunk)
        {
            int count = Math.Min(chunk, n - i0);
            for (int b = 0; b < blocks.Length; b++)
            {
                blocks[b]?.Similarities(i0, count, sims[b]);
                gs[b].AsSpan().Clear();
            }
            for (int i = i0; i < i0 + count; i++)
            {
                int at = i - i0;   // the anchor's row in the chunk
                TensorPrimitives.Multiply<double>(sims[0].AsSpan(at * m, m), scale, qd);
                if (_options.QueryToQuery)
                {
                    TensorPrimitives.Multiply<double>(sims[1].AsSpan(at * n, n), scale, qq);
                    qq[i] = double.NegativeInfinity;
                }
                if (_options.DocToQuery) TensorPrimitives.Multiply<double>(sims[2].AsSpan(at * n, n), scale, dq);
                if (_options.DocToDoc)
                {
                    TensorPrimitives.Multiply<double>(sims[3].AsSpan(at * m, m), scale, dd);
                    for (int c = i; c < m; c += n) dd[c] = double.NegativeInfinity;
                }
                double positive = qd[i];
                // Each selected row turned into e^{s − max}, scaled to weights below.
                rows.Clear();
                rows.Add(Weights(qd, 0, i));
                if (_options.QueryToQuery) rows.Add(Weights(qq, 1, -1));
                if (_options.DocToQuery) rows.Add(Weights(dq, 2, i));
                if (_options.DocToDoc) rows.Add(Weights(dd, 3, -1));
                // Each direction's softmax weights are f_d·e^{s − max_d}: joint, f_d = e^{max_d − M}/total with
                // total = Σ_d e^{max_d − M}·Σ row_d; per_direction, f_d = 1/(D·Σ row_d). Neither takes e^{max − lse},
                // whose rounded lse costs the weights ulp(max) where a confident row's P − 1 needs every digit.
                double top = double.NegativeInfinity, total = 0, rest = 0;
                int held = 0;   // entries holding the positive pair itself (query_to_doc's, and doc_to_query's)
                foreach (var r in rows) top = Math.Max(top, r.Max);
                foreach (var r in rows)
                {
                    if (r.Sum == 0) continue;
                    total += Math.Exp(r.Max - top) * r.Sum;
                    rest += Math.Exp(r.Max - top) * r.Others;
                    if (r.Kind is 0 or 2) held++;
                }
                // ℓ = lse − s⁺: where s⁺ is the largest entry, log k + log1p(rest/k) with k = held, which keeps a confident row's e^{−40}
                // that lse − s⁺ would round away.
                losses[i] = _options.PerDirection
                    ? rows.Sum(r => r.Kind is 0 or 2 && positive >= r.Max ? Stable.Log1p(r.Others) : r.Max - positive + Math.Log(r.Sum)) / directions
                    : positive >= top ? Math.Log(held) + Stable.Log1p(rest / held) : top - positive + Math.Log(total);
                if (!computeGradients) continue;
                // ∂ℓ_i/∂s(q_i, p_i) = Σ (its weights) − 1 = −Σ_d f_d·(row_d without it): the positive pair sits in
                // query_to_doc at i and in doc_to_query at i; the other entries' weights go straight to their pairs.
                double complement = 0;
                foreach (var (row, max, kind, sum, others) in rows)
                {
                    if (sum == 0) continue;
                    double f = _options.PerDirection ? 1 / (sum * directions) : Math.Exp(max - top) / total;
                    // The entries' weights into the chunk's gradient rows; the positive pair's (query_to_doc's and
                    // doc_to_query's entry i) is taken below from the others.
                    Span<double> g = gs[kind].AsSpan(at * row.Length, row.Length);
                    TensorPrimitives.Multiply<double>(row, reduce * scale * f, g);
                    if (kind is 0 or 2) g[i] = 0;
                    complement += f * others;
                }
                Embeddings.AddPair(gq, q, i, gDocs, docs, i, -reduce * scale * complement, d);   // the positive pair
            }
            if (!computeGradients) continue;
            blocks[0]!.Fold(gs[0], i0, count, gq, gDocs, scratch);
            blocks[1]?.Fold(gs[1], i0, count, gq, gq, scratch);
            blocks[2]?.Fold(gs[2], i0, count, gDocs, gq, scratch);
            blocks[3]?.Fold(gs[3], i0, count, gDocs, gDocs, scratch);
        }
        TensorData value = ReduceRows<T>(losses, _options.Reduction, new Shape(n)).Value;
        if (!computeGradients) return Result(value);
        if (cosine)
        {
            gq = Embeddings.BackThroughNormalize(gq, q, qNorms, n, d);
            gDocs = Embeddings.BackThroughNormalize(gDocs, docs, dNorms, m, d);
        }
        var gp = new double[n * d];
        Array.Copy(gDocs, gp, n * d);
        double[]? gn = null;
        if (nT is not null)
        {
            gn = new double[n * k * d];
            for (int i = 0; i < n; i++)
                for (int c = 0; c < k; c++) Array.Copy(gDocs, ((1 + c) * n + i) * d, gn, (i * k + c) * d, d);
        }
        return Result(value, ("anchors", FromDoubles<T>(gq, aT.Shape)), ("positives", FromDoubles<T>(gp, pT.Shape)),
            ("negatives", gn is null ? null : FromDoubles<T>(gn, nT!.Shape)));
    }

    /// <summary>
    /// A direction's scores turned into e^{s − max} in place, with their max, their sum and the sum without the entry
    /// <paramref name="positive"/> (the positive pair's; −1: none in this direction).
    /// </summary>
    private static (double[] Row, double Max, int Kind, double Sum, double Others) Weights(double[] scores, int kind, int positive)
    {
        double max = Embeddings.ExpAndLse(scores).Max, rest = 0;
        for (int c = 0; c < scores.Length; c++) if (c != positive) rest += scores[c];
        return (scores, max, kind, positive < 0 ? rest : rest + scores[positive], rest);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["multiple_negatives_ranking_loss", "st.MultipleNegativesRankingLoss", "mnrl", "in_batch_negatives_loss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs =
        [
            new("anchors", InputKind.Floating, true, "anchor (query) embeddings (N, D)"),
            new("positives", InputKind.Floating, true, "each anchor's positive (document) embedding (N, D)"),
            new("negatives", InputKind.Floating, true, "hard negatives (N, K, D), or (N, D) for one per anchor") { Optional = true },
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("scale", 20.0, "1/temperature: similarities are multiplied by it"),
            OptionSpec.Choice("similarity_fct", "cos_sim", "cos_sim or dot_score", "cos_sim", "dot_score"),
            OptionSpec.Bool("query_to_query", false, "add each anchor's similarities to the other anchors (directions)"),
            OptionSpec.Bool("doc_to_query", false, "add each positive's similarities to every anchor: symmetric InfoNCE (directions)"),
            OptionSpec.Bool("doc_to_doc", false, "add each positive's similarities to the other anchors' documents (directions)"),
            OptionSpec.Choice("partition_mode", "joint", "joint: one softmax over every selected entry; per_direction: one per direction, averaged", "joint", "per_direction"),
            .. MatryoshkaOptions,
        ],
        Sample = (r, s) =>
        {
            Shape a = s.Rank == 2 ? s : new Shape(5, 4);
            return new LossInputs().Add("anchors", Samples.Normal(r, a)).Add("positives", Samples.Normal(r, a))
                .Add("negatives", Samples.Normal(r, new Shape(a[0], 2, a[1])));
        },
        Formula = "ℓ_i = log Z_i − s(q_i, p_i),  Z_i = Σ_c e^{s(q_i, d_c)} (+ the selected directions),  s = scale·cos",
        Gradient = "∂ℓ_i/∂s = softmax weights in Z_i − [the positive];  ∂s/∂x̂ = scale·ŷ, x̂ = x/max(‖x‖, 1e-12)",
        Reference = "sentence-transformers MultipleNegativesRankingLoss (v5: directions, partition_mode); Henderson et al. 2017; van den Oord et al. 2018 (InfoNCE)",
        Stability = "log-sum-exps by their maximum in double: finite for any finite input",
        // ≥ 0 when joint (Z_i holds the positive) or with only query_to_doc/doc_to_query; per_direction averages in the
        // query_to_query and doc_to_doc log-sum-exps, which do not hold the positive and can fall below it.
        LowerBound = double.NegativeInfinity,
        Libraries = "sentence-transformers (MultipleNegativesRankingLoss; MultipleNegativesSymmetricRankingLoss = doc_to_query, per_direction)",
        Factory = o => new MultipleNegativesRankingLoss(new Options
        {
            Reduction = o.Reduction,
            Scale = o.Float("scale"),
            SimilarityFunction = o.Choice("similarity_fct") == "dot_score" ? Similarity.Dot : Similarity.Cosine,
            QueryToQuery = o.Bool("query_to_query"),
            DocToQuery = o.Bool("doc_to_query"),
            DocToDoc = o.Bool("doc_to_doc"),
            PerDirection = o.Choice("partition_mode") == "per_direction",
        }) { Matryoshka = MatryoshkaDims.From(o, "MultipleNegativesRankingLoss") },
    };

    public override LossDescriptor Descriptor => Entry;
}
