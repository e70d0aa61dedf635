using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Lifted structure loss (Oh Song et al., CVPR 2016; pytorch-metric-learning <c>LiftedStructureLoss(neg_margin=1,
/// pos_margin=0)</c> with its default <c>LpDistance(p=2, normalize_embeddings=True)</c>): per positive pair (i, j), in both
/// orders, ℓ_ij = ½·relu(log(Σ_{k∈N(i)} e^{m⁻ − d_ik} + Σ_{k∈N(j)} e^{m⁻ − d_jk}) + d_ij − m⁺)², d = ‖x̂_i − x̂_j‖.
/// </summary>
/// <remarks>
/// <para><c>mean</c> averages over the ordered positive pairs (pytorch-metric-learning's MeanReducer on pos_pair losses;
/// the ½ is its "each positive pair is counted twice"), <c>sum</c> adds them, <c>none</c> gives each anchor i the sum of
/// its pairs' ℓ_ij (N). Without a positive or without a negative pair the loss is 0.</para>
/// <para>The negatives' sum splits by row: with L_i = log Σ_{k∈N(i)} e^{m⁻ − d_ik}, the log is log(e^{L_i} + e^{L_j}), so one
/// pass gives every L_i and the pairs need no N×N storage. Derivation, u_ij = log(e^{L_i} + e^{L_j}) + d_ij − m⁺,
/// r = relu(u) (symmetric in i, j): ∂ℓ_ij/∂d_ij = r_ij; ∂(ℓ_ij + ℓ_ji)/∂L_i = 2·r_ij·σ(L_i − L_j), and ∂L_i/∂d_ik =
/// −e^{m⁻ − d_ik − L_i}; then (x̂_i − x̂_k)/d and the normalization (<see cref="PairDistances"/>).</para>
/// </remarks>
public sealed class LiftedStructureLoss : Loss, ILossDefinition
{
    private readonly double _posMargin, _negMargin;
    private readonly bool _normalize;
    private readonly Reduction _reduction;

    public LiftedStructureLoss(double negMargin = 1, double posMargin = 0, bool normalizeEmbeddings = true, Reduction reduction = Reduction.Mean)
    {
        if (!double.IsFinite(posMargin) || !double.IsFinite(negMargin))
            throw LossArgumentException.Value($"LiftedStructureLoss: margins must be finite, got pos_margin = {posMargin}, neg_margin = {negMargin}");
        (_posMargin, _negMargin, _normalize, _reduction) = (posMargin, negMargin, normalizeEmbeddings, reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, "LiftedStructureLoss");
        var (unit, norms) = _normalize ? Embeddings.Normalize(x, n, d) : (x, Enumerable.Repeat(1.0, n).ToArray());
        var (members, group) = Embeddings.Groups(labels);
        long pairs = members.Sum(m => (long)m.Length * (m.Length - 1));
        // With two labels or more every row has a negative; with one, none has.
        bool active = pairs > 0 && members.Length > 1;
        var distances = new PairDistances(unit, n, d);

        double[] lse = new double[n], perAnchor = new double[n], c = new double[n];
        if (active)
        {
            var values = new SimilarityBlocks(unit, n, d, gradients: false, scratchRows: 1);
            // Pass 1: L_i over the negatives of each row.
            values.Run(1, (i, s, unused, scratch) =>
            {
                Span<double> z = scratch[..n];
                for (int k = 0; k < n; k++) z[k] = group[k] == group[i] ? double.NegativeInfinity : _negMargin - distances.Between(s[k], i, k);
                lse[i] = Embeddings.ExpAndLse(z).Lse;
            });
            // Pass 2: each row's positive pairs: its losses, and c_i = Σ_j 2·r_ij·σ(L_i − L_j), the weight of L_i.
            values.Run(1, (i, s, unused, scratch) =>
            {
                foreach (int j in members[group[i]])
                {
                    if (j == i) continue;
                    double r = Math.Max(0, Stable.LogAddExp(lse[i], lse[j]) + distances.Between(s[j], i, j) - _posMargin);
                    perAnchor[i] += 0.5 * r * r;
                    c[i] += 2 * r * Stable.Sigmoid(lse[i] - lse[j]);
                }
            });
        }
        Reducer.Reduced reduced = Reducer.Reduce<double>(perAnchor, _reduction, pairs);
        TensorData value = _reduction == Reduction.None
            ? Wrap(perAnchor.Select(T.CreateTruncating).ToArray(), new Shape(n))
            : Wrap(new[] { T.CreateTruncating(active ? reduced.Value : 0) }, Shape.Scalar);
        if (!computeGradients) return Result(value);
        if (!active) return Result(value, ("embeddings", Wrap(new T[x.Length], es)));

        // Pass 3: ∂L/∂d_ij as seen from row i: r_ij for a positive pair, −c_i·e^{m⁻ − d − L_i} for a negative one.
        double scale = reduced.Scale;
        double[] gUnit = distances.Backward((i, j, dist) => scale * (group[j] == group[i]
            ? Math.Max(0, Stable.LogAddExp(lse[i], lse[j]) + dist - _posMargin)
            : -c[i] * Math.Exp(_negMargin - dist - lse[i])));
        double[] gx = _normalize ? Embeddings.BackThroughNormalize(gUnit, unit, norms, n, d) : gUnit;
        return Result(value, ("embeddings", Wrap(gx.Select(T.CreateTruncating).ToArray(), es)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "LiftedStructureLoss",
        Aliases = ["lifted_structure_loss", "pml.LiftedStructureLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.Inputs,
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("neg_margin", 1.0, "m⁻: negatives closer than this weigh most"),
            OptionSpec.Float("pos_margin", 0.0, "m⁺: subtracted from the positive distance"),
            OptionSpec.Bool("normalize_embeddings", true, "L2-normalize the embeddings first (pytorch-metric-learning's default)"),
        ],
        Sample = Embeddings.Sample,
        Formula = "ℓ_ij = ½·relu(log(Σ_{N(i)} e^{m⁻ − d_ik} + Σ_{N(j)} e^{m⁻ − d_jk}) + d_ij − m⁺)² per ordered positive pair; mean over them",
        Gradient = "∂ℓ_ij/∂d_ij = r; ∂ℓ_ij/∂d_ik = −r·e^{m⁻ − d_ik}/(S_i + S_j); (x̂_i − x̂_k)/d, then through the normalization",
        Reference = "pytorch_metric_learning.losses.LiftedStructureLoss (Oh Song, Xiang, Jegelka & Savarese, CVPR 2016)",
        Stability = "per-row log-sum-exps combined by log-add-exp: finite for every finite embedding; O(N·D) memory",
        Libraries = "pytorch-metric-learning",
        Factory = o => new LiftedStructureLoss(o.Float("neg_margin"), o.Float("pos_margin"), o.Bool("normalize_embeddings"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
