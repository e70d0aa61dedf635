using LossLab.Numerics.Simd;
using Xunit;

namespace LossLab.Tests.Numerics;

/// <summary>
/// The claim protocol of <see cref="RangeJob"/>: every part of every call runs exactly once, late queued items of
/// earlier calls never run a part twice or a part of a finished call, sums come back in part order, and errors
/// surface without spoiling the next call.
/// </summary>
public class RangeJobTests
{
    private sealed class CountingJob : RangeJob
    {
        public readonly int[] Hits = new int[16];
        public int Call;
        public int Throw = -1;

        protected override double RunPart(int part)
        {
            Interlocked.Increment(ref Hits[part]);
            Thread.SpinWait(20 * (part + 1));   // uneven parts, so that workers and the caller interleave
            if (part == Throw) throw new InvalidOperationException($"part {part}");
            return part + 1000.0 * Call;
        }
    }

    [Fact]
    public void EveryPartRunsExactlyOnceAcrossManyCalls()
    {
        var job = new CountingJob();
        for (int call = 0; call < 3000; call++)
        {
            int parts = 2 + call % 9;
            Array.Clear(job.Hits);
            job.Call = call;
            double total = job.Run(parts);
            for (int p = 0; p < job.Hits.Length; p++) Assert.Equal(p < parts ? 1 : 0, job.Hits[p]);
            double expected = 0;
            for (int p = 0; p < parts; p++) expected += p + 1000.0 * call;
            Assert.Equal(expected, total);
        }
    }

    [Fact]
    public void AnErrorInOnePartSurfacesAndTheNextCallIsClean()
    {
        var job = new CountingJob { Throw = 2 };
        var e = Assert.Throws<InvalidOperationException>(() => job.Run(4));
        Assert.Equal("part 2", e.Message);
        Assert.All(job.Hits[..4], h => Assert.Equal(1, h));   // the other parts still ran, once
        job.Throw = -1;
        Array.Clear(job.Hits);
        Assert.Equal(0 + 1 + 2 + 3, job.Run(4));
        Assert.All(job.Hits[..4], h => Assert.Equal(1, h));
    }

    [Fact]
    public void PartsAreCappedAndOnePartRunsInline()
    {
        var job = new CountingJob();
        Assert.Equal(0, job.Run(1));
        Assert.Equal(1, job.Hits[0]);
        Assert.Equal(ushort.MaxValue, RangeJob.MaxParts);
    }
}
