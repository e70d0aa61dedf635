using System.Numerics.Tensors;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Numerics.Simd;

namespace LossLab.Losses.Embedding;

/// <summary>
/// open_clip's <c>SigLipLoss</c> (Zhai et al. 2023, SigLIP), on one device: every image–text pair of a batch of N is
/// its own binary classification, matched on the diagonal and unmatched off it. With logits L = s·I·Tᵀ + b (N, N),
/// s the learned <c>logit_scale</c> and b the learned <c>logit_bias</c> (both as open_clip passes them; the paper starts
/// from s = 10, b = −10), and z_ij = +1 for i = j, −1 otherwise, image i's loss is ℓ_i = Σ_j −log σ(z_ij·L_ij) =
/// Σ_j softplus(−z_ij·L_ij); open_clip returns Σ_ij / N, the mean over i.
/// </summary>
/// <remarks>
/// <para><b>Gradient:</b> ∂/∂L_ij softplus(−z·L) = −z_ij·σ(−z_ij·L_ij); then ∂I_i = s·Σ_j G_ij·T_j,
/// ∂T_j = s·Σ_i G_ij·I_i, ∂s = Σ_ij G_ij·(I_i·T_j) and ∂b = Σ_ij G_ij. No softmax ties the pairs together, so the
/// loss of a batch is the sum of its pairs' (the paper's point: it needs no all-gather of the whole similarity
/// matrix).</para>
/// <para>Without logit_bias there is no bias (open_clip's logit_bias=None). reduction none (ℓ_i per image) and sum are
/// LossLab's; open_clip's is the mean. Its multi-device exchange of text features adds the other devices' negatives
/// (negative_only), which is the same loss over the gathered batch.</para>
/// </remarks>
public sealed partial class SigLipLoss : Loss, ILossDefinition
{
    private const string Name = "SigLipLoss";
    private readonly Reduction _reduction;

    public SigLipLoss(Reduction reduction = Reduction.Mean)
    {
        if (reduction == Reduction.BatchMean) throw LossArgumentException.Value($"{Name}: reduction must be none, mean or sum");
        _reduction = reduction;
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var pairs = ImageTextPairs.Read(inputs, Name);
        var (scale, scaleShape) = ImageTextPairs.Scalar(inputs, "logit_scale", Name);
        bool hasBias = inputs.Contains("logit_bias");
        var (bias, biasShape) = hasBias ? ImageTextPairs.Scalar(inputs, "logit_bias", Name) : (0.0, Shape.Scalar);
        int n = pairs.N, d = pairs.D;
        var losses = new double[n];
        // A chunk of image rows' similarities at a time; with gradients each row becomes ∂ℓ/∂L (times the reduction's
        // factor, known before the rows) and the chunk is folded back into the features; ∂s = Σ G_ij·S_ij and ∂b = Σ G_ij
        // are taken as each entry is replaced. m = z·L is the margin of each pair; Stable.Softplus(−m) stays finite for
        // any finite m.
        double r = Reducer.Scale(_reduction, n), gs = 0, gb = 0;
        int chunk = pairs.ChunkRows;
        var sims = new double[chunk * n];
        double[] gi = computeGradients ? new double[n * d] : [], gt = computeGradients ? new double[n * d] : [];
        double[] scratch = computeGradients ? new double[chunk * n] : [];
        for (int i0 = 0; i0 < n; i0 += chunk)
        {
            int count = Math.Min(chunk, n - i0);
            pairs.Block.Similarities(i0, count, sims);
            for (int i = i0; i < i0 + count; i++)
            {
                // The unmatched pairs before and after the diagonal on lanes, the matched one alone; each entry of the row
                // becomes its gradient when asked.
                Span<double> row = sims.AsSpan((i - i0) * n, n);
                Span<double> grad = computeGradients ? row : default;
                double sum = Row(row[..i], -1, scale, bias, r, grad.IsEmpty ? default : grad[..i], ref gs, ref gb);
                sum += Row(row.Slice(i, 1), 1, scale, bias, r, grad.IsEmpty ? default : grad.Slice(i, 1), ref gs, ref gb, SimdWidth.Scalar);
                sum += Row(row[(i + 1)..], -1, scale, bias, r, grad.IsEmpty ? default : grad[(i + 1)..], ref gs, ref gb);
                losses[i] = sum;
            }
            if (computeGradients) pairs.Block.Fold(sims, i0, count, gi, gt, scratch);
        }
        var (value, _) = ReduceRows<T>(losses, _reduction, new Shape(n));
        if (!computeGradients) return Result(value);
        TensorPrimitives.Multiply<double>(gi, scale, gi);   // L = s·S: ∂S = s·∂L
        TensorPrimitives.Multiply<double>(gt, scale, gt);
        return Result(value, ("image_features", FromDoubles<T>(gi, inputs["image_features"].Shape)),
            ("text_features", FromDoubles<T>(gt, inputs["text_features"].Shape)), ("logit_scale", FromDoubles<T>([gs], scaleShape)),
            ("logit_bias", hasBias ? FromDoubles<T>([gb], biasShape) : null));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["siglip_loss", "SigLIPLoss", "open_clip.SigLipLoss", "sigmoid_contrastive_loss", "siglip"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs =
        [
            .. ImageTextPairs.FeatureInputs,
            new("logit_scale", InputKind.Floating, true, "the learned scale s (a scalar: open_clip passes exp of its log-scale parameter; the paper starts at 10)"),
            new("logit_bias", InputKind.Floating, true, "the learned bias b (a scalar; the paper starts at −10)") { Optional = true },
        ],
        Options = [OptionSpec.Reduction("none", "mean", "sum")],
        Sample = (r, s) => ImageTextPairs.Sample(r, s).Add("logit_scale", Samples.Uniform(r, Shape.Scalar, 1, 10))
            .Add("logit_bias", Samples.Uniform(r, Shape.Scalar, -5, 0)),
        Formula = "ℓ_i = Σ_j softplus(−z_ij·L_ij),  L = s·I·Tᵀ + b,  z = +1 on the diagonal, −1 off it",
        Gradient = "∂ℓ/∂L_ij = −z_ij·σ(−z_ij·L_ij);  ∂s = Σ G_ij·I_i·T_j,  ∂b = Σ G_ij",
        Reference = "open_clip SigLipLoss; Zhai et al. 2023 (Sigmoid loss for language image pre-training)",
        Stability = "softplus as max(−m, 0) + log1p(e^{−|m|}) and σ without overflow, in double: finite for any finite input",
        LowerBound = 0,
        Libraries = "open_clip (SigLipLoss); big_vision (SigLIP)",
        Factory = o => new SigLipLoss(o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
