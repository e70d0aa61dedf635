using LossLab.Losses.Core;

namespace LossLab.Tests.Losses;

public sealed class ReducerTests
{
    [Fact]
    public void Each_reduction_gives_its_value_and_backward_scale()
    {
        double[] v = [1, 2, 3, 4];
        Assert.Equal(new Reducer.Reduced(10, 1), Reducer.Reduce<double>(v, Reduction.Sum, 4));
        Assert.Equal(new Reducer.Reduced(2.5, 0.25), Reducer.Reduce<double>(v, Reduction.Mean, 4));
        Assert.Equal(new Reducer.Reduced(5, 0.5), Reducer.Reduce<double>(v, Reduction.BatchMean, 2));
        var none = Reducer.Reduce<double>(v, Reduction.None, 4);
        Assert.Equal(1, none.Scale);
    }

    [Theory]
    [InlineData(Reduction.None, 4, 1.0)]
    [InlineData(Reduction.Sum, 4, 1.0)]
    [InlineData(Reduction.Mean, 4, 0.25)]
    [InlineData(Reduction.BatchMean, 2, 0.5)]
    [InlineData(Reduction.Mean, 0, double.PositiveInfinity)]
    public void The_scale_known_up_front_is_the_one_the_reduction_gives(Reduction r, double denominator, double expected)
    {
        Assert.Equal(expected, Reducer.Scale(r, denominator));
        Assert.Equal(Reducer.Reduce<double>(new double[(int)denominator], r, denominator).Scale, Reducer.Scale(r, denominator));
    }

    [Fact]
    public void Mean_of_nothing_is_NaN_with_an_infinite_scale()
    {
        var r = Reducer.Reduce<double>([], Reduction.Mean, 0);
        Assert.True(double.IsNaN(r.Value));
        Assert.Equal(double.PositiveInfinity, r.Scale);
        Assert.Equal(0, Reducer.Reduce<double>([], Reduction.Sum, 0).Value);
    }

    [Fact]
    public void Float32_sums_are_compensated_and_infinities_survive()
    {
        var v = new float[1_000_001];
        v[0] = 1e8f;
        for (int i = 1; i < v.Length; i++) v[i] = 1f;
        Assert.Equal(1e8 + 1e6, Reducer.Sum<float>(v));
        Assert.Equal(double.PositiveInfinity, Reducer.Sum<float>([1, float.PositiveInfinity]));
        Assert.True(double.IsNaN(Reducer.Sum<float>([float.PositiveInfinity, float.NegativeInfinity])));
    }

    [Theory]
    [InlineData("none", Reduction.None)]
    [InlineData("mean", Reduction.Mean)]
    [InlineData("sum", Reduction.Sum)]
    [InlineData("batchmean", Reduction.BatchMean)]
    public void Names_round_trip(string name, Reduction r)
    {
        Assert.Equal(r, Reducer.Parse(name));
        Assert.Equal(name, r.Name());
    }

    [Fact]
    public void Unknown_reduction_names_are_rejected()
        => Assert.Equal(LossErrorCode.InvalidValue, Assert.Throws<LossArgumentException>(() => Reducer.Parse("avg")).Code);
}
