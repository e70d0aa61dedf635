using LossLab.Losses.Core;
using LossLab.Losses.MetricLearning;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.MetricLearning;

/// <summary>
/// The pairwise losses stream their similarities in blocks of anchors (<see cref="SimilarityBlocks"/>). Whatever the
/// block size, value and gradient are those of one block holding every anchor (which the composed-autograd twins and
/// the PyTorch references check), to round-off.
/// </summary>
public sealed class SimilarityBlockLossTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string loss in new[] { "ntxent_loss", "supcon_loss", "multi_similarity_loss", "circle_loss", "contrastive_loss", "nca_loss",
            "lifted_structure_loss", "generalized_lifted_structure_loss", "tuplet_margin_loss", "intra_pair_variance_loss", "margin_loss",
            "signal_to_noise_ratio_contrastive_loss", "ranked_list_loss", "fast_ap_loss", "instance_loss" })
            foreach (string reduction in new[] { "mean", "sum", "none" })
                data.Add(loss, reduction);
        data.Add("histogram_loss", "");   // one value per batch, no reduction option
        data.Add("pnp_loss", "");
        data.Add("threshold_consistent_margin_loss", "");
        foreach (string reduction in new[] { "sum_over_batch_size", "sum", "none" }) data.Add("keras.circle", reduction);
        return data;
    }

    /// <summary>(embeddings, labels) under the loss's input names: Keras's circle takes y_pred and y_true.</summary>
    private static (string Embeddings, string Labels) Names(string loss) => loss.StartsWith("keras", StringComparison.Ordinal) ? ("y_pred", "y_true") : ("embeddings", "labels");

    private static Dictionary<string, object?> Options(string loss, string reduction)
        => loss is "circle_loss" or "keras.circle" ? T.Opt(("reduction", reduction), ("gamma", 8.0)) : reduction == "" ? T.Opt() : T.Opt(("reduction", reduction));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Any_block_size_gives_the_one_block_result(string loss, string reduction)
    {
        const int n = 41, d = 5;
        var r = new Random(loss.Length * 31 + reduction.Length);
        // Labels with singletons (no positive), pairs and larger groups; one zero embedding.
        long[] labels = [.. Enumerable.Range(0, n).Select(i => (long)(i < 3 ? 100 + i : i % 6))];
        double[] x = LossSamples.Normal(r, n * d);
        for (int k = 0; k < d; k++) x[7 * d + k] = 0;
        var (e, y) = Names(loss);
        var inputs = T.In((e, T.Shaped(x, n, d)), (y, T.Shaped(labels, n)));
        // Circle's default γ = 80 puts every weight on one pair; γ = 8 spreads them.
        ILoss l = LossRegistry.Default.Create(loss, Options(loss, reduction));
        LossResult whole = l.Evaluate(inputs);
        foreach (int rows in new[] { 1, 3, 4, 16, 40 })
        {
            SimilarityBlocks.BlockRowsOnThisThread = rows;
            try
            {
                LossResult blocked = l.Evaluate(inputs);
                T.Close(T.Values(whole.Value), blocked.Value, rel: 1e-12, abs: 1e-14);
                T.Close(T.Values(whole.Gradient(e)), blocked.Gradient(e), rel: 1e-11, abs: 1e-14);
            }
            finally { SimilarityBlocks.BlockRowsOnThisThread = null; }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Two_parts_on_the_thread_pool_give_the_one_part_result(string loss, string reduction)
    {
        // N²·D ≥ 2²² splits the anchors into two parts.
        const int n = 300, d = 48;
        var r = new Random(loss.Length * 17 + reduction.Length);
        long[] labels = [.. Enumerable.Range(0, n).Select(i => (long)(i % 9))];
        var (e, y) = Names(loss);
        var inputs = T.In((e, T.Shaped(LossSamples.Normal(r, n * d), n, d)), (y, T.Shaped(labels, n)));
        ILoss l = LossRegistry.Default.Create(loss, Options(loss, reduction));
        Assert.Equal(2, new SimilarityBlocks(new double[n * d], n, d, gradients: false, scratchRows: 0).Parts);
        LossResult split = l.Evaluate(inputs);
        LossResult whole;
        SimilarityBlocks.OnePartOnThisThread = true;
        try { whole = l.Evaluate(inputs); }
        finally { SimilarityBlocks.OnePartOnThisThread = false; }
        T.Close(T.Values(whole.Value), split.Value, rel: 1e-12, abs: 1e-14);
        T.Close(T.Values(whole.Gradient(e)), split.Gradient(e), rel: 1e-11, abs: 1e-14);
    }

    /// <summary>
    /// A reference side past 2²⁰ doubles is never transposed: each block's similarities come as R·Q[A]ᵀ and ∂R
    /// accumulates in R's layout. Every entry is the same sum of the same products in the same order, so forcing that
    /// path on a small input gives the same bits, in blocks of 7 (with a short last one) and in one block; with the
    /// proxies of Proxy-NCA and the positives of N-pairs as references too.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    [InlineData("proxy_nca_loss", "mean")]
    [InlineData("npairs_loss", "mean")]
    public void The_large_reference_path_gives_the_same_bits(string loss, string reduction)
    {
        const int n = 40, d = 6;
        var r = new Random(loss.Length * 13 + reduction.Length);
        long[] labels = [.. Enumerable.Range(0, n).Select(i => (long)(i % 5))];
        var (e, y) = Names(loss);
        var inputs = T.In((e, T.Shaped(LossSamples.Normal(r, n * d), n, d)), (y, T.Shaped(labels, n)));
        if (loss == "proxy_nca_loss") inputs.Add("proxies", T.Shaped(LossSamples.Normal(r, 5 * d), 5, d));
        ILoss l = LossRegistry.Default.Create(loss, Options(loss, reduction));
        foreach (int? rows in new int?[] { 7, null })
        {
            SimilarityBlocks.BlockRowsOnThisThread = rows;
            try
            {
                LossResult usual = l.Evaluate(inputs);
                SimilarityBlocks.LargeReferenceOnThisThread = true;
                LossResult large = l.Evaluate(inputs);
                Assert.Equal(T.Values(usual.Value), T.Values(large.Value));
                foreach (var (name, g) in usual.Gradients) Assert.Equal(T.Values(g), T.Values(large.Gradients[name]));
            }
            finally
            {
                SimilarityBlocks.BlockRowsOnThisThread = null;
                SimilarityBlocks.LargeReferenceOnThisThread = false;
            }
        }
    }

    /// <summary>
    /// Contrastive loss takes its distances from the blocks' dot products except for close pairs, which it sums term by
    /// term: a positive pair 10⁻⁹ apart costs its distance to nine digits (√(2 − 2s) would give 0 or 2·10⁻⁸ noise), and
    /// the gradient of a far pair equals the direct computation.
    /// </summary>
    [Fact]
    public void Contrastive_keeps_the_digits_of_near_duplicates()
    {
        double t = 1e-9;
        // Rows 0 and 1: unit vectors t apart (same label); row 2 far from both (other label, beyond the margin).
        double[] x = [1, 0, Math.Cos(t), Math.Sin(t), -1, 0.2];
        LossResult r = LossRegistry.Default.Create("contrastive_loss", T.Opt(("reduction", "sum"), ("neg_margin", 0.5)))
            .Evaluate(T.In(("embeddings", T.Shaped(x, 3, 2)), ("labels", T.Shaped(new long[] { 4, 4, 7 }, 3))));
        double d01 = Math.Sqrt(Math.Pow(1 - Math.Cos(t), 2) + Math.Pow(Math.Sin(t), 2));
        T.Close(2 * d01, r.Scalar, 1e-9, 0);   // both ordered pairs
        // ∂/∂x_0 of 2·‖x̂_0 − x̂_1‖ through the normalization of x_0 = (1, 0): the tangential part of 2(x̂_0 − x̂_1)/d.
        double[] g = T.Values(r.Gradient("embeddings"));
        T.Close(0, g[0], 0, 1e-6);
        T.Close(-2 * Math.Sin(t) / d01, g[1], 1e-6, 0);
    }
}
