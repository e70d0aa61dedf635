using System.Runtime.CompilerServices;
using System.Numerics;
using System.Numerics.Tensors;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Numerics.Simd;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// PNP loss (Li et al., ECCV 2022, "Rethinking the Optimization of Average Precision: Only Penalizing Negative
/// Instances before Positive Ones is Enough"; pytorch-metric-learning <c>PNPLoss(b=2, alpha=1, anneal=0.01,
/// variant="O")</c>, on cosine similarity): for each anchor i and each of its positives k (itself included), the soft
/// count of negatives ranked before k, r_ik = Σ_{j∈N(i)} σ((s_ij − s_ik)/τ), through a variant f; the loss is
/// (1/N)·Σ_i (1/(|P(i)| + 1))·Σ_k f(r_ik) (variant Dq: 1 minus that).
/// </summary>
/// <remarks>
/// <para>Variants: O f(r) = r; Ds log(1 + r); Dq (1 + r)^−α; Iu (1 + r)·log(1 + r); Ib (b·r − log(1 + b·r))/b². The
/// sigmoid is pytorch-metric-learning's, its exponent clamped to ±50 (no gradient beyond). One value per batch
/// (already reduced there), so no reduction option. An anchor without a positive adds 0 (pytorch-metric-learning
/// divides 0 by 0 there and returns NaN); the sum is still divided by all N rows, as there.</para>
/// <para>Gradient, σ' = σ(1 − σ)/τ inside the clamp: ∂r_ik/∂s_ij = σ'_ijk, ∂r_ik/∂s_ik = −Σ_j σ'_ijk; times f′(r_ik)
/// (1, 1/(1 + r), −α(1 + r)^−α−1, log(1 + r) + 1, r/(1 + b·r)); then through the normalization. Each anchor's row of
/// cosines holds all its terms (O(|P|·|N|) per row, O(N·D) memory where pytorch-metric-learning builds N×N×N).</para>
/// </remarks>
public sealed class PnpLoss : Loss, ILossDefinition
{
    private readonly double _b, _alpha, _anneal;
    private readonly string _variant;

