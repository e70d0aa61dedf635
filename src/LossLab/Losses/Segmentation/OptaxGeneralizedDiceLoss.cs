using LossLab.Losses.Core;

namespace LossLab.Losses.Segmentation;

/// <summary>
/// Optax <c>multiclass_generalized_dice_loss(predictions, targets, smooth=1, apply_softmax=True,
/// ignore_background=False)</c> (Sudre et al., 2017): <see cref="OptaxDiceLoss"/> per sample and class, weighted by
/// w_c = C·u_c/Σu with u_c = 1/(f_c² + 1e-7) and f_c the class's target mass over the whole batch, then averaged over
/// samples and classes to one scalar. Rare classes weigh as much as common ones.
/// </summary>
/// <remarks>
/// The weights come from the targets, so the targets' gradient includes their dependence (see <see cref="OptaxDice"/>).
/// Predictions and targets must have the same shape (…, C).
/// </remarks>
public sealed class OptaxGeneralizedDiceLoss(double smooth = 1, bool applySoftmax = true, bool ignoreBackground = false, string reduction = "mean") : Loss, ILossDefinition
{
    private readonly OptaxDiceSetup _setup = new(smooth, 0.5, 0.5, applySoftmax, "none", ignoreBackground, Axis: null, ClassWeights: null, Generalized: true, reduction);

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
        => OptaxDice.Compute<T>(this, inputs, _setup, binaryExpand: false, computeGradients);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "OptaxGeneralizedDiceLoss",
        Aliases = ["optax.multiclass_generalized_dice_loss", "multiclass_generalized_dice_loss", "generalized_dice_loss"],
        Family = LossFamily.Segmentation,
        Task = LossTask.Segmentation,
        Inputs = OptaxDice.Inputs,
        Options =
        [
            OptionSpec.Choice("reduction", "mean", "mean over samples and classes (Optax), sum, or none (one weighted value per sample and class)", "mean", "sum", "none"),
            OptionSpec.Float("smooth", 1, "added to the numerator and the denominator"),
            OptionSpec.Bool("apply_softmax", true, "softmax over the last axis; false: probabilities"),
            OptionSpec.Bool("ignore_background", false, "leave class 0 out (its frequency still enters the weights)"),
        ],
        Sample = OptaxDice.Sample,
        Formula = "ℓ = mean_{n,c} w_c·(1 − (I + s)/((P + T)/2 + s)),  w_c ∝ 1/(f_c² + 1e-7), Σw = C",
        Gradient = "Dice's, weighted; the targets' also through w",
        Reference = "optax.losses.multiclass_generalized_dice_loss (Sudre et al., 2017)",
        Stability = "finite for every finite input with smooth > 0",
        Libraries = "Optax",
        Factory = o => new OptaxGeneralizedDiceLoss(o.Float("smooth"), o.Bool("apply_softmax"), o.Bool("ignore_background"), o.Choice("reduction")),
    };

    public override LossDescriptor Descriptor => Entry;
}
