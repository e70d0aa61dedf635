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
        foreach (string loss in new[] { "ntxent_loss", "supcon_loss", "multi_similarity_loss", "circle_loss" })
            foreach (string reduction in new[] { "mean", "sum", "none" })
                data.Add(loss, reduction);
        return data;
    }

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
        var inputs = T.In(("embeddings", T.Shaped(x, n, d)), ("labels", T.Shaped(labels, n)));
        // Circle's default γ = 80 puts every weight on one pair; γ = 8 spreads them.
        var options = loss == "circle_loss" ? T.Opt(("reduction", reduction), ("gamma", 8.0)) : T.Opt(("reduction", reduction));
        ILoss l = LossRegistry.Default.Create(loss, options);
        LossResult whole = l.Evaluate(inputs);
        foreach (int rows in new[] { 1, 3, 4, 16, 40 })
        {
            SimilarityBlocks.BlockRowsOnThisThread = rows;
            try
            {
                LossResult blocked = l.Evaluate(inputs);
                T.Close(T.Values(whole.Value), blocked.Value, rel: 1e-12, abs: 1e-14);
                T.Close(T.Values(whole.Gradient("embeddings")), blocked.Gradient("embeddings"), rel: 1e-11, abs: 1e-14);
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
        var inputs = T.In(("embeddings", T.Shaped(LossSamples.Normal(r, n * d), n, d)), ("labels", T.Shaped(labels, n)));
        var options = loss == "circle_loss" ? T.Opt(("reduction", reduction), ("gamma", 8.0)) : T.Opt(("reduction", reduction));
        ILoss l = LossRegistry.Default.Create(loss, options);
        Assert.Equal(2, new SimilarityBlocks(new double[n * d], n, d, gradients: false, scratchRows: 0).Parts);
        LossResult split = l.Evaluate(inputs);
        LossResult whole;
        SimilarityBlocks.OnePartOnThisThread = true;
        try { whole = l.Evaluate(inputs); }
        finally { SimilarityBlocks.OnePartOnThisThread = false; }
        T.Close(T.Values(whole.Value), split.Value, rel: 1e-12, abs: 1e-14);
        T.Close(T.Values(whole.Gradient("embeddings")), split.Gradient("embeddings"), rel: 1e-11, abs: 1e-14);
    }
}
