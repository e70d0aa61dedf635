using LossLab.Data;
using LossLab.Losses.Core;
using LossLab.Losses.Fused;
using LossLab.Tests.TestKit;
using LossLab.Training;

namespace LossLab.Tests.Reliability;

/// <summary>Losses and models are safe to use from several threads on separate data: 8 threads reproduce the single-threaded results bit for bit.</summary>
public sealed class ConcurrencyTests
{
    private sealed record Job(string Name, ILoss Loss, LossInputs Inputs);

    [Fact]
    public void The_whole_catalog_from_eight_threads_equals_the_single_threaded_results()
    {
        var jobs = new List<Job>();
        foreach (LossSampleSet set in LossSamples.All.Values)
            for (int i = 0; i < set.Samples.Count; i++)
            {
                LossSample s = set.Samples[i];
                jobs.Add(new Job(s.Label, LossRegistry.Default.Create(set.Name, s.Options), s.Make(new Random(100 + i))));
            }
        var expected = jobs.Select(j => Flatten(j.Loss.Evaluate(j.Inputs))).ToArray();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            var order = Enumerable.Range(0, jobs.Count).ToArray();
            new Random(t).Shuffle(order);
            for (int round = 0; round < 3; round++)
                foreach (int k in order)
                {
                    // The same loss object is shared by all threads, as an application would share it.
                    double[] got = Flatten(jobs[k].Loss.Evaluate(jobs[k].Inputs));
                    if (!got.SequenceEqual(expected[k])) failures.Add($"thread {t}: {jobs[k].Name}");
                }
        })).ToArray();
        foreach (Thread th in threads) th.Start();
        foreach (Thread th in threads) th.Join();
        Assert.True(failures.IsEmpty, string.Join("; ", failures.Distinct().Take(10)));
    }

    [Fact]
    public void Fused_kernels_and_a_trained_model_from_eight_threads()
    {
        var r = new Random(3);
        float[] x = [.. Enumerable.Range(0, 300 * 700).Select(_ => (float)r.NextDouble() * 6 - 3)];
        int[] t = [.. Enumerable.Range(0, 300).Select(_ => r.Next(700))];
        var g0 = new float[x.Length];
        double v0 = FusedCrossEntropy.Compute(x, t, 700, g0, threads: 2);
        Dataset iris = Datasets.Load("iris");
        Model model = Trainer.Train(iris, new TrainingOptions { Hidden = [8], Epochs = 3, Seed = 1 }).Model;
        double[] p0 = model.Predict(iris);
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
        {
            for (int round = 0; round < 5; round++)
            {
                var g = new float[x.Length];
                double v = FusedCrossEntropy.Compute(x, t, 700, g, threads: 2);
                if (v != v0 || !g.AsSpan().SequenceEqual(g0)) failures.Add($"fused cross-entropy on worker {k}");
                if (!model.Predict(iris).SequenceEqual(p0)) failures.Add($"model on worker {k}");
            }
        });
        Assert.True(failures.IsEmpty, string.Join("; ", failures.Distinct()));
    }

    private static double[] Flatten(LossResult r)
        => [.. T.Values(r.Value), .. r.Gradients.OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => T.Values(kv.Value))];
}
