using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Text.RegularExpressions;

namespace LossLab.Tests.Losses.Fused;

/// <summary>
/// The elementwise kernels are written over lane wrappers (<c>IVec</c>) that only cost nothing when the JIT inlines
/// them. When a loop grows past its inlining room, every lane operation becomes a call and the kernel itself may run
/// unoptimized: on AVX2, BCE took 9 ns per element that way, twice its time inlined. Speed is measured in the
/// benchmarks, but this failure is structural, so it is checked here: the JIT's own listing of every elementwise loop
/// and of cross-entropy's row kernels (<c>DOTNET_JitDisasm</c>, in a child process running <c>losslab bench --quick</c>)
/// holds no call to a lane
/// operation, at the machine's widest width and at 256 bits (AVX-512 off: <c>EnableAVX512</c> since .NET 10, <c>EnableAVX512F</c>
/// before). (Focal's q^γ for γ ∉ {0, 2} is out of line on purpose.)
/// </summary>
public sealed class KernelInliningTests
{
    [Fact]
    public void Every_elementwise_loop_inlines_its_lane_operations_at_the_native_width_and_at_256_bits()
    {
        if (!Vector256.IsHardwareAccelerated) return;   // the 128-bit and scalar paths are not held to this (see docs/performance.md)
        var runs = new List<(string Width, Dictionary<string, string> Env)> { ("256", new() { ["DOTNET_EnableAVX512F"] = "0", ["DOTNET_EnableAVX512"] = "0" }) };
        if (Vector512.IsHardwareAccelerated) runs.Add(("512", []));
        foreach (var (width, env) in runs)
        {
            string listing = Path.Combine(Path.GetTempPath(), $"losslab-jit-{Guid.NewGuid():N}.txt");
            try
            {
                env["DOTNET_JitDisasm"] = "Lanes Row Begin Middle End TwoRows OneRow ShortRows Band StreamScaled WeightedSum LongRowExponentials Finish";
                env["DOTNET_JitStdOutFile"] = listing;
                RunCli(env, "bench", "--quick");
                var all = Listings(File.ReadAllText(listing)).ToList();
                var loops = all.Where(l => l.Method.Contains($"Lanes[LossLab.Numerics.Simd.V{width}]", StringComparison.Ordinal)).ToList();
                // Cross-entropy's row kernels too (their calls to each other, and the per-row table of the exponential
                // below the maximum, are out of line on purpose).
                var rows = all.Where(l => l.Method.Contains("FusedCrossEntropy", StringComparison.Ordinal) && l.Method.Contains($"[LossLab.Numerics.Simd.V{width}]", StringComparison.Ordinal)).ToList();
                Assert.Contains(rows, r => r.Method.Contains(":Begin[", StringComparison.Ordinal));
                Assert.Contains(rows, r => r.Method.Contains(":Middle[", StringComparison.Ordinal));
                Assert.Contains(rows, r => r.Method.Contains(":End[", StringComparison.Ordinal));
                if (width == "512") Assert.Contains(rows, r => r.Method.Contains(":TwoRows[", StringComparison.Ordinal));
                if (width == "256") Assert.Contains(rows, r => r.Method.Contains(":LongRowExponentials[", StringComparison.Ordinal));
                // Eight kernels (MSE, L1, Huber, smooth L1, BCE, BCE with logits, focal, KL): a listing format change
                // that hid them would otherwise pass vacuously.
                Assert.True(loops.Select(l => l.Method).Distinct().Count() >= 8, $"expected the 8 elementwise loops at V{width}, found:\n{string.Join("\n", loops.Select(l => l.Method))}");
                foreach (var (method, body) in loops.Concat(rows))
                {
                    var calls = body.Split('\n').Where(line => Regex.IsMatch(line, @"\bcall\s+\[LossLab\.Numerics\.Simd\.(V\d+|VMath):(?!TryExpBelowMax)|\bcall\s+\[LossLab\.Losses\.Fused\.\w+:(Eval|ClampLog|Log1mxCorrection|OnHardLabels)\[|\bcall\s+\[LossLab\.Losses\.Fused\.FusedCrossEntropy\+(BelowMax|MinusMax|Pass3|NoPass3)")).ToList();
                    Assert.True(calls.Count == 0, $"{method} calls lane operations instead of inlining them:\n{string.Join("\n", calls.Take(8))}");
                }
            }
            finally { File.Delete(listing); }
        }
    }

    private static IEnumerable<(string Method, string Body)> Listings(string text)
    {
        const string marker = "; Assembly listing for method ";
        string[] parts = text.Split(marker);
        foreach (string part in parts.Skip(1))
        {
            int eol = part.IndexOf('\n');
            // Only optimized code: a Tier0 listing is never the one that runs the loop.
            if (eol < 0 || part[..eol].Contains("Tier0", StringComparison.Ordinal)) continue;
            yield return (part[..eol], part[eol..]);
        }
    }

    private static void RunCli(Dictionary<string, string> env, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "LossLab.Cli.dll"));
        foreach (string a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in env) info.Environment[k] = v;
        using Process p = Process.Start(info)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(180_000), "losslab bench --quick did not finish in 3 minutes");
        Assert.True(p.ExitCode == 0, $"losslab bench failed ({p.ExitCode}): {err.Result}");
    }
}
