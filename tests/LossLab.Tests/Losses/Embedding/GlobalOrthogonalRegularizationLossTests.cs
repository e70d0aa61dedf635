using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.Embedding;

/// <summary>
/// Global orthogonal regularization on vectors whose similarities are known by hand (values derived from the formulas
/// of Zhang et al. 2017 and sentence-transformers' documentation, not from the implementation); random cases against a
/// torch reference written from sentence-transformers' code are in torch_diff.
/// </summary>
public sealed class GlobalOrthogonalRegularizationLossTests
{
    private static double Gor(Dictionary<string, object?> options, TensorData embeddings)
        => LossRegistry.Default.Create("global_orthogonal_regularization_loss", options).Evaluate(embeddings).Scalar;

    /// <summary>(1, 0), (0, 1), (−1, 0): cosines 0, −1, 0 between distinct rows; over the 6 ordered pairs M₁ = −⅓, M₂ = ⅓.</summary>
    private static TensorData Three => T.D2(new double[,] { { 1, 0 }, { 0, 1 }, { -1, 0 } });

    [Fact]
    public void Gemma_mode_is_the_raw_second_moment_by_default_and_adds_m1_squared_when_weighted()
    {
        T.Close(1.0 / 3, Gor(T.Opt(), Three), rel: 1e-15);
        T.Close(1.0 / 3 + 1.0 / 9, Gor(T.Opt(("mean_weight", 1.0)), Three), rel: 1e-15);
        // The original threshold 1/D = ½ zeroes M₂ = ⅓; the release of v5.3's defaults leave M₁² alone.
        T.Close(1.0 / 9, Gor(T.Opt(("mean_weight", 1.0), ("aggregation", "mean"), ("second_moment_threshold", "dimension")), Three), rel: 1e-15);
        // The dot product of rows scaled by 2: every similarity ×4, M₁ = −4/3, M₂ = 16/3.
        var scaled = T.D2(new double[,] { { 2, 0 }, { 0, 2 }, { -2, 0 } });
        T.Close(16.0 / 3 + 0.5 * 16.0 / 9, Gor(T.Opt(("similarity_fct", "dot_score"), ("mean_weight", 0.5)), scaled), rel: 1e-15);
        T.Close(1.0 / 3, Gor(T.Opt(), scaled), rel: 1e-15);   // the cosine ignores the scale
    }

    [Fact]
    public void Columns_are_summed_or_averaged_and_can_be_selected()
    {
        // Column 0 is Three (M₂ = ⅓); column 1 holds (1, 0), (1, 0), (0, 1): cosines 1, 0, 0, so M₂ = 2/6 = ⅓ and M₁ = ⅓.
        var two = T.Shaped(new double[] { 1, 0, 0, 1, -1, 0, 1, 0, 1, 0, 0, 1 }, 2, 3, 2);
        T.Close(2.0 / 3, Gor(T.Opt(), two), rel: 1e-15);
        T.Close(1.0 / 3, Gor(T.Opt(("aggregation", "mean")), two), rel: 1e-15);
        T.Close(1.0 / 3 + 1.0 / 9, Gor(T.Opt(("embedding_indices", T.D(-1)), ("mean_weight", 1.0)), two), rel: 1e-15);
        T.Close(1.0 / 3 + 1.0 / 9, Gor(T.Opt(("embedding_indices", T.D(0)), ("mean_weight", 1.0)), two), rel: 1e-15);
    }

    [Fact]
    public void Original_mode_takes_the_paired_similarities_of_each_column_pair()
    {
        // a = (1, 0), (0, 2); b = (1, 1), (0, −3): paired cosines √½ and −1. M₁ = (√½ − 1)/2, M₂ = ¾, τ = 1/D = ½.
        var ab = T.Shaped(new double[] { 1, 0, 0, 2, 1, 1, 0, -3 }, 2, 2, 2);
        double m1 = (Math.Sqrt(0.5) - 1) / 2;
        T.Close(m1 * m1 + 0.25, Gor(T.Opt(("mode", "original")), ab), rel: 1e-14);
        T.Close(m1 * m1 + 0.75, Gor(T.Opt(("mode", "original"), ("second_moment_threshold", "none")), ab), rel: 1e-14);
        // Three columns give the pairs (0, 1), (0, 2), (1, 2); a copy of b as the third column: the pairs a·b twice and b·b.
        var abb = T.Shaped(new double[] { 1, 0, 0, 2, 1, 1, 0, -3, 1, 1, 0, -3 }, 3, 2, 2);
        T.Close(2 * (m1 * m1 + 0.25) + (1 + 0.5), Gor(T.Opt(("mode", "original")), abb), rel: 1e-14);   // b·b: cosines 1, M₁² = 1, M₂ − ½
        T.Close((2 * (m1 * m1 + 0.25) + 1.5) / 3, Gor(T.Opt(("mode", "original"), ("aggregation", "mean")), abb), rel: 1e-14);
    }

    [Fact]
    public void The_gradient_pushes_similar_rows_apart()
    {
        // Two nearly equal rows and one apart: descending the gradient lowers their cosine.
        var x = T.D2(new double[,] { { 1, 0.1 }, { 1, -0.1 }, { 0, 1 } });
        LossResult r = LossRegistry.Default.Create("gor_loss", T.Opt()).Evaluate(x);
        double[] g = T.Values(r.Gradient("embeddings")), v = T.Values(x);
        double[] moved = [.. v.Select((e, i) => e - 0.1 * g[i])];
        double Cos(double[] a) => (a[0] * a[2] + a[1] * a[3]) / Math.Sqrt((a[0] * a[0] + a[1] * a[1]) * (a[2] * a[2] + a[3] * a[3]));
        Assert.True(Cos(moved) < Cos(v), $"cosine {Cos(v)} → {Cos(moved)}");
    }

    [Fact]
    public void Bad_columns_and_options_are_typed_errors()
    {
        var one = T.D2(new double[,] { { 1, 0 }, { 0, 1 } });
        var e = Assert.Throws<LossArgumentException>(() => Gor(T.Opt(("mode", "original")), one));
        Assert.Equal(LossErrorCode.InvalidShape, e.Code);
        Assert.Contains("at least two", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<LossArgumentException>(() => Gor(T.Opt(), T.D2(new double[,] { { 1, 0 } })));
        Assert.Contains("gemma needs at least 2", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<LossArgumentException>(() => Gor(T.Opt(("embedding_indices", T.D(2))), T.Shaped(new double[8], 2, 2, 2)));
        Assert.Equal("GlobalOrthogonalRegularizationLoss: embedding_indices[0] = 2, but 'embeddings' has 2 column(s)", e.Message);
        e = Assert.Throws<LossArgumentException>(() => Gor(T.Opt(("mean_weight", 0.0), ("second_moment_weight", 0.0)), one));
        Assert.Contains("at least one of mean_weight or second_moment_weight", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<LossArgumentException>(() => Gor(T.Opt(), T.Shaped(new double[16], 2, 2, 2, 2)));
        Assert.Equal(LossErrorCode.InvalidShape, e.Code);
        Assert.Contains("(C, N, D)", e.Message, StringComparison.Ordinal);
    }
}
