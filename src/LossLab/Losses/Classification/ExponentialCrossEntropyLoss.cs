using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Exponential unimodal regularised cross-entropy (Liu et al. 2020, with the exponent p of Vargas et al. 2023; dlordinal's
/// <c>ExponentialRegularisedCrossEntropyLoss</c>): row y of the soft labels is softmax_k(−|k − y|^p), mass decaying
/// exponentially with the distance from the true rank.
/// </summary>
public sealed class ExponentialCrossEntropyLoss : UnimodalSoftLabelLoss, ILossDefinition
{
    private readonly double _p;

    public ExponentialCrossEntropyLoss(double eta = 1, double p = 1, TensorData? weight = null, double labelSmoothing = 0, Reduction reduction = Reduction.Mean)
        : base(eta, weight, labelSmoothing, reduction)
    {
        if (!(p > 0) || double.IsInfinity(p)) throw LossArgumentException.Value($"ExponentialCrossEntropyLoss: p must be a finite exponent > 0, got {p}");
        _p = p;
    }

    protected override double[,] SoftLabels(int classes)
    {
        var s = new double[classes, classes];
        for (int y = 0; y < classes; y++)
            for (int k = 0; k < classes; k++) s[y, k] = -Math.Pow(Math.Abs(k - y), _p);
        return RowSoftmax(s);
    }

    public static LossDescriptor Entry { get; } = Describe(
        "ExponentialCrossEntropyLoss",
        ["exponential_cross_entropy_loss", "ExponentialRegularisedCrossEntropyLoss", "exponential_regularised_cross_entropy_loss", "ExponentialLoss"],
        [OptionSpec.Float("p", 1, "the exponent of the distance |k − y| (> 0)")],
        "ℓ = CE(x, (1 − η)·onehot(y) + η·softmax_k(−|k − y|^p))",
        "Liu et al., Unimodal regularized neuron stick-breaking for ordinal classification, Neurocomputing 2020; Vargas et al., Exponential loss regularisation for encouraging ordinal constraint, 2023; dlordinal ExponentialRegularisedCrossEntropyLoss",
        "dlordinal (ExponentialRegularisedCrossEntropyLoss)",
        o => new ExponentialCrossEntropyLoss(o.Float("eta"), o.Float("p"), o.Tensor("weight"), o.Float("label_smoothing"), o.Reduction));

    public override LossDescriptor Descriptor => Entry;
}
