using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Poisson unimodal regularised cross-entropy (Liu et al. 2020; dlordinal's <c>PoissonCrossEntropyLoss</c>): row y of the
/// soft labels is the softmax over the ranks k of the Poisson(λ = y + 1) probability of k, as dlordinal computes it
/// (scipy's softmax applied to the probabilities themselves, which flattens them).
/// </summary>
public sealed class PoissonCrossEntropyLoss(double eta = 1, TensorData? weight = null, double labelSmoothing = 0, Reduction reduction = Reduction.Mean)
    : UnimodalSoftLabelLoss(eta, weight, labelSmoothing, reduction), ILossDefinition
{
    protected override double[,] SoftLabels(int classes)
    {
        var s = new double[classes, classes];
        for (int y = 0; y < classes; y++)
        {
            double lambda = y + 1, logFactorial = 0;
            for (int k = 0; k < classes; k++)
            {
                if (k > 0) logFactorial += Math.Log(k);
                s[y, k] = Math.Exp(k * Math.Log(lambda) - lambda - logFactorial);
            }
        }
        return RowSoftmax(s);
    }

    public static LossDescriptor Entry { get; } = Describe(
        "PoissonCrossEntropyLoss",
        ["poisson_cross_entropy_loss", "poisson_ce_loss", "PoissonLoss"],
        [],
        "ℓ = CE(x, (1 − η)·onehot(y) + η·softmax_k(Poisson(k; y + 1)))",
        "Liu et al., Unimodal regularized neuron stick-breaking for ordinal classification, Neurocomputing 2020; dlordinal PoissonCrossEntropyLoss",
        "dlordinal (PoissonCrossEntropyLoss)",
        o => new PoissonCrossEntropyLoss(o.Float("eta"), o.Tensor("weight"), o.Float("label_smoothing"), o.Reduction));

    public override LossDescriptor Descriptor => Entry;
}
