using System.Text.Json;
using LossLab.Cli;
using LossLab.Numerics.Simd;

namespace LossLab.Tests.Cli;

/// <summary><c>losslab bench --quick --format json</c>: the JSON shape, every kernel and thread count present, ratios consistent. No timing is asserted.</summary>
public sealed class BenchCommandTests
{
    [Fact]
    public void Quick_json_has_every_loss_shape_and_thread_count_with_consistent_ratios()
    {
        var output = new StringWriter();
        int code = Program.Run(["bench", "--quick", "--format", "json"], new CliConsole(new StringReader(""), output, new StringWriter(), false));
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output.ToString());
        JsonElement results = doc.RootElement.GetProperty("results");
        var keys = results.EnumerateArray().Select(r => (r.GetProperty("loss").GetString(), r.GetProperty("shape").GetString(), r.GetProperty("threads").GetInt32())).ToHashSet();
        foreach (string shape in new[] { "4096x10", "4096x1000", "512x32000", "64x128256" })
            foreach (int t in new[] { 1, 2 }) Assert.Contains(("cross_entropy", shape, t), keys);
        foreach (string loss in new[] { "mse", "l1", "huber", "smooth_l1", "bce", "bce_with_logits", "sigmoid_focal", "kl_div" })
            foreach (int t in new[] { 1, 2 }) Assert.Contains((loss, "4194304", t), keys);
        foreach (JsonElement r in results.EnumerateArray())
        {
            double ms = r.GetProperty("ms").GetDouble(), gb = r.GetProperty("gb_per_s").GetDouble();
            Assert.True(ms > 0 && gb > 0 && r.GetProperty("ratio_to_floor").GetDouble() > 0);
            JsonElement naive = r.GetProperty("ratio_to_naive");
            Assert.Equal(r.GetProperty("threads").GetInt32() == 1, naive.ValueKind == JsonValueKind.Number);
        }
        // The lane width and FMA support the timings were taken with, so that numbers from two machines can be read.
        Assert.Equal(Simd.Best.ToString(), doc.RootElement.GetProperty("simd_width").GetString());
        Assert.Equal(System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported, doc.RootElement.GetProperty("hardware_fma").GetBoolean());
        JsonElement bandwidth = doc.RootElement.GetProperty("bandwidth_gb_per_s");
        Assert.True(bandwidth.GetProperty("1").GetDouble() > 0 && bandwidth.GetProperty("2").GetDouble() > 0);
    }

    [Fact]
    public void The_table_names_the_lane_width_first()
    {
        var output = new StringWriter();
        Assert.Equal(0, Program.Run(["bench", "--quick"], new CliConsole(new StringReader(""), output, new StringWriter(), false)));
        string first = output.ToString().Split('\n')[0];
        Assert.StartsWith("kernels: ", first);
        Assert.Contains(Simd.Best == SimdWidth.Scalar ? "scalar" : $"({Simd.Best})", first);
    }

    /// <summary>CI runs the fused-kernel tests a second time with DOTNET_EnableHWIntrinsic=0: then the scalar specification is what runs.</summary>
    [Fact]
    public void Disabling_hardware_intrinsics_selects_the_scalar_path()
    {
        bool disabled = Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") == "0";
        Assert.Equal(disabled, Simd.Best == SimdWidth.Scalar);
    }
}
