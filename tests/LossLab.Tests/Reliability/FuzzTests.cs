using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LossLab.Cli;
using LossLab.Data;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Reliability;

/// <summary>
/// A bounded fuzz campaign (fixed seed; LOSSLAB_FUZZ_SECONDS over the four targets, default 8, CI 60) over the JSON protocol, the batch mode,
/// the CSV reader and the expression parser: random and mutated inputs (truncation, wrong types, huge numbers, deep
/// nesting, invalid UTF-8, empty input) may give a result or a clear error, never an unexpected exception, a stack
/// trace, an exit code other than 0 or 2, or a hang. Every input that once failed is kept in FuzzCorpus/ and replayed.
/// </summary>
public sealed class FuzzTests
{
    private static readonly string Corpus = Path.Combine(SharedData.RepoRoot, "tests", "LossLab.Tests", "Reliability", "FuzzCorpus");

    public static TheoryData<string> Targets => new() { "json", "batch", "csv", "expr" };

    private static readonly Dictionary<string, string[]> Seeds = new()
    {
        ["json"] =
        [
            """{"inputs": {"input": [0.5, 2.0], "target": [1.0, 1.0]}, "options": {"reduction": "sum"}}""",
            """{"loss": "cross_entropy", "inputs": {"input": [[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]], "target": [2, -100]}, "options": {"label_smoothing": 0.1, "weight": [1, 2, 3]}}""",
            """{"loss": "ctc_loss", "dtype": "float64", "inputs": {"log_probs": [[[-1.1, -0.7, -1.6]], [[-0.9, -1.2, -1.3]]], "targets": [[1]], "input_lengths": [2], "target_lengths": [1]}}""",
            """{"loss": "keras.dice", "inputs": {"y_true": [[0, 1], [1, 0]], "y_pred": [[0.2, 0.7], [0.9, 0.1]]}, "allow_nonfinite": false}""",
            """{"loss": "triplet_margin_loss", "inputs": {"anchor": [[1, 2]], "positive": [[1, 2.5]], "negative": [[0, 0]]}, "options": {"margin": 1.0, "p": 2}}""",
        ],
        ["batch"] =
        [
            "{\"id\": 1, \"loss\": \"mse_loss\", \"inputs\": {\"input\": [1, 2], \"target\": [0, 0]}}\n{\"id\": \"b\", \"loss\": \"nll_loss\", \"inputs\": {\"input\": [[-0.1, -2.3]], \"target\": [0]}}\n",
            "{\"id\": 3, \"loss\": \"binary_cross_entropy_with_logits\", \"inputs\": {\"input\": [[1, -2]], \"target\": [[1, 0]]}, \"options\": {\"pos_weight\": [2, 1]}}\n\n{\"id\": 4, \"loss\": \"huber_loss\", \"inputs\": {\"input\": [3], \"target\": [0]}}\n",
        ],
        ["csv"] =
        [
            "a,b,c,target\n1,2,3,x\n4,5,6,y\n7,8,9,x\n1.5,2.5,3.5,y\n",
            "sepal length,sepal width,target\n5.1,3.5,0\n4.9,,1\n\"6,2\",2.9,1\n1e308,-1e308,0\n",
            "x,target\n1,0.5\n2,1.5\n3,2.5\n",
        ],
        ["expr"] =
        [
            "mean((input - target)^2)",
            "mean(where(abs(input-target) < 1, 0.5*(input-target)^2, abs(input-target)-0.5))",
            "cross_entropy(input, target) + mean(input^2)",
            "mean(softplus(-input * target)) * 2 + sum(log1p(exp(-abs(input)))) / 3",
        ],
    };

    private static readonly string[] Tokens =
    [
        "1e999", "-1e999", "NaN", "\"NaN\"", "\"-Infinity\"", "null", "true", "[]", "{}", "\"\"", "[[", "]]", "{", "}", ",", ":", "\"",
        "999999999999999999999999", "-0", "0.0000000000000000000000000000000000000000000001", "\\u0000", "\"reduction\": \"mean\"",
        "\"options\": 3", "\"inputs\": []", "(", ")", "^", "**", "-", "where(", "mean(", ",,", "\n", "\r\n", "\t",
    ];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Bounded_campaign_finds_no_crash_hang_or_stack_trace(string target)
    {
        double seconds = double.TryParse(Environment.GetEnvironmentVariable("LOSSLAB_FUZZ_SECONDS"), System.Globalization.CultureInfo.InvariantCulture, out double s) ? s : 8;
        var random = new Random(20261122 + target.Length);
        int runs = 0;
        foreach (byte[] special in Specials(target)) Run(target, special);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // The time budget, and at least 50 mutants whatever the clock says: on a loaded 2-core host a budget alone once
        // gave a single run while the rest of the suite ran beside it.
        while (clock.Elapsed.TotalSeconds < seconds / 4 || runs < 50)
        {
            string[] seeds = Seeds[target];
            byte[] input = Mutate(random, Encoding.UTF8.GetBytes(seeds[random.Next(seeds.Length)]));
            Run(target, input);
            runs++;
        }
    }

    /// <summary>Inputs that once failed (saved by the campaign) stay fixed.</summary>
    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_input_that_once_failed_is_fixed(string target)
    {
        string dir = Path.Combine(Corpus, target);
        if (!Directory.Exists(dir)) return;
        foreach (string file in Directory.GetFiles(dir)) Check(target, File.ReadAllBytes(file), save: false);
    }

