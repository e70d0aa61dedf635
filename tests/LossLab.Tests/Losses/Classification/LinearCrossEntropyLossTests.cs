using LossLab.Losses.Core;
using LossLab.Losses.Fused;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>
/// The catalog's linear + cross-entropy (Liger's LigerFusedLinearCrossEntropyLoss) against the chunked float32 kernel it
/// documents as its large-vocabulary path, and Liger's z-loss rule under class weights. The torch reference (F.linear,
/// the cap, cross_entropy, the z-loss) is in torch_diff.
/// </summary>
public sealed class LinearCrossEntropyLossTests
{
    [Fact]
    public void The_exact_path_equals_the_chunked_kernel_to_float32_round_off()
    {
        var r = new Random(5);
        int n = 9, d = 6, v = 40;
        float[] h = [.. Enumerable.Range(0, n * d).Select(_ => (float)(r.NextDouble() * 2 - 1))];
        float[] w = [.. Enumerable.Range(0, v * d).Select(_ => (float)(r.NextDouble() * 2 - 1))];
        float[] b = [.. Enumerable.Range(0, v).Select(_ => (float)(r.NextDouble() - 0.5))];
        int[] y = [.. Enumerable.Range(0, n).Select(i => i == 3 ? -100 : r.Next(v))];
        var options = T.Opt(("label_smoothing", 0.1), ("lse_square_scale", 1e-3), ("softcap", 2.0));
        LossResult exact = LossRegistry.Default.Create("linear_cross_entropy", options).Evaluate(T.In(("lin_weight", T.Shaped(w, v, d)), ("_input", T.Shaped(h, n, d)),
            ("target", TensorData.FromArray(y.Select(t => (long)t).ToArray(), n)), ("bias", T.F(b))));
        float[] gh = new float[h.Length], gw = new float[w.Length], gb = new float[v];
        double fused = LinearCrossEntropy.Compute(h, w, b, y, d, gh, gw, gb,
            new LinearCrossEntropyOptions { LabelSmoothing = 0.1f, ZLoss = 1e-3f, SoftCap = 2f, ChunkRows = 4, VocabBlock = 16 });
        T.Close(fused, exact.Scalar, 1e-5, 1e-6);
        T.Close([.. gh.Select(g => (double)g)], exact.Gradient("_input"), 1e-4, 1e-6);
        T.Close([.. gw.Select(g => (double)g)], exact.Gradient("lin_weight"), 1e-4, 1e-6);
        T.Close([.. gb.Select(g => (double)g)], exact.Gradient("bias"), 1e-4, 1e-6);
    }

    [Fact]
    public void With_class_weights_the_mean_divides_the_z_loss_by_the_counted_rows_as_liger()
    {
        // Two counted rows of weights 2 and 0.5 and an ignored one: CE over Σw_y = 2.5, the z-loss over 2 rows.
        var x = T.D2(new double[,] { { 1, -1, 0.5 }, { 0, 2, -3 }, { 4, 4, 4 } });
        var y = T.I(0, 1, -100);
        var weight = T.D(2, 0.5, 1);
        double Lse(int row) => Math.Log(Enumerable.Range(0, 3).Sum(c => Math.Exp(x.GetDouble(row * 3 + c))));
        double ce0 = Lse(0) - 1, ce1 = Lse(1) - 2;
        double expected = (2 * ce0 + 0.5 * ce1) / 2.5 + 0.1 * (Lse(0) * Lse(0) + Lse(1) * Lse(1)) / 2;
        T.Close(expected, LossRegistry.Default.Create("cross_entropy", T.Opt(("weight", weight), ("z_loss", 0.1))).Evaluate(T.In(("input", x), ("target", y))).Scalar, 1e-14, 0);
        // The float32 (SIMD) path agrees.
        T.Close(expected, LossRegistry.Default.Create("cross_entropy", T.Opt(("weight", weight), ("z_loss", 0.1))).Evaluate(T.As(T.In(("input", x), ("target", y)), DType.Float32)).Scalar, 1e-6, 0);
    }

    [Fact]
    public void Shapes_are_named_and_training_says_it_needs_a_prediction_target_loss()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("linear_cross_entropy").Evaluate(
            T.In(("lin_weight", T.D2(new double[,] { { 1, 2, 3 } })), ("_input", T.D2(new double[,] { { 1, 2 } })), ("target", T.I(0)))));
        Assert.Contains("'lin_weight' has shape (1, 3); expected (V, D) = (V, 2)", e.Message);
        Assert.Contains("softcap must be a finite number > 0", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("linear_cross_entropy", T.Opt(("softcap", -1.0)))).Message);
        Assert.Contains("lse_square_scale must be a finite number ≥ 0", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("linear_cross_entropy", T.Opt(("lse_square_scale", -1.0)))).Message);
        var train = Assert.Throws<LossArgumentException>(() => LossLab.Training.Trainer.Train(Datasets.Load("iris"), new LossLab.Training.TrainingOptions { Loss = "linear_cross_entropy", Epochs = 1 }));
        Assert.Contains("train with cross_entropy, the same loss on the model's logits", train.Message);
    }
}
