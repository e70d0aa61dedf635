using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// CORAL, the consistent-rank logits loss for ordinal regression (Cao, Mirjalili &amp; Raschka, Pattern Recognition
/// Letters 2020; coral_pytorch's <c>coral_loss(logits, levels, importance_weights=None, reduction='mean')</c>): K ordered
/// classes become K − 1 binary questions "is the rank above k?", each answered by one logit (in CORAL's model the logits
/// share their weights and differ by a bias, so that the answers stay rank-consistent); the loss is the sum of their
/// logistic losses.
/// </summary>
/// <remarks>
/// <para><b>Definition</b> (logits z (N, K − 1), levels y (N, K − 1) with y_ik = [rank_i &gt; k], importance weights λ):
/// ℓ_i = Σ_k λ_k·[y_ik·softplus(−z_ik) + (1 − y_ik)·softplus(z_ik)], coral_pytorch's log σ(z)·y + (log σ(z) − z)(1 − y)
/// negated. Class labels (N) may be given instead of levels (coral_pytorch's levels_from_labelbatch). <b>Gradient:</b>
/// ∂ℓ_i/∂z_ik = λ_k·(σ(z_ik) − y_ik). The levels are targets, not differentiated. The predicted rank is the number of
/// logits above 0.</para>
/// </remarks>
public sealed class CoralLoss : Loss, ILossDefinition
{
    private const string Name = "CoralLoss";
    private readonly double[]? _weights;
    private readonly Reduction _reduction;

    public CoralLoss(TensorData? importanceWeights = null, Reduction reduction = Reduction.Mean)
    {
        if (reduction == Reduction.BatchMean) throw LossArgumentException.Value($"{Name}: reduction must be none, mean or sum");
        if (importanceWeights is TensorData w)
        {
            if (w.Shape.Rank != 1) throw LossArgumentException.Shape($"{Name}: importance_weights must be one weight per rank threshold (K − 1), got shape {w.Shape}");
            _weights = w.ToArray<double>();
        }
        _reduction = reduction;
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        TensorData zT = inputs["logits"], yT = inputs["levels"];
        if (zT.Shape.Rank != 2) throw LossArgumentException.Shape($"{Name}: 'logits' must be (N, K − 1), one logit per rank threshold, got shape {zT.Shape}");
        int n = zT.Shape[0], k = zT.Shape[1];
        double[] levels = OrdinalLevels.Read(yT, n, k, Name, "levels");
        if (_weights is not null && _weights.Length != k)
            throw LossArgumentException.Shape($"{Name}: importance_weights has {_weights.Length} values but 'logits' {zT.Shape} has {k} rank thresholds");
        double[] z = zT.ToArray<double>();
        var losses = new double[n];
        var g = computeGradients ? new double[z.Length] : [];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < k; j++)
            {
                double y = levels[i * k + j], w = _weights?[j] ?? 1, v = z[i * k + j];
                losses[i] += w * (y * Stable.Softplus(-v) + (1 - y) * Stable.Softplus(v));
                if (computeGradients) g[i * k + j] = w * ((1 - y) * Stable.Sigmoid(v) - y * Stable.Sigmoid(-v));   // σ(z) − y, no cancellation
            }
        var (value, scale) = ReduceRows<T>(losses, _reduction, new Shape(n));
        if (!computeGradients) return Result(value);
        for (int q = 0; q < g.Length; q++) g[q] *= scale;
        return Result(value, ("logits", FromDoubles<T>(g, zT.Shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["coral_loss", "coral_pytorch.coral_loss", "coral"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("logits", InputKind.Floating, true, "one logit per rank threshold (N, K − 1)"),
            new("levels", InputKind.Floating, false, "the levels (N, K − 1), y_ik = [rank > k], or the ranks themselves (N) in 0..K − 1"),
        ],
        Options = [OptionSpec.Reduction("none", "mean", "sum"), OptionSpec.Tensor("importance_weights", "λ (K − 1), one weight per threshold; default 1")],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 5, 4);
            double[] ranks = [.. Enumerable.Range(0, x[0]).Select(_ => (double)r.Next(x[1] + 1))];
            return new LossInputs().Add("logits", Samples.Normal(r, x, 2)).Add("levels", TensorData.FromArray(ranks, x[0]));
        },
        Formula = "ℓ_i = Σ_k λ_k·[y_ik·softplus(−z_ik) + (1 − y_ik)·softplus(z_ik)],  y_ik = [rank_i > k]",
        Gradient = "∂ℓ/∂z_ik = λ_k·(σ(z_ik) − y_ik)",
        Reference = "Cao, Mirjalili & Raschka, Rank consistent ordinal regression for neural networks, 2020; coral_pytorch coral_loss",
        Stability = "softplus and sigmoid in double: finite for every finite logit",
        LowerBound = 0,
        Libraries = "coral_pytorch (coral_loss, CoralLoss)",
        Factory = o => new CoralLoss(o.Tensor("importance_weights"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
