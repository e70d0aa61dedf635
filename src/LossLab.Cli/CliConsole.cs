namespace LossLab.Cli;

/// <summary>
/// The one console seam: every command reads and writes through it, so tests run real command lines against
/// string readers and writers.
/// </summary>
internal sealed record CliConsole(TextReader In, TextWriter Out, TextWriter Error, bool OutputIsTerminal)
{
    /// <summary>The loss registry commands resolve names in (tests pass their own, so nothing global changes).</summary>
    public LossLab.Losses.Core.LossRegistry Registry { get; init; } = LossLab.Losses.Core.LossRegistry.Default;

    public static CliConsole System() => new(Console.In, Console.Out, Console.Error, !Console.IsOutputRedirected);
}

/// <summary>Named process exit codes.</summary>
internal static class ExitCodes
{
    /// <summary>Everything worked.</summary>
    public const int Ok = 0;

    /// <summary>The command ran but its check failed (e.g. a gradient check out of tolerance).</summary>
    public const int CheckFailed = 1;

    /// <summary>Bad input: unknown loss or option, invalid JSON, shape or value; usage errors.</summary>
    public const int InvalidInput = 2;

    /// <summary>A bug: an unexpected exception (reported in one line, never a stack trace).</summary>
    public const int InternalError = 3;
}
