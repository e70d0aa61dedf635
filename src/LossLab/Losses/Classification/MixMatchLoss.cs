using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// MixMatch (Berthelot et al., 2019; Optax <c>mixmatch_loss(labeled_logits, labeled_labels, unlabeled_logits,
/// unlabeled_targets, lambda_u=100)</c>), after MixMatch's own guessing, sharpening and mixup: the labeled batch's mean
/// cross-entropy plus λ times the mean squared distance (Brier score) between the unlabeled softmax and its soft targets.
/// </summary>
/// <remarks>
/// ℓ = mean_b CE(x_b, y_b) + λ·mean_u Σ_c (softmax(z_u)_c − q_uc)². The targets are constants (Optax stops their
/// gradient). ∂/∂z_uj = (λ/U)·p_j·(g_j − Σ_c p_c g_c) with g = 2(p − q), the Brier gradient through the softmax.
/// Labels are class indices (B) or probabilities (B, C). Reduction: <see cref="SemiSupervised"/>. With <c>mean</c>, an
/// empty labeled or unlabeled batch makes a mean 0/0 and is an error.
/// </remarks>
public sealed class MixMatchLoss(double lambdaU = 100, string reduction = "mean") : Loss, ILossDefinition
{
    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        string name = Entry.Name;
        var (b, c, soft) = SemiSupervised.Labeled(name, inputs);
        int u = SemiSupervised.Unlabeled(name, inputs, "unlabeled_logits", c);
        if (inputs["unlabeled_targets"].Shape != inputs["unlabeled_logits"].Shape)
            throw LossArgumentException.Shape($"{name}: 'unlabeled_targets' has shape {inputs["unlabeled_targets"].Shape} but 'unlabeled_logits' has shape {inputs["unlabeled_logits"].Shape}; they must be equal");
        bool mean = reduction == "mean";
        if (mean && (b == 0 || u == 0)) throw LossArgumentException.Shape($"{name}: the {(b == 0 ? "labeled" : "unlabeled")} batch is empty, so its mean is 0/0");
        var (labeledScale, unlabeledScale) = SemiSupervised.Scales(reduction, b, u, lambdaU);
        var gx = computeGradients ? new double[b * c] : [];
        var gy = computeGradients && soft ? new double[b * c] : [];
        double[] ce = SemiSupervised.LabeledCrossEntropy(name, inputs, b, c, soft, labeledScale, gx, gy);

        double[] z = inputs["unlabeled_logits"].ToArray<double>(), q = inputs["unlabeled_targets"].ToArray<double>();
        double[] p = SemiSupervised.Softmax(z, c);
        var unlabeled = new double[u];
        var gz = computeGradients ? new double[u * c] : [];
        for (int r = 0; r < u; r++)
        {
            double brier = 0, dot = 0;
            for (int j = r * c; j < (r + 1) * c; j++)
            {
                double d = p[j] - q[j];
                brier += d * d;
                dot += p[j] * 2 * d;
            }
            unlabeled[r] = lambdaU * brier;
            if (!computeGradients) continue;
            for (int j = r * c; j < (r + 1) * c; j++) gz[j] = unlabeledScale * p[j] * (2 * (p[j] - q[j]) - dot);
        }

        return SemiSupervised.Result<T>(reduction, inputs, ce, unlabeled, soft, gx, gy, "unlabeled_logits", gz, computeGradients);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "MixMatchLoss",
        Aliases = ["mixmatch_loss", "optax.mixmatch_loss", "mixmatch"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            SemiSupervised.LabeledLogits,
            SemiSupervised.LabeledLabels,
            new("unlabeled_logits", InputKind.Floating, true, "logits of the mixed unlabeled batch (U, C)"),
            new("unlabeled_targets", InputKind.Floating, false, "sharpened soft targets q (U, C)"),
        ],
        Options =
        [
            SemiSupervised.ReductionOption,
            OptionSpec.Float("lambda_u", 100, "weight of the unlabeled term"),
        ],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 4, 3);
            var unlabeled = new Shape(x[0] + 1, x[1]);
            return new LossInputs().Add("labeled_logits", Samples.Normal(r, x, 2)).Add("labeled_labels", Samples.Simplex(r, x))
                .Add("unlabeled_logits", Samples.Normal(r, unlabeled, 2)).Add("unlabeled_targets", Samples.Simplex(r, unlabeled));
        },
        Formula = "ℓ = mean_b CE(x_b, y_b) + λ·mean_u Σ_c (softmax(z_u)_c − q_uc)²",
        Gradient = "∂ℓ/∂z_uj = (λ/U)·p_j·(g_j − Σ p·g),  g = 2(p − q)",
        Reference = "optax.losses.mixmatch_loss (Berthelot et al., MixMatch, 2019)",
        Stability = "finite for every finite input (softmax in double)",
        Libraries = "Optax",
        Factory = o => new MixMatchLoss(o.Float("lambda_u"), o.Choice("reduction")),
    };

    public override LossDescriptor Descriptor => Entry;
}
