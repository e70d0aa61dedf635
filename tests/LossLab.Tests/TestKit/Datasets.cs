using LossLab.Data;

namespace LossLab.Tests.TestKit;

/// <summary>The data sets shipped in the repository's data/ folder.</summary>
internal static class Datasets
{
    public static string PathOf(string name) => Path.Combine(SharedData.RepoRoot, "data", name + ".csv");

    public static Dataset Load(string name) => CsvLoader.Load(PathOf(name));
}
