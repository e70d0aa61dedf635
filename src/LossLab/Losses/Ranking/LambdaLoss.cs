using System.Numerics.Tensors;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Numerics.Simd;

namespace LossLab.Losses.Ranking;

/// <summary>
/// The LambdaLoss framework (Wang et al., CIKM 2018; sentence-transformers' cross-encoder <c>LambdaLoss(weighting_scheme=
/// NDCGLoss2PPScheme(), k=None, sigma=1.0, eps=1e-10, reduction_log="binary")</c>): a pairwise logistic loss over each
/// query's documents in the order of their scores, each pair weighted by how much swapping it moves NDCG. With the
/// documents sorted by score (positions i = 0..n−1), labels t, gains G_i = (2^{max(t_i, 0)} − 1)/maxDCG@k and
/// discounts D_i = log₂(2 + i):
/// ℓ = −mean over the batch's selected pairs (i, j) of log_b max(max(σ(σ_s·(s_i − s_j)), ε)^{w_ij}, ε), the pairs with
/// t_i &gt; t_j and both positions below k (NDCGLoss1: every pair of documents, itself and ties included).
/// </summary>
/// <remarks>
/// <para>Weights w_ij: none (RankNet) 1; ndcg_loss1 G_i/D_i; ndcg_loss2 |1/log₂(1 + d) − 1/log₂(2 + d)|·|G_i − G_j| with
/// d = |i − j|; lambda_rank |1/D_i − 1/D_j|·|G_i − G_j|; ndcg_loss2pp μ·ndcg_loss2 + lambda_rank (μ = 10). maxDCG@k =
/// max(Σ_{p&lt;k} (2^{t⁺_(p)} − 1)/D_p, ε) over the labels sorted descending. The weights depend on the labels and the
/// order only: no gradient flows through them.</para>
/// <para><b>Gradient:</b> for a selected pair not held by a clamp, ∂/∂(s_i − s_j) = −w_ij·σ_s·(1 − σ(σ_s·(s_i − s_j)))/(P·ln b),
/// P the number of selected pairs, added to s_i and taken from s_j (through the sort to the input positions); a term at
/// either ε clamp, or with |s_i − s_j| past 10⁸, has none, as PyTorch's clamps give. Logarithms of the sigmoid are
/// log-sigmoids, so no pair underflows before its clamp.</para>
/// <para>Differences, in README: a batch with no selected pair (every query's labels tied) is 0 here, where
/// sentence-transformers takes the mean of nothing (NaN); tied scores keep their input order (torch's sort is not stable).</para>
/// </remarks>
public sealed class LambdaLoss : Loss, ILossDefinition
{
    private const string Name = "LambdaLoss";

    public enum WeightingScheme { None, NdcgLoss1, NdcgLoss2, LambdaRank, NdcgLoss2PP }

    public sealed record Options
    {
        public WeightingScheme Scheme { get; init; } = WeightingScheme.NdcgLoss2PP;

        /// <summary>μ of NDCGLoss2++ (its NDCGLoss2 part's weight).</summary>
        public double Mu { get; init; } = 10;

        /// <summary>NDCG@k's cutoff; null: every document.</summary>
        public int? K { get; init; }

        public double Sigma { get; init; } = 1;

        public double Eps { get; init; } = 1e-10;

        /// <summary>log₂ (sentence-transformers' default, "binary") or ln ("natural").</summary>
        public bool Binary { get; init; } = true;
    }

    private readonly Options _o;
    private readonly string _name;

    public LambdaLoss() : this(new Options()) { }

    public LambdaLoss(Options options) : this(options, Name) { }

    /// <summary>The loss under another name in its messages (RankNet is this loss without weights).</summary>
    internal LambdaLoss(Options options, string name)
    {
        _name = name;
        ArgumentNullException.ThrowIfNull(options);
        if (options.K is < 1) throw LossArgumentException.Value($"{name}: k must be at least 1 (or None for every document), got {options.K}");
        if (!double.IsFinite(options.Sigma)) throw LossArgumentException.Value($"{name}: sigma must be finite, got {options.Sigma}");
        if (!(options.Eps > 0 && options.Eps < 1)) throw LossArgumentException.Value($"{name}: eps must be in (0, 1), got {options.Eps}");
        if (!double.IsFinite(options.Mu)) throw LossArgumentException.Value($"{name}: mu must be finite, got {options.Mu}");
        _o = options;
    }

