using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// FastAP (Cakir, He, Xia, Kulis &amp; Sclaroff, CVPR 2019; pytorch-metric-learning <c>FastAPLoss(num_bins=10)</c> on
/// <c>LpDistance(power=2)</c>): 1 − the average precision of each anchor's ranking of the batch, with the ranking made
/// differentiable by soft histograms of the squared distances d = ‖x̂_a − x̂_j‖² ∈ [0, 4] over B bins.
/// </summary>
/// <remarks>
/// <para>Per anchor a with positives: h⁺_b, h⁻_b = Σ over its positives, negatives of the triangular pulse
/// relu(1 − |d − c_b|/Δ), centres c_b = 4b/B (b = 0..B), Δ = 4/B; H⁺ and H their running sums over the bins;
/// AP_a = (1/|P(a)|)·Σ_b h⁺_b·H⁺_b/H_b over the bins where h⁺_b·H⁺_b &gt; 0 and H_b &gt; 0; ℓ_a = 1 − AP_a.
/// <c>mean</c> averages over the anchors with a positive (pytorch-metric-learning's MeanReducer over them), <c>sum</c>
/// adds them, <c>none</c> gives ℓ (N) with 0 for an anchor without a positive.</para>
/// <para>Gradient, with A_b = h⁺_b/H_b and C_b = h⁺_b·H⁺_b/H_b² on those bins and their suffix sums SA, SC:
/// ∂AP·|P|/∂h⁺_k = H⁺_k/H_k + SA_k − SC_k, ∂AP·|P|/∂h⁻_k = −SC_k; the pulse's slope is ∓1/Δ inside its bin (0 at its
/// centre and its ends, as torch's abs and relu give); ∂d/∂x̂_a = 2(x̂_a − x̂_j), then the normalization. The embeddings
/// are always normalized (the histogram spans the unit sphere's squared distances).</para>
/// </remarks>
public sealed class FastApLoss : Loss, ILossDefinition
{
    private readonly int _bins;
    private readonly Reduction _reduction;

