using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras 3's <c>keras.distillation.LogitsDistillation(temperature=3.0, loss="kl_divergence")</c>, its
/// <c>compute_loss(teacher_outputs, student_outputs)</c>: both logits divided by T, then for a KL loss
/// T²·mean(kl_divergence(softmax(t/T), softmax(s/T))) and for any other Keras loss mean(loss(t/T, s/T)) on the scaled
/// logits themselves, the teacher always as y_true.
/// </summary>
/// <remarks>
/// <para><b>As Keras:</b> the KL path is taken when the loss function's name contains "kl" (kl_divergence, kld); its
/// probabilities are clipped to [1e-7, 1] as keras.losses.kl_divergence does. Every other loss sees the scaled logits
/// as they are: categorical_crossentropy, whose default is from_logits=False, then treats logits as probabilities
/// (normalized by their sum and clipped), which is Keras's behaviour, not a mistake here. One output: Keras's nested
/// structures of outputs and losses are left out.</para>
/// <para><b>Gradient:</b> g = ∂loss/∂(y_pred) from the Keras loss; on the KL path ∂ℓ/∂s = T·p ⊙ (g − Σ p·g) per row
/// (T² times the softmax's Jacobian times 1/T), on the other ∂ℓ/∂s = g/T; the teacher's likewise from ∂loss/∂(y_true)
/// where the loss has one (Keras's teacher is frozen; the slope is there for who wants it).</para>
/// </remarks>
public sealed class KerasLogitsDistillation : Loss, ILossDefinition
{
    private const string Name = "KerasLogitsDistillation";
    private readonly ILoss _loss;
    private readonly bool _kl;

    public KerasLogitsDistillation(double temperature = 3.0, string loss = "kl_divergence")
    {
        if (!(temperature > 0 && double.IsFinite(temperature))) throw LossArgumentException.Value($"{Name}: temperature must be a finite number > 0, got {temperature}");
        Temperature = temperature;
        (_loss, _kl) = KerasDistillation.Resolve(loss, Name);
    }

    public double Temperature { get; }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        RequireSameShape(inputs, "teacher_logits", "student_logits");
        Shape shape = inputs["teacher_logits"].Shape;
        if (shape.Rank == 0) throw LossArgumentException.Shape($"{Name}: 'teacher_logits' must have a class axis (…, C), got a scalar");
        // Scaled copies (ToArray may hand back the tensor's own storage).
        double inv = 1 / Temperature;
        double[] t = Array.ConvertAll(inputs["teacher_logits"].ToArray<double>(), v => v * inv);
        double[] s = Array.ConvertAll(inputs["student_logits"].ToArray<double>(), v => v * inv);
        int c = shape[-1];
        if (_kl)
        {
            for (int r = 0; c > 0 && r < t.Length / c; r++)
            {
                Stable.Softmax<double>(t.AsSpan(r * c, c), t.AsSpan(r * c, c));
                Stable.Softmax<double>(s.AsSpan(r * c, c), s.AsSpan(r * c, c));
            }
        }
        var (value, gt, gs) = KerasDistillation.Apply(_loss, t, s, shape, Name, "teacher's softened logits", "student's", inputs.AllowNonFinite, computeGradients);
        double factor = _kl ? Temperature * Temperature : 1;
        TensorData v = FromDoubles<T>([factor * value], Shape.Scalar);
        if (!computeGradients) return Result(v);
        return Result(v, ("teacher_logits", gt is null ? null : FromDoubles<T>(Chain(gt, t, c), shape)), ("student_logits", FromDoubles<T>(Chain(gs!, s, c), shape)));
    }

    /// <summary>∂ℓ/∂logits from g = ∂loss/∂(its input): through the softmax (p its output) and T² on the KL path, else g/T.</summary>
    private double[] Chain(double[] g, double[] p, int c)
    {
        if (!_kl) return Array.ConvertAll(g, v => v / Temperature);
        var d = new double[g.Length];
        for (int r = 0; c > 0 && r < g.Length / c; r++)
        {
            double dot = 0;
            for (int k = r * c; k < (r + 1) * c; k++) dot += p[k] * g[k];
            for (int k = r * c; k < (r + 1) * c; k++) d[k] = Temperature * p[k] * (g[k] - dot);
        }
        return d;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["keras.distillation.LogitsDistillation", "keras.LogitsDistillation", "logits_distillation"],
        Family = LossFamily.Probabilistic,
        Task = LossTask.Distribution,
        Inputs =
        [
            new("teacher_logits", InputKind.Floating, true, "the teacher's logits (…, C): y_true"),
            new("student_logits", InputKind.Floating, true, "the student's logits, same shape: y_pred"),
        ],
        Options =
        [
            OptionSpec.Float("temperature", 3.0, "T > 0: both logits are divided by T (Keras's default 3)"),
            OptionSpec.Choice("loss", "kl_divergence", "the Keras loss: kl_divergence (softmaxes, times T²) or another of two same-shape tensors on the scaled logits", [.. KerasDistillation.ChoiceNames]),
        ],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 3, 4);
            return new LossInputs().Add("teacher_logits", Samples.Normal(r, x, 2)).Add("student_logits", Samples.Normal(r, x, 2));
        },
        Formula = "ℓ = T²·mean_rows KL(softmax(t/T) ‖ softmax(s/T)) (KL clipped to [1e-7, 1]);  other losses: mean loss(t/T, s/T)",
        Gradient = "∂ℓ/∂s = T·p ⊙ (g − Σ p·g), g = ∂KL/∂p, p = softmax(s/T);  other losses: g/T",
        Reference = "keras.distillation.LogitsDistillation (keras/src/distillation/distillation_loss.py); Hinton, Vinyals & Dean, Distilling the Knowledge in a Neural Network, 2015",
        Stability = "max-shifted softmaxes in double and Keras's clipped KL: finite for every finite input",
        Libraries = "Keras 3 (keras.distillation.LogitsDistillation with keras.distillation.Distiller)",
        LowerBound = double.NegativeInfinity,   // 0 for KL; cosine_similarity and logits read as probabilities go below
        Factory = o => new KerasLogitsDistillation(o.Float("temperature"), o.Choice("loss")),
    };

    public override LossDescriptor Descriptor => Entry;
}
