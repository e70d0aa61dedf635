using LossLab.Losses.MetricLearning;
using LossLab.Losses.Core;
using LossLab.Losses.Custom;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Autograd;

public sealed partial class CatalogAutogradTests
{
    /// <summary>
    /// The in-batch-negative losses take their rows in chunks of anchors (matrix products per chunk): batches large enough
    /// for several chunks against the composed formula, which builds every matrix whole.
    /// </summary>
    [Theory]
    [InlineData("MultipleNegativesRankingLoss", "joint, all directions")]
    [InlineData("MultipleNegativesRankingLoss", "per_direction")]
    [InlineData("MultipleNegativesRankingLoss", "dot_score")]
    [InlineData("GistEmbedLoss", "defaults")]
    [InlineData("GistEmbedLoss", "relative margin, no contrasts")]
    public void Chunked_in_batch_negatives_equal_the_composed_formula(string loss, string variant)
    {
        // In-batch negatives: 300 anchors with two hard negatives each, 900 documents, so chunks of 291 anchors (2¹⁸
        // similarities): two, the last short. GISTEmbed: 600 anchors, rows of 600, chunks of 436.
        const int d = 6, k = 2, g = 5;
        int n = loss == "GistEmbedLoss" ? 600 : 300;
        var r = new Random(23);
        double[] Normal(int count) => LossSamples.Normal(r, count);
        LossInputs inputs = loss == "GistEmbedLoss"
            ? T.In(("anchors", T.Shaped(Normal(n * d), n, d)), ("positives", T.Shaped(Normal(n * d), n, d)), ("negatives", T.Shaped(Normal(n * d), n, d)),
                ("guide_anchors", T.Shaped(Normal(n * g), n, g)), ("guide_positives", T.Shaped(Normal(n * g), n, g)), ("guide_negatives", T.Shaped(Normal(n * g), n, g)))
            : T.In(("anchors", T.Shaped(Normal(n * d), n, d)), ("positives", T.Shaped(Normal(n * d), n, d)), ("negatives", T.Shaped(Normal(n * k * d), n, k, d)));
        var options = (loss, variant) switch
        {
            (_, "joint, all directions") => T.Opt(("query_to_query", true), ("doc_to_query", true), ("doc_to_doc", true), ("scale", 5.0)),
            (_, "per_direction") => T.Opt(("query_to_query", true), ("doc_to_query", true), ("doc_to_doc", true), ("partition_mode", "per_direction"), ("reduction", "sum")),
            (_, "dot_score") => T.Opt(("similarity_fct", "dot_score"), ("scale", 0.5), ("doc_to_query", true)),
            (_, "relative margin, no contrasts") => T.Opt(("margin_strategy", "relative"), ("margin", 0.1), ("contrast_anchors", false), ("contrast_positives", false), ("temperature", 0.05)),
            _ => T.Opt(("temperature", 0.1), ("margin", 0.05)),
        };
        AgreesWithComposedFormula(loss, inputs, options);
    }

