using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// FixMatch (Sohn et al., 2020; Optax <c>fixmatch_loss(labeled_logits, labeled_labels, unlabeled_weak_logits,
/// unlabeled_strong_logits, confidence_threshold=0.95, lambda_u=1.0)</c>): the labeled batch's mean cross-entropy plus
/// λ times the cross-entropy of the strongly augmented unlabeled logits against the weak view's arg max, kept only
/// where the weak view is confident (max softmax ≥ τ), summed and divided by U.
/// </summary>
/// <remarks>
/// ℓ = mean_b CE(x_b, y_b) + λ·Σ_u [max softmax(w_u) ≥ τ]·CE(s_u, argmax w_u) / max(U, 1). The pseudo-labels and the
/// mask are constants (Optax stops their gradient), so the weak logits get none; ∂/∂s_u = λ·m_u·(softmax(s_u) −
/// onehot)/U. Labels are class indices (B) or probabilities (B, C). Reduction: <see cref="SemiSupervised"/>.
/// An empty labeled batch makes the mean 0/0 and is an error.
/// </remarks>
public sealed class FixMatchLoss(double confidenceThreshold = 0.95, double lambdaU = 1, string reduction = "mean") : Loss, ILossDefinition
{
    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        string name = Entry.Name;
        var (b, c, soft) = SemiSupervised.Labeled(name, inputs);
        int u = SemiSupervised.Unlabeled(name, inputs, "unlabeled_weak_logits", c);
        if (inputs["unlabeled_strong_logits"].Shape != inputs["unlabeled_weak_logits"].Shape)
            throw LossArgumentException.Shape($"{name}: 'unlabeled_strong_logits' has shape {inputs["unlabeled_strong_logits"].Shape} but 'unlabeled_weak_logits' has shape {inputs["unlabeled_weak_logits"].Shape}; they must be equal");
        if (b == 0 && reduction == "mean") throw LossArgumentException.Shape($"{name}: the labeled batch is empty, so its mean cross-entropy is 0/0");
        var (labeledScale, unlabeledScale) = SemiSupervised.Scales(reduction, b, u, lambdaU);
        var gx = computeGradients ? new double[b * c] : [];
        var gy = computeGradients && soft ? new double[b * c] : [];
        double[] ce = SemiSupervised.LabeledCrossEntropy(name, inputs, b, c, soft, labeledScale, gx, gy);

        // Pseudo-labels from the weak view: the first arg max, kept where its probability reaches τ.
        double[] weak = inputs["unlabeled_weak_logits"].ToArray<double>(), strong = inputs["unlabeled_strong_logits"].ToArray<double>();
        double[] pw = SemiSupervised.Softmax(weak, c), ps = SemiSupervised.Softmax(strong, c);
        var unlabeled = new double[u];
        var gs = computeGradients ? new double[u * c] : [];
        for (int r = 0; r < u; r++)
        {
            int arg = r * c;
            for (int j = r * c + 1; j < (r + 1) * c; j++) if (pw[j] > pw[arg]) arg = j;
            if (!(pw[arg] >= confidenceThreshold)) continue;
            int pseudo = arg - r * c;
            unlabeled[r] = lambdaU * SemiSupervised.RowCrossEntropy(strong, r, c, pseudo);
            if (!computeGradients) continue;
            for (int j = r * c; j < (r + 1) * c; j++) gs[j] = unlabeledScale * ps[j];
            gs[r * c + pseudo] -= unlabeledScale;
        }

        return SemiSupervised.Result<T>(reduction, inputs, ce, unlabeled, soft, gx, gy, "unlabeled_strong_logits", gs, computeGradients);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "FixMatchLoss",
        Aliases = ["fixmatch_loss", "optax.fixmatch_loss", "fixmatch"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            SemiSupervised.LabeledLogits,
            SemiSupervised.LabeledLabels,
            new("unlabeled_weak_logits", InputKind.Floating, false, "logits of the weakly augmented unlabeled batch (U, C): pseudo-labels"),
            new("unlabeled_strong_logits", InputKind.Floating, true, "logits of the strongly augmented unlabeled batch (U, C)"),
        ],
        Options =
        [
            SemiSupervised.ReductionOption,
            OptionSpec.Float("confidence_threshold", 0.95, "τ: a pseudo-label counts where the weak view's max probability is ≥ τ"),
            OptionSpec.Float("lambda_u", 1, "weight of the unlabeled term"),
        ],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 4, 3);
            var unlabeled = new Shape(x[0] + 1, x[1]);
            return new LossInputs().Add("labeled_logits", Samples.Normal(r, x, 2)).Add("labeled_labels", Samples.Classes(r, new Shape(x[0]), x[1]))
                .Add("unlabeled_weak_logits", Samples.Normal(r, unlabeled, 4)).Add("unlabeled_strong_logits", Samples.Normal(r, unlabeled, 2));
        },
        Formula = "ℓ = mean_b CE(x_b, y_b) + λ·Σ_u [max σ(w_u) ≥ τ]·CE(s_u, argmax w_u) / U",
        Gradient = "∂ℓ/∂x_b = (p_b − y_b)/B;  ∂ℓ/∂s_u = λ·m_u·(softmax(s_u) − onehot)/U;  none for the weak view",
        Reference = "optax.losses.fixmatch_loss (Sohn et al., FixMatch, 2020)",
        Stability = "finite for every finite input (log-softmax in double)",
        Libraries = "Optax",
        LowerBound = 0,
        Factory = o => new FixMatchLoss(o.Float("confidence_threshold"), o.Float("lambda_u"), o.Choice("reduction")),
    };

    public override LossDescriptor Descriptor => Entry;
}
