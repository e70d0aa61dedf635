using LossLab.Losses.Core;
using LossLab.Losses.Fused;
using Xunit;

namespace LossLab.Tests.Losses.Fused;

/// <summary>The chunked linear + cross-entropy against the unfused path (float round-off) and the unfused path against double-precision loops.</summary>
public class LinearCrossEntropyTests
{
    private sealed record Problem(int N, int D, int V, float[] H, float[] W, float[] B, int[] T);

    private static Problem Make(int n, int d, int v, int seed, bool bias = true, bool ignore = false)
    {
        var r = new Random(seed);
        float[] h = [.. Enumerable.Range(0, n * d).Select(_ => (float)(r.NextDouble() * 2 - 1))];
        float[] w = [.. Enumerable.Range(0, v * d).Select(_ => (float)((r.NextDouble() * 2 - 1) * 0.5))];
        float[] b = bias ? [.. Enumerable.Range(0, v).Select(_ => (float)(r.NextDouble() - 0.5))] : [];
        int[] t = [.. Enumerable.Range(0, n).Select(i => ignore && i % 5 == 3 ? -100 : r.Next(v))];
        return new(n, d, v, h, w, b, t);
    }

    private static (double Value, float[] GH, float[] GW, float[] GB) Run(Problem p, LinearCrossEntropyOptions o, bool fused)
    {
        float[] gh = new float[p.H.Length], gw = new float[p.W.Length], gb = new float[p.B.Length];
        double v = fused
            ? LinearCrossEntropy.Compute(p.H, p.W, p.B, p.T, p.D, gh, gw, gb, o)
            : LinearCrossEntropy.ComputeUnfused(p.H, p.W, p.B, p.T, p.D, gh, gw, gb, o);
        return (v, gh, gw, gb);
    }

    private static void Close(float[] expected, float[] actual, double tol, string what)
    {
        double scale = Math.Max(1e-30, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * scale, $"{what}[{i}]: {actual[i]} vs {expected[i]}");
    }

    public static TheoryData<string> Variants => new() { "plain", "blocks", "blocks_smoothing_z", "softcap", "softcap_blocks", "sum_ignore", "no_bias_blocks", "tiny_chunks" };

    private static (Problem P, LinearCrossEntropyOptions O) Variant(string name) => name switch
    {
        "plain" => (Make(37, 24, 300, 1), new()),
        "blocks" => (Make(37, 24, 300, 2), new() { VocabBlock = 64, ChunkRows = 16 }),
        "blocks_smoothing_z" => (Make(37, 24, 300, 3), new() { VocabBlock = 96, ChunkRows = 8, LabelSmoothing = 0.1f, ZLoss = 1e-3f }),
        "softcap" => (Make(29, 16, 200, 4), new() { SoftCap = 2f }),
        "softcap_blocks" => (Make(29, 16, 200, 5), new() { SoftCap = 2f, VocabBlock = 50, LabelSmoothing = 0.05f }),
        "sum_ignore" => (Make(40, 16, 130, 6, ignore: true), new() { Reduction = Reduction.Sum, ChunkRows = 7 }),
        "no_bias_blocks" => (Make(33, 20, 257, 7, bias: false, ignore: true), new() { VocabBlock = 33 }),
        _ => (Make(19, 8, 70, 8), new() { ChunkRows = 1, VocabBlock = 1 }),
    };

    [Theory, MemberData(nameof(Variants))]
    public void ChunkedEqualsUnfusedToFloatRoundOff(string name)
    {
        var (p, o) = Variant(name);
        var expected = Run(p, o, fused: false);
        var actual = Run(p, o, fused: true);
        Assert.Equal(expected.Value, actual.Value, 1e-5 * Math.Max(1, Math.Abs(expected.Value)));
        Close(expected.GH, actual.GH, 1e-5, $"{name} ∂H");
        Close(expected.GW, actual.GW, 1e-5, $"{name} ∂W");
        if (p.B.Length > 0) Close(expected.GB, actual.GB, 1e-5, $"{name} ∂b");
    }

