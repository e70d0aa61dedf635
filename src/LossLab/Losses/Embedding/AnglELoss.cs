using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// sentence-transformers' <c>AnglELoss(scale=20.0)</c> (Li and Li 2024, "AoE: Angle-optimized Embeddings"):
/// <see cref="CoSENTLoss"/> with the angle similarity in place of the cosine. Each embedding is read as a complex
/// vector, its first half the real parts and its second half the imaginary parts (an odd D padded with one zero, as
/// sentence-transformers does): for x = a + ib, y = c + ie, sim = |Σ_k (a_k c_k + b_k e_k + b_k c_k − a_k e_k)| / (‖x‖·‖y‖),
/// the sum of the real and imaginary parts of x/y scaled by ‖y‖/‖x‖. Where the cosine saturates near ±1 and its
/// gradient vanishes, the angle difference keeps one. One value per batch.
/// </summary>
/// <remarks>
/// <para><b>Gradient:</b> with num the sum above and ρ = ‖x‖·‖y‖, ∂sim/∂a_k = sign(num)·(c_k − e_k)/ρ − sim·a_k/‖x‖²,
/// ∂sim/∂b_k = sign(num)·(c_k + e_k)/ρ − sim·b_k/‖x‖², ∂sim/∂c_k = sign(num)·(a_k + b_k)/ρ − sim·c_k/‖y‖²,
/// ∂sim/∂e_k = sign(num)·(b_k − a_k)/ρ − sim·e_k/‖y‖² (sign(0) = 0, as PyTorch's abs). A zero embedding has no angle:
/// PyTorch divides 0 by 0 (NaN); here it is an error naming the pair.</para>
/// </remarks>
public sealed class AnglELoss : SentenceEmbeddingLoss, ILossDefinition
{
    private readonly double _scale;

    public AnglELoss(double scale = 20.0) => _scale = PairRanking.CheckScale(scale, "AnglELoss");

    protected override string[] EmbeddingInputs => ["embeddings1", "embeddings2"];

    protected override LossResult ComputeEmbeddings<T>(LossInputs inputs, bool computeGradients)
        => PairRanking.Compute<T>(inputs, computeGradients, _scale, "AnglELoss", AngleSimilarity);

    /// <summary>sentence-transformers' pairwise_angle_sim of one pair, and its gradient when asked.</summary>
    internal static double AngleSimilarity(ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> gx, Span<double> gy, string loss, int row)
    {
        int d = x.Length, h = (d + 1) / 2;   // halves of the zero-padded vector: [0, h) real, [h, 2h) imaginary
        double nx2 = System.Numerics.Tensors.TensorPrimitives.Dot(x, x), ny2 = System.Numerics.Tensors.TensorPrimitives.Dot(y, y);
        if (nx2 == 0 || ny2 == 0)
            throw LossArgumentException.Value($"{loss}: {(nx2 == 0 ? "embeddings1" : "embeddings2")}[{row}] is a zero vector, which has no angle (the angle similarity divides by its norm)");
        double num = 0;
        for (int k = 0; k < h; k++)
        {
            double a = x[k], b = h + k < d ? x[h + k] : 0, c = y[k], e = h + k < d ? y[h + k] : 0;
            num += a * c + b * e + b * c - a * e;
        }
        double rho = Math.Sqrt(nx2) * Math.Sqrt(ny2), sim = Math.Abs(num) / rho;
        if (gx.IsEmpty) return sim;
        double sg = (double.IsNaN(num) ? double.NaN : Math.Sign(num)) / rho;   // NaN propagates (Math.Sign throws on it)
        for (int k = 0; k < h; k++)
        {
            double a = x[k], b = h + k < d ? x[h + k] : 0, c = y[k], e = h + k < d ? y[h + k] : 0;
            gx[k] = sg * (c - e) - sim * a / nx2;
            gy[k] = sg * (a + b) - sim * c / ny2;
            if (h + k >= d) continue;   // the padding
            gx[h + k] = sg * (c + e) - sim * b / nx2;
            gy[h + k] = sg * (b - a) - sim * e / ny2;
        }
        return sim;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "AnglELoss",
        Aliases = ["angle_loss", "st.AnglELoss", "aoe_loss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = PairRanking.Inputs,
        Options = [OptionSpec.Float("scale", 20.0, "the similarities are multiplied by it (inverse temperature)"), .. MatryoshkaOptions],
        Sample = PairRanking.Sample,
        Formula = "ℓ = log(1 + Σ_{y_i < y_j} e^{s_i − s_j}),  s_k = scale·|Σ Re + Im of (u_k / v_k)|·‖v_k‖/‖u_k‖",
        Gradient = "as CoSENT, through the angle similarity: sign(num)·∂num/(‖x‖‖y‖) − sim·x/‖x‖²",
        Reference = "sentence-transformers AnglELoss (pairwise_angle_sim); Li and Li 2024 (AoE)",
        Stability = "a log-sum-exp with the 0 term by its maximum, in double; a zero embedding is an error",
        Libraries = "sentence-transformers (AnglELoss); the AnglE library (angle_emb); one value per batch",
        Factory = o => new AnglELoss(o.Float("scale")) { Matryoshka = MatryoshkaDims.From(o, "AnglELoss") },
    };

    public override LossDescriptor Descriptor => Entry;
}
