using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// sentence-transformers' <c>SoftmaxLoss(model, sentence_embedding_dimension, num_labels, concatenation_sent_rep=True,
/// concatenation_sent_difference=True, concatenation_sent_multiplication=False)</c>, SBERT's NLI objective (Reimers and
/// Gurevych 2019): a linear classifier over the pair's features [u, v, |u − v|, u ∗ v] (the parts the options keep, in
/// that order), then cross-entropy with the pair's class, averaged over the pairs. The classifier is an input, by its
/// <c>state_dict</c> names: <c>classifier.weight</c> (C, k·D) and <c>classifier.bias</c> (C).
/// </summary>
/// <remarks>
/// <b>Gradient:</b> with G = softmax(z) − onehot(y) scaled by the reduction, z = W·f + b: ∂W = Gᵀ·f, ∂b = Σ G, ∂f = G·W,
/// split over the parts: u and v take their own, |u − v| adds sign(u − v)·∂ to u and subtracts it from v (sign 0 at a
/// tie, as PyTorch's abs), u ∗ v adds ∂·v to u and ∂·u to v.
/// </remarks>
public sealed class SoftmaxLoss : Loss, ILossDefinition
{
    private const string Name = "SoftmaxLoss";
    private readonly bool _rep, _difference, _product;
    private readonly Reduction _reduction;

    public SoftmaxLoss(bool concatenateRepresentations = true, bool concatenateDifference = true, bool concatenateProduct = false, Reduction reduction = Reduction.Mean)
    {
        if (!concatenateRepresentations && !concatenateDifference && !concatenateProduct)
            throw LossArgumentException.Value($"{Name}: at least one of concatenation_sent_rep, concatenation_sent_difference and concatenation_sent_multiplication must be true");
        (_rep, _difference, _product, _reduction) = (concatenateRepresentations, concatenateDifference, concatenateProduct, reduction);
    }

