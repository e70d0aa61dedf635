using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// SphereFace, the angular softmax (A-Softmax) loss (Liu et al., CVPR 2017), as pytorch-metric-learning's
/// <c>SphereFaceLoss(num_classes, embedding_size, margin=4, scale=1)</c>: L-Softmax with the class weights normalized,
/// so the logits are s·‖x_i‖·ĉ_ij and classes are told apart by angle alone; the target's angle is multiplied by the
/// integer margin m, ψ(θ) = (−1)^k·cos(mθ) − 2k (see <see cref="LargeMarginSoftmaxLoss"/>).
/// </summary>
/// <remarks>
/// The paper trains with the target logit blended towards the plain one, (λ·cos θ + ψ)/(1 + λ), λ annealed down to
/// about 5; pytorch-metric-learning has no λ. Here <c>lambd</c> (default 0: none) holds λ fixed. The gradient reaches the embedding's length (it scales every logit) and both
/// normalizations. Shared parts: <see cref="AngularMarginLoss"/>.
/// </remarks>
public sealed class SphereFaceLoss : AngularMarginLoss, ILossDefinition
{
    private readonly MultiplicativeMargin _margin;

    public SphereFaceLoss(long margin = 4, double scale = 1, Reduction reduction = Reduction.Mean, double lambda = 0) : base("SphereFaceLoss", scale, reduction)
    {
        _margin = new MultiplicativeMargin("SphereFaceLoss", margin, lambda);
    }

    protected override (double F, double Df) Target(double c) => _margin.Apply(c);

    protected override (bool Embedding, bool Weight) Magnitudes => (true, false);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "SphereFaceLoss",
        Aliases = ["sphereface_loss", "sphereface", "a_softmax", "angular_softmax_loss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = AngularInputs,
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Int("margin", 4, "m ≥ 1, the integer multiplying the target class's angle"),
            OptionSpec.Float("scale", 1, "s, the logits' scale"),
            OptionSpec.Float("lambd", 0, "λ ≥ 0: the target logit (λ·cos θ + ψ)/(1 + λ), the paper's annealing (0: none, as pytorch-metric-learning)"),
        ],
        Sample = AngularSample,
        Formula = "ℓ = −log softmax(s·‖x‖·ĉ_j)_y,  ĉ_j = ê·ŵ_j (j ≠ y), ĉ_y = (−1)^k·cos(mθ_y) − 2k, k = ⌊θ_y·m/π⌋",
        Gradient = "∂ℓ/∂z_j = s(p_j − [j = y]); to the cosines (ψ′ = (−1)^k·m·U_{m−1}(c) at the target) and to the embedding's length",
        Reference = "Liu et al., SphereFace: Deep Hypersphere Embedding for Face Recognition, CVPR 2017; pytorch-metric-learning SphereFaceLoss",
        Stability = "finite for every finite input (Chebyshev recurrences, no arccos in the gradient; norms clamped at 1e-12)",
        Libraries = "pytorch-metric-learning (SphereFaceLoss)",
        Factory = o => new SphereFaceLoss(o.Int("margin"), o.Float("scale"), o.Reduction, o.Float("lambd")),
    };

    public override LossDescriptor Descriptor => Entry;
}
