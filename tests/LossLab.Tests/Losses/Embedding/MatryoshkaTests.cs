using LossLab.Losses.Core;
using LossLab.Losses.Embedding;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.Embedding;

/// <summary>MatryoshkaLoss as the matryoshka_dims and matryoshka_weights options of every sentence-transformers embedding loss.</summary>
public sealed class MatryoshkaTests
{
    public static TheoryData<string> Losses()
    {
        var data = new TheoryData<string>();
        foreach (LossDescriptor d in LossRegistry.Default.Entries.Where(d => d.Create() is SentenceEmbeddingLoss)) data.Add(d.Name);
        return data;
    }

    /// <summary>The first <paramref name="k"/> columns of every embedding input (the guide's stay whole).</summary>
    private static LossInputs Cut(LossInputs inputs, int k)
    {
        var result = new LossInputs(inputs.Tensors);
        foreach (var (name, t) in inputs.Tensors)
        {
            if (name.StartsWith("guide_", StringComparison.Ordinal) || t.Shape.Rank < 2 || !t.DType.IsFloating()) continue;
            if (name is "labels") continue;
            int width = t.Shape[^1], rows = t.Length / width;
            int[] dims = [.. t.Shape.Dims];
            dims[^1] = k;
            double[] v = T.Values(t);
            result.Add(name, TensorData.Create(new Shape(dims), DType.Float64, Enumerable.Range(0, rows * k).Select(i => v[i / k * width + i % k]).ToArray()));
        }
        return result;
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void The_loss_is_the_weighted_sum_over_the_prefixes(string loss)
    {
        LossInputs inputs = T.As(LossSamples.All[loss].Samples[0].Make(new Random(4)), DType.Float64);
        Dictionary<string, object?> options = new(LossSamples.All[loss].Samples[0].Options);
        LossResult whole = LossRegistry.Default.Create(loss, options).Evaluate(inputs), two = LossRegistry.Default.Create(loss, options).Evaluate(Cut(inputs, 2));
        options["matryoshka_dims"] = T.D(inputs.Tensors.First(kv => kv.Value.Shape.Rank >= 2).Value.Shape[^1], 2);
        options["matryoshka_weights"] = T.D(1, 0.5);
        LossResult m = LossRegistry.Default.Create(loss, options).Evaluate(inputs);
        double[] expected = [.. T.Values(whole.Value).Zip(T.Values(two.Value), (a, b) => a + 0.5 * b)];
        T.Close(expected, m.Value, rel: 1e-12, abs: 1e-12);
        foreach (var (name, g) in whole.Gradients)
        {
            double[] sum = T.Values(g);
            if (two.Gradients.TryGetValue(name, out TensorData? g2))
            {
                int width = g.Shape.Rank == 0 ? 1 : g.Shape[^1], cut = g2.Shape.Rank == 0 ? 1 : g2.Shape[^1];
                double[] v2 = T.Values(g2);
                for (int i = 0; i < v2.Length; i++) sum[i / cut * width + i % cut] += 0.5 * v2[i];
            }
            T.Close(sum, m.Gradient(name), rel: 1e-12, abs: 1e-12);
        }
    }

    [Fact]
    public void Widths_are_checked_before_the_cut()
    {
        LossInputs pairs = T.In(("embeddings1", T.D2(new double[,] { { 1, 2, 3 }, { 0, 1, 1 } })), ("embeddings2", T.D2(new double[,] { { 1, 0 }, { 2, 2 } })), ("labels", T.D(1, 0)));
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("cosent_loss", T.Opt(("matryoshka_dims", T.D(2)))).Evaluate(pairs));
        Assert.Contains("'embeddings2' has shape (2, 2); its embeddings must be 3 wide", e.Message);
        LossInputs same = T.In(("embeddings1", T.D2(new double[,] { { 1, 2 }, { 0, 1 } })), ("embeddings2", T.D2(new double[,] { { 1, 0 }, { 2, 2 } })), ("labels", T.D(1, 0)));
        e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("cosent_loss", T.Opt(("matryoshka_dims", T.D(4, 2)))).Evaluate(same));
        Assert.Contains("matryoshka_dims[0] = 4 is more than the embeddings' 2 dimensions", e.Message);
        Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("cosent_loss", T.Opt(("matryoshka_weights", T.D(1)))));
        Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("cosent_loss", T.Opt(("matryoshka_dims", T.D(2, 1)), ("matryoshka_weights", T.D(1)))));
        Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("cosent_loss", T.Opt(("matryoshka_dims", T.D(1.5)))));
    }
}