    private int Parts => (_rep ? 2 : 0) + (_difference ? 1 : 0) + (_product ? 1 : 0);

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (n, d, u, v) = EmbeddingPairs.Read(inputs, Name);
        TensorData wT = inputs["classifier.weight"];
        int width = Parts * d;
        if (wT.Shape.Rank != 2 || wT.Shape[1] != width || wT.Shape[0] == 0)
            throw LossArgumentException.Shape($"{Name}: 'classifier.weight' has shape {wT.Shape}; expected (num_labels, {width}) = (C, {Parts}·{d}) for the {Parts} concatenated parts");
        int c = wT.Shape[0];
        TensorData? bT = inputs.Contains("classifier.bias") ? inputs["classifier.bias"] : null;
        if (bT is not null && bT.Shape != new Shape(c)) throw LossArgumentException.Shape($"{Name}: 'classifier.bias' has shape {bT.Shape}; expected ({c})");
        if (inputs["labels"].Shape != new Shape(n)) throw LossArgumentException.Shape($"{Name}: 'labels' has shape {inputs["labels"].Shape}; expected ({n}), one class per pair");
        long[] y = inputs.Indices("labels");
        for (int i = 0; i < n; i++)
            if (y[i] < 0 || y[i] >= c) throw LossArgumentException.Value($"{Name}: labels[{i}] = {y[i]} is out of range: classes are [0, {c - 1}] (num_labels {c})");
        double[] w = wT.ToArray<double>(), b = bT?.ToArray<double>() ?? new double[c];
        double scale = Reducer.Scale(_reduction, n);
        var losses = new double[n];
        var f = new double[width];
        var z = new double[c];
        var slope = new double[c];   // p − onehot of a row
        double[] gu = computeGradients ? new double[u.Length] : [], gv = computeGradients ? new double[v.Length] : [];
        double[] gw = computeGradients ? new double[w.Length] : [], gb = computeGradients ? new double[c] : [];
        var gf = new double[width];
        for (int i = 0; i < n; i++)
        {
            Features(u.AsSpan(i * d, d), v.AsSpan(i * d, d), f);
            for (int k = 0; k < c; k++) z[k] = b[k] + System.Numerics.Tensors.TensorPrimitives.Dot<double>(w.AsSpan(k * width, width), f);
            losses[i] = Stable.SoftmaxCrossEntropy(z, (int)y[i], computeGradients ? slope : default);
            if (!computeGradients) continue;
            Array.Clear(gf);
            for (int k = 0; k < c; k++)
            {
                double g = scale * slope[k];
                gb[k] += g;
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(f, g, gw.AsSpan(k * width, width), gw.AsSpan(k * width, width));
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(w.AsSpan(k * width, width), g, gf, gf);
            }
            Split(gf, u.AsSpan(i * d, d), v.AsSpan(i * d, d), gu.AsSpan(i * d, d), gv.AsSpan(i * d, d));
        }
        TensorData value = ReduceRows<T>(losses, _reduction, new Shape(n)).Value;
        if (!computeGradients) return Result(value);
        return Result(value, ("embeddings1", FromDoubles<T>(gu, inputs["embeddings1"].Shape)), ("embeddings2", FromDoubles<T>(gv, inputs["embeddings2"].Shape)),
            ("classifier.weight", FromDoubles<T>(gw, wT.Shape)), ("classifier.bias", bT is null ? null : FromDoubles<T>(gb, bT.Shape)));
    }

    /// <summary>f = [u, v, |u − v|, u ∗ v], the parts the options keep.</summary>
    private void Features(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> f)
    {
        int d = u.Length, at = 0;
        if (_rep) { u.CopyTo(f[at..]); v.CopyTo(f[(at + d)..]); at += 2 * d; }
        if (_difference) { for (int q = 0; q < d; q++) f[at + q] = Math.Abs(u[q] - v[q]); at += d; }
        if (_product) for (int q = 0; q < d; q++) f[at + q] = u[q] * v[q];
    }

    /// <summary>∂f split back onto u and v.</summary>
    private void Split(ReadOnlySpan<double> gf, ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> gu, Span<double> gv)
    {
        int d = u.Length, at = 0;
        if (_rep)
        {
            for (int q = 0; q < d; q++) { gu[q] += gf[q]; gv[q] += gf[d + q]; }
            at += 2 * d;
        }
        if (_difference)
        {
            for (int q = 0; q < d; q++)
            {
                double s = Stable.Sign(u[q] - v[q]) * gf[at + q];   // NaN-safe (Math.Sign throws on NaN); 0 at a tie
                gu[q] += s;
                gv[q] -= s;
            }
            at += d;
        }
        if (_product)
        {
            for (int q = 0; q < d; q++) { gu[q] += gf[at + q] * v[q]; gv[q] += gf[at + q] * u[q]; }
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["softmax_loss", "st.SoftmaxLoss", "sbert_softmax_loss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs =
        [
            new("embeddings1", InputKind.Floating, true, "the first sentence of each pair (N, D)"),
            new("embeddings2", InputKind.Floating, true, "the second sentence of each pair (N, D)"),
            new("labels", InputKind.Indices, false, "each pair's class (N): entailment, neutral, contradiction…"),
            new("classifier.weight", InputKind.Floating, true, "the classifier W (num_labels, k·D), k the concatenated parts"),
            new("classifier.bias", InputKind.Floating, true, "the classifier's bias (num_labels)") { Optional = true },
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Bool("concatenation_sent_rep", true, "concatenate u and v"),
            OptionSpec.Bool("concatenation_sent_difference", true, "concatenate |u − v|"),
            OptionSpec.Bool("concatenation_sent_multiplication", false, "concatenate u ∗ v"),
        ],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(5, 3);
            return new LossInputs().Add("embeddings1", Samples.Normal(r, x)).Add("embeddings2", Samples.Normal(r, x))
                .Add("labels", Samples.Classes(r, new Shape(x[0]), 3)).Add("classifier.weight", Samples.Normal(r, new Shape(3, 3 * x[1]), 0.5))
                .Add("classifier.bias", Samples.Normal(r, new Shape(3)));
        },
        Formula = "ℓ = −log softmax(W·[u, v, |u − v|] + b)_y",
        Gradient = "G = softmax − onehot;  ∂W = Gᵀf, ∂b = ΣG, ∂f = GW split onto u, v (|u − v|: ±sign)",
        Reference = "sentence-transformers SoftmaxLoss; Reimers and Gurevych 2019 (Sentence-BERT)",
        Stability = "a max-shifted log-sum-exp in double: finite for any finite input",
        Libraries = "sentence-transformers (SoftmaxLoss; its classifier as inputs)",
        Factory = o => new SoftmaxLoss(o.Bool("concatenation_sent_rep"), o.Bool("concatenation_sent_difference"), o.Bool("concatenation_sent_multiplication"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
