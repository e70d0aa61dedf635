using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.Embedding;

/// <summary>The FLOPS regularizer on rows whose means are known by hand (Paria et al. 2020's formula, sentence-transformers' l0 mask).</summary>
public sealed class FlopsLossTests
{
    // Rows (2, 0, 1), (0, 0, 3), (4, 0, 0): 2, 1 and 1 non-zeros; column means 2, 0, 4/3.
    private static TensorData W => T.D2(new double[,] { { 2, 0, 1 }, { 0, 0, 3 }, { 4, 0, 0 } });

    [Fact]
    public void The_squared_norm_of_the_mean_row_and_its_gradient()
    {
        LossResult r = LossRegistry.Default.Create("flops_loss").Evaluate(W);
        T.Close(4 + 16.0 / 9, r.Scalar, rel: 1e-15);
        // ∂/∂w_iv = 2·mean_v/N, the same for every row.
        T.Close([4.0 / 3, 0, 8.0 / 9, 4.0 / 3, 0, 8.0 / 9, 4.0 / 3, 0, 8.0 / 9], r.Gradient("embeddings"), rel: 1e-15);
    }

    [Fact]
    public void The_l0_threshold_zeroes_sparse_rows_but_keeps_them_in_the_count()
    {
        // threshold 1: rows 1 and 2 (one non-zero each) are dropped; the mean still divides by 3: (2/3, 0, 1/3).
        LossResult r = LossRegistry.Default.Create("flops_loss", T.Opt(("threshold", 1.0))).Evaluate(W);
        T.Close(4.0 / 9 + 1.0 / 9, r.Scalar, rel: 1e-15);
        T.Close([4.0 / 9, 0, 2.0 / 9, 0, 0, 0, 0, 0, 0], r.Gradient("embeddings"), rel: 1e-15);
        // threshold 2 drops every row: 0.
        Assert.Equal(0.0, LossRegistry.Default.Create("flops_loss", T.Opt(("threshold", 2.0))).Evaluate(W).Scalar);
    }

    [Fact]
    public void A_batch_that_is_not_rows_of_embeddings_is_a_shape_error()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("flops_loss").Evaluate(T.D(1, 2, 3)));
        Assert.Equal(LossErrorCode.InvalidShape, e.Code);
        Assert.Equal("FlopsLoss: 'embeddings' must be (N, V), one sparse embedding per row with N ≥ 1, got shape (3,)", e.Message);
    }
}
