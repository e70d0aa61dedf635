using LossLab.Losses.Core;
using LossLab.Losses.MetricLearning;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// sentence-transformers' <c>GlobalOrthogonalRegularizationLoss(similarity_fct=cos_sim, mode="gemma", mean_weight=None,
/// second_moment_weight=None, aggregation="sum", second_moment_threshold="auto", embedding_indices=None)</c>: a
/// regularizer that spreads a batch's embeddings over the space (Zhang et al. 2017, global orthogonal regularization;
/// EmbeddingGemma's spread-out loss, 2025). Its input is the batch's C input columns (queries, positives...), (C, N, D).
/// <list type="bullet">
/// <item><c>gemma</c>: per column, the similarities s_ij of its N embeddings to each other (i ≠ j, P = N(N − 1) of them):
/// M₁ = Σ s_ij / P and M₂ = Σ s_ij² / P, terms M₁² and M₂ (or max(0, M₂ − τ)).</item>
/// <item><c>original</c>: per pair of columns (a, b), a before b, the paired similarities s_i = sim(a_i, b_i), non-matching
/// by construction: M₁ = mean s_i, M₂ = mean s_i², terms M₁² and max(0, M₂ − 1/D) (HardNet's GOR).</item>
/// </list>
/// ℓ = w₁·agg(M₁² terms) + w₂·agg(second-moment terms), agg the sum or the mean over columns (pairs). Defaults by mode:
/// w₁ = 0 for gemma, 1 for original; w₂ = 1; τ: none for gemma, 1/D for original. sentence-transformers returns the two
/// weighted parts as a dictionary that its trainer adds: this is their sum.
/// </summary>
/// <remarks>
/// <para><b>Gradient:</b> per term, with A = w₁·(1/T for the mean over T terms) and B likewise for w₂: ∂ℓ/∂s = A·2M₁/P +
/// B·[M₂ > τ]·2s/P (P = N for original); ∂s_ij/∂x̂_i = x̂_j and ∂s_ij/∂x̂_j = x̂_i, and through x̂ = x/max(‖x‖, 1e-12) for
/// the cosine ((g − (g·x̂)x̂)/‖x‖, 0 for a zero row). The ReLU's derivative at M₂ = τ is 0, as PyTorch's.</para>
/// <para>The sentence-transformers release of v5.3 had no mode and the defaults mean_weight = 1, aggregation = "mean" and
/// the threshold 1/D: mode=gemma, mean_weight=1, aggregation=mean, second_moment_threshold=dimension. A numeric threshold
/// (its float form) is left out. It computes in float32 under autocast; LossLab in double.</para>
/// </remarks>
public sealed class GlobalOrthogonalRegularizationLoss : SentenceEmbeddingLoss, ILossDefinition
{
    private const string Name = "GlobalOrthogonalRegularizationLoss";
    private readonly Options _options;

    public GlobalOrthogonalRegularizationLoss() : this(new Options()) { }

