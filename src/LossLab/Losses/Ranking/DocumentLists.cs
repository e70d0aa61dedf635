using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Ranking;

/// <summary>
/// The inputs of sentence-transformers' listwise cross-encoder losses: each query's scores of its documents and their
/// relevance labels, (N, L) each, lists of different lengths padded to L and marked by an optional mask (1 for a
/// document, 0 for padding; sentence-transformers builds the same padded matrix from its lists).
/// </summary>
internal static class DocumentLists
{
    /// <summary>logits, labels (differentiable where the loss is smooth in them) and the optional mask.</summary>
    public static InputSpec[] Inputs(bool labelsDifferentiable) =>
    [
        new("logits", InputKind.Floating, true, "the model's score of each query's documents (N, L)"),
        new("labels", InputKind.Floating, labelsDifferentiable, "their relevance labels (N, L), binary or graded"),
        new("mask", InputKind.Floating, false, "1 for a document, 0 for padding (N, L); absent: every entry is a document") { Optional = true },
    ];

    /// <summary>A registry sample: 3 queries of up to 5 documents, graded labels 0..3, the last query two documents short.</summary>
    public static LossInputs Sample(Random r, Shape s)
    {
        Shape x = s.Rank == 2 ? s : new Shape(3, 5);
        double[] labels = new double[x.Numel], mask = new double[x.Numel];
        for (int i = 0; i < labels.Length; i++) { labels[i] = r.Next(4); mask[i] = 1; }
        if (x[0] > 1 && x[1] > 2) { mask[x.Numel - 1] = 0; mask[x.Numel - 2] = 0; }
        return new LossInputs().Add("logits", Samples.Normal(r, x)).Add("labels", TensorData.FromArray(labels, x[0], x[1]))
            .Add("mask", TensorData.FromArray(mask, x[0], x[1]));
    }

    /// <summary>Logits, labels and the document mask, checked: (N, L) each, N ≥ 1, a mask of 0/1 with a document in every row.</summary>
    public static (int N, int L, double[] Logits, double[] Labels, bool[] Valid) Read(LossInputs inputs, string loss)
    {
        TensorData s = inputs["logits"], y = inputs["labels"];
        if (s.Shape.Rank != 2 || s.Shape[0] == 0 || s.Shape[1] == 0)
            throw LossArgumentException.Shape($"{loss}: 'logits' must be (N, L), the scores of N queries' L documents, got shape {s.Shape}");
        if (y.Shape != s.Shape) throw LossArgumentException.Shape($"{loss}: 'labels' has shape {y.Shape}; expected {s.Shape}, one label per document");
        int n = s.Shape[0], l = s.Shape[1];
        var valid = new bool[n * l];
        if (inputs.Contains("mask"))
        {
            TensorData m = inputs["mask"];
            if (m.Shape != s.Shape) throw LossArgumentException.Shape($"{loss}: 'mask' has shape {m.Shape}; expected {s.Shape}, 1 per document and 0 per padding");
            for (int i = 0; i < valid.Length; i++)
            {
                double v = m.GetDouble(i);
                if (v is not (0 or 1)) throw LossArgumentException.Value($"{loss}: mask must hold 0 (padding) or 1 (document); mask[{i / l}, {i % l}] = {v}");
                valid[i] = v == 1;
            }
        }
        else Array.Fill(valid, true);
        for (int q = 0; q < n; q++)
        {
            if (!valid.AsSpan(q * l, l).Contains(true)) throw LossArgumentException.Value($"{loss}: query {q} has no document (its mask row is all 0)");
        }
        return (n, l, s.ToArray<double>(), y.ToArray<double>(), valid);
    }
}