    public FastApLoss(int numBins = 10, Reduction reduction = Reduction.Mean)
    {
        if (numBins < 1) throw LossArgumentException.Value($"FastApLoss: num_bins must be at least 1, got {numBins}");
        (_bins, _reduction) = (numBins, reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "FastApLoss");
        var (unit, norms) = Embeddings.Normalize(x, n, d);
        var (members, group) = Embeddings.Groups(labels);
        var distances = new PairDistances(unit, n, d);
        int edges = _bins + 1;
        double delta = 4.0 / _bins;
        bool Counted(int a) => members[group[a]].Length > 1;
        int counted = Enumerable.Range(0, n).Count(Counted);
        double scale = _reduction == Reduction.Mean ? (counted == 0 ? 0 : 1.0 / counted) : 1;

        // Pass 1: each anchor's histograms, AP, and ∂ℓ_a/∂h⁺_b, ∂ℓ_a/∂h⁻_b (kept, B + 1 per anchor, for pass 2).
        MemoryBudget.RequireDoubles($"FastApLoss: the histogram slopes of {n} embeddings at num_bins = {_bins}", 2, n, (long)_bins + 1);
        var perAnchor = new double[n];
        double[] slopePos = new double[n * edges], slopeNeg = new double[n * edges];
        // Scratch: the two histograms, 2(B + 1) doubles, in rows of N.
        var values = new SimilarityBlocks(unit, n, d, gradients: false, scratchRows: Math.Max(1, (2 * edges + n - 1) / Math.Max(1, n)));
        values.Run(1, (a, s, unused, scratch) =>
        {
            if (!Counted(a)) return;
            Span<double> hp = scratch[..edges], hn = scratch[edges..(2 * edges)];
            hp.Clear();
            hn.Clear();
            for (int j = 0; j < n; j++)
            {
                if (j == a) continue;
                double dist = Squared(distances.Between(s[j], a, j));
                Span<double> h = group[j] == group[a] ? hp : hn;
                int low = Math.Clamp((int)Math.Floor(dist / delta), 0, _bins);
                for (int b = Math.Max(0, low - 1); b <= Math.Min(_bins, low + 1); b++) h[b] += Pulse(dist, b, delta);
                if (double.IsNaN(dist)) h[0] = double.NaN;   // a NaN embedding (autograd path) must not vanish from the histogram
            }
            double cumPos = 0, cumAll = 0, ap = 0;
            Span<double> gp = slopePos.AsSpan(a * edges, edges), gn = slopeNeg.AsSpan(a * edges, edges);
            for (int b = 0; b < edges; b++)
            {
                cumPos += hp[b];
                cumAll += hp[b] + hn[b];
                if (hp[b] * cumPos > 0 && cumAll > 0) ap += hp[b] * cumPos / cumAll;
                else if (double.IsNaN(hp[b] * cumPos + cumAll)) ap = double.NaN;
                gp[b] = cumPos;   // H⁺_b and H_b for the suffix sums below
                gn[b] = cumAll;
            }
            double positives = members[group[a]].Length - 1;
            perAnchor[a] = 1 - ap / positives;
            // Suffix sums SA, SC from the last bin down; ∂ℓ/∂h = −(1/|P|)·∂(Σ f)/∂h.
            double sa = 0, sc = 0;
            for (int b = edges - 1; b >= 0; b--)
            {
                double cp = gp[b], ca = gn[b];
                bool safe = hp[b] * cp > 0 && ca > 0;
                if (safe) (sa, sc) = (sa + hp[b] / ca, sc + hp[b] * cp / (ca * ca));
                gp[b] = -((safe ? cp / ca : 0) + sa - sc) / positives;
                gn[b] = sc / positives;
            }
        });
        double total = Reducer.Sum<double>(perAnchor);
        TensorData value = _reduction switch
        {
            Reduction.None => Wrap(perAnchor.Select(T.CreateTruncating).ToArray(), new Shape(n)),
            Reduction.Sum => Wrap(new[] { T.CreateTruncating(total) }, Shape.Scalar),
            _ => Wrap(new[] { T.CreateTruncating(total * scale) }, Shape.Scalar),
        };
        if (!computeGradients) return Result(value);

        // Pass 2: ∂ℓ_a/∂d_aj through its two bins, for d the squared distance.
        double[] gUnit = distances.Backward((i, j, dist) => scale * Slope(i, group[j] == group[i], dist), squared: true);
        double[] gx = Embeddings.BackThroughNormalize(gUnit, unit, norms, n, d);
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));

        // ∂ℓ_i/∂d for one of anchor i's pairs at squared distance dist: Σ_b ∂ℓ_i/∂h_b · pulse'_b(dist).
        double Slope(int i, bool positive, double dist)
        {
            if (!Counted(i)) return 0;
            ReadOnlySpan<double> coefficient = (positive ? slopePos : slopeNeg).AsSpan(i * edges, edges);
            int low = Math.Clamp((int)Math.Floor(dist / delta), 0, _bins);
            double w = 0;
            for (int b = Math.Max(0, low - 1); b <= Math.Min(_bins, low + 1); b++)
            {
                double offset = dist - b * delta;
                if (Math.Abs(offset) < delta) w -= Math.Sign(offset) / delta * coefficient[b];
            }
            return w;
        }
    }

    private static double Squared(double v) => v * v;

    /// <summary>The triangular pulse of bin b: relu(1 − |dist − c_b|/Δ), c_b = b·Δ.</summary>
    private static double Pulse(double dist, int b, double delta) => Math.Max(0, 1 - Math.Abs(dist - b * delta) / delta);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "FastApLoss",
        Aliases = ["fast_ap_loss", "fastap", "FastAPLoss", "pml.FastAPLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Int("num_bins", 10, "B: histogram bins over the squared distances [0, 4]"),
        ],
        Sample = Embeddings.Sample,
        Formula = "ℓ_a = 1 − (1/|P(a)|)·Σ_b h⁺_b·H⁺_b/H_b,  h± soft histograms of d = ‖x̂_a − x̂_j‖² (triangular pulses, B bins on [0, 4])",
        Gradient = "through the histograms: ∂/∂h⁺_k = −(H⁺_k/H_k + SA_k − SC_k)/|P|, ∂/∂h⁻_k = SC_k/|P|; pulse slope ∓1/Δ; 2(x̂_a − x̂_j); the normalization",
        Reference = "pytorch_metric_learning.losses.FastAPLoss (Cakir, He, Xia, Kulis & Sclaroff, CVPR 2019, Deep Metric Learning to Rank)",
        Stability = "ratios of non-negative histogram sums, only where they are positive: finite for every finite embedding; O(N·(D + B)) memory",
        Libraries = "pytorch-metric-learning",
        Factory = o => new FastApLoss(o.Int32("num_bins"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
