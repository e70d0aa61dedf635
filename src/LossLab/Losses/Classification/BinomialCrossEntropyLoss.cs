using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Binomial unimodal regularised cross-entropy (Liu et al., Unimodal regularized neuron stick-breaking for ordinal
/// classification, 2020; dlordinal's <c>BinomialCrossEntropyLoss</c>): row y of the soft labels is the Binomial(K − 1, π_y)
/// probability of each rank, π_y = 0.1 + 0.8·y/(K − 1) (numpy's linspace(0.1, 0.9, K)), a bump at y.
/// </summary>
/// <remarks>Any K ≥ 2, as dlordinal's soft_labelling module (its older distributions module listed π for 4–8, 10, 12 and 14 classes only, each that same linspace).</remarks>
public sealed class BinomialCrossEntropyLoss(double eta = 1, TensorData? weight = null, double labelSmoothing = 0, Reduction reduction = Reduction.Mean)
    : UnimodalSoftLabelLoss(eta, weight, labelSmoothing, reduction), ILossDefinition
{
    protected override double[,] SoftLabels(int classes)
    {
        int n = classes - 1;
        // log C(n, k) for every k at once, C(n, k) = C(n, k − 1)·(n − k + 1)/k: O(K) instead of a sum of k logs per entry.
        var logChoose = new double[classes];
        for (int k = 1; k < classes; k++) logChoose[k] = logChoose[k - 1] + Math.Log(n - k + 1) - Math.Log(k);
        var s = new double[classes, classes];
        for (int y = 0; y < classes; y++)
        {
            double pi = 0.1 + 0.8 * y / n, logPi = Math.Log(pi), log1mPi = Math.Log(1 - pi);
            for (int k = 0; k < classes; k++) s[y, k] = Math.Exp(logChoose[k] + k * logPi + (n - k) * log1mPi);
        }
        return s;
    }

    public static LossDescriptor Entry { get; } = Describe(
        "BinomialCrossEntropyLoss",
        ["binomial_cross_entropy_loss", "binomial_ce_loss", "BinomialLoss"],
        [],
        "ℓ = CE(x, (1 − η)·onehot(y) + η·Binomial(K − 1, π_y)),  π_y = 0.1 + 0.8·y/(K − 1)",
        "Liu et al., Unimodal regularized neuron stick-breaking for ordinal classification, Neurocomputing 2020; dlordinal BinomialCrossEntropyLoss",
        "dlordinal (BinomialCrossEntropyLoss)",
        o => new BinomialCrossEntropyLoss(o.Float("eta"), o.Tensor("weight"), o.Float("label_smoothing"), o.Reduction),
        stability: "cross-entropy's log-softmax; the binomial terms from logs: finite for every finite logit");

    public override LossDescriptor Descriptor => Entry;
}