    /// <summary>The unfused path against the definition, in double: logits, log-softmax, smoothing, z-loss, soft-cap, all derivatives by hand.</summary>
    [Theory, MemberData(nameof(Variants))]
    public void UnfusedEqualsTheDefinitionInDouble(string name)
    {
        var (p, o) = Variant(name);
        var actual = Run(p, o, fused: false);
        int n = p.N, d = p.D, v = p.V;
        double eps = o.LabelSmoothing, zs = o.ZLoss, c = o.SoftCap, total = 0, count = p.T.Count(t => t != o.IgnoreIndex);
        double scale = o.Reduction == Reduction.Mean ? 1 / count : 1;
        var gh = new double[n * d];
        var gw = new double[v * d];
        var gb = new double[v];
        for (int r = 0; r < n; r++)
        {
            int y = p.T[r];
            if (y == o.IgnoreIndex) continue;
            var z = new double[v];
            var f = new double[v];
            for (int j = 0; j < v; j++)
            {
                double s = p.B.Length > 0 ? p.B[j] : 0;
                for (int k = 0; k < d; k++) s += (double)p.H[r * d + k] * p.W[j * d + k];
                f[j] = 1;
                if (c > 0) { double th = Math.Tanh(s / c); s = c * th; f[j] = 1 - th * th; }
                z[j] = s;
            }
            double max = z.Max(), lse = max + Math.Log(z.Sum(q => Math.Exp(q - max)));
            total += (1 - eps) * (lse - z[y]) + eps / v * (v * lse - z.Sum()) + zs * lse * lse;
            for (int j = 0; j < v; j++)
            {
                double pj = Math.Exp(z[j] - lse);
                double g = scale * ((1 + 2 * zs * lse) * pj - eps / v - (j == y ? 1 - eps : 0)) * f[j];
                gb[j] += g;
                for (int k = 0; k < d; k++)
                {
                    gh[r * d + k] += g * p.W[j * d + k];
                    gw[j * d + k] += g * p.H[r * d + k];
                }
            }
        }
        double value = o.Reduction == Reduction.Mean ? total / count : total;
        Assert.Equal(value, actual.Value, 2e-5 * Math.Max(1, Math.Abs(value)));
        Close([.. gh.Select(x => (float)x)], actual.GH, 1e-5, "∂H");
        Close([.. gw.Select(x => (float)x)], actual.GW, 1e-5, "∂W");
        if (p.B.Length > 0) Close([.. gb.Select(x => (float)x)], actual.GB, 1e-5, "∂b");
    }

    [Fact]
    public void PlanKeepsTheWorkspaceUnder64MegabytesAtLargeVocabularies()
    {
        Assert.Equal((392, 32000), LinearCrossEntropy.Plan(4096, 32000));
        Assert.True(LinearCrossEntropy.WorkspaceBytes(4096, 32000) < 64L << 20);
        Assert.True(LinearCrossEntropy.WorkspaceBytes(4096, 128256) < 64L << 20);
        // A budget too small for 8 full rows streams the vocabulary in blocks.
        var (chunk, block) = LinearCrossEntropy.Plan(4096, 128256, new() { MemoryBudgetBytes = 1 << 20 });
        Assert.True(block < 128256 && 4L * chunk * block <= 1 << 20, $"{chunk}×{block}");
    }

    [Fact]
    public void FusedAllocatesAtMostItsWorkspaceWhileUnfusedAllocatesTheLogits()
    {
        Problem p = Make(512, 32, 4000, 9);
        // One thread: the caller runs every GEMM band, so the count below sees all of the call's allocations, and the
        // pooled packing buffers the unfused call warms are the ones the fused call rents. (With the thread pool, a busy
        // pool can leave more bands, and more concurrent rentals, to the caller in one call than in the other.)
        var o = new LinearCrossEntropyOptions { MemoryBudgetBytes = 1 << 20, Threads = 1 };
        float[] gh = new float[p.H.Length], gw = new float[p.W.Length], gb = new float[p.B.Length];
        // Unfused first: it also warms the GEMM's pooled packing buffers, which both paths share.
        long before = GC.GetAllocatedBytesForCurrentThread();
        LinearCrossEntropy.ComputeUnfused(p.H, p.W, p.B, p.T, p.D, gh, gw, gb, o);
        long unfused = GC.GetAllocatedBytesForCurrentThread() - before;
        LinearCrossEntropy.ReleaseWorkspace();
        before = GC.GetAllocatedBytesForCurrentThread();
        LinearCrossEntropy.Compute(p.H, p.W, p.B, p.T, p.D, gh, gw, gb, o);
        long fused = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(fused <= LinearCrossEntropy.WorkspaceBytes(512, 4000, o) + (64 << 10), $"fused allocated {fused} bytes");
        Assert.True(unfused >= 512L * 4000 * 4, $"unfused allocated {unfused} bytes");
    }

    [Fact]
    public void BadArgumentsNameTheOffender()
    {
        Problem p = Make(4, 3, 5, 10);
        var e = Assert.Throws<LossArgumentException>(() => LinearCrossEntropy.Compute(p.H, p.W, p.B, [0, 1, 5, 2], 3, default, default, default));
        Assert.Contains("targets[2] = 5", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<LossArgumentException>(() => LinearCrossEntropy.Compute(p.H, p.W.AsSpan(1), p.B, p.T, 3, default, default, default));
        Assert.Equal(LossErrorCode.InvalidShape, e.Code);
        e = Assert.Throws<LossArgumentException>(() => LinearCrossEntropy.Compute(p.H, p.W, p.B.AsSpan(1), p.T, 3, default, default, default));
        Assert.Contains("bias has 4", e.Message, StringComparison.Ordinal);
        Assert.Throws<LossArgumentException>(() => LinearCrossEntropy.Compute(p.H, p.W, p.B, p.T, 3, default, default, default, new() { SoftCap = -1 }));
        Assert.Throws<LossArgumentException>(() => LinearCrossEntropy.Compute(p.H, p.W, p.B, p.T, 3, default, default, default, new() { Reduction = Reduction.None }));
    }
}
