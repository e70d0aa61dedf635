using LossLab.Autograd;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Autograd;

/// <summary>Every primitive's backward rule against central differences in double, broadcasting included.</summary>
public sealed class OpsGradientTests
{
    private static Tensor Leaf(Random r, params int[] shape)
        => Tensor.FromArray(LossSamples.Normal(r, shape.Aggregate(1, (a, b) => a * b)), shape, LossLab.Numerics.DType.Float64, requiresGrad: true);

    private static Tensor Positive(Random r, params int[] shape)
        => Tensor.FromArray(LossSamples.Uniform(r, shape.Aggregate(1, (a, b) => a * b), 0.5, 2), shape, LossLab.Numerics.DType.Float64, requiresGrad: true);

    /// <summary>
    /// Checks ∂(Σ wᵢ·f(leaves)ᵢ)/∂leaf for random weights w (so every output element's gradient matters),
    /// against central differences on every leaf element.
    /// </summary>
    private static void Check(Func<Tensor[], Tensor> f, params Tensor[] leaves)
    {
        Tensor probe = f(leaves);
        var weights = Tensor.FromArray(LossSamples.Normal(new Random(99), probe.Length), [.. probe.Shape.Dims]);
        Tensor Objective() => Ops.Sum(Ops.Mul(f(leaves), weights));
        foreach (Tensor leaf in leaves) leaf.ZeroGrad();
        Objective().Backward();
        foreach (Tensor leaf in leaves)
        {
            double[] data = leaf.Data;
            double[] analytic = leaf.Grad?.ToArray() ?? new double[data.Length];
            for (int i = 0; i < data.Length; i++)
            {
                double saved = data[i], h = 1e-6;
                data[i] = saved + h;
                double plus = Objective().Item();
                data[i] = saved - h;
                double minus = Objective().Item();
                data[i] = saved;
                T.Close((plus - minus) / (2 * h), analytic[i], rel: 1e-6, abs: 1e-8);
            }
        }
    }

    [Fact] public void Add_sub_mul_div_with_broadcasting()
    {
        var r = new Random(1);
        Check(t => t[0] + t[1], Leaf(r, 3, 4), Leaf(r, 4));
        Check(t => t[0] - t[1], Leaf(r, 3, 1), Leaf(r, 1, 4));
        Check(t => t[0] * t[1], Leaf(r, 2, 3, 4), Leaf(r, 3, 1));
        Check(t => t[0] / t[1], Leaf(r, 3, 4), Positive(r, 4));
        Check(t => 2.5 * t[0] - t[0] / 3 + 1, Leaf(r, 5));
    }

    [Fact] public void Unary_functions()
    {
        var r = new Random(2);
        Check(t => Ops.Neg(t[0]), Leaf(r, 6));
        Check(t => Ops.Exp(t[0]), Leaf(r, 6));
        Check(t => Ops.Log(t[0]), Positive(r, 6));
        Check(t => Ops.Sqrt(t[0]), Positive(r, 6));
        Check(t => Ops.Abs(t[0]), Leaf(r, 6));
        Check(t => Ops.Relu(t[0]), Leaf(r, 6));
        Check(t => Ops.Sigmoid(t[0]), Leaf(r, 6));
        Check(t => Ops.Tanh(t[0]), Leaf(r, 6));
        Check(t => Ops.Softplus(t[0]), Leaf(r, 6));
        Check(t => Ops.Pow(t[0], 3), Leaf(r, 6));
        Check(t => Ops.Pow(t[0], 0.5), Positive(r, 6));
        Check(t => Ops.Clamp(t[0], -0.5, 0.5), Leaf(r, 6));
    }

    [Fact] public void Binary_pow_min_max_and_where()
    {
        var r = new Random(3);
        Check(t => Ops.Pow(t[0], t[1]), Positive(r, 2, 3), Leaf(r, 3));
        Check(t => Ops.Minimum(t[0], t[1]), Leaf(r, 2, 3), Leaf(r, 2, 3));
        Check(t => Ops.Maximum(t[0], t[1]), Leaf(r, 2, 3), Leaf(r, 1, 3));
        Check(t => Ops.Where(Ops.Greater(t[0], t[1]), t[0] * t[0], t[1] - t[0]), Leaf(r, 3, 4), Leaf(r, 4));
    }

    [Fact] public void Reductions_over_axes_and_everything()
    {
        var r = new Random(4);
        Check(t => Ops.Sum(t[0]), Leaf(r, 2, 3, 4));
        Check(t => Ops.Sum(t[0], axis: 1), Leaf(r, 2, 3, 4));
        Check(t => Ops.Mean(t[0], axis: -1, keepDim: true), Leaf(r, 2, 3, 4));
        Check(t => Ops.Max(t[0], axis: 0), Leaf(r, 3, 4));
        Check(t => Ops.LogSumExp(t[0], axis: 1), Leaf(r, 3, 4));
        Check(t => Ops.Softmax(t[0]), Leaf(r, 3, 4));
        Check(t => Ops.LogSoftmax(t[0], axis: 1), Leaf(r, 2, 3, 4));
    }

    [Fact] public void Shape_and_indexing_operations()
    {
        var r = new Random(5);
        Check(t => Ops.MatMul(t[0], t[1]), Leaf(r, 3, 4), Leaf(r, 4, 2));
        Check(t => Ops.MatMul(t[0], t[1]), Leaf(r, 4), Leaf(r, 4, 2));
        Check(t => Ops.Reshape(t[0], 4, -1), Leaf(r, 2, 6));
        Check(t => Ops.Transpose(t[0]), Leaf(r, 3, 4));
        Check(t => Ops.Transpose(t[0], 0, 2), Leaf(r, 2, 3, 4));
        var index = Tensor.FromArray([2, 0, 1, 1, 0, 2], [3, 2]);
        Check(t => Ops.Gather(t[0], 1, index), Leaf(r, 3, 4));
        Check(t => Ops.Concat([t[0], t[1]], axis: 1), Leaf(r, 2, 3), Leaf(r, 2, 1));
        Check(t => t[0] * Ops.OneHot(Tensor.FromArray([1, 0, 2], [3]), 3, LossLab.Numerics.DType.Float64), Leaf(r, 3, 3));
    }

