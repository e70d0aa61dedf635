using LossLab.Losses.Core;

namespace LossLab.Losses.Segmentation;

/// <summary>
/// Optax <c>binary_dice_loss(predictions, targets, smooth=1, apply_sigmoid=True)</c>: <see cref="OptaxDiceLoss"/> with
/// one class. Maps (N, H, W) (or (…, 1)) of logits get a class axis, the sigmoid, and one Dice value per sample:
/// ℓ = 1 − (2I + 2s)/(P + T + 2s) over the spatial axes.
/// </summary>
/// <remarks>
/// Without the sigmoid the predictions must be probabilities in [0, 1]. (Optax would check that they sum to 1 over the
/// one-class axis, which rejects every map that is not all ones.)
/// </remarks>
public sealed class OptaxBinaryDiceLoss(double smooth = 1, bool applySigmoid = true, string reduction = "none") : Loss, ILossDefinition
{
    private readonly OptaxDiceSetup _setup = new(smooth, 0.5, 0.5, applySigmoid, "mean", IgnoreBackground: false, Axis: null, ClassWeights: null, Generalized: false, reduction);

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
        => OptaxDice.Compute<T>(this, inputs, _setup, binaryExpand: true, computeGradients);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "OptaxBinaryDiceLoss",
        Aliases = ["optax.binary_dice_loss", "binary_dice_loss"],
        Family = LossFamily.Segmentation,
        Task = LossTask.Segmentation,
        Inputs = OptaxDice.Inputs,
        Options =
        [
            OptionSpec.Choice("reduction", "none", "none (Optax: one value per sample), mean or sum", "none", "mean", "sum"),
            OptionSpec.Float("smooth", 1, "added to the numerator and the denominator"),
            OptionSpec.Bool("apply_sigmoid", true, "sigmoid of the logits; false: probabilities in [0, 1]"),
        ],
        Sample = (r, s) => { Shape x = Samples.Or(s, 2, 3, 4); return new LossInputs().Add("predictions", Samples.Normal(r, x)).Add("targets", Samples.Bernoulli(r, x)); },
        Formula = "ℓ = 1 − (I + s)/((P + T)/2 + s) per sample,  p = σ(x)",
        Gradient = "∂coeff/∂p = (t·D − N/2)/D², then σ′",
        Reference = "optax.losses.binary_dice_loss",
        Stability = "finite for every finite input with smooth > 0",
        Libraries = "Optax",
        Factory = o => new OptaxBinaryDiceLoss(o.Float("smooth"), o.Bool("apply_sigmoid"), o.Choice("reduction")),
    };

    public override LossDescriptor Descriptor => Entry;
}
