namespace LossLab.Tests.TestKit;

/// <summary>
/// Locates <c>../shared</c> beside the repository (or <c>$LOSSLAB_SHARED</c>). Tests that need it use
/// <see cref="SharedFactAttribute"/>, which skips them with a clear message when it is absent.
/// </summary>
internal static class SharedData
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string? Root { get; } = Find();

    private static string? Find()
    {
        string? env = Environment.GetEnvironmentVariable("LOSSLAB_SHARED");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        string candidate = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
        return Directory.Exists(Path.Combine(candidate, "conformance")) ? candidate : null;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LossLab.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("LossLab.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A fact that is skipped, saying why, when <c>../shared</c> is not beside the repository.</summary>
public sealed class SharedFactAttribute : FactAttribute
{
    public SharedFactAttribute()
    {
        if (SharedData.Root is null)
        {
            Skip = "../shared (conformance cases) is not beside the repository; set LOSSLAB_SHARED to run this test";
        }
    }
}
