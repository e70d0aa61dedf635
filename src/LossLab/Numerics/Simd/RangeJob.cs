using System.Runtime.ExceptionServices;

namespace LossLab.Numerics.Simd;

/// <summary>
/// Splits a kernel into parts run on the calling thread and the thread pool without allocating: a subclass holds
/// the kernel's arguments in fields, is cached per calling thread, and is queued once per extra part (each
/// execution claims the next unclaimed part). The caller claims parts too and returns once every part has finished.
/// </summary>
/// <remarks>
/// <para>Parts are claimed dynamically but each part's work is fixed, so results do not depend on which thread ran
/// which part.</para>
/// <para>Claims go through one 64-bit word holding a generation (one per call), the part count and the next part.
/// A queued item that runs late (after its call has finished, or during a later call) reads the current word: it
/// either finds no part left or claims a part of the current call, whose fields are complete by then. So the caller
/// never waits for queued items to start: if the thread pool is saturated, the caller runs every part itself.</para>
/// </remarks>
internal abstract class RangeJob : IThreadPoolWorkItem
{
    /// <summary>Parts per call are capped here (they are bands of work; more than this many would not help).</summary>
    public const int MaxParts = ushort.MaxValue;

    private readonly ManualResetEventSlim _done = new(false);
    private long _state;   // generation << 32 | parts << 16 | next
    private uint _generation;
    private int _parts, _remaining;
    private ExceptionDispatchInfo? _error;
    private double[] _results = new double[2];

    /// <summary>Runs part <paramref name="part"/> of <see cref="Parts"/> and returns its partial sum.</summary>
    protected abstract double RunPart(int part);

    protected int Parts => _parts;

    /// <summary>Part <paramref name="part"/>'s share of <paramref name="count"/> items: [From, To), the parts in order and as even as integers allow.</summary>
    protected (int From, int To) PartRange(int count, int part)
        => ((int)((long)count * part / _parts), (int)((long)count * (part + 1) / _parts));

    /// <summary>
    /// Runs parts 0..<paramref name="parts"/>−1 (at most <see cref="MaxParts"/>), returns when all have finished
    /// (rethrowing the first error), and gives the sum of their results added in part order, so the total does not
    /// depend on which thread ran which part.
    /// </summary>
    public double Run(int parts)
    {
        parts = Math.Min(parts, MaxParts);
        if (parts <= 1)
        {
            _parts = 1;
            return RunPart(0);
        }
        if (_results.Length < parts) _results = new double[parts];
        _parts = parts;
        _remaining = parts;
        _error = null;
        _done.Reset();
        _generation++;
        // Publishing the word releases every field above (and the subclass's arguments, written before Run).
        Volatile.Write(ref _state, (long)_generation << 32 | (long)parts << 16);
        for (int i = 1; i < parts; i++) ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        Drain();
        _done.Wait();
        _error?.Throw();
        double total = 0;
        for (int p = 0; p < parts; p++) total += _results[p];
        return total;
    }

    void IThreadPoolWorkItem.Execute() => Drain();

    private void Drain()
    {
        while (true)
        {
            long state = Volatile.Read(ref _state);
            int next = (int)(state & 0xFFFF), parts = (int)((state >> 16) & 0xFFFF);
            if (next >= parts) return;
            if (Interlocked.CompareExchange(ref _state, state + 1, state) != state) continue;
            // The claim succeeded in the current generation: its call is still waiting for this part, so the
            // fields stay as they are until the part is counted below.
            try
            {
                _results[next] = RunPart(next);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
            }
            if (Interlocked.Decrement(ref _remaining) == 0) _done.Set();
        }
    }
}

/// <summary>
/// A <see cref="RangeJob"/> cached per calling thread: one instance per thread and job type, so that a call allocates
/// nothing and two threads' calls never share one job's argument fields.
/// </summary>
internal abstract class RangeJob<TSelf> : RangeJob where TSelf : RangeJob<TSelf>, new()
{
    [ThreadStatic] private static TSelf? s_current;

    public static TSelf ForThisThread => s_current ??= new TSelf();
}