    /// <summary>
    /// The class-weight losses take a chunk of embeddings' cosines against every column as one product: 300 embeddings
    /// against 1000 columns run as two chunks (262 rows of 2¹⁸ cosines, then 38). With 6000 columns a chunk keeps its
    /// floor of 64 rows (so that W is read once per 64 rows, not per 43): 150 embeddings run as 64, 64, 22.
    /// </summary>
    [Theory]
    [InlineData("ArcFaceLoss", 1, 300, 1000)]
    [InlineData("SubCenterArcFaceLoss", 4, 300, 1000)]
    [InlineData("SphereFaceLoss", 1, 300, 1000)]
    [InlineData("LargeMarginSoftmaxLoss", 1, 300, 1000)]
    [InlineData("CosFaceLoss", 1, 300, 1000)]
    [InlineData("SoftTripleLoss", 10, 300, 1000)]
    [InlineData("ArcFaceLoss", 1, 150, 6000)]
    [InlineData("SubCenterArcFaceLoss", 3, 150, 6000)]
    [InlineData("LargeMarginSoftmaxLoss", 1, 150, 6000)]
    [InlineData("SphereFaceLoss", 1, 150, 6000)]
    [InlineData("P2SGradLoss", 1, 150, 6000)]
    [InlineData("P2SGradLoss", 1, 150, 6000, false)]
    public void Chunked_class_cosines_equal_the_composed_formula(string loss, int subCenters, int n, int columns, bool renormInPlace = true)
    {
        const int d = 5;
        var r = new Random(31);
        int classes = columns / subCenters;
        LossInputs inputs = T.In(("embeddings", T.Shaped(LossSamples.Normal(r, n * d), n, d)),
            ("labels", T.Shaped(Enumerable.Range(0, n).Select(_ => (long)r.Next(classes)).ToArray(), n)),
            (loss == "SoftTripleLoss" ? "fc" : "W", T.Shaped(LossSamples.Normal(r, d * columns), d, columns)));
        var options = loss == "SubCenterArcFaceLoss" ? T.Opt(("sub_centers", (long)subCenters))
            : loss == "P2SGradLoss" ? T.Opt(("renorm_in_place", renormInPlace)) : T.Opt();   // SoftTriple: its default 10 centres
        AgreesWithComposedFormula(loss, inputs, options);
    }

    /// <summary>
    /// Proxy Anchor takes a chunk of classes at a time in the proxies' (C, D) layout, as many as 2¹⁸ cosines hold: 150
    /// embeddings against 4000 proxies run as 1747, 1747 and 506 classes; a class without an embedding among them.
    /// </summary>
    [Fact]
    public void Chunked_proxy_anchor_equals_the_composed_formula()
    {
        const int n = 150, d = 5, c = 4000;
        var r = new Random(37);
        LossInputs inputs = T.In(("embeddings", T.Shaped(LossSamples.Normal(r, n * d), n, d)),
            ("labels", T.Shaped(Enumerable.Range(0, n).Select(_ => (long)r.Next(c)).ToArray(), n)),
            ("proxies", T.Shaped(LossSamples.Normal(r, c * d), c, d)));
        AgreesWithComposedFormula("ProxyAnchorLoss", inputs, T.Opt(("alpha", 8.0)));
    }

    /// <summary>
    /// The adaptive softmax takes each tail cluster's rows in chunks of at least 64 (as many as 2¹⁸ outputs hold): 200
    /// rows, most in a cluster of 5000 classes, run as chunks of 64, 64 and a short one, the shortlist rows through the
    /// head alone; one cluster has no row (its layers get no gradient).
    /// </summary>
    [Fact]
    public void Chunked_adaptive_softmax_equals_the_composed_formula()
    {
        const int n = 200, d = 16, shortlist = 7, c0 = 5000, c1 = 30;
        var r = new Random(41);
        long[] targets = [.. Enumerable.Range(0, n).Select(i => (long)(i % 9 == 0 ? r.Next(shortlist) : shortlist + r.Next(c0)))];
        LossInputs inputs = T.In(("input", T.Shaped(LossSamples.Normal(r, n * d), n, d)), ("target", T.Shaped(targets, n)),
            ("head.weight", T.Shaped(LossSamples.Normal(r, (shortlist + 2) * d), shortlist + 2, d)),
            ("head.bias", T.Shaped(LossSamples.Normal(r, shortlist + 2), shortlist + 2)),
            ("tail.0.0.weight", T.Shaped(LossSamples.Normal(r, 4 * d), 4, d)), ("tail.0.1.weight", T.Shaped(LossSamples.Normal(r, c0 * 4), c0, 4)),
            ("tail.1.0.weight", T.Shaped(LossSamples.Normal(r, 1 * d), 1, d)), ("tail.1.1.weight", T.Shaped(LossSamples.Normal(r, c1), c1, 1)));
        AgreesWithComposedFormula("AdaptiveLogSoftmaxWithLoss", inputs, T.Opt(("reduction", "mean")));
    }