    [Fact]
    public void Kinks_follow_PyTorch_relu_abs_clamp_and_tie_splitting()
    {
        var x = Tensor.FromArray([0.0, -1, 1], [3], requiresGrad: true);
        Ops.Sum(Ops.Relu(x) + Ops.Abs(x) + Ops.Clamp(x, -1, 1)).Backward();
        Assert.Equal([0.0 + 0 + 1, 0 - 1 + 1, 1 + 1 + 1], x.Grad!.ToArray());
        var a = Tensor.FromArray([2.0], [1], requiresGrad: true);
        var b = Tensor.FromArray([2.0], [1], requiresGrad: true);
        Ops.Sum(Ops.Maximum(a, b)).Backward();
        Assert.Equal(0.5, a.Grad!.Item());
        Assert.Equal(0.5, b.Grad!.Item());
        var m = Tensor.FromArray([3.0, 3, 1], [3], requiresGrad: true);
        Ops.Max(m).Backward();
        Assert.Equal([0.5, 0.5, 0], m.Grad!.ToArray());
    }

    [Fact]
    public void NaN_comes_through_relu_and_max_as_in_PyTorch()
    {
        // torch.relu(nan) = nan with gradient 1 (a NaN activation must not turn into a silent 0); torch.max of a row
        // holding NaN is NaN and its NaN elements share the gradient.
        var x = Tensor.FromArray([double.NaN, -1, 2], [3], requiresGrad: true);
        Tensor r = Ops.Relu(x);
        Assert.True(double.IsNaN(r.ToArray()[0]));
        Assert.Equal([0.0, 2], r.ToArray()[1..]);
        Ops.Sum(r).Backward();
        Assert.Equal([1.0, 0, 1], x.Grad!.ToArray());
        var m = Tensor.FromArray([1, double.NaN, 3, double.NaN], [4], requiresGrad: true);
        Tensor top = Ops.Max(m);
        Assert.True(double.IsNaN(top.Item()));
        top.Backward();
        Assert.Equal([0.0, 0.5, 0, 0.5], m.Grad!.ToArray());
    }

    [Fact]
    public void The_branch_where_did_not_take_never_leaks_NaN_into_the_gradient()
    {
        // sqrt(x) has an infinite derivative at 0 and log(x) a NaN one below 0; where() never takes those branches.
        var x = Tensor.FromArray([0.0, -1.0, 4.0], [3], requiresGrad: true);
        Tensor safe = Ops.Where(Ops.Greater(x, x.Constant(0)), Ops.Sqrt(x) + Ops.Log(x), x.Constant(0));
        Ops.Sum(safe).Backward();
        Assert.Equal([0.0, 0.0, 0.25 + 0.25], x.Grad!.ToArray());
    }

    [Fact]
    public void Gradients_accumulate_until_zeroed_and_shared_subexpressions_add_up()
    {
        var x = Tensor.FromArray([3.0], [1], requiresGrad: true);
        Tensor y = x * x;               // used twice below: d(y + y)/dx = 4x
        Ops.Sum(y + y).Backward();
        Assert.Equal(12, x.Grad!.Item());
        Ops.Sum(x * 2).Backward();
        Assert.Equal(14, x.Grad!.Item());
        x.ZeroGrad();
        Assert.Null(x.Grad);
        var v = Tensor.FromArray([1.0, 2.0], [2], requiresGrad: true);
        Assert.Throws<InvalidOperationException>(() => (v * v).Backward());   // two elements need an explicit seed
        Assert.Throws<InvalidOperationException>(() => Tensor.Scalar(1).Backward());   // nothing requires gradients
    }

    [Fact]
    public void Float32_tensors_round_every_result_and_shapes_are_checked()
    {
        var x = Tensor.FromArray(new float[] { 1f / 3 }, 1);
        Tensor y = x * 3;
        Assert.Equal(LossLab.Numerics.DType.Float32, y.DType);
        Assert.Equal((double)(float)((double)(1f / 3) * 3), y.Item());
        var e = Assert.Throws<LossLab.Numerics.LossArgumentException>(() => Ops.Add(Tensor.Zeros(new LossLab.Numerics.Shape(2, 3)), Tensor.Zeros(new LossLab.Numerics.Shape(4))));
        Assert.Contains("(2, 3)", e.Message);
        Assert.Throws<LossLab.Numerics.LossArgumentException>(() => Ops.MatMul(Tensor.Zeros(new LossLab.Numerics.Shape(2, 3)), Tensor.Zeros(new LossLab.Numerics.Shape(2, 3))));
    }

    [Fact]
    public async Task Two_graphs_on_two_threads_do_not_interfere()
    {
        double Run(double v)
        {
            double last = 0;
            for (int k = 0; k < 200; k++)
            {
                var x = Tensor.FromArray([v], [1], requiresGrad: true);
                Ops.Sum(Ops.Exp(x) * x).Backward();
                last = x.Grad!.Item();
            }
            return last;
        }
        double[] results = await Task.WhenAll(Task.Run(() => Run(0.5)), Task.Run(() => Run(-1.5)));
        T.Close(Math.Exp(0.5) * 1.5, results[0], rel: 1e-15);
        T.Close(Math.Exp(-1.5) * -0.5, results[1], rel: 1e-15);
    }
}
