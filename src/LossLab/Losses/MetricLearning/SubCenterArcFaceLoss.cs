using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Sub-center ArcFace (Deng et al., ECCV 2020), as pytorch-metric-learning's
/// <c>SubCenterArcFaceLoss(num_classes, embedding_size, margin=28.6, scale=64, sub_centers=3)</c>: each class has K
/// weight vectors instead of one, and an embedding's cosine to a class is its largest cosine to the class's K
/// sub-centres; then ArcFace's margin and scaled softmax. A noisy or atypical sample can join a sub-centre of its own
/// instead of pulling the class's single centre away from the clean samples.
/// </summary>
/// <remarks>
/// <para>W is (D, C·K), class j's columns j·K … j·K + K − 1 (pytorch-metric-learning views the cosines (N, C·K) as
/// (N, C, K) and takes the max over K). ∂c_ij/∂ŵ reaches only the sub-centre that gave the max (the first of equal
/// ones, as torch.max), which is what the max's subgradient is; the rest is <see cref="ArcFaceLoss"/>'s.</para>
/// <para>pytorch-metric-learning's <c>get_outliers</c> (a data-cleaning helper, not part of the loss) is not here.</para>
/// </remarks>
public sealed class SubCenterArcFaceLoss : AngularMarginLoss, ILossDefinition
{
    private readonly ArcMargin _margin;

    public SubCenterArcFaceLoss(double marginDegrees = 28.6, double scale = 64, int subCenters = 3, Reduction reduction = Reduction.Mean)
        : base("SubCenterArcFaceLoss", scale, reduction, subCenters)
    {
        _margin = new ArcMargin("SubCenterArcFaceLoss", marginDegrees);
    }

    protected override (double F, double Df) Target(double c) => _margin.Apply(c);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "SubCenterArcFaceLoss",
        Aliases = ["subcenter_arcface_loss", "sub_center_arcface_loss", "subcenter_arcface"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs =
        [
            AngularInputs[0], AngularInputs[1],
            new("W", InputKind.Floating, true, "sub-centre weights W (D, C·K), class j's in columns j·K … j·K + K − 1 (pytorch-metric-learning's loss.W)"),
        ],
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Float("margin", 28.6, "m, the angular margin in degrees (28.6° ≈ 0.5 rad)"),
            OptionSpec.Float("scale", 64, "s, the logits' scale"),
            OptionSpec.Int("sub_centers", 3, "K, weight vectors per class"),
        ],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(6, 4);
            return new LossInputs().Add("embeddings", Samples.Normal(r, x)).Add("labels", Samples.Classes(r, new Shape(x[0]), 3))
                .Add("W", Samples.Normal(r, new Shape(x[1], 9)));
        },
        Formula = "ℓ = −log softmax(s·ĉ)_y,  c_j = max_k ê·ŵ_{jK+k},  ĉ_j = c_j (j ≠ y), ĉ_y = cos(arccos c_y + m) (c_y − m·sin m past θ = π − m)",
        Gradient = "ArcFace's ∂ℓ/∂c_j, passed to the sub-centre that attained the max; through both L2 normalizations to embeddings and W",
        Reference = "Deng et al., Sub-center ArcFace: Boosting Face Recognition by Large-scale Noisy Web Faces, ECCV 2020; pytorch-metric-learning SubCenterArcFaceLoss",
        Stability = "finite for every finite input (closed form without arccos; norms clamped at 1e-12)",
        Libraries = "pytorch-metric-learning (SubCenterArcFaceLoss), insightface",
        Factory = o => new SubCenterArcFaceLoss(o.Float("margin"), o.Float("scale"), (int)Math.Clamp(o.Int("sub_centers"), int.MinValue, int.MaxValue), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
