using LossLab.Losses.Core;

namespace LossLab.Losses.Probabilistic;

/// <summary>
/// A linear layer and cosine distillation fused, Liger-Kernel's <c>LigerFusedLinearCosineSimilarityLoss(
/// weight_hard_loss=0.5, weight_soft_loss=0.5, beta=0.5, ignore_index=-100, temperature=1.0)</c>: the student's and the
/// teacher's logits from their hidden states and vocabulary matrices, then w_hard·CE(z_s, y) + w_soft·β·(1 − cos(z_s, z_t))
/// per row, divided by the counted rows (labels other than ignore_index, at least 1).
/// </summary>
/// <remarks>
/// <para><b>As Liger:</b> the soft term is summed over every row, ignored ones included (Liger's cosine loss does not
/// mask, unlike its JSD since PR #974), while the denominator counts only the labelled rows. The temperature divides both
/// logits, which leaves the cosine unchanged: it is accepted and has no effect. Liger normalizes each row first
/// (F.normalize, ε = 1e-12) and then takes F.cosine_similarity; for rows of norm above 1e-12 that is the cosine.</para>
/// <para><b>Gradient:</b> ∂/∂z_s of β(1 − cos) = −β·(t̂ − cos·ŝ)/‖z_s‖ with ŝ, t̂ the unit rows. A row of all-zero student
/// or teacher logits has cosine 0 and, not being differentiable there, a zero slope (PyTorch's ε-clamped normalization
/// gives slopes of order 1e12 there).</para>
/// </remarks>
public sealed class LinearCosineSimilarityLoss : Loss, ILossDefinition
{
    private const string Name = "LinearCosineSimilarityLoss";
    private readonly LinearDistillation.Settings _settings;

    public LinearCosineSimilarityLoss(double weightHardLoss = 0.5, double weightSoftLoss = 0.5, double beta = 0.5, long ignoreIndex = -100, double temperature = 1.0, Reduction reduction = Reduction.Mean)
    {
        if (!(beta >= 0 && double.IsFinite(beta))) throw LossArgumentException.Value($"{Name}: beta must be a finite number ≥ 0, got {beta}");
        Beta = beta;
        // The temperature is checked and then set aside: cos(z_s/T, z_t/T) = cos(z_s, z_t), and dividing by a tiny T
        // would only overflow the norms (a NaN cosine) where the cosine itself is well defined.
        _settings = new LinearDistillation.Settings(weightHardLoss, weightSoftLoss, ignoreIndex, temperature, reduction).Checked(Name) with { Temperature = 1 };
    }

    public double Beta { get; }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
        => LinearDistillation.Result<T>(LinearDistillation.Compute(inputs, Name, _settings, Soft, computeGradients), inputs, _settings.Reduction);

    /// <summary>β(1 − cos(s, t)) and its slope in s; cos = 0 with a zero slope where either row is all zeros.</summary>
    private double Soft(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, bool counted, Span<double> dStudent)
    {
        double ss = 0, tt = 0, st = 0;
        for (int k = 0; k < student.Length; k++)
        {
            ss += student[k] * student[k];
            tt += teacher[k] * teacher[k];
            st += student[k] * teacher[k];
        }
        double ns = Math.Sqrt(ss), nt = Math.Sqrt(tt);
        if (ns == 0 || nt == 0)
        {
            dStudent.Clear();
            return Beta;
        }
        double cos = st / (ns * nt);
        for (int k = 0; k < dStudent.Length; k++) dStudent[k] = -Beta * (teacher[k] / nt - cos * student[k] / ns) / ns;
        return Beta * (1 - cos);
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["linear_cosine_similarity_loss", "fused_linear_cosine_loss", "LigerFusedLinearCosineSimilarityLoss", "liger.LigerFusedLinearCosineSimilarityLoss"],
        Family = LossFamily.Probabilistic,
        Task = LossTask.Distribution,
        Inputs = LinearDistillation.Inputs,
        Options = LinearDistillation.Options(0.5, "β ≥ 0: the soft term's scale, β·(1 − cos) (Liger documents [0, 1])",
            "T ≠ 0: divides both logits, which leaves the cosine unchanged (accepted for Liger's signature)"),
        Sample = LinearDistillation.Sample,
        Formula = "ℓ = [w_hard·CE(z_s, y)·[y ≠ ignore] + w_soft·β·(1 − cos(z_s, z_t))] / counted,  z = H·Wᵀ + b",
        Gradient = "∂z_s = w_hard·(softmax(z_s) − onehot(y)) − w_soft·β·(t̂ − cos·ŝ)/‖z_s‖;  ∂H_s = ∂z_s·W_s, ∂W_s = ∂z_sᵀ·H_s, ∂b_s = Σ ∂z_s; teacher none",
        Reference = "Liger-Kernel LigerFusedLinearCosineSimilarityLoss (liger_kernel.chunked_loss.cosine_similarity_loss)",
        Stability = "cross-entropy's max-shifted log-sum-exp and the cosine in double, in chunks of rows; a zero row has cosine 0 and no slope",
        Libraries = "Liger-Kernel (LigerFusedLinearCosineSimilarityLoss)",
        Factory = o => new LinearCosineSimilarityLoss(o.Float("weight_hard_loss"), o.Float("weight_soft_loss"), o.Float("beta"), o.Int("ignore_index"), o.Float("temperature"), Reducer.Parse(o.Choice("reduction"))),
    };

    public override LossDescriptor Descriptor => Entry;
}
