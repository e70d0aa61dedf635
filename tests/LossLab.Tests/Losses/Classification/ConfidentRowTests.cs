using LossLab.Autograd;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>
/// A confident row at large logits: p_0 = 1 − 5.48e-6, so the loss is about 5.48e-6. In float32, log p must be taken
/// as (x − max) − log Σ exp(x − max), as PyTorch does: x − lse with lse rounded to float32 (ulp 7.6e-6 at 105) got
/// this row's loss and gradient wrong in the leading digit (7.63e-6). Found by tools/torch_diff.py.
/// </summary>
public sealed class ConfidentRowTests
{
    // (1, 4): class 0 leads class 2 by 12.11, the others are far below. Every value is a float32.
    private static readonly float[] Row = [105.27843475341797f, -116.87604522705078f, 93.16403198242188f, 63.70144271850586f];

    private static double Exact => Math.Log(Row.Sum(v => Math.Exp((double)v - Row[0])));   // −log p_0 in double

    public static TheoryData<string, string> Layouts => new()
    {
        { "cross_entropy", "(N, C)" },            // the fused SIMD kernel
        { "cross_entropy", "(N, C, 2)" },         // the strided general path
        { "cross_entropy", "probabilities" },
        { "generalized_cross_entropy", "(N, C)" },
        { "symmetric_cross_entropy", "(N, C)" },
        { "sparse_categorical_focal_loss", "(N, C)" },
        { "poly_loss_cross_entropy", "probabilities" },
        { "keras.sparse_categorical_crossentropy", "(N, C)" },
        { "keras.categorical_crossentropy", "probabilities" },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Float32_keeps_the_small_loss_and_gradient_of_a_confident_row(string name, string layout)
    {
        LossResult single = Evaluate(name, layout, DType.Float32), dbl = Evaluate(name, layout, DType.Float64);
        double v32 = single.Value.GetDouble(0), v64 = dbl.Value.GetDouble(0);
        Assert.True(v64 > 1e-7 && v64 < 1e-4, $"{name}: the reference value {v64} is not the confident row's");
        // The row's float32 sum of exponentials is 1 + 5.48e-6, rounded to float32's spacing at 1 (1.2e-7), as in
        // PyTorch; the old path was off by 2.1e-6.
        Assert.True(Math.Abs(v32 - v64) <= 1.2e-7, $"{name} {layout}: float32 {v32:R} against float64 {v64:R}");
        TensorData g32 = single.Gradient(InputName(name)), g64 = dbl.Gradient(InputName(name));
        for (int i = 0; i < g64.Length; i++)
        {
            // float32's spacing near 1 is 6e-8; the old path was off by 2.1e-6 at class 0.
            Assert.True(Math.Abs(g32.GetDouble(i) - g64.GetDouble(i)) <= 1e-7 + 1e-5 * Math.Abs(g64.GetDouble(i)),
                $"{name} {layout}: gradient {i} is {g32.GetDouble(i):R} in float32, {g64.GetDouble(i):R} in float64");
        }
        // PyTorch 1.13 (CPU, float32): F.cross_entropy(x, [0], reduction='none') = 5.483612312673358e-06. The fused
        // kernel sums in float32 as PyTorch does and matches it bit for bit; the strided path sums in double.
        if (name == "cross_entropy" && layout == "(N, C)") Assert.Equal(5.483612312673358e-06, v32);
    }

    [Fact]
    public void Stable_log_softmax_and_the_autograd_op_keep_the_confident_row()
    {
        var lp = new float[4];
        Stable.LogSoftmax<float>(Row, lp);
        T.Close(-Exact, lp[0], rel: 1e-4);

        Tensor x = Tensor.FromData(T.Shaped(Row, 1, 4), requiresGrad: true);
        Assert.Equal(DType.Float32, x.DType);
        Tensor logp = Ops.LogSoftmax(x);
        T.Close(-Exact, logp.Data[0], rel: 1e-4);
        Ops.Sum(logp * Tensor.FromArray([1.0, 0, 0, 0], [1, 4])).Backward();
        // ∂ log p_0 / ∂x = onehot_0 − p: for class 0, 1 − p_0 = 5.48e-6.
        double others = Row.Skip(1).Sum(v => Math.Exp((double)v - Row[0]));
        T.Close(others / (1 + others), x.Grad!.Data[0], rel: 1e-2);
    }

    private static string InputName(string name) => name switch
    {
        "poly_loss_cross_entropy" => "logits",
        _ when name.StartsWith("keras.", StringComparison.Ordinal) => "y_pred",
        _ => "input",
    };

    private static LossResult Evaluate(string name, string layout, DType dtype)
    {
        // (N, C, 2) holds the row at both positions: x[0, c, j] = Row[c].
        float[] values = layout == "(N, C, 2)" ? [.. Row.SelectMany(v => new[] { v, v })] : Row;
        Shape shape = layout == "(N, C, 2)" ? new Shape(1, 4, 2) : new Shape(1, 4);
        TensorData x = dtype == DType.Float64
            ? TensorData.Create(shape, DType.Float64, values.Select(v => (double)v).ToArray())
            : TensorData.Create(shape, DType.Float32, values);
        TensorData oneHot = TensorData.Create(new Shape(1, 4), dtype, dtype == DType.Float32 ? new float[] { 1, 0, 0, 0 } : new double[] { 1, 0, 0, 0 });
        TensorData index = layout == "(N, C, 2)" ? T.Shaped(new long[] { 0, 0 }, 1, 2) : T.I(0);
        var inputs = (name, layout) switch
        {
            ("poly_loss_cross_entropy", _) => T.In(("logits", x), ("labels", oneHot)),
            ("keras.sparse_categorical_crossentropy", _) => T.In(("y_true", index), ("y_pred", x)),
            ("keras.categorical_crossentropy", _) => T.In(("y_true", oneHot), ("y_pred", x)),
            (_, "probabilities") => T.In(("input", x), ("target", oneHot)),
            _ => T.In(("input", x), ("target", index)),
        };
        var options = new Dictionary<string, object?> { ["reduction"] = "none" };
        if (name.StartsWith("keras.", StringComparison.Ordinal)) options["from_logits"] = true;
        if (name == "sparse_categorical_focal_loss") options["gamma"] = 0.0;   // (1 − p)^γ would make the value 1e-16
        return LossRegistry.Default.Create(name, options).Evaluate(inputs);
    }
}
