using LossLab.Losses.Core;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// The normalized softmax loss (Zhai &amp; Wu, BMVC 2019; NormFace), as pytorch-metric-learning's
/// <c>NormalizedSoftmaxLoss(num_classes, embedding_size, temperature=0.05)</c>: cross-entropy of the cosines between
/// the L2-normalized embeddings and the normalized columns of W (D, C), divided by a temperature T. It is
/// <see cref="CosFaceLoss"/> with no margin and s = 1/T, the baseline the margin losses improve on.
/// </summary>
/// <remarks>
/// f(c) = c, f′ = 1; the cosines, the gradients through both normalizations and W as an input are
/// <see cref="AngularMarginLoss"/>'s. Default reduction: the mean over rows.
/// </remarks>
public sealed class NormalizedSoftmaxLoss(double temperature = 0.05, Reduction reduction = Reduction.Mean)
    : AngularMarginLoss("NormalizedSoftmaxLoss", Inverse(temperature), reduction), ILossDefinition
{
    public double Temperature { get; } = temperature;

    private static double Inverse(double t) => t > 0 && double.IsFinite(t) ? 1 / t
        : throw LossArgumentException.Value($"NormalizedSoftmaxLoss: temperature must be a finite number > 0, got {t}");

    protected override (double F, double Df) Target(double c) => (c, 1);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "NormalizedSoftmaxLoss",
        Aliases = ["normalized_softmax_loss", "normface", "norm_softmax"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = AngularInputs,
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Float("temperature", 0.05, "T; the cosines are divided by it"),
        ],
        Sample = AngularSample,
        Formula = "ℓ = −log softmax(ĉ/T)_y,  ĉ_j = ê·ŵ_j",
        Gradient = "∂ℓ/∂c_j = (p_j − [j = y])/T; through both L2 normalizations to embeddings and W",
        Reference = "Zhai & Wu, Classification is a Strong Baseline for Deep Metric Learning, BMVC 2019; Wang et al., NormFace, 2017; pytorch-metric-learning NormalizedSoftmaxLoss",
        Stability = "finite for every finite input (norms clamped at 1e-12; max-shifted log-softmax in double)",
        Libraries = "pytorch-metric-learning (NormalizedSoftmaxLoss)",
        Factory = o => new NormalizedSoftmaxLoss(o.Float("temperature"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
