using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using LossLab.Losses.Fused;

namespace LossLab.Benchmarks;

/// <summary>
/// Cross-entropy of a few long rows (evaluation or decoding batches), gradient in place, with the logits followed by
/// memory the process never touched against the same logits followed by touched memory (the baseline). Pass 2
/// prefetches the next row's lines; if the last row did so too, its prefetches would run past the logits into pages
/// with no mapping yet, and on a virtual machine each one walks the page tables in vain: on the AVX2 host that made
/// 1×128256 4.7× slower (556 against 118 µs) and 4×32000 2.7×. The ratio here should stay near 1.
/// </summary>
public unsafe class RowsBeforeUntouchedPagesBenchmarks
{
    [Params("1x128256", "4x32000")]
    public string Shape { get; set; } = "1x128256";

    // Fresh mappings: above glibc's largest mmap threshold (32 MB), so no allocation reuses touched memory.
    private const long MappingBytes = 64L << 20;

    private int _c;
    private int[] _t = null!;
    private float* _touchedAfter, _untouchedAfter;
    private int _length;

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Shape.Split('x');
        int n = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
        _c = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        _length = n * _c;
        var r = new Random(1);
        _t = [.. Enumerable.Range(0, n).Select(_ => r.Next(_c))];
        _touchedAfter = (float*)NativeMemory.Alloc((nuint)MappingBytes);
        _untouchedAfter = (float*)NativeMemory.Alloc((nuint)MappingBytes);
        // Touched: the logits and the 4 MB after them written; untouched: only the logits.
        new Span<float>(_touchedAfter, _length + (1 << 20)).Clear();
        for (int i = 0; i < _length; i++) _touchedAfter[i] = _untouchedAfter[i] = (float)(r.NextDouble() * 8 - 4);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.Free(_touchedAfter);
        NativeMemory.Free(_untouchedAfter);
    }

    [Benchmark(Baseline = true)]
    public double FollowedByTouchedPages() => InPlace(_touchedAfter);

    [Benchmark]
    public double FollowedByUntouchedPages() => InPlace(_untouchedAfter);

    /// <summary>Later iterations run on the previous gradient, which costs the same (every row stays finite).</summary>
    private double InPlace(float* x)
    {
        var logits = new Span<float>(x, _length);
        return FusedCrossEntropy.Compute(logits, _t, _c, logits, threads: 1);
    }
}
