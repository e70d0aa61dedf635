using System.Runtime.ExceptionServices;

namespace LossLab.Numerics.Simd;

/// <summary>
/// Splits a kernel into parts run on the calling thread and the thread pool without allocating: a subclass holds
/// the kernel's arguments in fields, is cached per calling thread, and is queued once per extra part (each
/// execution claims the next unclaimed part). The caller claims parts too; it returns once every part and every queued
/// execution has finished.
/// </summary>
/// <remarks>Parts are claimed dynamically but each part's work is fixed, so results do not depend on which thread
/// ran which part. The caller runs parts too, but it also waits until every queued item has started (and found the
/// parts gone), so that no stale item can claim a part of the next call. In a process whose thread pool is saturated
/// by blocked work, a call can therefore wait until the pool injects a thread; <c>Parallel.For</c> would not. A
/// generation-tagged claim counter would remove the wait and is not done.</remarks>
internal abstract class RangeJob : IThreadPoolWorkItem
{
    private readonly ManualResetEventSlim _done = new(false);
    private int _parts, _next, _remaining;
    private ExceptionDispatchInfo? _error;
    private double[] _results = new double[2];

    /// <summary>Runs part <paramref name="part"/> of <see cref="Parts"/> and returns its partial sum.</summary>
    protected abstract double RunPart(int part);

    protected int Parts => _parts;

    /// <summary>
    /// Runs parts 0..<paramref name="parts"/>−1, returns when all have finished (rethrowing the first error), and gives
    /// the sum of their results added in part order, so the total does not depend on which thread ran which part.
    /// </summary>
    public double Run(int parts)
    {
        if (parts <= 1)
        {
            _parts = 1;
            return RunPart(0);
        }
        if (_results.Length < parts) _results = new double[parts];
        // Count down every part AND every queued execution, so that no queued item outlives this call (a stale
        // item could otherwise claim a part of the next call while its fields are being reset).
        _parts = parts;
        _next = 0;
        _remaining = parts + parts - 1;
        _error = null;
        _done.Reset();
        for (int i = 1; i < parts; i++) ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        Drain();
        _done.Wait();
        _error?.Throw();
        double total = 0;
        for (int p = 0; p < parts; p++) total += _results[p];
        return total;
    }

    void IThreadPoolWorkItem.Execute()
    {
        Drain();
        if (Interlocked.Decrement(ref _remaining) == 0) _done.Set();
    }

    private void Drain()
    {
        int part;
        while ((part = Interlocked.Increment(ref _next) - 1) < _parts)
        {
            try
            {
                _results[part] = RunPart(part);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
            }
            if (Interlocked.Decrement(ref _remaining) == 0) _done.Set();
        }
    }
}
