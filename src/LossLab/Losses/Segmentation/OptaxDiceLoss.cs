using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Segmentation;

/// <summary>
/// Optax <c>dice_loss(predictions, targets, class_weights=None, smooth=1, alpha=0.5, beta=0.5, apply_softmax=True,
/// reduction='mean', ignore_background=False, axis=None)</c>: per sample and class, over the spatial axes,
/// ℓ = 1 − (I + s)/(I + α(P − I) + β(T − I) + s) (Tversky; Dice at α = β = ½), weighted per class and reduced over
/// the classes: one value per sample (mean, sum) or per sample and class (none). See <see cref="OptaxDice"/>.
/// </summary>
/// <remarks>
/// Unlike segmentation_models_pytorch's <c>dice_loss</c> (<see cref="SoftDiceLoss"/>), it keeps one value per sample,
/// takes logits over the last axis (channels last), smooths with s = 1 by default and includes empty classes. A class
/// with no mass at smooth = 0 (0/0) is an error naming it.
/// </remarks>
public sealed class OptaxDiceLoss(TensorData? classWeights = null, double smooth = 1, double alpha = 0.5, double beta = 0.5, bool applySoftmax = true,
    string reduction = "mean", bool ignoreBackground = false, int[]? axis = null) : Loss, ILossDefinition
{
    private readonly OptaxDiceSetup _setup = new(smooth, alpha, beta, applySoftmax, reduction, ignoreBackground, axis, classWeights, Generalized: false);

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
        => OptaxDice.Compute<T>(this, inputs, _setup, binaryExpand: false, computeGradients);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "OptaxDiceLoss",
        Aliases = ["optax.dice_loss"],
        Family = LossFamily.Segmentation,
        Task = LossTask.Segmentation,
        Inputs = OptaxDice.Inputs,
        Options =
        [
            OptionSpec.Choice("reduction", "mean", "over the class axis: mean, sum, or none (one value per sample and class)", "mean", "sum", "none"),
            OptionSpec.Tensor("class_weights", "one weight per class (C)"),
            OptionSpec.Float("smooth", 1, "added to the numerator and the denominator"),
            OptionSpec.Float("alpha", 0.5, "weight of false positives (P − I)"),
            OptionSpec.Float("beta", 0.5, "weight of false negatives (T − I)"),
            OptionSpec.Bool("apply_softmax", true, "softmax over the last axis (sigmoid for one class); false: probabilities"),
            OptionSpec.Bool("ignore_background", false, "leave class 0 out"),
            OptionSpec.Tensor("axis", "summed axes (default: all but the first and the last); never the class axis"),
        ],
        Sample = OptaxDice.Sample,
        Formula = "ℓ = red_c w_c·(1 − (I + s)/(I + α(P − I) + β(T − I) + s)),  I = Σ p·t, P = Σ p, T = Σ t over the spatial axes",
        Gradient = "∂coeff/∂p = (t·D − N·((1 − α − β)t + α))/D², then through softmax or sigmoid",
        Reference = "optax.losses.dice_loss (Milletari et al., V-Net, 2016; Salehi et al., Tversky, 2017)",
        Stability = "finite for every finite input with smooth > 0 (softmax and sums in double)",
        Libraries = "Optax",
        Factory = o => new OptaxDiceLoss(o.Tensor("class_weights"), o.Float("smooth"), o.Float("alpha"), o.Float("beta"), o.Bool("apply_softmax"),
            o.Choice("reduction"), o.Bool("ignore_background"), AxisGroups.Parse(o.Tensor("axis"))),
    };

    public override LossDescriptor Descriptor => Entry;
}
