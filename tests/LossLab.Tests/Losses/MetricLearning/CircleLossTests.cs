using LossLab.Autograd;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.Autograd;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.MetricLearning;

/// <summary>The paper's gradient (α detached) equals autograd with detached weights; the value does not depend on it.</summary>
public sealed class CircleLossTests
{
    [Theory]
    [InlineData("mean")]
    [InlineData("sum")]
    [InlineData("none")]
    public void Detached_gradient_matches_autograd_with_detached_weights(string reduction)
    {
        double[] data = LossSamples.Normal(new Random(9), 28);
        long[] labels = [0, 0, 1, 1, 2, 2, 1];
        LossResult r = LossRegistry.Default.Create("circle_loss", T.Opt(("reduction", reduction), ("gamma", 16.0)))
            .Evaluate(T.In(("embeddings", T.Shaped(data, 7, 4)), ("labels", T.Shaped(labels, 7))));
        var x = Tensor.FromArray(data, [7, 4], requiresGrad: true);
        Tensor value = CatalogAutogradTests.Circle(x, labels, 0.4, 16, detach: true, reduction);
        Ops.Sum(value).Backward();
        T.Close(value.ToArray(), r.Value, rel: 1e-12, abs: 1e-12);
        T.Close(x.Grad!.ToArray(), r.Gradient("embeddings"), rel: 1e-9, abs: 1e-12);
    }

    [Fact]
    public void Anchors_without_positives_or_negatives_give_zero()
    {
        var inputs = T.In(("embeddings", T.Shaped(new double[] { 1, 0, 0, 1 }, 2, 2)), ("labels", T.I(0, 1)));
        Assert.Equal(0, LossRegistry.Default.Create("circle_loss").Evaluate(inputs).Scalar);
    }
}

/// <summary>The metric-learning losses stream blocks of anchor rows: no N×N matrix, even at N = 8192.</summary>
public sealed class MetricLearningMemoryTests
{
    [Theory]
    [InlineData("ntxent_loss")]
    [InlineData("supcon_loss")]
    [InlineData("lifted_structure_loss")]
    [InlineData("intra_pair_variance_loss")]
    [InlineData("margin_loss")]
    [InlineData("batch_hard_triplet_loss")]
    public void Memory_stays_linear_in_the_batch_at_n_8192(string loss)
    {
        const int n = 8192, d = 4;
        var r = new Random(3);
        var inputs = T.In(("embeddings", T.Shaped(LossSamples.Normal(r, n * d), n, d)), ("labels", T.Shaped(Enumerable.Range(0, n).Select(i => (long)(i % 64)).ToArray(), n)));
        ILoss l = LossRegistry.Default.Create(loss);
        long before = GC.GetAllocatedBytesForCurrentThread();
        LossResult result = l.Evaluate(inputs);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(double.IsFinite(result.Scalar));
        // An N×N double matrix alone would be 512 MiB; the streamed pass needs a few N·D arrays.
        Assert.True(allocated < 16L << 20, $"{loss} allocated {allocated >> 20} MiB for N = {n}");
    }
}