    public override LossDescriptor Descriptor => Entry;

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (n, l, s, y, valid) = DocumentLists.Read(inputs, _name);
        double[] g = computeGradients ? new double[s.Length] : [];
        double[] sums = new double[n];
        long[] counts = new long[n];
        int top = Math.Min(_o.K ?? int.MaxValue, l);
        QueryJob job = QueryJob.ForThisThread;
        (job.Loss, job.L, job.S, job.Y, job.Valid, job.G, job.Sums, job.Counts) = (this, l, s, y, valid, computeGradients ? g : null, sums, counts);
        (job.InverseDiscount, job.SwapDiscount) = Tables(top);
        try
        {
            // Queries are independent and write disjoint rows of g; each query's sum is the same wherever it runs, and
            // the batch's is added in query order below, so the result does not depend on the split.
            job.Run((long)n * top * top >= 1 << 16 ? Math.Min(Environment.ProcessorCount, n) : 1);
        }
        finally
        {
            (job.Loss, job.S, job.Y, job.Valid, job.G, job.Sums, job.Counts) = (null!, null!, null!, null!, null, null!, null!);   // no references kept past the call
        }
        double total = 0;
        long pairs = 0;
        for (int q = 0; q < n; q++) { total += sums[q]; pairs += counts[q]; }
        double logBase = _o.Binary ? Math.Log(2) : 1;
        double value = pairs == 0 ? 0 : -(total / logBase) / pairs;
        TensorData result = FromDoubles<T>([value], Shape.Scalar);
        if (!computeGradients) return Result(result);
        // ℓ = −Σ term/(P·ln b): g holds each document's Σ of its pairs' slopes, taken where it is the higher document of
        // the pair and added where it is the lower (∂ℓ/∂s_i = −slope/(P·ln b)), scaled once.
        if (pairs > 0)
            for (int i = 0; i < g.Length; i++) g[i] = g[i] / logBase / pairs;
        return Result(result, ("logits", FromDoubles<T>(g, inputs["logits"].Shape)));
    }

    /// <summary>
    /// One query: its documents by score (descending, ties in input order: a stable sort), the first k, then every
    /// selected pair's term by <see cref="PairwiseLogistic.Row"/>. For the label-ordered schemes the documents are also
    /// sorted by label, so that a document's partners (every label strictly lower) are one prefix of that order. Writes
    /// the query's Σ term and pair count, and each document's slopes into g (− as the pair's higher document, + as its lower).
    /// </summary>
    private void Query(int q, QueryJob job, Scratch sc)
    {
        int l = job.L;
        double[] s = job.S, y = job.Y;
        int count = 0;
        for (int i = q * l; i < (q + 1) * l; i++)
            if (job.Valid[i]) sc.Order[count++] = i;
        Span<int> order = sc.Order.AsSpan(0, count);
        order.Sort((a, b) => s[b].CompareTo(s[a]) is var c && c != 0 ? c : a.CompareTo(b));
        int top = Math.Min(_o.K ?? int.MaxValue, count);
        Span<double> gain = sc.Gain.AsSpan(0, top), scores = sc.Scores.AsSpan(0, top), slopes = sc.Slopes.AsSpan(0, top);
        Gains(order, y, top, gain, sc.Ideal);
        for (int p = 0; p < top; p++) scores[p] = s[order[p]];
        slopes.Clear();
        double logEps = Math.Log(_o.Eps), sum = 0;
        long pairs = 0;
        bool gradients = job.G is not null;
        if (_o.Scheme == WeightingScheme.NdcgLoss1)
        {
            // Every ordered pair of the first k, itself and ties included, weighted by the first document's G_i/D_i.
            for (int p = 0; p < top; p++)
            {
                sum += PairwiseLogistic.Row(scores[p], scores, default, gain[p] / Discount(p), _o.Sigma, logEps, gradients, slopes, out double rowSlope);
                slopes[p] -= rowSlope;
                pairs += top;
            }
        }
        else
        {
            // Positions of the documents with a label (a NaN label is in no strict comparison), ascending by label.
            int m = 0;
            for (int p = 0; p < top; p++)
                if (!double.IsNaN(y[order[p]])) sc.ByLabel[m++] = p;
            Span<int> byLabel = sc.ByLabel.AsSpan(0, m);
            int[] ord = sc.Order;
            byLabel.Sort((a, b) => y[ord[a]].CompareTo(y[ord[b]]) is var c && c != 0 ? c : a.CompareTo(b));
            Span<double> labelScores = sc.LabelScores.AsSpan(0, m), labelSlopes = sc.LabelSlopes.AsSpan(0, m), weights = sc.Weights;
            for (int j = 0; j < m; j++)
            {
                labelScores[j] = scores[byLabel[j]];
                sc.LabelGains[j] = gain[byLabel[j]];
                sc.LabelInverseDiscounts[j] = job.InverseDiscount[byLabel[j]];
            }
            labelSlopes.Clear();
            int lower = 0;   // documents with a label below the current one's: the first `lower` of the label order
            for (int a = 0; a < m; a++)
            {
                if (a > 0 && y[order[byLabel[a]]] > y[order[byLabel[a - 1]]]) lower = a;
                if (lower == 0) continue;
                ReadOnlySpan<double> w = default;
                if (_o.Scheme != WeightingScheme.None)
                {
                    Weights(job, byLabel[a], byLabel[..lower], sc);
                    w = weights[..lower];
                }
                sum += PairwiseLogistic.Row(labelScores[a], labelScores[..lower], w, 1, _o.Sigma, logEps, gradients, labelSlopes, out double rowSlope);
                labelSlopes[a] -= rowSlope;
                pairs += lower;
            }
            for (int j = 0; j < m; j++) slopes[byLabel[j]] = labelSlopes[j];
        }
        job.Sums[q] = sum;
        job.Counts[q] = pairs;
        if (gradients)
            for (int p = 0; p < top; p++) job.G![order[p]] = slopes[p];
    }

    /// <summary>
    /// G_p = (2^{max(t, 0)} − 1)/maxDCG@k for the documents in score order, into <paramref name="gain"/>; maxDCG over
    /// the labels sorted descending (a NaN label last, as LINQ's descending order puts it).
    /// </summary>
    private void Gains(ReadOnlySpan<int> order, double[] y, int top, Span<double> gain, double[] idealBuffer)
    {
        Span<double> ideal = idealBuffer.AsSpan(0, order.Length);
        for (int p = 0; p < order.Length; p++) ideal[p] = Math.Max(y[order[p]], 0);
        ideal.Sort();      // ascending, NaN first
        ideal.Reverse();   // descending, NaN last
        // Labels above 1000 would overflow 2^t (∞/∞ = NaN gains): then every 2^t − 1 and ε is scaled by 2^{−max t},
        // a power of two that cancels in the ratio. Below, the scale is 1 and the arithmetic the formula's.
        double shift = ideal[0] > 1000 ? ideal[0] : 0, unit = Math.Pow(2, -shift);
        double maxDcg = 0;
        for (int p = 0; p < top; p++) maxDcg += (Math.Pow(2, ideal[p] - shift) - unit) / Discount(p);
        maxDcg = Math.Max(maxDcg, _o.Eps * unit);
        for (int p = 0; p < top; p++) gain[p] = (Math.Pow(2, Math.Max(y[order[p]], 0) - shift) - unit) / maxDcg;
    }

    /// <summary>D_p = log₂(2 + p) for 0-based position p (log₂(1 + rank)).</summary>
    private static double Discount(int p) => Math.Log2(2 + p);

    /// <summary>1/D_p, and NDCGLoss2's |1/log₂(1 + d) − 1/log₂(2 + d)| for each distance d (0 at d = 0), up to <paramref name="top"/>.</summary>
    private static (double[] InverseDiscount, double[] SwapDiscount) Tables(int top)
    {
        var inverse = new double[top];
        var swap = new double[top];
        for (int p = 0; p < top; p++)
        {
            inverse[p] = 1 / Discount(p);
            swap[p] = p == 0 ? 0 : Math.Abs(1 / Math.Log2(1 + p) - 1 / Math.Log2(2 + p));
        }
        return (inverse, swap);
    }

    /// <summary>
    /// w_ij of the label-ordered schemes for the document at position i against the first <c>lower</c> of the label order
    /// (positions <paramref name="partners"/>), into the scratch's weights: with Δg = |G_i − G_j|, NDCGLoss2
    /// swap(|i − j|)·Δg, LambdaRank |1/D_i − 1/D_j|·Δg, NDCGLoss2++ μ·NDCGLoss2 + LambdaRank. Each a pass of
    /// TensorPrimitives over the row (the same IEEE operations as the formula, so the same bits); the discount of a
    /// distance is a table lookup.
    /// </summary>
    private void Weights(QueryJob job, int i, ReadOnlySpan<int> partners, Scratch sc)
    {
        int lower = partners.Length;
        Span<double> w = sc.Weights.AsSpan(0, lower), dg = sc.GainGaps.AsSpan(0, lower), lr = sc.RankGaps.AsSpan(0, lower);
        TensorPrimitives.Subtract(sc.LabelGains.AsSpan(0, lower), sc.Gain[i], dg);
        TensorPrimitives.Abs<double>(dg, dg);
        if (_o.Scheme != WeightingScheme.LambdaRank)
        {
            for (int j = 0; j < lower; j++) w[j] = job.SwapDiscount[Math.Abs(i - partners[j])];
            TensorPrimitives.Multiply<double>(w, dg, w);
            if (_o.Scheme == WeightingScheme.NdcgLoss2) return;
            TensorPrimitives.Multiply<double>(w, _o.Mu, w);
        }
        Span<double> rank = _o.Scheme == WeightingScheme.LambdaRank ? w : lr;
        TensorPrimitives.Subtract(sc.LabelInverseDiscounts.AsSpan(0, lower), job.InverseDiscount[i], rank);
        TensorPrimitives.Abs<double>(rank, rank);
        TensorPrimitives.Multiply<double>(rank, dg, rank);
        if (_o.Scheme != WeightingScheme.LambdaRank) TensorPrimitives.Add<double>(w, lr, w);
    }

    /// <summary>A part's buffers, one entry per document of a query.</summary>
    private sealed class Scratch(int l)
    {
        public readonly int[] Order = new int[l], ByLabel = new int[l];
        public readonly double[] Gain = new double[l], Scores = new double[l], Slopes = new double[l], Ideal = new double[l],
            LabelScores = new double[l], LabelSlopes = new double[l], Weights = new double[l], LabelGains = new double[l],
            LabelInverseDiscounts = new double[l], GainGaps = new double[l], RankGaps = new double[l];
    }

    /// <summary>A band of the batch's queries.</summary>
    private sealed class QueryJob : RangeJob<QueryJob>
    {
        public LambdaLoss Loss = null!;
        public int L;
        public double[] S = null!, Y = null!, Sums = null!, InverseDiscount = null!, SwapDiscount = null!;
        public bool[] Valid = null!;
        public double[]? G;
        public long[] Counts = null!;

        protected override double RunPart(int part)
        {
            var (from, to) = PartRange(Sums.Length, part);
            var scratch = new Scratch(L);
            for (int q = from; q < to; q++) Loss.Query(q, this, scratch);
            return 0;
        }
    }

    /// <summary>The options LambdaLoss and RankNet share (RankNet has no weighting scheme).</summary>
    internal static OptionSpec[] CommonOptions =>
    [
        OptionSpec.OptionalInt("k", "NDCG@k: only pairs of the first k documents by score; None: every document"),
        OptionSpec.Float("sigma", 1.0, "σ_s: the score difference's scale in the sigmoid"),
        OptionSpec.Float("eps", 1e-10, "the clamp of the sigmoid and of its weighted power, and maxDCG's floor"),
        OptionSpec.Choice("reduction_log", "binary", "binary (log₂) or natural (ln)", "binary", "natural"),
    ];

    internal static Options Read(LossOptions o, WeightingScheme scheme, double mu) => new()
    {
        Scheme = scheme,
        Mu = mu,
        K = o.NullableInt("k") is long k ? (int)Math.Clamp(k, int.MinValue, int.MaxValue) : null,
        Sigma = o.Float("sigma"),
        Eps = o.Float("eps"),
        Binary = o.Choice("reduction_log") == "binary",
    };

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["lambda_loss", "ce.LambdaLoss"],
        Family = LossFamily.Ranking,
        Task = LossTask.Ranking,
        Inputs = DocumentLists.Inputs(labelsDifferentiable: false),   // they select and weight the pairs
        Options =
        [
            OptionSpec.Choice("weighting_scheme", "ndcg_loss2pp", "NDCGLoss2PPScheme (default), NDCGLoss2Scheme, NDCGLoss1Scheme, LambdaRankScheme or none (RankNet)",
                "ndcg_loss2pp", "ndcg_loss2", "ndcg_loss1", "lambda_rank", "none"),
            OptionSpec.Float("mu", 10.0, "NDCGLoss2++'s weight of its NDCGLoss2 part"),
            .. CommonOptions,
        ],
        Sample = DocumentLists.Sample,
        Formula = "ℓ = −mean_{pairs t_i > t_j, i,j < k} log₂ max(max(σ(σ_s(s_i − s_j)), ε)^{w_ij}, ε),  positions by score, w_ij from NDCG's gains and discounts",
        Gradient = "∂/∂(s_i − s_j) = −w_ij·σ_s·σ(−σ_s(s_i − s_j))/(P·ln 2) where no clamp holds",
        Reference = "sentence-transformers cross_encoder LambdaLoss; Wang, Li, Golbandi, Bendersky & Najork, CIKM 2018 (LambdaLoss)",
        Stability = "log-sigmoids in double, clamped at log ε: finite for any finite input",
        Libraries = "sentence-transformers (cross-encoder LambdaLoss), allRank, TF-Ranking",
        Factory = o => new LambdaLoss(Read(o, o.Choice("weighting_scheme") switch
        {
            "none" => WeightingScheme.None,
            "ndcg_loss1" => WeightingScheme.NdcgLoss1,
            "ndcg_loss2" => WeightingScheme.NdcgLoss2,
            "lambda_rank" => WeightingScheme.LambdaRank,
            _ => WeightingScheme.NdcgLoss2PP,
        }, o.Float("mu"))),
    };
}