    public PnpLoss(double b = 2, double alpha = 1, double anneal = 0.01, string variant = "O")
    {
        if (!(anneal > 0) || !double.IsFinite(anneal) || !double.IsFinite(alpha) || !(b > 0) || !double.IsFinite(b))
            throw LossArgumentException.Value($"PnpLoss: anneal and b must be finite and > 0 and alpha finite, got anneal = {anneal}, b = {b}, alpha = {alpha}");
        if (variant is not ("O" or "Ds" or "Dq" or "Iu" or "Ib"))
            throw LossArgumentException.Value($"PnpLoss: variant must be one of O, Ds, Dq, Iu, Ib, got '{variant}'");
        (_b, _alpha, _anneal, _variant) = (b, alpha, anneal, variant);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "PnpLoss");
        var (unit, norms) = Embeddings.Normalize(x, n, d);
        var (members, group) = Embeddings.Groups(labels);
        bool any = members.Any(m => m.Length > 1);
        if (!any)
        {
            TensorData zero = Wrap(new T[1], Shape.Scalar);
            return computeGradients ? Result(zero, ("embeddings", Wrap(new T[x.Length], es))) : Result(zero);
        }
        var perAnchor = new double[n];
        double sign = _variant == "Dq" ? -1 : 1;   // Dq's loss is 1 − the mean
        // Scratch: the row's negatives' cosines, gathered once, and their sigmoids for one positive.
        var blocks = new SimilarityBlocks(unit, n, d, computeGradients, scratchRows: 3);
        blocks.Run(1, (i, s, g, scratch) =>
        {
            int[] positives = members[group[i]];
            if (positives.Length < 2) return;   // no positive: adds 0 (pml: NaN)
            int q = 0;
            Span<double> negatives = scratch[..n], sig = scratch.Slice(n, n), negativeSlopes = scratch.Slice(2 * n, n);
            for (int j = 0; j < n; j++)
                if (group[j] != group[i]) negatives[q++] = s[j];
            negatives = negatives[..q];
            sig = sig[..q];
            negativeSlopes = negativeSlopes[..q];
            negativeSlopes.Clear();
            double share = 1.0 / (positives.Length * (double)n);
            double total = 0;
            foreach (int k in positives)   // the anchor itself among them
            {
                // σ(clamp((s_ij − s_ik)/τ, −50, 50)), pytorch-metric-learning's clamped sigmoid, vectorized.
                double r = 0;
                if (q > 0)   // one label in the batch: no negative, r = 0
                {
                    TensorPrimitives.Subtract(negatives, s[k], sig);
                    TensorPrimitives.Multiply(sig, 1 / _anneal, sig);
                    TensorPrimitives.Max(sig, -50.0, sig);
                    TensorPrimitives.Min(sig, 50.0, sig);
                    TensorPrimitives.Sigmoid(sig, sig);
                    r = TensorPrimitives.Sum<double>(sig);
                }
                var (f, slope) = Transform(r);
                total += f;
                if (g.IsEmpty) continue;
                double df = sign * share * slope;
                g[k] -= Slopes(negatives, s[k], sig, df, _anneal, negativeSlopes);
            }
            // Each negative's slopes over every positive, added to its entry once.
            if (!g.IsEmpty)
                for (int j = 0, t = 0; j < n; j++)
                    if (group[j] != group[i]) g[j] += negativeSlopes[t++];
            perAnchor[i] = total * share;
        });
        double mean = Reducer.Sum<double>(perAnchor);
        TensorData value = Wrap(new[] { T.CreateTruncating(_variant == "Dq" ? 1 - mean : mean) }, Shape.Scalar);
        if (!computeGradients) return Result(value);
        double[] gx = Embeddings.BackThroughNormalize(blocks.UnitGradient(), unit, norms, n, d);
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));
    }

    /// <summary>The variant's f(r) and f′(r).</summary>
    private (double F, double Df) Transform(double r) => _variant switch
    {
        "Ds" => (Stable.Log1p(r), 1 / (1 + r)),
        "Dq" => (Math.Pow(1 + r, -_alpha), -_alpha * Math.Pow(1 + r, -_alpha - 1)),
        "Iu" => ((1 + r) * Stable.Log1p(r), Stable.Log1p(r) + 1),
        "Ib" => ((_b * r - Stable.Log1p(_b * r)) / (_b * _b), r / (1 + _b * r)),
        _ => (r, 1),
    };

    /// <summary>
    /// One positive k's way back over the anchor's negatives: slope_t = df·y_t(1 − y_t)/τ, 0 where the exponent
    /// v_t = (s_t − s_k)/τ was clamped (|v_t| &gt; 50; a NaN keeps its slope, the comparisons failing), added to
    /// <paramref name="slopes"/>; returns Σ slope_t (what s_k loses). The scalar loop is the specification; the vector
    /// form (double lanes) is tested against it at every length 0..300.
    /// </summary>
    internal static double Slopes(ReadOnlySpan<double> negatives, double sk, ReadOnlySpan<double> sig, double df, double anneal, Span<double> slopes,
        SimdWidth width = (SimdWidth)(-1))
    {
        if ((int)width < 0) width = Simd.Best;
        return width switch
        {
            SimdWidth.V512 => SlopesVector<D512>(negatives, sk, sig, df, anneal, slopes),
            SimdWidth.V256 => SlopesVector<D256>(negatives, sk, sig, df, anneal, slopes),
            SimdWidth.V128 => SlopesVector<D128>(negatives, sk, sig, df, anneal, slopes),
            _ => SlopesScalar(0, negatives, sk, sig, df, anneal, slopes),
        };
    }

    private static double SlopesScalar(int from, ReadOnlySpan<double> negatives, double sk, ReadOnlySpan<double> sig, double df, double anneal, Span<double> slopes)
    {
        double total = 0;
        for (int t = from; t < negatives.Length; t++)
        {
            double y = sig[t], v = (negatives[t] - sk) / anneal;
            double slope = v < -50 || v > 50 ? 0 : df * y * (1 - y) / anneal;
            slopes[t] += slope;
            total += slope;
        }
        return total;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double SlopesVector<TV>(ReadOnlySpan<double> negatives, double sk, ReadOnlySpan<double> sig, double df, double anneal, Span<double> slopes)
        where TV : struct, IDVec<TV>
    {
        TV k = TV.Splat(sk), a = TV.Splat(anneal), f = TV.Splat(df), one = TV.Splat(1), zero = TV.Splat(0), lo = TV.Splat(-50), hi = TV.Splat(50), total = zero;
        int t = 0;
        for (; t <= negatives.Length - TV.Count; t += TV.Count)
        {
            TV y = TV.Load(sig, t), v = (TV.Load(negatives, t) - k) / a;
            TV slope = TV.Select(TV.LessThan(v, lo) | TV.LessThan(hi, v), zero, f * y * (one - y) / a);
            TV.Store(TV.Load(slopes, t) + slope, slopes, t);
            total += slope;
        }
        return TV.Sum(total) + SlopesScalar(t, negatives, sk, sig, df, anneal, slopes);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "PnpLoss",
        Aliases = ["pnp_loss", "PNPLoss", "pml.PNPLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options =
        [
            OptionSpec.Float("b", 2.0, "the Ib variant's slope"),
            OptionSpec.Float("alpha", 1.0, "the Dq variant's exponent"),
            OptionSpec.Float("anneal", 0.01, "τ: the sigmoid's temperature"),
            OptionSpec.Choice("variant", "O", "f of the soft count of negatives before a positive: O (r), Ds, Dq, Iu, Ib", "O", "Ds", "Dq", "Iu", "Ib"),
        ],
        Sample = Embeddings.Sample,
        Formula = "L = (1/N)·Σ_i mean_{k∈P(i)∪{i}} f(Σ_{j∈N(i)} σ((s_ij − s_ik)/τ)),  s the cosine; Dq: 1 − L",
        Gradient = "∂r_ik/∂s_ij = σ'_ijk, ∂r_ik/∂s_ik = −Σ_j σ'_ijk, times f′(r_ik); through the normalization",
        Reference = "pytorch_metric_learning.losses.PNPLoss (Li, Zhang, Sun et al., ECCV 2022)",
        Stability = "sigmoid exponent clamped at ±50 as in pytorch-metric-learning: finite for every finite embedding; an anchor without a positive adds 0 (PyTorch NaN); O(N·D) memory",
        Libraries = "pytorch-metric-learning",
        Factory = o => new PnpLoss(o.Float("b"), o.Float("alpha"), o.Float("anneal"), o.Choice("variant")),
    };

    public override LossDescriptor Descriptor => Entry;
}
