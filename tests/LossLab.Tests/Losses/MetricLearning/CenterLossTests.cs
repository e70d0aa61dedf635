using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.MetricLearning;

/// <summary>Center loss by hand, its digits for a small distance between long vectors, and the shapes it refuses.</summary>
public sealed class CenterLossTests
{
    private static LossResult Run(double[,] x, long[] labels, double[,] centers, string reduction = "mean")
        => LossRegistry.Default.Create("center_loss", T.Opt(("reduction", reduction))).Evaluate(T.In(("embeddings", T.D2(x)), ("labels", T.I(labels)), ("centers", T.D2(centers))));

    [Fact]
    public void Squared_distance_to_the_class_centre_by_hand()
    {
        // Rows (1, 2), (3, 4), (0, 0) of classes 0, 1, 0; centres (1, 1), (2, 2): distances² 1, 5, 2, mean 8/3.
        LossResult r = Run(new double[,] { { 1, 2 }, { 3, 4 }, { 0, 0 } }, [0, 1, 0], new double[,] { { 1, 1 }, { 2, 2 } });
        T.Close(8.0 / 3, r.Scalar, 1e-15, 0);
        // ∂/∂x_i = 2(x_i − c)/3; ∂/∂c_j = −Σ over its rows: c₀ gets −(0 − 2/3, 2/3 − 2/3), c₁ −(2/3, 4/3).
        T.Close([0, 2.0 / 3, 2.0 / 3, 4.0 / 3, -2.0 / 3, -2.0 / 3], r.Gradient("embeddings"), 1e-15, 0);
        T.Close([2.0 / 3, 0, -2.0 / 3, -4.0 / 3], r.Gradient("centers"), 1e-15, 0);
        T.Close([1, 5, 2], Run(new double[,] { { 1, 2 }, { 3, 4 }, { 0, 0 } }, [0, 1, 0], new double[,] { { 1, 1 }, { 2, 2 } }, "none").Value, 1e-15, 0);
    }

    [Fact]
    public void A_small_distance_between_long_vectors_keeps_its_digits()
    {
        // ‖x‖² + ‖c‖² − 2x·c (pytorch-center-loss's expansion) would keep about 4 digits of this 1e-6.
        double d = 1000.001 - 1000;
        LossResult r = Run(new double[,] { { 1000, 1000.001 } }, [0], new double[,] { { 1000, 1000 } });
        T.Close(d * d, r.Scalar, 1e-15, 0);
    }

    [Fact]
    public void Names_a_misshapen_centre_matrix_and_a_label_without_a_centre()
    {
        Assert.Contains("'centers' has shape (2, 3); expected (C, D) = (C, 2)",
            Assert.Throws<LossArgumentException>(() => Run(new double[,] { { 1, 2 } }, [0], new double[,] { { 1, 1, 1 }, { 2, 2, 2 } })).Message);
        Assert.Contains("label 2 at row 1 is not one of the 2 centres' classes",
            Assert.Throws<LossArgumentException>(() => Run(new double[,] { { 1, 2 }, { 0, 0 } }, [0, 2], new double[,] { { 1, 1 }, { 2, 2 } })).Message);
    }
}
