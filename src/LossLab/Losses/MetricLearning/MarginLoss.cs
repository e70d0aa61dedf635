using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Margin loss (Wu, Manmatha, Smola &amp; Krähenbühl, ICCV 2017, "Sampling Matters in Deep Embedding Learning";
/// pytorch-metric-learning <c>MarginLoss(margin=0.2, nu=0, beta=1.2, triplets_per_anchor="all")</c> with its default
/// <c>LpDistance(p=2, normalize_embeddings=True)</c>): over every triplet (a, p, n) of the batch,
/// relu(d_ap − β + m) + relu(β − d_an + m), d = ‖x̂_a − x̂_j‖: positives closer and negatives farther than the boundary β.
/// </summary>
/// <remarks>
/// <para><c>mean</c> is pytorch-metric-learning's DivisorReducer: the sum over triplets divided by the number of non-zero
/// positive and negative terms (0 when there are none); <c>sum</c> is the sum; <c>none</c> gives each anchor the sum of
/// its triplets' terms (N). Triplets are never listed: a positive pair's term repeats once per negative of its anchor
/// and a negative pair's once per positive, so each row of distances gives its anchor's share with counts |N(a)| and
/// |P(a)| (O(N·D) memory where the triplets number N³).</para>
/// <para>β is the option <c>beta</c>, or the optional input <c>beta</c> with its gradient — one value, or one per class
/// (C), the anchor's class choosing (pytorch-metric-learning's <c>learn_beta</c> and <c>num_classes</c>). With the
/// input, <c>nu</c> adds ν·β (one β) or ν·Σ over triplets of β_{y_a}, reduced like the triplets (one per class).</para>
/// <para>Gradient: ±(counted) through each active hinge, (x̂_a − x̂_j)/d (<see cref="PairDistances"/>), then the
/// normalization; ∂/∂β = −1 per active positive term and +1 per active negative term, plus ν.</para>
/// </remarks>
public sealed class MarginLoss : Loss, ILossDefinition
{
    private readonly double _margin, _beta, _nu;
    private readonly bool _normalize;
    private readonly Reduction _reduction;

    public MarginLoss(double margin = 0.2, double beta = 1.2, double nu = 0, bool normalizeEmbeddings = true, Reduction reduction = Reduction.Mean)
    {
        if (!double.IsFinite(margin) || !double.IsFinite(beta) || !double.IsFinite(nu))
            throw LossArgumentException.Value($"MarginLoss: margin, beta and nu must be finite, got margin = {margin}, beta = {beta}, nu = {nu}");
        (_margin, _beta, _nu, _normalize, _reduction) = (margin, beta, nu, normalizeEmbeddings, reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        const string name = "MarginLoss";
        var (es, n, d, x, labels) = Embeddings.Read(inputs, name);
        var (unit, norms) = _normalize ? Embeddings.Normalize(x, n, d) : (x, Enumerable.Repeat(1.0, n).ToArray());
        var (members, group) = Embeddings.Groups(labels);
        var (betas, betaShape, perClass) = ReadBeta(inputs, name, labels);
        double Beta(int a) => perClass ? betas[labels[a]] : betas[0];
        long Positives(int a) => members[group[a]].Length - 1;
        long Negatives(int a) => n - members[group[a]].Length;
        var distances = new PairDistances(unit, n, d);

        // Pass 1: per anchor the triplets' sum, how many of their terms are non-zero, and ∂/∂β_a (−1 per active
        // positive term, +1 per active negative term).
        double[] perAnchor = new double[n], active = new double[n], betaSlope = new double[n];
        var values = new SimilarityBlocks(unit, n, d, gradients: false, scratchRows: 0);
        values.Run(1, (a, s, unused, scratch) =>
        {
            long nP = Positives(a), nN = Negatives(a);
            if (nP == 0 || nN == 0) return;   // no triplet has this anchor
            for (int j = 0; j < n; j++)
            {
                if (j == a) continue;
                bool positive = group[j] == group[a];
                double t = Term(positive, distances.Between(s[j], a, j), Beta(a));
                if (t <= 0) continue;
                long times = positive ? nN : nP;
                perAnchor[a] += times * t;
                active[a] += times;
                betaSlope[a] += positive ? -times : times;
            }
        });
        double divisor = Reducer.Sum<double>(active);
        double scale = _reduction == Reduction.Mean ? (divisor == 0 ? 0 : 1 / divisor) : 1;
        double triplets = 0, regularizer = 0;
        for (int a = 0; a < n; a++)
        {
            double count = (double)Positives(a) * Negatives(a);
            triplets += count;
            if (perClass) regularizer += _nu * count * Beta(a);
        }
        bool learned = inputs.Contains("beta");
        // ν·β: one learned β is added as it is (pytorch-metric-learning's already_reduced); per-class betas count per triplet.
        double reg = !learned || triplets == 0 ? 0 : perClass ? regularizer * scale : _nu * betas[0];
        TensorData value = _reduction == Reduction.None
            ? Wrap(perAnchor.Select(T.CreateTruncating).ToArray(), new Shape(n))
            : Wrap(new[] { T.CreateTruncating(Reducer.Sum<double>(perAnchor) * scale + reg) }, Shape.Scalar);
        if (!computeGradients) return Result(value);

        // Pass 2: ∂L/∂d_aj from anchor a's triplets (and, in row a, d_ja's from anchor j's).
        double[] gUnit = distances.Backward((i, j, dist) => scale * Slope(i, group[j] == group[i], dist));
        double[] gx = _normalize ? Embeddings.BackThroughNormalize(gUnit, unit, norms, n, d) : gUnit;
        var gradients = new List<(string, TensorData)> { ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)) };
        if (learned && _reduction != Reduction.None)
        {
            var gb = new double[betas.Length];
            for (int a = 0; a < n; a++)
            {
                int slot = perClass ? (int)labels[a] : 0;
                gb[slot] += scale * betaSlope[a];
                if (perClass && triplets > 0) gb[slot] += scale * _nu * Positives(a) * Negatives(a);
            }
            if (!perClass && triplets > 0) gb[0] += _nu;
            gradients.Add(("beta", Wrap(gb.Select(T.CreateTruncating).ToArray(), betaShape)));
        }
        else if (learned)
        {
            // none: ∂(Σ ℓ_a)/∂β, the regularizer left out as from the value.
            var gb = new double[betas.Length];
            for (int a = 0; a < n; a++) gb[perClass ? (int)labels[a] : 0] += betaSlope[a];
            gradients.Add(("beta", Wrap(gb.Select(T.CreateTruncating).ToArray(), betaShape)));
        }
        return Result(value, [.. gradients]);

        // ∂(anchor i's share)/∂d_ij: its count of triplets through the pair when the hinge is active.
        double Slope(int i, bool positive, double dist)
        {
            if (Term(positive, dist, Beta(i)) <= 0 || Positives(i) == 0 || Negatives(i) == 0) return 0;
            return positive ? Negatives(i) : -Positives(i);
        }
    }

    private double Term(bool positive, double dist, double beta) => positive ? dist - beta + _margin : beta - dist + _margin;

    /// <summary>β: the option (no gradient), or the input — a scalar or (1) shared by all, or (C) one per class.</summary>
    private (double[] Betas, Shape Shape, bool PerClass) ReadBeta(LossInputs inputs, string name, long[] labels)
    {
        if (!inputs.Contains("beta")) return ([_beta], Shape.Scalar, false);
        Shape bs = inputs["beta"].Shape;
        double[] b = inputs["beta"].ToArray<double>();
        if (bs.Rank > 1 || b.Length == 0) throw LossArgumentException.Shape($"{name}: 'beta' has shape {bs}; expected a scalar, (1) or (C), one per class");
        bool perClass = bs.Rank == 1 && b.Length > 1;
        if (perClass)
            for (int i = 0; i < labels.Length; i++)
                if (labels[i] < 0 || labels[i] >= b.Length) throw LossArgumentException.Value($"{name}: label {labels[i]} at row {i} has no beta among the {b.Length} classes' betas");
        return (b, bs, perClass);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "MarginLoss",
        Aliases = ["margin_loss", "pml.MarginLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs =
        [
            .. Embeddings.Inputs,
            new("beta", InputKind.Floating, true, "optional learned boundary β: a scalar, (1), or (C) one per class (pytorch-metric-learning's learn_beta / num_classes)") { Optional = true },
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("margin", 0.2, "m: the half-width of the band around β"),
            OptionSpec.Float("beta", 1.2, "β: the boundary between positive and negative distances (when no 'beta' input)"),
            OptionSpec.Float("nu", 0.0, "ν: weight of the β regularizer (with a 'beta' input)"),
            OptionSpec.Bool("normalize_embeddings", true, "L2-normalize the embeddings first (pytorch-metric-learning's default)"),
        ],
        Sample = Embeddings.Sample,
        Formula = "Σ_(a,p,n) [relu(d_ap − β + m) + relu(β − d_an + m)] / #non-zero terms (+ ν·β),  d = ‖x̂_a − x̂_j‖",
        Gradient = "±1 per active term through (x̂_a − x̂_j)/d, then the normalization; ∂/∂β = #active negative − #active positive terms (+ ν)",
        Reference = "pytorch_metric_learning.losses.MarginLoss (Wu, Manmatha, Smola & Krähenbühl, ICCV 2017)",
        Stability = "piecewise linear in the distances: finite for every finite embedding; O(N·D) memory for N³ triplets",
        Libraries = "pytorch-metric-learning",
        Factory = o => new MarginLoss(o.Float("margin"), o.Float("beta"), o.Float("nu"), o.Bool("normalize_embeddings"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
