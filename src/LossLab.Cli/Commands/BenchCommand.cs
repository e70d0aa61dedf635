using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LossLab.Cli.Bench;
using LossLab.Numerics.Simd;

namespace LossLab.Cli.Commands;

/// <summary>
/// <c>losslab bench [--quick] [--format table|json]</c>: times the fused kernels on this machine next to the memory
/// bandwidth floor and a naive implementation measured in the same run, and prints the ratios.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(CliConsole console)
    {
        var quick = new Option<bool>("--quick") { Description = "fewer repetitions (well under a minute)" };
        var format = new Option<string>("--format") { Description = "table (default) or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("bench", "Time the fused loss kernels against the memory-bandwidth floor and a naive implementation.") { quick, format };
        command.SetAction(p => Run(console, p.GetValue(quick), p.GetValue(format) == "json"));
        return command;
    }

    private static int Run(CliConsole console, bool quick, bool json)
    {
        // The lane width first, before anything is timed.
        if (!json)
        {
            console.Out.WriteLine($"kernels: {SimdCapabilities.Describe()}");
            console.Out.Flush();
        }
        Dictionary<string, double> bandwidth = BenchSuite.Bandwidth(quick ? 5 : 15);
        var results = new List<BenchResult>();
        if (!json)
        {
            console.Out.WriteLine($"copy bandwidth: {bandwidth["1"]:F1} GB/s on 1 thread, {bandwidth["2"]:F1} GB/s on 2 ({Environment.ProcessorCount} cores)");
            console.Out.WriteLine($"{"loss",-16} {"shape",-12} {"thr",3} {"ms",9} {"GB/s",7} {"×floor",7} {"×naive",7}");
        }
        foreach (BenchResult r in BenchSuite.Run(quick))
        {
            results.Add(r);
            if (!json)
            {
                string naive = r.RatioToNaive is double v ? v.ToString("F3", CultureInfo.InvariantCulture) : "";
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Loss,-16} {r.Shape,-12} {r.Threads,3} {r.Ms,9:F3} {r.GbPerS,7:F1} {r.RatioToFloor,7:F2} {naive,7}"));
            }
        }
        if (json)
        {
            var root = new JsonObject
            {
                ["results"] = new JsonArray([.. results.Select(r => (JsonNode)new JsonObject
                {
                    ["loss"] = r.Loss, ["shape"] = r.Shape, ["threads"] = r.Threads, ["ms"] = Math.Round(r.Ms, 4),
                    ["gb_per_s"] = Math.Round(r.GbPerS, 2), ["ratio_to_floor"] = Math.Round(r.RatioToFloor, 3),
                    ["ratio_to_naive"] = r.RatioToNaive is double v ? Math.Round(v, 4) : null,
                })]),
                ["simd_width"] = SimdCapabilities.Width.ToString(),
                ["hardware_fma"] = SimdCapabilities.HardwareFma,
                ["bandwidth_gb_per_s"] = new JsonObject(bandwidth.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Math.Round(kv.Value, 2)))),
            };
            console.Out.WriteLine(root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            console.Out.WriteLine("×floor: time / (a vectorized copy of the same bytes); ×naive: time / (scalar loops with MathF.Exp). Medians; 2-thread rows need a quiet machine.");
        }
        return 0;
    }
}
