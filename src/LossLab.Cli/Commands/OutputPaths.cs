namespace LossLab.Cli.Commands;

/// <summary>
/// Checks, before a run starts, that the files and folders it will write to can be written: a model trained for an
/// hour must not be lost to a misspelt or read-only --save path discovered only at the end.
/// </summary>
internal static class OutputPaths
{
    /// <summary>The folder of <paramref name="file"/> is created if missing and must accept a new file.</summary>
    public static void RequireWritableFile(string? file, string option)
    {
        if (file is null) return;
        if (Directory.Exists(file)) throw new IOException($"{option} {file}: that is a folder; give a file name");
        string folder = Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".";
        Probe(folder, option, file);
    }

    /// <summary><paramref name="folder"/> is created if missing and must accept a new file.</summary>
    public static void RequireWritableFolder(string? folder, string option)
    {
        if (folder is null) return;
        if (File.Exists(folder)) throw new IOException($"{option} {folder}: that is a file; give a folder");
        Probe(folder, option, folder);
    }

    private static void Probe(string folder, string option, string given)
    {
        string probe = Path.Combine(folder, $".losslab-write-check-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new IOException($"{option} {given}: cannot write there ({e.Message.TrimEnd('.')}); nothing was run");
        }
    }
}
