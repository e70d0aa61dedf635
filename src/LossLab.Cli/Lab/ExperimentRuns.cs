using LossLab.Data;
using LossLab.Training;

namespace LossLab.Cli.Lab;

/// <summary>Runs shared by the experiments that compare arms on the same seeded splits.</summary>
public static partial class Experiments
{
    /// <summary>Trains every arm on each seed's splits (65/15/20) with the options for (arm, seed): results[arm][seed].</summary>
    private static Dictionary<string, TrainingResult[]> PerSeed(LabSettings s, Dataset d, IReadOnlyList<string> arms, Func<string, int, TrainingOptions> options)
    {
        var results = arms.ToDictionary(a => a, _ => new TrainingResult[s.Seeds]);
        for (int seed = 0; seed < s.Seeds; seed++)
        {
            var (train, validation, test) = Splits(d, seed);
            foreach (string arm in arms) results[arm][seed] = Trainer.Train(train, validation, test, options(arm, seed));
        }
        return results;
    }

    /// <summary>The validation accuracy per epoch of each run, for <see cref="Curve"/>.</summary>
    private static List<IReadOnlyList<double>> AccuracyCurves(IEnumerable<TrainingResult> runs)
        => [.. runs.Select(r => (IReadOnlyList<double>)[.. r.History.Select(h => h.Validation["accuracy"])])];
}
