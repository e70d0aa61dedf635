using LossLab.Losses.Segmentation;

namespace LossLab.Tests.Losses.Segmentation;

/// <summary>The Lovász losses' error order: a stable descending sort, as LINQ's OrderByDescending gives it.</summary>
public sealed class LovaszOrderTests
{
    [Fact]
    public void The_order_is_a_stable_descending_sort_with_ties_nan_and_signed_zeros()
    {
        var r = new Random(8);
        foreach (int n in new[] { 0, 1, 2, 17, 1000 })
        {
            double[] errors = [.. Enumerable.Range(0, n).Select(_ => r.Next(10) switch
            {
                0 => double.NaN,
                1 => -0.0,
                2 => 0.0,
                3 => double.PositiveInfinity,
                4 => double.NegativeInfinity,
                _ => r.Next(-3, 4) / 2.0,   // many exact ties
            })];
            int[] expected = [.. Enumerable.Range(0, n).OrderByDescending(i => errors[i])];
            Assert.Equal(expected, Lovasz.Order(errors));
        }
    }
}
