using System.Diagnostics;
using System.Text.Json.Nodes;
using LossLab.Data;
using LossLab.Tests.TestKit;
using LossLab.Training;

namespace LossLab.Tests.Reliability;

/// <summary>
/// Checkpoints are atomic, and a run that stops (cancelled, or killed at a random moment in a child process) resumes
/// from its last checkpoint to exactly the weights of a run that was never interrupted.
/// </summary>
public sealed class CrashSafeTrainingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("losslab-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Iris => Path.Combine(TestKit.SharedData.RepoRoot, "data", "iris.csv");

    private static TrainingOptions Options(string? checkpoint, int every = 1) => new()
    {
        Hidden = [16], Dropout = 0.2, Optimizer = "adam", LearningRate = 0.01, Epochs = 12, BatchSize = 16, Seed = 5,
        Schedule = "cosine", CheckpointPath = checkpoint, CheckpointEvery = every, Resume = checkpoint is not null,
    };

    private static double[][] Weights(TrainingResult r) => [.. r.Model.Network.Parameters.Select(p => p.Value.ToArray())];

    [Theory]
    [InlineData(5, 1)]
    [InlineData(7, 3)]
    public void A_cancelled_run_resumes_to_the_same_weights_as_an_uninterrupted_one(int stopAfter, int every)
    {
        Dataset data = CsvLoader.Load(Iris);
        TrainingResult reference = Trainer.Train(data, Options(null));
        string ck = Path.Combine(_dir, $"run{stopAfter}.json");
        using var cts = new CancellationTokenSource();
        var progress = new EpochProgress(r => { if (r.Epoch == stopAfter) cts.Cancel(); });
        TrainingResult first = Trainer.Train(data, Options(ck, every), progress: progress, cancel: cts.Token);
        Assert.Equal("cancelled", first.StopReason);
        Assert.Equal(stopAfter, TrainingCheckpoint.Load(ck).Epoch);   // the cancel path saves the last full epoch
        TrainingResult resumed = Trainer.Train(data, Options(ck, every));
        Assert.Equal(Weights(reference), Weights(resumed));
        Assert.Equal(reference.History.Select(h => h.TrainLoss), resumed.History.Select(h => h.TrainLoss));
        // Resuming a finished run returns the same model without training again.
        Assert.Equal(Weights(reference), Weights(Trainer.Train(data, Options(ck, every))));
    }

    [Fact]
    public void A_checkpoint_of_another_run_is_refused_and_a_damaged_one_is_a_clear_error()
    {
        Dataset data = CsvLoader.Load(Iris);
        string ck = Path.Combine(_dir, "other.json");
        Trainer.Train(data, Options(ck) with { Epochs = 2 });
        var e = Assert.Throws<InvalidDataException>(() => Trainer.Train(data, Options(ck) with { LearningRate = 0.02 }));
        Assert.Contains("another run", e.Message, StringComparison.Ordinal);
        File.WriteAllText(ck, "{\"format\": \"losslab-checkpoint\", \"version\": 1, \"epoch\": 3}");
        e = Assert.Throws<InvalidDataException>(() => Trainer.Train(data, Options(ck)));
        Assert.Contains("damaged", e.Message, StringComparison.Ordinal);
    }

    /// <summary>The real command in a child process, SIGKILLed at a random moment after its first checkpoint, then resumed.</summary>
    [Theory]
    [InlineData(11)]
    [InlineData(23)]
    public void A_killed_process_resumes_to_the_same_model(int seed)
    {
        string ck = Path.Combine(_dir, $"kill{seed}.json"), killed = Path.Combine(_dir, $"killed{seed}.model.json"), whole = Path.Combine(_dir, $"whole{seed}.model.json");
        string[] args = ["train", "--data", Iris, "--hidden", "32,16", "--dropout", "0.1", "--epochs", "150", "--seed", "4", "--format", "json"];
        Assert.Equal(0, Cli([.. args, "--save", whole]).ExitCode);

        using Process child = Start([.. args, "--checkpoint", ck, "--save", killed]);
        var clock = Stopwatch.StartNew();
        while (!File.Exists(ck) && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(5);
        Assert.True(File.Exists(ck), "no checkpoint appeared");
        Thread.Sleep(new Random(seed).Next(0, 400));
        child.Kill(entireProcessTree: true);
        child.WaitForExit();
        int reached = TrainingCheckpoint.Load(ck).Epoch;   // never torn, whatever the moment of the kill
        Assert.InRange(reached, 1, 150);

        var resumed = Cli([.. args, "--checkpoint", ck, "--resume", "--save", killed]);
        Assert.Equal(0, resumed.ExitCode);
        Assert.Equal(ModelWeights(whole), ModelWeights(killed));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public async Task Sigint_stops_cleanly_and_saves_the_checkpoint_and_the_model()
    {
        string ck = Path.Combine(_dir, "int.json"), model = Path.Combine(_dir, "int.model.json");
        using Process child = Start(["train", "--data", Iris, "--hidden", "32,16", "--epochs", "100000", "--checkpoint", ck, "--save", model]);
        // Drain both pipes from the start, so that the child can never block on a full pipe while the test waits.
        Task<string> stdout = child.StandardOutput.ReadToEndAsync(), stderr = child.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        while (!File.Exists(ck) && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(5);
        // A process started with SIGINT ignored passes that on to its children, which then rightly ignore it (POSIX):
        // `dotnet test … &` from a script does that. The CLI treats SIGTERM the same way, so the test sends that there.
        string signal = SigintIgnored() ? "-TERM" : "-INT";
        using (Process.Start("kill", [signal, child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) { }
        Assert.True(child.WaitForExit(60_000), $"the process did not stop on kill {signal}");
        string output = await stdout;
        Assert.Contains("stop: cancelled", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", await stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(model));
        Assert.InRange(TrainingCheckpoint.Load(ck).Epoch, 1, 99_999);
    }

    /// <summary>True when this process ignores SIGINT (bit 2 of the SigIgn mask in /proc/self/status).</summary>
    private static bool SigintIgnored()
    {
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 0b10) != 0;
    }

    private static string[] ModelWeights(string path)
        => [.. JsonNode.Parse(File.ReadAllText(path))!["layers"]!.AsArray().Select(l => l!["weight"]?.ToJsonString() + l["bias"]?.ToJsonString())];

    private static Process Start(string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "LossLab.Cli.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(cli);
        foreach (string a in args) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    private static (int ExitCode, string Out) Cli(string[] args)
    {
        using Process p = Start(args);
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }
}
