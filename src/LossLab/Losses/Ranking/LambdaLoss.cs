using LossLab.Losses.Core;
using LossLab.Numerics;

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
        double logEps = Math.Log(_o.Eps), logBase = _o.Binary ? Math.Log(2) : 1;
        int k = _o.K ?? int.MaxValue;
        double total = 0;
        long pairs = 0;
        double[] g = computeGradients ? new double[s.Length] : [];
        var dPairs = new List<(int I, int J, double Slope)>();   // ∂term/∂(s_i − s_j) of the pairs no clamp holds (ℓ = −Σ term/P)
        for (int q = 0; q < n; q++)
        {
            // The query's documents by score, descending; ties in input order (a stable sort).
            int[] order = [.. Enumerable.Range(q * l, l).Where(i => valid[i]).OrderByDescending(i => s[i])];
            int count = order.Length, top = Math.Min(k, count);
            double[] gain = Gains(order, y, top);
            for (int i = 0; i < top; i++)
                for (int j = 0; j < top; j++)
                {
                    if (_o.Scheme != WeightingScheme.NdcgLoss1 && !(y[order[i]] > y[order[j]])) continue;
                    double w = Weight(gain, i, j);
                    double diff = s[order[i]] - s[order[j]];
                    bool clampedDiff = Math.Abs(diff) > 1e8;
                    diff = Math.Clamp(diff, -1e8, 1e8);
                    double logU = Stable.LogSigmoid(_o.Sigma * diff);
                    bool heldU = logU < logEps;
                    double logV = w * Math.Max(logU, logEps);
                    bool heldV = logV < logEps;
                    total += Math.Max(logV, logEps) / logBase;
                    pairs++;
                    if (!computeGradients || heldU || heldV || clampedDiff || w == 0) continue;
                    dPairs.Add((order[i], order[j], w * _o.Sigma * Stable.Sigmoid(-_o.Sigma * diff) / logBase));
                }
        }
        double value = pairs == 0 ? 0 : -total / pairs;
        TensorData result = FromDoubles<T>([value], Shape.Scalar);
        if (!computeGradients) return Result(result);
        foreach (var (i, j, slope) in dPairs)
        {
            g[i] -= slope / pairs;
            g[j] += slope / pairs;
        }
        return Result(result, ("logits", FromDoubles<T>(g, inputs["logits"].Shape)));
    }

    /// <summary>G_i = (2^{max(t_i, 0)} − 1)/maxDCG@k for the documents in score order; maxDCG over the labels sorted.</summary>
    private double[] Gains(int[] order, double[] y, int top)
    {
        double[] ideal = [.. order.Select(i => Math.Max(y[i], 0)).OrderDescending()];
        double maxDcg = 0;
        for (int p = 0; p < top; p++) maxDcg += (Math.Pow(2, ideal[p]) - 1) / Discount(p);
        maxDcg = Math.Max(maxDcg, _o.Eps);
        return [.. order.Select(i => (Math.Pow(2, Math.Max(y[i], 0)) - 1) / maxDcg)];
    }

    /// <summary>D_p = log₂(2 + p) for 0-based position p (log₂(1 + rank)).</summary>
    private static double Discount(int p) => Math.Log2(2 + p);

    private double Weight(double[] gain, int i, int j)
    {
        double NdcgLoss2()
        {
            int d = Math.Abs(i - j);
            return d == 0 ? 0 : Math.Abs(1 / Math.Log2(1 + d) - 1 / Math.Log2(2 + d)) * Math.Abs(gain[i] - gain[j]);
        }
        double LambdaRank() => Math.Abs(1 / Discount(i) - 1 / Discount(j)) * Math.Abs(gain[i] - gain[j]);
        return _o.Scheme switch
        {
            WeightingScheme.None => 1,
            WeightingScheme.NdcgLoss1 => gain[i] / Discount(i),
            WeightingScheme.NdcgLoss2 => NdcgLoss2(),
            WeightingScheme.LambdaRank => LambdaRank(),
            _ => _o.Mu * NdcgLoss2() + LambdaRank(),
        };
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
