using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Segmentation;

/// <summary>
/// The Matthews correlation coefficient loss (Abhishek &amp; Hamarneh, ISBI 2021), as segmentation_models_pytorch's
/// <c>MCCLoss(eps=1e-5)</c>: ℓ = 1 − MCC of the soft confusion counts over the whole batch. Unlike Dice it counts the
/// true negatives, so a mask that is mostly background cannot score well by predicting background everywhere.
/// </summary>
/// <remarks>
/// <para><b>Definition</b> (p the predicted probabilities, y the masks, every element of the batch):
/// TP = Σpy + ε, TN = Σ(1 − p)(1 − y) + ε, FP = Σp(1 − y) + ε, FN = Σ(1 − p)y + ε;
/// MCC = (TP·TN − FP·FN)/√(A·B·C·D) with A = TP + FP, B = TP + FN, C = TN + FP, D = TN + FN. One value per batch:
/// there is no reduction option (smp's loss has none).</para>
/// <para><b>Derivation:</b> per element ∂A/∂p = 1, ∂D/∂p = −1, ∂B/∂p = ∂C/∂p = 0, and ∂(TP·TN − FP·FN)/∂p = y·C − (1 − y)·B,
/// so ∂ℓ/∂p = −[(y·C − (1 − y)·B)/√(ABCD) − MCC·(1/A − 1/D)/2]. The masks are a target: not differentiated.</para>
/// <para>smp takes y_pred as probabilities as given (apply a sigmoid first) and views both inputs as (N, 1, −1):
/// they need the same batch size and the same number of elements. Values outside [0, 1], which would make a count
/// negative and the square root NaN, are an error naming the first; so is ε = 0 with a batch of one class (0/0).</para>
/// </remarks>
public sealed class MccLoss : Loss, ILossDefinition
{
    public double Eps { get; }

    public MccLoss(double eps = 1e-5)
    {
        Eps = eps >= 0 && double.IsFinite(eps) ? eps : throw LossArgumentException.Value($"MccLoss: eps must be a finite number ≥ 0, got {eps}");
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        const string name = "MccLoss";
        Shape ps = inputs["y_pred"].Shape, ys = inputs["y_true"].Shape;
        if (ps.Rank == 0 || ys.Rank == 0 || ps[0] != ys[0] || ps.Numel != ys.Numel)
        {
            throw LossArgumentException.Shape($"{name}: 'y_pred' {ps} and 'y_true' {ys} must have the same batch size and number of elements (smp views both as (N, 1, −1))");
        }
        double[] p = inputs["y_pred"].ToArray<double>(), y = inputs["y_true"].ToArray<double>();
        foreach (var (values, input) in new[] { (p, "y_pred"), (y, "y_true") })
        {
            for (int i = 0; i < values.Length; i++)
                if (!(values[i] is >= 0 and <= 1)) throw LossArgumentException.Value($"{name}: '{input}' holds probabilities in [0, 1]; {input}[{i}] = {values[i]}");
        }
        double tp = Eps, tn = Eps, fp = Eps, fn = Eps;
        for (int i = 0; i < p.Length; i++)
        {
            tp += p[i] * y[i];
            tn += (1 - p[i]) * (1 - y[i]);
            fp += p[i] * (1 - y[i]);
            fn += (1 - p[i]) * y[i];
        }
        double a = tp + fp, b = tp + fn, c = tn + fp, d = tn + fn;
        double den = Math.Sqrt(a * b * c * d);
        if (!(den > 0)) throw LossArgumentException.Value($"{name}: every element is of one class and eps is 0, so MCC is 0/0; use eps > 0 (smp's default 1e-5)");
        double mcc = (tp * tn - fp * fn) / den;
        TensorData value = FromDoubles<T>([1 - mcc], Shape.Scalar);
        if (!computeGradients) return Result(value);
        var gp = new double[p.Length];
        double h = mcc * (1 / a - 1 / d) / 2;
        for (int i = 0; i < p.Length; i++) gp[i] = -((y[i] * c - (1 - y[i]) * b) / den - h);
        return Result(value, ("y_pred", FromDoubles<T>(gp, ps)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "MccLoss",
        Aliases = ["mcc_loss", "smp.MCCLoss", "matthews_correlation_loss"],
        Family = LossFamily.Segmentation,
        Task = LossTask.Segmentation,
        Inputs =
        [
            new("y_pred", InputKind.Floating, true, "predicted probabilities (N, …), in [0, 1] (after a sigmoid)"),
            new("y_true", InputKind.Floating, false, "masks in [0, 1], same batch size and number of elements"),
        ],
        Options = [OptionSpec.Float("eps", 1e-5, "ε added to each of the four soft counts")],
        Sample = (r, s) =>
        {
            Shape x = s.Rank >= 1 ? s : new Shape(2, 1, 3, 3);
            return new LossInputs().Add("y_pred", Samples.Uniform(r, x, 0.05, 0.95)).Add("y_true", Samples.Bernoulli(r, x));
        },
        Formula = "ℓ = 1 − (TP·TN − FP·FN)/√((TP + FP)(TP + FN)(TN + FP)(TN + FN)),  soft counts over the batch + ε",
        Gradient = "∂ℓ/∂p = −[(y·C − (1 − y)·B)/√(ABCD) − MCC·(1/A − 1/D)/2], A = TP + FP, B = TP + FN, C = TN + FP, D = TN + FN",
        Reference = "Abhishek & Hamarneh, Matthews Correlation Coefficient Loss for Deep Convolutional Networks, ISBI 2021; segmentation_models_pytorch.losses.MCCLoss",
        Stability = "finite for inputs in [0, 1] with eps > 0 (each count ≥ eps)",
        Libraries = "segmentation_models_pytorch (MCCLoss)",
        Factory = o => new MccLoss(o.Float("eps")),
    };

    public override LossDescriptor Descriptor => Entry;
}
