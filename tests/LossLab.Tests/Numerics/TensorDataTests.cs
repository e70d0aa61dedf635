using LossLab.Numerics;

namespace LossLab.Tests.Numerics;

public sealed class TensorDataTests
{
    [Fact]
    public void Shapes_print_like_PyTorch_and_count_elements()
    {
        Assert.Equal("()", Shape.Scalar.ToString());
        Assert.Equal("(5,)", new Shape(5).ToString());
        Assert.Equal("(2, 3)", new Shape(2, 3).ToString());
        Assert.Equal(1, Shape.Scalar.Numel);
        Assert.Equal(0, new Shape(0, 3).Numel);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shape(-1));
        Assert.Equal(new Shape(4, 3), Shape.Broadcast(new Shape(4, 1), new Shape(3)));
        Assert.Null(Shape.Broadcast(new Shape(4, 2), new Shape(3)));
    }

    [Fact]
    public void Broadcasting_repeats_size_one_dims()
    {
        var col = TensorData.FromArray(new double[] { 1, 2 }, 2, 1);
        Assert.Equal([1.0, 1, 1, 2, 2, 2], col.BroadcastTo<double>(new Shape(2, 3))!);
        var row = TensorData.FromArray(new double[] { 1, 2, 3 }, 3);
        Assert.Equal([1.0, 2, 3, 1, 2, 3], row.BroadcastTo<double>(new Shape(2, 3))!);
        Assert.Null(row.BroadcastTo<double>(new Shape(2, 4)));
        Assert.Null(TensorData.FromArray(new double[6], 2, 3).BroadcastTo<double>(new Shape(3)));
    }

    [Fact]
    public void Construction_checks_the_element_count_and_conversion_keeps_values()
    {
        Assert.Throws<ArgumentException>(() => TensorData.FromArray(new float[5], 2, 3));
        var t = TensorData.FromArray(new long[] { 1, 2, 3 }, 3);
        Assert.Equal([1.0f, 2f, 3f], t.ToDType(DType.Float32).AsSpan<float>().ToArray());
        Assert.Throws<InvalidOperationException>(() => t.AsSpan<float>());
    }
}
