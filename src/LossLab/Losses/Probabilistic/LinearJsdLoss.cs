using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Probabilistic;

/// <summary>
/// A linear layer and generalized-JSD distillation fused, Liger-Kernel's <c>LigerFusedLinearJSDLoss(weight_hard_loss=0.5,
/// weight_soft_loss=0.5, beta=0.5, ignore_index=-100, temperature=1.0)</c> called as <c>loss(student_input,
/// student_weight, teacher_input, teacher_weight, true_labels, student_bias, teacher_bias)</c>: the student's and the
/// teacher's logits from their hidden states and vocabulary matrices, then w_hard·CE(z_s, y) + w_soft·JSD_β between
/// log_softmax(z_s/T) and log_softmax(z_t/T), per counted row, divided by the counted rows.
/// </summary>
/// <remarks>
/// <para><b>Soft loss:</b> <see cref="GeneralizedJsdLoss"/>'s row with X = log_softmax(z_s/T) (the student, weight
/// 1 − β in the mixture) and Y = log_softmax(z_t/T) (the teacher, weight β); β = 0 the forward KL(teacher‖student),
/// β = 1 the reverse. Rows whose label is ignore_index have neither loss (Liger's masking since its PR #974); the
/// denominator is max(1, counted rows). No T² factor (Liger has none).</para>
/// <para><b>Gradient</b> of the soft row through the log-softmax: ∂/∂z_s,j = (1/T)·(d_j − q_j·Σ_k d_k), d = ∂JSD/∂X,
/// q = softmax(z_s/T); the hard loss adds softmax(z_s) − onehot(y). Liger's older <c>LigerFusedLinearJSD</c> module
/// (labels optional, no hard loss) is this loss with weight_hard_loss 0 and weight_soft_loss 1.</para>
/// </remarks>
public sealed class LinearJsdLoss : Loss, ILossDefinition
{
    private const string Name = "LinearJsdLoss";
    private readonly LinearDistillation.Settings _settings;

    public LinearJsdLoss(double weightHardLoss = 0.5, double weightSoftLoss = 0.5, double beta = 0.5, long ignoreIndex = -100, double temperature = 1.0, Reduction reduction = Reduction.Mean)
    {
        if (!(beta >= 0 && beta <= 1)) throw LossArgumentException.Value($"{Name}: beta must be in [0, 1], got {beta}");
        Beta = beta;
        _settings = new LinearDistillation.Settings(weightHardLoss, weightSoftLoss, ignoreIndex, temperature, reduction).Checked(Name);
    }

    public double Beta { get; }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        int vt = inputs["teacher_weight"].Shape.Rank == 2 ? inputs["teacher_weight"].Shape[0] : 0;
        double[] x = new double[vt], y = new double[vt], d = new double[vt];
        double Soft(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, bool counted, Span<double> dStudent)
        {
            if (!counted)
            {
                dStudent.Clear();
                return 0;
            }
            Stable.LogSoftmax(student, x);
            Stable.LogSoftmax(teacher, y);
            double value = GeneralizedJsdLoss.Row(x, y, Beta, dStudent.IsEmpty ? default : d);
            if (dStudent.IsEmpty) return value;
            double total = 0;
            foreach (double dk in d) total += dk;
            for (int k = 0; k < d.Length; k++) dStudent[k] = d[k] - Math.Exp(x[k]) * total;
            return value;
        }
        return LinearDistillation.Result<T>(LinearDistillation.Compute(inputs, Name, _settings, Soft, computeGradients), inputs, _settings.Reduction);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["linear_jsd_loss", "fused_linear_jsd_loss", "LigerFusedLinearJSDLoss", "liger.LigerFusedLinearJSDLoss"],
        Family = LossFamily.Probabilistic,
        Task = LossTask.Distribution,
        Inputs = LinearDistillation.Inputs,
        Options = LinearDistillation.Options(0.5, "β in [0, 1]: the teacher's weight in the JSD mixture; 0 forward KL(teacher‖student), 1 reverse",
            "T ≠ 0: both logits are divided by T before the JSD (the hard loss uses the student's unscaled logits)"),
        Sample = LinearDistillation.Sample,
        Formula = "ℓ = [w_hard·CE(z_s, y) + w_soft·JSD_β(log_softmax(z_s/T), log_softmax(z_t/T))]·[y ≠ ignore] / counted,  z = H·Wᵀ + b",
        Gradient = "∂z_s = w_hard·(softmax(z_s) − onehot(y)) + (w_soft/T)·(d − q·Σd), d = ∂JSD/∂X;  ∂H_s = ∂z_s·W_s, ∂W_s = ∂z_sᵀ·H_s, ∂b_s = Σ ∂z_s; teacher none",
        Reference = "Liger-Kernel LigerFusedLinearJSDLoss (liger_kernel.chunked_loss.jsd_loss); Agarwal et al., On-Policy Distillation of Language Models (GKD), ICLR 2024",
        Stability = "max-shifted log-softmaxes and a log-add-exp mixture in double, in chunks of rows: finite for any finite input, no N×V logits held",
        Libraries = "Liger-Kernel (LigerFusedLinearJSDLoss, LigerFusedLinearJSD), TRL (GKD trainer with use_liger_kernel)",
        Factory = o => new LinearJsdLoss(o.Float("weight_hard_loss"), o.Float("weight_soft_loss"), o.Float("beta"), o.Int("ignore_index"), o.Float("temperature"), Reducer.Parse(o.Choice("reduction"))),
    };

    public override LossDescriptor Descriptor => Entry;
}