    /// <summary>
    /// The spread-out regularizer (gemma mode) takes each column's similarities in blocks of rows: in blocks of 7 (the
    /// last short), in the default blocks, and on two parts of the thread pool (N²·D ≥ 2²²), against the composed formula,
    /// with the cosine and the dot product and two columns.
    /// </summary>
    [Theory]
    [InlineData("cos_sim", 7)]
    [InlineData("dot_score", 7)]
    [InlineData("cos_sim", 0)]
    public void Blocked_spread_out_regularizer_equals_the_composed_formula(string similarity, int blockRows)
    {
        const int cols = 2, n = 300, d = 48;
        var r = new Random(43);
        LossInputs inputs = T.In(("embeddings", T.Shaped(LossSamples.Normal(r, cols * n * d), cols, n, d)));
        var options = T.Opt(("similarity_fct", similarity), ("mean_weight", 0.5), ("second_moment_threshold", "none"));
        SimilarityBlocks.BlockRowsOnThisThread = blockRows > 0 ? blockRows : null;
        try { AgreesWithComposedFormula("GlobalOrthogonalRegularizationLoss", inputs, options); }
        finally { SimilarityBlocks.BlockRowsOnThisThread = null; }
    }

    /// <summary>
    /// CLIP and SigLIP take their logits a chunk of image rows at a time (about 2¹⁸ similarities): 600 pairs run as two
    /// chunks (436, then 164), CLIP's column log-sum-exps and diagonal across them.
    /// </summary>
    [Theory]
    [InlineData("ClipLoss", 12.0, false)]
    [InlineData("ClipLoss", 40.0, false)]
    [InlineData("SigLipLoss", 10.0, true)]
    public void Chunked_image_text_logits_equal_the_composed_formula(string loss, double scale, bool bias)
    {
        const int n = 600, d = 4;
        var r = new Random(41);
        double[] Unit(int rows)
        {
            double[] x = LossSamples.Normal(r, rows * d);
            for (int i = 0; i < rows; i++)
            {
                double norm = Math.Sqrt(Enumerable.Range(0, d).Sum(k => x[i * d + k] * x[i * d + k]));
                for (int k = 0; k < d; k++) x[i * d + k] /= norm;
            }
            return x;
        }
        double[] images = Unit(n), texts = Unit(n);
        // Half the texts near their image (a confident diagonal at scale 40), half unrelated.
        for (int i = 0; i < n / 2; i++)
            for (int k = 0; k < d; k++) texts[i * d + k] = images[i * d + k] + 0.01 * texts[i * d + k];
        LossInputs inputs = T.In(("image_features", T.Shaped(images, n, d)), ("text_features", T.Shaped(texts, n, d)), ("logit_scale", T.Shaped(new[] { scale })));
        if (bias) inputs.Add("logit_bias", T.Shaped(new[] { -10.0 }));
        var options = T.Opt();
        AgreesWithComposedFormula(loss, inputs, options);
    }

    /// <summary>The catalog loss against its composed autograd formula on these inputs: the value and every gradient.</summary>
    private static void AgreesWithComposedFormula(string loss, LossInputs inputs, Dictionary<string, object?> options)
    {
        LossResult analytic = LossRegistry.Default.Create(loss, options).Evaluate(inputs);
        var composed = new CustomLoss("composed-" + loss, [.. inputs.Tensors.Keys], t => Formulas[loss](t, options));
        LossResult auto = composed.Evaluate(inputs);
        T.Close(T.Values(analytic.Value), auto.Value, rel: 1e-11, abs: 1e-13);
        foreach (var (name, grad) in analytic.Gradients) T.Close(T.Values(grad), auto.Gradient(name), rel: 1e-9, abs: 1e-12);
    }
}
