using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Ranking;

/// <summary>
/// RankNet (Burges et al., ICML 2005; sentence-transformers' cross-encoder <c>RankNetLoss(k=None, sigma=1.0, eps=1e-10,
/// reduction_log="binary")</c>): the pairwise logistic loss −log₂ σ(σ_s·(s_i − s_j)) over every pair of a query's
/// documents with t_i &gt; t_j, averaged over the batch's pairs. sentence-transformers defines it as
/// <see cref="LambdaLoss"/> without a weighting scheme, and so does this class: the math, the clamps, k (pairs of the
/// first k documents by score) and the gradient are LambdaLoss's with w = 1.
/// </summary>
public sealed class RankNetLoss : Loss, ILossDefinition
{
    private readonly LambdaLoss _lambda;

    public RankNetLoss() : this(new LambdaLoss.Options { Scheme = LambdaLoss.WeightingScheme.None }) { }

    /// <param name="options">LambdaLoss's options; the weighting scheme must be none.</param>
    public RankNetLoss(LambdaLoss.Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Scheme != LambdaLoss.WeightingScheme.None) throw LossArgumentException.Value($"RankNetLoss: RankNet has no weighting scheme (got {options.Scheme}); use LambdaLoss for one");
        _lambda = new LambdaLoss(options, "RankNetLoss");
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients) => _lambda.Evaluate(inputs, computeGradients);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "RankNetLoss",
        Aliases = ["rank_net_loss", "ranknet", "ce.RankNetLoss"],
        Family = LossFamily.Ranking,
        Task = LossTask.Ranking,
        Inputs = DocumentLists.Inputs(labelsDifferentiable: false),
        Options = LambdaLoss.CommonOptions,
        Sample = DocumentLists.Sample,
        Formula = "ℓ = −mean_{pairs t_i > t_j, i,j < k} log₂ max(σ(σ_s(s_i − s_j)), ε)",
        Gradient = "∂/∂(s_i − s_j) = −σ_s·σ(−σ_s(s_i − s_j))/(P·ln 2) where the clamp does not hold",
        Reference = "sentence-transformers cross_encoder RankNetLoss (LambdaLoss without weights); Burges et al., ICML 2005 (RankNet)",
        Stability = "log-sigmoids in double, clamped at log ε: finite for any finite input",
        Libraries = "sentence-transformers (cross-encoder RankNetLoss), allRank",
        Factory = o => new RankNetLoss(LambdaLoss.Read(o, LambdaLoss.WeightingScheme.None, 10)),
    };

    public override LossDescriptor Descriptor => Entry;
}
