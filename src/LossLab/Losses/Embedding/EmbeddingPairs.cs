using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// The inputs sentence-transformers' pair losses share: two embeddings per pair, (embeddings1, embeddings2) of shape
/// (N, D), a label per pair whose meaning is each loss's, and hard negatives (N, K, D) or (N, D). One reading and one set
/// of shape errors for CoSENT, AnglE, the cosine regression, the pair contrastive losses, SoftmaxLoss, in-batch negatives
/// and margin MSE.
/// </summary>
internal static class EmbeddingPairs
{
    /// <summary>embeddings1, embeddings2 and labels of the given meaning (floating; differentiable for a regression target).</summary>
    public static InputSpec[] Inputs(string labels, bool labelsDifferentiable = false) =>
    [
        new("embeddings1", InputKind.Floating, true, "the first embedding of each pair (N, D)"),
        new("embeddings2", InputKind.Floating, true, "the second embedding of each pair (N, D)"),
        new("labels", InputKind.Floating, labelsDifferentiable, labels),
    ];

    /// <summary>A registry sample: two normal (N, D) embeddings (6 × 4 by default) and labels drawn by <paramref name="labels"/>.</summary>
    public static LossInputs Sample(Random r, Shape s, Func<Random, Shape, TensorData> labels)
    {
        Shape x = s.Rank == 2 ? s : new Shape(6, 4);
        return new LossInputs().Add("embeddings1", Samples.Normal(r, x)).Add("embeddings2", Samples.Normal(r, x)).Add("labels", labels(r, new Shape(x[0])));
    }

    /// <summary>The two embeddings, checked: (N, D) each, the same shape.</summary>
    public static (int N, int D, double[] U, double[] V) Read(LossInputs inputs, string loss)
    {
        TensorData uT = inputs["embeddings1"], vT = inputs["embeddings2"];
        if (uT.Shape.Rank != 2) throw LossArgumentException.Shape($"{loss}: 'embeddings1' must be (N, D), got shape {uT.Shape}");
        if (vT.Shape != uT.Shape) throw LossArgumentException.Shape($"{loss}: 'embeddings2' has shape {vT.Shape}; expected {uT.Shape}, one per pair");
        return (uT.Shape[0], uT.Shape[1], uT.ToArray<double>(), vT.ToArray<double>());
    }

    /// <summary>The pairs' floating labels, (N), the error saying what one is (<paramref name="meaning"/>).</summary>
    public static double[] Labels(LossInputs inputs, string loss, int n, string meaning)
    {
        TensorData yT = inputs["labels"];
        if (yT.Shape != new Shape(n)) throw LossArgumentException.Shape($"{loss}: 'labels' has shape {yT.Shape}; expected ({n}), {meaning}");
        return yT.ToArray<double>();
    }

    /// <summary>
    /// K, the hard negatives per row of <paramref name="negatives"/>: (N, K, D), or (N, D) for one; a shape error naming the
    /// input and saying what a negative is (<paramref name="what"/>) otherwise.
    /// </summary>
    public static int NegativesPerRow(TensorData negatives, int n, int d, string loss, string what)
    {
        Shape s = negatives.Shape;
        bool ok = s.Rank == 2 ? s == new Shape(n, d) : s.Rank == 3 && s[0] == n && s[2] == d;
        if (!ok) throw LossArgumentException.Shape($"{loss}: 'negatives' has shape {s}; expected (N, K, D) = ({n}, K, {d}), K {what}, or ({n}, {d}) for one");
        return s.Rank == 2 ? 1 : s[1];
    }
}