    private static IEnumerable<byte[]> Specials(string target)
    {
        yield return [];
        yield return [0xFF, 0xFE, 0xC3, 0x28, 0xA0, 0xA1];                                 // invalid UTF-8
        yield return Encoding.UTF8.GetBytes(new string('[', 5000) + new string(']', 5000)); // deep nesting
        yield return Encoding.UTF8.GetBytes(new string('(', 5000) + "1" + new string(')', 5000));
        yield return Encoding.UTF8.GetBytes(string.Join("+", Enumerable.Repeat("input", 3000)));
        if (target is "json" or "batch")
        {
            // 10⁶-element arrays: valid, then with one bad element at the very end.
            string big = string.Join(",", Enumerable.Repeat("0.5", 1_000_000));
            yield return Encoding.UTF8.GetBytes($"{{\"loss\": \"mse_loss\", \"inputs\": {{\"input\": [{big}], \"target\": [{big}]}}}}");
            yield return Encoding.UTF8.GetBytes($"{{\"loss\": \"mse_loss\", \"inputs\": {{\"input\": [{big}], \"target\": [{big},\"x\"]}}}}");
        }
        if (target == "csv") yield return Encoding.UTF8.GetBytes("a,target\n" + string.Concat(Enumerable.Repeat("1,2\n", 200_000)));
    }

    private static byte[] Mutate(Random r, byte[] seed)
    {
        var b = new List<byte>(seed);
        int edits = 1 + r.Next(4);
        for (int e = 0; e < edits; e++)
        {
            int at = b.Count == 0 ? 0 : r.Next(b.Count);
            switch (r.Next(7))
            {
                case 0: if (b.Count > 0) b[at] = (byte)r.Next(256); break;                          // random byte (may be invalid UTF-8)
                case 1: if (b.Count > 0) b.RemoveRange(at, Math.Min(b.Count - at, 1 + r.Next(8))); break;
                case 2: b.InsertRange(at, Encoding.UTF8.GetBytes(Tokens[r.Next(Tokens.Length)])); break;
                case 3: b.RemoveRange(at, b.Count - at); break;                                   // truncation
                case 4: if (b.Count > 0) { int len = Math.Min(b.Count - at, 1 + r.Next(20)); b.InsertRange(at, b.GetRange(at, len)); } break;
                case 5: b.InsertRange(at, Encoding.UTF8.GetBytes(r.Next(3) == 0 ? new string('[', 70) : new string('(', 210))); break;
                default: if (b.Count > 1) { int j = r.Next(b.Count); (b[at], b[j]) = (b[j], b[at]); } break;
            }
        }
        return [.. b];
    }

    private static void Run(string target, byte[] input) => Check(target, input, save: true);

    private static void Check(string target, byte[] input, bool save)
    {
        string? problem;
        var task = Task.Run(() => Problem(target, input));
        if (!task.Wait(TimeSpan.FromSeconds(30))) problem = "hang: no answer within 30 s";
        else problem = task.Result;
        if (problem is null) return;
        if (save)
        {
            string dir = Directory.CreateDirectory(Path.Combine(Corpus, target)).FullName;
            File.WriteAllBytes(Path.Combine(dir, Convert.ToHexString(SHA256.HashData(input))[..16] + ".bin"), input);
        }
        Assert.Fail($"{target}: {problem}; input saved to FuzzCorpus/{target} ({input.Length} bytes): {Preview(input)}");
    }

    private static string Preview(byte[] input) => Encoding.UTF8.GetString(input, 0, Math.Min(input.Length, 200)).ReplaceLineEndings("⏎");

    /// <summary>Null when the input was handled properly, else what went wrong.</summary>
    private static string? Problem(string target, byte[] input)
    {
        try
        {
            switch (target)
            {
                case "json":
                case "batch":
                {
                    string file = Path.Combine(Path.GetTempPath(), $"losslab-fuzz-{Guid.NewGuid():N}.json");
                    File.WriteAllBytes(file, input);
                    try
                    {
                        var output = new StringWriter();
                        var error = new StringWriter();
                        string[] args = target == "json" ? ["loss", "mse_loss", "--json", file] : ["loss", "--batch", file];
                        int code = Program.Run(args, new CliConsole(new StringReader(""), output, error, false));
                        string all = output + "\n" + error;
                        if (code is not (0 or 2)) return $"exit code {code}: {Short(all)}";
                        if (all.Contains("   at ", StringComparison.Ordinal)) return "a stack trace was printed: " + Short(all);
                        foreach (string line in output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
                        {
                            if (target == "batch") JsonDocument.Parse(line).Dispose();
                        }
                        if (target == "json" && output.ToString().Trim().Length > 0) JsonDocument.Parse(output.ToString()).Dispose();
                        if (code == 2 && target == "json" && output.ToString().Trim().Length == 0 && error.ToString().Trim().Split('\n').Length > 2)
                        {
                            return "the error is not one line: " + Short(error.ToString());
                        }
                    }
                    finally
                    {
                        File.Delete(file);
                    }
                    return null;
                }
                case "csv":
                    try
                    {
                        CsvLoader.Parse(new StringReader(Encoding.UTF8.GetString(input)), null, "fuzz.csv", out _);
                    }
                    catch (DataFormatException)
                    {
                    }
                    return null;
                case "expr":
                    try
                    {
                        ILoss loss = LossRegistry.Default.Create(LossRegistry.ExpressionPrefix + Encoding.UTF8.GetString(input), new Dictionary<string, object?>());
                        var inputs = new LossInputs()
                            .Add("input", TensorData.FromArray(new[] { 0.5, -1.0, 2.0, 0.0 }, 2, 2))
                            .Add("target", TensorData.FromArray(new[] { 1.0, 0.0, 0.0, 1.0 }, 2, 2));
                        loss.Evaluate(inputs);
                    }
                    catch (LossArgumentException)
                    {
                    }
                    return null;
                default:
                    return "unknown target";
            }
        }
        catch (Exception e)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    private static string Short(string s) => s.Length > 300 ? s[..300] + "…" : s;
}
