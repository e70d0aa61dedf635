namespace LossLab.Numerics;

/// <summary>
/// A check before a loss allocates buffers whose size an option sets (histogram bins, say): a request that cannot fit
/// is an error naming the option, where it would otherwise overflow an int, or take the machine's memory and be
/// killed by the operating system, losing the rest of a batch.
/// </summary>
public static class MemoryBudget
{
    /// <summary>
    /// Throws an <see cref="LossErrorCode.InvalidValue"/> error unless <paramref name="arrays"/> arrays of
    /// <paramref name="rows"/> × <paramref name="columns"/> doubles each fit in one array's length and, together, in
    /// half the memory the runtime may use. <paramref name="what"/> says what they hold and which option sized them.
    /// </summary>
    public static void RequireDoubles(string what, int arrays, long rows, long columns)
    {
        double each = (double)Math.Max(0, rows) * Math.Max(0, columns), bytes = arrays * each * sizeof(double);
        double available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (each <= Array.MaxLength && bytes <= available / 2) return;
        string size = arrays == 1 ? $"{rows} × {columns}" : $"{arrays} arrays of {rows} × {columns}";
        throw LossArgumentException.Value(
            $"{what} need {size} doubles ({bytes / (1 << 30):G3} GiB), more than "
            + (each > Array.MaxLength ? $"one array holds ({Array.MaxLength} elements)" : $"half the memory available here ({available / (1 << 30):G3} GiB)"));
    }
}
