using LossLab.Losses.Core;
using System.Runtime.CompilerServices;
using LossLab.Numerics;
using LossLab.Numerics.Simd;

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
        var blocks = new SimilarityBlocks(unit, n, d, computeGradients, scratchRows: 3);
        blocks.Run(1, (q, s, g, scratch) =>
        {
            if (!Counted(q)) return;
            int[] positives = members[group[q]];
            int size = positives.Length - (_excludeQuery ? 1 : 0);
            // σ_pj for the current positive p; the query's class as 1/0; which rows are ranked (1), p and an excluded query not (0).
            Span<double> sigma = scratch[..n], positive = scratch.Slice(n, n), ranked = scratch.Slice(2 * n, n);
            for (int j = 0; j < n; j++) positive[j] = group[j] == group[q] ? 1 : 0;
            ranked.Fill(1);
            if (_excludeQuery) ranked[q] = 0;
            foreach (int p in positives)
            {
                if (_excludeQuery && p == q) continue;
                ranked[p] = 0;
                var (all, pos) = Sigmoids(s, s[p], _temperature, ranked, positive, sigma);
                ranked[p] = 1;
                double rankPositive = 1 + pos, rankAll = 1 + all;
                ap[q] += rankPositive / rankAll / size;
                if (g.IsEmpty) continue;
                // ℓ = 1 − (1/count)·Σ_q AP_q: each ratio enters with −1/(count·|P|).
                double outer = -perQuery / size, positiveSlope = (rankAll - rankPositive) / (rankAll * rankAll), negativeSlope = -rankPositive / (rankAll * rankAll);
                g[p] -= Slopes(sigma, positive, outer, positiveSlope, negativeSlope, _temperature, g);
            }
        });
        double value = counted == 0 ? 0 : 1 - Reducer.Sum<double>(ap) * perQuery;
        TensorData result = Wrap(new[] { T.CreateTruncating(value) }, Shape.Scalar);
        if (!computeGradients) return Result(result);
        double[] gx = Embeddings.BackThroughNormalize(blocks.UnitGradient(), unit, norms, n, d);
        return Result(result, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));
    }

    /// <summary>
    /// One positive p's row (the specification, and its vector form on <see cref="IDVec{TV}"/> lanes, tested against it
    /// at every length 0..300): σ_j = m_j·σ((s_j − s_p)/τ) into <paramref name="sigma"/>, with e = e^−|z| (0 past
    /// |z| = 700), σ(z) = (z ≥ 0 ? 1 : e)/(1 + e); returns Σ_j σ_j and Σ_j pos_j·σ_j.
    /// </summary>
    internal static (double All, double Positive) Sigmoids(ReadOnlySpan<double> s, double sp, double tau, ReadOnlySpan<double> ranked,
        ReadOnlySpan<double> positive, Span<double> sigma, SimdWidth width = (SimdWidth)(-1))
    {
        if ((int)width < 0) width = Simd.Best;
        return width switch
        {
            SimdWidth.V512 => SigmoidsVector<D512>(s, sp, tau, ranked, positive, sigma),
            SimdWidth.V256 => SigmoidsVector<D256>(s, sp, tau, ranked, positive, sigma),
            SimdWidth.V128 => SigmoidsVector<D128>(s, sp, tau, ranked, positive, sigma),
            _ => SigmoidsScalar(0, s, sp, tau, ranked, positive, sigma, 0, 0),
        };
    }

    private static (double All, double Positive) SigmoidsScalar(int from, ReadOnlySpan<double> s, double sp, double tau, ReadOnlySpan<double> ranked,
        ReadOnlySpan<double> positive, Span<double> sigma, double all, double pos)
    {
        for (int j = from; j < s.Length; j++)
        {
            double z = (s[j] - sp) / tau, a = Math.Abs(z);
            double e = DExp.Negative(a);
            double v = ranked[j] * ((z >= 0 ? 1 : e) / (1 + e));
            sigma[j] = v;
            all += v;
            pos += positive[j] * v;
        }
        return (all, pos);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (double All, double Positive) SigmoidsVector<TV>(ReadOnlySpan<double> s, double sp, double tau, ReadOnlySpan<double> ranked,
        ReadOnlySpan<double> positive, Span<double> sigma) where TV : struct, IDVec<TV>
    {
        TV p = TV.Splat(sp), t = TV.Splat(tau), zero = TV.Splat(0), one = TV.Splat(1);
        TV all = zero, pos = zero;
        int j = 0;
        for (; j <= s.Length - TV.Count; j += TV.Count)
        {
            TV z = (TV.Load(s, j) - p) / t, a = TV.Abs(z);
            TV e = DExp.Negative(a);
            TV v = TV.Load(ranked, j) * (TV.Select(TV.LessThan(z, zero), e, one) / (one + e));
            TV.Store(v, sigma, j);
            all += v;
            pos += TV.Load(positive, j) * v;
        }
        return SigmoidsScalar(j, s, sp, tau, ranked, positive, sigma, TV.Sum(all), TV.Sum(pos));
    }

    /// <summary>
    /// g_j += w_j = outer·(pos_j ? a⁺ : a⁻)·σ_j(1 − σ_j)/τ, the way back through one positive's row; returns Σ_j w_j (what
    /// s_p loses). Vector form as <see cref="Sigmoids"/>.
    /// </summary>
    internal static double Slopes(ReadOnlySpan<double> sigma, ReadOnlySpan<double> positive, double outer, double positiveSlope, double negativeSlope,
        double tau, Span<double> g, SimdWidth width = (SimdWidth)(-1))
    {
        if ((int)width < 0) width = Simd.Best;
        return width switch
        {
            SimdWidth.V512 => SlopesVector<D512>(sigma, positive, outer, positiveSlope, negativeSlope, tau, g),
            SimdWidth.V256 => SlopesVector<D256>(sigma, positive, outer, positiveSlope, negativeSlope, tau, g),
            SimdWidth.V128 => SlopesVector<D128>(sigma, positive, outer, positiveSlope, negativeSlope, tau, g),
            _ => SlopesScalar(0, sigma, positive, outer, positiveSlope, negativeSlope, tau, g),
        };
    }

    private static double SlopesScalar(int from, ReadOnlySpan<double> sigma, ReadOnlySpan<double> positive, double outer, double positiveSlope,
        double negativeSlope, double tau, Span<double> g)
    {
        double total = 0;
        for (int j = from; j < sigma.Length; j++)
        {
            double w = outer * (positive[j] == 1 ? positiveSlope : negativeSlope) * sigma[j] * (1 - sigma[j]) / tau;
            g[j] += w;
            total += w;
        }
        return total;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double SlopesVector<TV>(ReadOnlySpan<double> sigma, ReadOnlySpan<double> positive, double outer, double positiveSlope,
        double negativeSlope, double tau, Span<double> g) where TV : struct, IDVec<TV>
    {
        TV o = TV.Splat(outer), a = TV.Splat(positiveSlope), b = TV.Splat(negativeSlope), t = TV.Splat(tau), one = TV.Splat(1), total = TV.Splat(0);
        int j = 0;
        for (; j <= sigma.Length - TV.Count; j += TV.Count)
        {
            TV v = TV.Load(sigma, j);
            TV w = o * TV.Select(TV.Equal(TV.Load(positive, j), one), a, b) * v * (one - v) / t;
            TV.Store(TV.Load(g, j) + w, g, j);
            total += w;
        }
        return TV.Sum(total) + SlopesScalar(j, sigma, positive, outer, positiveSlope, negativeSlope, tau, g);
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
