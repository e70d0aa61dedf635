using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Histogram loss (Ustinova &amp; Lempitsky, NeurIPS 2016; pytorch-metric-learning <c>HistogramLoss(n_bins=100)</c>, on
/// cosine similarity): the probability that a random negative pair is more similar than a random positive pair,
/// estimated from two soft histograms of the similarities: L = Σ_r p⁻_r·Φ⁺_r, Φ⁺ the running sum of p⁺.
/// </summary>
/// <remarks>
/// <para>Nodes t_r = −1 + rδ, δ = 2/B (r = 0..B). A similarity s in bin r = ⌊(s + 1)/δ⌋ adds (s + 1 − rδ)/δ to node
/// r + 1 and ((r + 1)δ − 1 − s)/δ to node r; each histogram is divided by its number of pairs. The pairs are the
/// distinct unordered pairs of the batch's triplets (pytorch-metric-learning's filter_pairs): every positive pair when
/// the batch has two labels, and the negative pairs with at least one member that has a positive. The bin index is
/// taken from the similarity in float32, as pytorch-metric-learning's <c>distances.float()</c> does, so a similarity
/// on a bin's edge falls where it falls there; s = 1 (which overruns the histogram there) counts in the last bin.</para>
/// <para>One value per batch, as in pytorch-metric-learning (reduction "already_reduced"), so no reduction option.
/// Gradient: ∂L/∂s = −p⁻_r/(δ·#positive pairs) for a positive pair in bin r and
/// p⁺_{r+1}/(δ·#negative pairs) for a negative one; then through the normalization. Memory O(N·(D + B)).</para>
/// </remarks>
public sealed class HistogramLoss : Loss, ILossDefinition
{
    private readonly int _bins;

    public HistogramLoss(int bins = 100)
    {
        if (bins < 1) throw LossArgumentException.Value($"HistogramLoss: n_bins must be at least 1, got {bins}");
        _bins = bins;
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "HistogramLoss");
        var (unit, norms) = Embeddings.Normalize(x, n, d);
        var (members, group) = Embeddings.Groups(labels);
        int nodes = _bins + 1;
        double delta = 2.0 / _bins;
        bool HasPositive(int i) => members[group[i]].Length > 1;
        // Triplets exist only with a positive pair and two labels.
        bool active = members.Length > 1 && members.Any(m => m.Length > 1);
        if (!active)
        {
            TensorData zero = Wrap(new T[1], Shape.Scalar);
            return computeGradients ? Result(zero, ("embeddings", Wrap(new T[x.Length], es))) : Result(zero);
        }

        // Pass 1: per anchor row the pairs (a, j > a) it owns, into its own histograms (N × (B + 1) each, summed after).
        MemoryBudget.RequireDoubles($"HistogramLoss: the histograms of {n} embeddings at n_bins = {_bins}", 2, n, (long)_bins + 1);
        double[] pos = new double[n * nodes], neg = new double[n * nodes];
        long[] posPairs = new long[n], negPairs = new long[n];
        var values = new SimilarityBlocks(unit, n, d, gradients: false, scratchRows: 0);
        values.Run(1, (a, s, unused, scratch) =>
        {
            Span<double> hp = pos.AsSpan(a * nodes, nodes), hn = neg.AsSpan(a * nodes, nodes);
            for (int j = a + 1; j < n; j++)
            {
                bool positive = group[j] == group[a];
                if (!positive && !HasPositive(a) && !HasPositive(j)) continue;
                var (bin, upper, lower) = Bin(s[j]);
                Span<double> h = positive ? hp : hn;
                h[bin + 1] += upper;
                h[bin] += lower;
                if (double.IsNaN(s[j])) h[0] = double.NaN;   // a NaN embedding (autograd path) must not vanish
                if (positive) posPairs[a]++;
                else negPairs[a]++;
            }
        });
        double np = posPairs.Sum(), nn = negPairs.Sum();
        double[] pPos = new double[nodes], pNeg = new double[nodes];
        for (int a = 0; a < n; a++)
            for (int r = 0; r < nodes; r++) (pPos[r], pNeg[r]) = (pPos[r] + pos[a * nodes + r], pNeg[r] + neg[a * nodes + r]);
        double loss = 0, phi = 0;
        for (int r = 0; r < nodes; r++)
        {
            (pPos[r], pNeg[r]) = (pPos[r] / np, pNeg[r] / nn);
            phi += pPos[r];
            loss += pNeg[r] * phi;
        }
        TensorData value = Wrap(new[] { T.CreateTruncating(loss) }, Shape.Scalar);
        if (!computeGradients) return Result(value);

        // Pass 2: each unordered pair's ∂L/∂s in its owner's row (the blocks fold it into both rows).
        var blocks = new SimilarityBlocks(unit, n, d, gradients: true, scratchRows: 0);
        blocks.Run(1, (a, s, g, scratch) =>
        {
            for (int j = a + 1; j < n; j++)
            {
                bool positive = group[j] == group[a];
                if (!positive && !HasPositive(a) && !HasPositive(j)) continue;
                int bin = Bin(s[j]).Index;
                g[j] = positive ? -pNeg[bin] / (delta * np) : pPos[bin + 1] / (delta * nn);
            }
        });
        double[] gx = Embeddings.BackThroughNormalize(blocks.UnitGradient(), unit, norms, n, d);
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));
    }

    /// <summary>
    /// The bin r of similarity s — ⌊(s + 1)/δ⌋ in float32 arithmetic as pytorch-metric-learning takes it, kept in
    /// [0, B − 1] — and the shares (s + 1 − rδ)/δ of its upper node and ((r + 1)δ − 1 − s)/δ of its lower one, with rδ
    /// and (r + 1)δ rounded to float32 as there (an integer tensor times a Python float is float32 in PyTorch).
    /// </summary>
    private (int Index, double Upper, double Lower) Bin(double s)
    {
        double delta = 2.0 / _bins;
        float scaled = ((float)s + 1f) / (float)delta;
        int r = float.IsNaN(scaled) ? 0 : (int)Math.Clamp(MathF.Floor(scaled), 0, _bins - 1);
        double low = r * (float)delta, high = (r + 1) * (float)delta;
        return (r, (s + 1 - (float)low) / delta, ((float)high - 1 - s) / delta);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "HistogramLoss",
        Aliases = ["histogram_loss", "pml.HistogramLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options =
        [
            OptionSpec.Int("n_bins", 100, "B: histogram bins over the similarities [−1, 1] (δ = 2/B)"),
        ],
        Sample = Embeddings.Sample,
        Formula = "L = Σ_r p⁻_r·Σ_{k≤r} p⁺_k,  p± soft (linear-interpolated) histograms of the positive and negative pairs' cosines",
        Gradient = "∂L/∂s = −p⁻_r/(δ·#pos) for a positive pair in bin r, p⁺_{r+1}/(δ·#neg) for a negative one; through the normalization",
        Reference = "pytorch_metric_learning.losses.HistogramLoss (Ustinova & Lempitsky, NeurIPS 2016, Learning Deep Embeddings with Histogram Loss)",
        Stability = "bounded in [0, 1]: finite for every finite embedding; one value per batch; O(N·(D + B)) memory",
        Libraries = "pytorch-metric-learning",
        Factory = o => new HistogramLoss(o.Int32("n_bins")),
    };

    public override LossDescriptor Descriptor => Entry;
}
