using LossLab.Data;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Data;

/// <summary>The lab's seeded corruptions do what their documentation says, and the same seed gives the same data.</summary>
public sealed class CorruptionTests
{
    private static int[] Counts(Dataset d) => [.. Enumerable.Range(0, d.Classes).Select(k => d.Targets.Count(t => (int)t == k))];

    [Fact]
    public void A_long_tail_keeps_an_exponential_share_of_each_class()
    {
        Dataset digits = Datasets.Load("digits");
        int[] before = Counts(digits);
        Dataset tail = Corruption.LongTail(digits, 0.05, seed: 3);
        int[] after = Counts(tail);
        for (int k = 0; k < 10; k++) Assert.Equal((int)Math.Ceiling(before[k] * Math.Pow(0.05, k / 9.0)), after[k]);
        Assert.Equal(before[0], after[0]);
        // The same seed gives the same rows, another seed other rows of the tail classes.
        Assert.Equal(Corruption.LongTail(digits, 0.05, 3).Features, tail.Features);
        Assert.NotEqual(Corruption.LongTail(digits, 0.05, 4).Features, tail.Features);
        Assert.Throws<ArgumentOutOfRangeException>(() => Corruption.LongTail(digits, 0, 1));
        Assert.Throws<ArgumentException>(() => Corruption.LongTail(Datasets.Load("diabetes"), 0.5, 1));
    }

    [Fact]
    public void Subsampling_outliers_and_flips_touch_only_what_they_say()
    {
        Dataset cancer = Datasets.Load("breast_cancer");
        int[] before = Counts(cancer);
        int[] after = Counts(Corruption.SubsampleClass(cancer, 0, 0.1, 2));
        Assert.Equal(before[1], after[1]);
        Assert.InRange(after[0], 5, 45);   // about 21 of 212
        Dataset diabetes = Datasets.Load("diabetes");
        var (outlying, rows) = Corruption.InjectOutliers(diabetes, 0.1, 5, 1);
        Assert.Equal((int)Math.Round(diabetes.Rows * 0.1), rows.Length);
        for (int i = 0; i < diabetes.Rows; i++) Assert.Equal(diabetes.Targets[i] * (rows.Contains(i) ? 5 : 1), outlying.Targets[i]);
        Dataset digits = Datasets.Load("digits");
        var (flipped, changed) = Corruption.FlipLabels(digits, 0.2, 1);
        for (int i = 0; i < digits.Rows; i++) Assert.Equal(!changed.Contains(i), flipped.Targets[i] == digits.Targets[i]);
    }
}
