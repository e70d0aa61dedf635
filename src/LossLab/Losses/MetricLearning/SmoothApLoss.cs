using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Smooth-AP (Brown, Xie, Kalogeiton &amp; Zisserman, ECCV 2020; pytorch-metric-learning <c>SmoothAPLoss(temperature=0.01)</c>):
/// 1 − the mean average precision of each query's ranking of the batch by cosine similarity, with the ranking's step
/// function replaced by a sigmoid of temperature τ so that it has a gradient.
/// </summary>
/// <remarks>
/// <para>For query q with similarity row s (s_j = cos(x_q, x_j)), its positives P (the rows of its label) and
/// σ_pj = σ((s_j − s_p)/τ), the soft rank of positive p among the positives and among all rows:
/// R⁺_p = 1 + Σ_{j∈P, j≠p} σ_pj, R_p = 1 + Σ_{j≠p} σ_pj; AP_q = (1/|P|)·Σ_{p∈P} R⁺_p/R_p; ℓ = 1 − mean_q AP_q. As in the
/// authors' code, which pytorch-metric-learning follows, the query is one of its own positives and is ranked with the
/// rest. <c>exclude_query</c> takes the paper's definition instead: the query out of P and out of every sum, and the mean
/// over the queries with another positive (0 when none has).</para>
/// <para><b>Gradient:</b> ∂(R⁺_p/R_p)/∂σ_pj = (R_p − R⁺_p)/R_p² for a positive j, −R⁺_p/R_p² for a negative;
/// ∂σ_pj/∂s_j = σ_pj(1 − σ_pj)/τ = −∂σ_pj/∂s_p; then s = x̂_q·x̂_j and x̂ = x/max(‖x‖, 1e-12).</para>
/// <para>The authors' code and pytorch-metric-learning need a batch of equally many rows of each class, in contiguous
/// blocks; this takes the labels, so any batch works, and such a batch gives their value. pytorch-metric-learning views
/// the batch as (m, C) blocks of C rows where the authors' code views it as (C, m), so its value is the authors' only
/// when the m rows per class equal the C classes.</para>
/// </remarks>
public sealed class SmoothApLoss : Loss, ILossDefinition
{
    private const string Name = "SmoothApLoss";
    private readonly double _temperature;
    private readonly bool _excludeQuery;

    public SmoothApLoss(double temperature = 0.01, bool excludeQuery = false)
    {
        if (!(temperature > 0) || !double.IsFinite(temperature)) throw LossArgumentException.Value($"{Name}: temperature must be a positive value, got {temperature}");
        (_temperature, _excludeQuery) = (temperature, excludeQuery);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, Name);
        var (unit, norms) = Embeddings.Normalize(x, n, d);
        var (members, group) = Embeddings.Groups(labels);
        bool Counted(int q) => !_excludeQuery || members[group[q]].Length > 1;
        int counted = Enumerable.Range(0, n).Count(Counted);
        double perQuery = counted == 0 ? 0 : 1.0 / counted;
        var ap = new double[n];
        var blocks = new SimilarityBlocks(unit, n, d, computeGradients, scratchRows: 1);
        blocks.Run(1, (q, s, g, scratch) =>
        {
            if (!Counted(q)) return;
            int[] positives = members[group[q]];
            int size = positives.Length - (_excludeQuery ? 1 : 0);
            Span<double> sigma = scratch;   // σ_pj for the current positive p, one per row j
            foreach (int p in positives)
            {
                if (_excludeQuery && p == q) continue;
                double rankPositive = 1, rankAll = 1;
                for (int j = 0; j < n; j++)
                {
                    if (j == p || (_excludeQuery && j == q)) { sigma[j] = 0; continue; }
                    sigma[j] = Stable.Sigmoid((s[j] - s[p]) / _temperature);
                    rankAll += sigma[j];
                    if (group[j] == group[q]) rankPositive += sigma[j];
                }
                ap[q] += rankPositive / rankAll / size;
                if (g.IsEmpty) continue;
                // ℓ = 1 − (1/count)·Σ_q AP_q: each ratio enters with −1/(count·|P|).
                double outer = -perQuery / size, positiveSlope = (rankAll - rankPositive) / (rankAll * rankAll), negativeSlope = -rankPositive / (rankAll * rankAll);
                for (int j = 0; j < n; j++)
                {
                    if (sigma[j] == 0) continue;
                    double w = outer * (group[j] == group[q] ? positiveSlope : negativeSlope) * sigma[j] * (1 - sigma[j]) / _temperature;
                    g[j] += w;
                    g[p] -= w;
                }
            }
        });
        double value = counted == 0 ? 0 : 1 - Reducer.Sum<double>(ap) * perQuery;
        TensorData result = Wrap(new[] { T.CreateTruncating(value) }, Shape.Scalar);
        if (!computeGradients) return Result(result);
        double[] gx = Embeddings.BackThroughNormalize(blocks.UnitGradient(), unit, norms, n, d);
        return Result(result, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["smooth_ap_loss", "SmoothAPLoss", "pml.SmoothAPLoss", "smooth_ap"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options =
        [
            OptionSpec.Float("temperature", 0.01, "τ of the sigmoid that replaces the ranking's step (smaller: closer to the true AP, flatter gradient)"),
            OptionSpec.Bool("exclude_query", false, "LossLab's: the paper's AP, the query out of its own positives and ranking (its authors' code and pytorch-metric-learning keep it in)"),
        ],
        Sample = Embeddings.Sample,
        Formula = "ℓ = 1 − mean_q (1/|P|)·Σ_{p∈P} R⁺_p/R_p,  R⁺_p = 1 + Σ_{j∈P∖p} σ((s_j − s_p)/τ),  R_p = 1 + Σ_{j≠p} σ((s_j − s_p)/τ)",
        Gradient = "∂(R⁺/R)/∂σ_j = (R − R⁺)/R² (positive j), −R⁺/R² (negative j);  ∂σ/∂s_j = σ(1 − σ)/τ = −∂σ/∂s_p;  s = x̂_q·x̂_j",
        Reference = "pytorch_metric_learning.losses.SmoothAPLoss; Brown, Xie, Kalogeiton & Zisserman, ECCV 2020 (Smooth-AP)",
        Stability = "sigmoids of bounded similarity gaps (|s_j − s_p| ≤ 2) over τ, ratios of sums ≥ 1: finite for every finite embedding; O(N·D + N·block) memory",
        LowerBound = 0,
        Libraries = "pytorch-metric-learning",
        Factory = o => new SmoothApLoss(o.Float("temperature"), o.Bool("exclude_query")),
    };

    public override LossDescriptor Descriptor => Entry;
}
