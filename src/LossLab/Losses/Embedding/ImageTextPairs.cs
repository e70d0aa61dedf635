using LossLab.Losses.Core;
using LossLab.Losses.MetricLearning;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// The inputs of the image–text contrastive losses (open_clip's ClipLoss and SigLipLoss): a batch of N matched pairs,
/// image features I (N, D) and text features T (N, D), row i of each describing the same example, and the learned
/// scalars (logit_scale, logit_bias). The logits are L = s·S (+ b) with S_ij = I_i·T_j, the image of row i against the
/// text of row j: the diagonal holds the matched pairs. The features are used as given (open_clip's models normalize
/// them before the loss).
/// </summary>
internal sealed class ImageTextPairs
{
    public int N { get; }
    public int D { get; }
    public double[] Images { get; }
    public double[] Texts { get; }

    /// <summary>
    /// S = I·Tᵀ a chunk of image rows at a time (S[i·N + j] = I_i·T_j, in double), and the way back of a chunk of
    /// G = ∂ℓ/∂S: ∂I[chunk] += G·T, ∂T += Gᵀ·I[chunk]. The losses never hold N × N.
    /// </summary>
    public PairBlock Block { get; }

    /// <summary>Image rows per chunk: about 2¹⁸ similarities.</summary>
    public int ChunkRows => Block.ChunkRows(N);

    private ImageTextPairs(int n, int d, double[] images, double[] texts)
    {
        (N, D, Images, Texts) = (n, d, images, texts);
        Block = new PairBlock(images, texts, n, d);
    }

    /// <summary>Reads image_features and text_features: both (N, D) with N ≥ 1, the same shape.</summary>
    public static ImageTextPairs Read(LossInputs inputs, string loss)
    {
        TensorData iT = inputs["image_features"], tT = inputs["text_features"];
        if (iT.Shape.Rank != 2 || iT.Shape[0] == 0)
            throw LossArgumentException.Shape($"{loss}: 'image_features' must be (N, D) with N ≥ 1, one row per image–text pair, got shape {iT.Shape}");
        if (tT.Shape != iT.Shape)
            throw LossArgumentException.Shape($"{loss}: 'text_features' has shape {tT.Shape}; expected {iT.Shape}, row i the text of image i");
        return new ImageTextPairs(iT.Shape[0], iT.Shape[1], iT.ToArray<double>(), tT.ToArray<double>());
    }

    /// <summary>A learned scalar input (logit_scale, logit_bias): a scalar or (1).</summary>
    public static (double Value, Shape Shape) Scalar(LossInputs inputs, string name, string loss)
    {
        TensorData t = inputs[name];
        if (t.Length != 1 || t.Shape.Rank > 1)
            throw LossArgumentException.Shape($"{loss}: '{name}' must be a scalar or (1), one learned value, got shape {t.Shape}");
        return (t.ToArray<double>()[0], t.Shape);
    }

    public static readonly InputSpec[] FeatureInputs =
    [
        new("image_features", InputKind.Floating, true, "image embeddings (N, D), one per pair (open_clip normalizes them in the model)"),
        new("text_features", InputKind.Floating, true, "text embeddings (N, D), row i the text that matches image i"),
    ];

    /// <summary>A sample batch: unit rows, as open_clip's models give the loss.</summary>
    public static LossInputs Sample(Random r, Shape s)
    {
        Shape shape = s.Rank == 2 ? s : new Shape(5, 4);
        TensorData Unit()
        {
            double[] x = Samples.Normal(r, shape).ToArray<double>();
            (x, _) = MetricLearning.Embeddings.Normalize(x, shape[0], shape[1]);
            return TensorData.FromArray(x, shape[0], shape[1]);
        }
        return new LossInputs().Add("image_features", Unit()).Add("text_features", Unit());
    }
}