    public GlobalOrthogonalRegularizationLoss(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var (w, name) in new[] { (options.MeanWeight, "mean_weight"), (options.SecondMomentWeight, "second_moment_weight") })
        {
            if (w is double v && !double.IsFinite(v)) throw LossArgumentException.Value($"{Name}: {name} must be finite, got {v}");
        }
        if (options.ResolvedMeanWeight == 0 && options.ResolvedSecondMomentWeight == 0)
            throw LossArgumentException.Value($"{Name}: at least one of mean_weight or second_moment_weight must be non-zero");
        _options = options;
    }

    public enum GorMode { Gemma, Original }

    public enum Threshold { Auto, Dimension, None }

    public sealed record Options
    {
        public MultipleNegativesRankingLoss.Similarity SimilarityFunction { get; init; } = MultipleNegativesRankingLoss.Similarity.Cosine;

        public GorMode Mode { get; init; } = GorMode.Gemma;

        /// <summary>Weight of the M₁² terms; null: 0 for gemma, 1 for original.</summary>
        public double? MeanWeight { get; init; }

        /// <summary>Weight of the second-moment terms; null: 1.</summary>
        public double? SecondMomentWeight { get; init; }

        /// <summary>Sum (the default, EmbeddingGemma's) or mean of the terms over columns (column pairs).</summary>
        public bool Sum { get; init; } = true;

        public Threshold SecondMomentThreshold { get; init; } = Threshold.Auto;

        /// <summary>The columns to regularize (Python indexing: −1 is the last); null: all.</summary>
        public int[]? EmbeddingIndices { get; init; }

        internal double ResolvedMeanWeight => MeanWeight ?? (Mode == GorMode.Gemma ? 0 : 1);

        internal double ResolvedSecondMomentWeight => SecondMomentWeight ?? 1;
    }

    protected override string[] EmbeddingInputs => ["embeddings"];

    protected override LossResult ComputeEmbeddings<T>(LossInputs inputs, bool computeGradients)
    {
        TensorData eT = inputs["embeddings"];
        if (eT.Shape.Rank is not (2 or 3)) throw LossArgumentException.Shape($"{Name}: 'embeddings' must be (C, N, D), C input columns of N embeddings, or (N, D) for one column; got shape {eT.Shape}");
        int cols = eT.Shape.Rank == 3 ? eT.Shape[0] : 1, n = eT.Shape[^2], d = eT.Shape[^1];
        int[] selected = Select(cols);
        bool original = _options.Mode == GorMode.Original;
        if (original && selected.Length < 2)
            throw LossArgumentException.Shape($"{Name}: mode=original pairs the columns and needs at least two; 'embeddings' {eT.Shape} gives {selected.Length} (pass (C, N, D) with C ≥ 2, or embedding_indices)");
        if (original ? n < 1 : n < 2)
            throw LossArgumentException.Shape($"{Name}: 'embeddings' {eT.Shape} has {n} embeddings per column; mode={(original ? "original needs at least 1" : "gemma needs at least 2 (similarities to the others)")}");
        bool cosine = _options.SimilarityFunction == MultipleNegativesRankingLoss.Similarity.Cosine;
        double[] x = eT.ToArray<double>(), norms = [];
        if (cosine) (x, norms) = Embeddings.Normalize(x, cols * n, d);
        bool thresholded = _options.SecondMomentThreshold == Threshold.Dimension || (_options.SecondMomentThreshold == Threshold.Auto && original);
        double tau = 1.0 / d;
        var terms = new List<(int A, int B)>();
        if (original) { for (int a = 0; a < selected.Length; a++) for (int b = a + 1; b < selected.Length; b++) terms.Add((selected[a], selected[b])); }
        else foreach (int c in selected) terms.Add((c, c));
        double per = _options.Sum ? 1 : 1.0 / terms.Count;
        double wMean = _options.ResolvedMeanWeight * per, wSecond = _options.ResolvedSecondMomentWeight * per;
        double value = 0;
        double[] g = computeGradients ? new double[x.Length] : [];
        foreach (var (a, b) in terms)
        {
            // The term's similarities: every ordered pair i ≠ j of one column (gemma), or row i of column a with row i of b.
            double p = original ? n : (double)n * (n - 1), m1 = 0, m2 = 0;
            // gemma: the column's similarity matrix streamed in blocks of rows as matrix products (SimilarityBlocks):
            // one dot product and one rank-one update per ordered pair took 4.8 s at 4096 × 512.
            double[]? column = original ? null : x.AsSpan(a * n * d, n * d).ToArray();
            if (column is null) ForEachSimilarity(x, a, b, n, d, original, (i, j, s) => { m1 += s; m2 += s * s; });
            else (m1, m2) = Moments(column, n, d);
            m1 /= p;
            m2 /= p;
            bool active = !thresholded || m2 - tau > 0;
            // A zero weight leaves its part out, as sentence-transformers does (0·NaN would be NaN).
            if (wMean != 0) value += wMean * m1 * m1;
            if (wSecond != 0) value += wSecond * (thresholded ? Math.Max(0, m2 - tau) : m2);
            if (!computeGradients) continue;
            double fromMean = wMean != 0 ? wMean * 2 * m1 / p : 0, fromSecond = active && wSecond != 0 ? wSecond * 2 / p : 0;
            if (column is null)
            {
                ForEachSimilarity(x, a, b, n, d, original, (i, j, s) => Embeddings.AddPair(g, x, a * n + i, g, x, b * n + j, fromMean + fromSecond * s, d));
                continue;
            }
            // ∂ℓ/∂s_ij = fromMean + fromSecond·s_ij for every ordered pair i ≠ j, folded into both rows.
            var blocks = new SimilarityBlocks(column, n, d, gradients: true, scratchRows: 0);
            blocks.Run(1, (i, sims, gRow, _) =>
            {
                for (int j = 0; j < n; j++) if (j != i) gRow[j] = fromMean + fromSecond * sims[j];
            });
            double[] gColumn = blocks.UnitGradient();
            System.Numerics.Tensors.TensorPrimitives.Add<double>(g.AsSpan(a * n * d, n * d), gColumn, g.AsSpan(a * n * d, n * d));
        }
        TensorData result = FromDoubles<T>([value], Shape.Scalar);
        if (!computeGradients) return Result(result);
        if (cosine) g = Embeddings.BackThroughNormalize(g, x, norms, cols * n, d);
        return Result(result, ("embeddings", FromDoubles<T>(g, eT.Shape)));
    }

    /// <summary>Σ s_ij and Σ s_ij² over the ordered pairs i ≠ j of one column's rows (n × d), row sums added in row order.</summary>
    private static (double Sum, double Squares) Moments(double[] rows, int n, int d)
    {
        var rowSum = new double[n];
        var rowSquares = new double[n];
        new SimilarityBlocks(rows, n, d, gradients: false, scratchRows: 0).Run(1, (i, sims, _, _) =>
        {
            double s1 = 0, s2 = 0;
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                s1 += sims[j];
                s2 += sims[j] * sims[j];
            }
            (rowSum[i], rowSquares[i]) = (s1, s2);
        });
        double sum = 0, squares = 0;
        for (int i = 0; i < n; i++) (sum, squares) = (sum + rowSum[i], squares + rowSquares[i]);
        return (sum, squares);
    }

    private static void ForEachSimilarity(double[] x, int a, int b, int n, int d, bool paired, Action<int, int, double> visit)
    {
        for (int i = 0; i < n; i++)
        {
            if (paired) { visit(i, i, Embeddings.Dot(x, a * n + i, x, b * n + i, d)); continue; }
            for (int j = 0; j < n; j++) if (j != i) visit(i, j, Embeddings.Dot(x, a * n + i, x, a * n + j, d));
        }
    }

    /// <summary>embedding_indices resolved as Python indexes a list (negative from the end), checked.</summary>
    private int[] Select(int cols)
    {
        if (_options.EmbeddingIndices is null) return [.. Enumerable.Range(0, cols)];
        if (_options.EmbeddingIndices.Length == 0) throw LossArgumentException.Value($"{Name}: embedding_indices is empty; give the columns to regularize, or None for all");
        var chosen = new int[_options.EmbeddingIndices.Length];
        for (int k = 0; k < chosen.Length; k++)
        {
            int i = _options.EmbeddingIndices[k];
            if (i < -cols || i >= cols) throw LossArgumentException.Value($"{Name}: embedding_indices[{k}] = {i}, but 'embeddings' has {cols} column(s)");
            chosen[k] = i < 0 ? i + cols : i;
        }
        return chosen;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["global_orthogonal_regularization_loss", "st.GlobalOrthogonalRegularizationLoss", "gor_loss", "embedding_gemma_spread_out_loss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = [new("embeddings", InputKind.Floating, true, "the batch's input columns (C, N, D), e.g. queries and positives, or (N, D) for one")],
        Options =
        [
            OptionSpec.Choice("similarity_fct", "cos_sim", "cos_sim or dot_score", "cos_sim", "dot_score"),
            OptionSpec.Choice("mode", "gemma", "gemma: off-diagonal similarities within each column; original: paired similarities of each column pair", "gemma", "original"),
            OptionSpec.OptionalFloat("mean_weight", "weight of the M₁² terms; None: 0 for gemma, 1 for original"),
            OptionSpec.OptionalFloat("second_moment_weight", "weight of the second-moment terms; None: 1"),
            OptionSpec.Choice("aggregation", "sum", "sum or mean of the terms over columns (column pairs)", "sum", "mean"),
            OptionSpec.Choice("second_moment_threshold", "auto", "τ in max(0, M₂ − τ): dimension (1/D), none (raw M₂), auto (none for gemma, dimension for original)", "auto", "dimension", "none"),
            OptionSpec.Tensor("embedding_indices", "the columns to regularize (negative from the end); None: all"),
            .. MatryoshkaOptions,
        ],
        Sample = (r, s) => new LossInputs().Add("embeddings", Samples.Normal(r, s.Rank is 2 or 3 ? s : new Shape(2, 5, 4))),
        Formula = "gemma: ℓ = w₁·agg M₁² + w₂·agg M₂,  M₁ = mean_{i≠j} s_ij, M₂ = mean_{i≠j} s_ij² per column;  original: s_i = sim(a_i, b_i), max(0, M₂ − 1/D)",
        Gradient = "∂ℓ/∂s = w₁·2M₁/P + w₂·[M₂ > τ]·2s/P;  ∂s_ij/∂x̂_i = x̂_j",
        Reference = "sentence-transformers GlobalOrthogonalRegularizationLoss (mode gemma/original); Zhang et al. 2017 (GOR); EmbeddingGemma 2025 (spread-out)",
        Stability = "products in double: finite for any finite input",
        LowerBound = 0,
        Libraries = "sentence-transformers (GlobalOrthogonalRegularizationLoss)",
        Factory = o => new GlobalOrthogonalRegularizationLoss(new Options
        {
            SimilarityFunction = o.Choice("similarity_fct") == "dot_score" ? MultipleNegativesRankingLoss.Similarity.Dot : MultipleNegativesRankingLoss.Similarity.Cosine,
            Mode = o.Choice("mode") == "original" ? GorMode.Original : GorMode.Gemma,
            MeanWeight = o.NullableFloat("mean_weight"),
            SecondMomentWeight = o.NullableFloat("second_moment_weight"),
            Sum = o.Choice("aggregation") == "sum",
            SecondMomentThreshold = o.Choice("second_moment_threshold") switch { "dimension" => Threshold.Dimension, "none" => Threshold.None, _ => Threshold.Auto },
            EmbeddingIndices = Indices(o.Tensor("embedding_indices")),
        }) { Matryoshka = MatryoshkaDims.From(o, Name) },
    };

    private static int[]? Indices(TensorData? t)
    {
        if (t is null) return null;
        var k = new int[t.Length];
        for (int i = 0; i < k.Length; i++)
        {
            double v = t.GetDouble(i);
            if (v != Math.Floor(v) || Math.Abs(v) > int.MaxValue) throw LossArgumentException.Value($"{Name}: embedding_indices must be integers; embedding_indices[{i}] = {v}");
            k[i] = (int)v;
        }
        return k;
    }

    public override LossDescriptor Descriptor => Entry;
}
