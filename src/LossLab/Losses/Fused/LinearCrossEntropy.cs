using System.Numerics.Tensors;
using LossLab.Losses.Core;
using LossLab.Numerics.Simd;

namespace LossLab.Losses.Fused;

/// <summary>Options of <see cref="LinearCrossEntropy"/>.</summary>
public sealed record LinearCrossEntropyOptions
{
    /// <summary>Mean (over non-ignored rows) or Sum.</summary>
    public Reduction Reduction { get; init; } = Reduction.Mean;

    public int IgnoreIndex { get; init; } = -100;

    /// <summary>ε in [0, 1]: target (1 − ε)·onehot + ε/V.</summary>
    public float LabelSmoothing { get; init; }

    /// <summary>s ≥ 0: adds s·lse² per counted row (PaLM z-loss).</summary>
    public float ZLoss { get; init; }

    /// <summary>c &gt; 0: logits become c·tanh(z/c) before the softmax (Gemma 2's final-logit soft-capping); 0 = off.</summary>
    public float SoftCap { get; init; }

    /// <summary>Rows per chunk; 0 chooses from <see cref="MemoryBudgetBytes"/>.</summary>
    public int ChunkRows { get; init; }

    /// <summary>
    /// Vocabulary columns per block; 0 chooses: the whole vocabulary when a chunk of at least 8 rows fits the budget
    /// (one logits GEMM per chunk, Liger-Kernel's method), otherwise blocks whose log-sum-exp is streamed (Cut
    /// Cross-Entropy's method: two logits GEMMs, memory bounded by chunk × block).
    /// </summary>
    public int VocabBlock { get; init; }

    /// <summary>The largest logits workspace to hold at once (default 48 MiB: larger chunks re-read ∂W fewer times).</summary>
    public long MemoryBudgetBytes { get; init; } = 48L << 20;

    /// <summary>Threads for the GEMMs and the softmax (0 = automatic).</summary>
    public int Threads { get; init; }
}

/// <summary>
/// A linear layer followed by softmax cross-entropy, logits = H·Wᵀ + b with H (N, D), W (V, D), b (V), targets (N),
/// computed without ever holding the N×V logits: rows are processed in chunks, each chunk's logits (or a block of
/// them) computed by the blocked GEMM, turned into their gradient in place, and folded into ∂H, ∂W, ∂b at once.
/// </summary>
/// <remarks>
/// <para>Per chunk of R rows with the whole vocabulary (B = V): G = ∂ℓ/∂logits by <see cref="FusedCrossEntropy"/> in
/// place, ∂H_chunk = G·W, ∂W += Gᵀ·H_chunk, ∂b += Σ_rows G — three GEMMs, as the unfused path. With vocabulary blocks
/// (B &lt; V): a first sweep computes each block's logits and merges its max and Σexp into the row's running
/// log-sum-exp (m, s) → (max(m, m_b), s·e^(m − m') + s_b·e^(m_b − m')); a second sweep recomputes each block's
/// logits, forms G_b = scale·(a·e^(z − lse) − ε/V) − scale·(1 − ε)·[c = y] with a = 1 + 2s_z·lse, and accumulates the
/// gradients — four GEMMs, but memory R×B.</para>
/// <para>Soft-capping z' = c·tanh(z/c) multiplies G by 1 − (z'/c)². Results equal <see cref="ComputeUnfused"/> to
/// float32 round-off (tested). No class weights here (use the unfused path).</para>
/// </remarks>
public static class LinearCrossEntropy
{
    // Workspaces are cached per thread at their exact size (a power-of-two pool would round 50 MB up to 67 MB).
    [ThreadStatic] private static float[]? s_logits, s_factor, s_stats;
    [ThreadStatic] private static double[]? s_sums;

    private static float[] Workspace(ref float[]? slot, int length)
    {
        if (slot is null || slot.Length < length) slot = GC.AllocateUninitializedArray<float>(length);
        return slot;
    }

    /// <summary>Drops this thread's cached workspaces (they are kept between calls to avoid page faults).</summary>
    public static void ReleaseWorkspace()
    {
        s_logits = s_factor = s_stats = null;
        s_sums = null;
    }

    /// <summary>The chunk rows and vocabulary block the options resolve to for these sizes.</summary>
    public static (int ChunkRows, int VocabBlock) Plan(int rows, int vocab, LinearCrossEntropyOptions? options = null)
    {
        options ??= new();
        int buffers = options.SoftCap > 0 ? 2 : 1;
        long budgetFloats = Math.Max(1, options.MemoryBudgetBytes / 4 / buffers);
        int block = options.VocabBlock > 0 ? Math.Min(options.VocabBlock, vocab) : budgetFloats >= 8L * vocab ? vocab : (int)Math.Max(32, budgetFloats / 64 / 32 * 32);
        block = Math.Max(1, Math.Min(block, vocab));
        int chunk = options.ChunkRows > 0 ? options.ChunkRows : (int)Math.Clamp(budgetFloats / block / 8 * 8, 8, 4096);
        return (Math.Max(1, Math.Min(chunk, Math.Max(1, rows))), block);
    }

    /// <summary>Bytes of logits workspace the fused path holds at once (what replaces the unfused N×V·4).</summary>
    public static long WorkspaceBytes(int rows, int vocab, LinearCrossEntropyOptions? options = null)
    {
        var (chunk, block) = Plan(rows, vocab, options);
        return 4L * chunk * block * ((options?.SoftCap ?? 0) > 0 ? 2 : 1) + 4L * 4 * chunk;
    }

    /// <summary>
    /// Loss of logits H·Wᵀ + b against <paramref name="targets"/>, writing ∂loss/∂H, ∂W and ∂b (each may be empty
    /// to skip it; bias may be empty for none). Returns the reduced value.
    /// </summary>
    public static double Compute(
        ReadOnlySpan<float> hidden, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<int> targets, int dim,
        Span<float> gradHidden, Span<float> gradWeight, Span<float> gradBias, LinearCrossEntropyOptions? options = null)
    {
        options ??= new();
        var (n, v, count) = Check(hidden, weight, bias, targets, dim, gradHidden, gradWeight, gradBias, options);
        if (n == 0) return options.Reduction == Reduction.Mean ? double.NaN : 0;
        double scale = options.Reduction == Reduction.Mean ? 1.0 / count : 1.0;
        var (chunk, block) = Plan(n, v, options);
        int threads = options.Threads;
        bool cap = options.SoftCap > 0;
        gradWeight.Clear();
        gradBias.Clear();

        float[] logits = Workspace(ref s_logits, chunk * block);
        float[]? factor = cap ? Workspace(ref s_factor, chunk * block) : null;
        float[] stats = Workspace(ref s_stats, 4 * chunk);   // per row: running max / lse, target logit, Σz
        if (s_sums is null || s_sums.Length < chunk) s_sums = new double[chunk];
        double[] sums = s_sums;                              // per row: Σexp, then lse, in double
        {
            double total = 0;
            for (int r0 = 0; r0 < n; r0 += chunk)
            {
                int rows = Math.Min(chunk, n - r0);
                ReadOnlySpan<float> h = hidden.Slice(r0 * dim, rows * dim);
                ReadOnlySpan<int> t = targets.Slice(r0, rows);
                Span<float> gh = gradHidden.IsEmpty ? default : gradHidden.Slice(r0 * dim, rows * dim);
                if (block == v)
                {
                    Span<float> z = logits.AsSpan(0, rows * v);
                    Logits(h, weight, bias, 0, v, z, factor, rows, dim, options, threads);
                    total += FusedCrossEntropy.SumRows(z, t, v, z, default, v, options.IgnoreIndex, options.LabelSmoothing, options.ZLoss, scale, default, threads, Simd.Best);
                    if (cap) TensorPrimitives.Multiply(z, factor.AsSpan(0, rows * v), z);
                    Backward(z, h, weight, 0, v, gh, gradWeight, gradBias, rows, dim, accumulateHidden: false, threads);
                }
                else
                {
                    total += Streamed(h, weight, bias, t, v, block, dim, rows, logits, factor, stats, sums, gh, gradWeight, gradBias, scale, options);
                }
            }
            return options.Reduction == Reduction.Mean ? total / count : total;
        }
    }

    /// <summary>One chunk through vocabulary blocks: running log-sum-exp, then the gradient block by block. Returns Σ row losses.</summary>
    private static double Streamed(
        ReadOnlySpan<float> h, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<int> t, int v, int block, int dim, int rows,
        float[] logits, float[]? factor, float[] stats, double[] sums, Span<float> gh, Span<float> gw, Span<float> gb, double scale, LinearCrossEntropyOptions o)
    {
        Span<float> max = stats.AsSpan(0, rows), xy = stats.AsSpan(chunkOffset(1), rows), sz = stats.AsSpan(chunkOffset(2), rows);
        int chunkOffset(int i) => i * (stats.Length / 4);
        max.Fill(float.NegativeInfinity);
        xy.Clear();
        sz.Clear();
        Array.Clear(sums, 0, rows);
        for (int v0 = 0; v0 < v; v0 += block)
        {
            int b = Math.Min(block, v - v0);
            Span<float> z = logits.AsSpan(0, rows * b);
            Logits(h, weight, bias, v0, b, z, factor, rows, dim, o, o.Threads);
            for (int r = 0; r < rows; r++)
            {
                Span<float> row = z.Slice(r * b, b);
                int y = t[r];
                if (y == o.IgnoreIndex) continue;
                if (y >= v0 && y < v0 + b) xy[r] = row[y - v0];
                if (o.LabelSmoothing != 0) sz[r] += TensorPrimitives.Sum<float>(row);
                float bm = TensorPrimitives.Max<float>(row);
                float m = Math.Max(max[r], bm);
                TensorPrimitives.Subtract(row, m, row);
                TensorPrimitives.Exp(row, row);
                sums[r] = sums[r] * Math.Exp(max[r] - m) + TensorPrimitives.Sum<float>(row);
                max[r] = m;
            }
        }
        // Row values, and each row's lse (kept in sums[] from here on).
        double total = 0, eps = o.LabelSmoothing;
        for (int r = 0; r < rows; r++)
        {
            if (t[r] == o.IgnoreIndex) continue;
            double lse = max[r] + Math.Log(sums[r]);
            total += (1 - eps) * (lse - xy[r]) + eps / v * (v * lse - sz[r]) + o.ZLoss * lse * lse;
            sums[r] = lse;
        }
        for (int v0 = 0; v0 < v; v0 += block)
        {
            int b = Math.Min(block, v - v0);
            Span<float> z = logits.AsSpan(0, rows * b);
            Logits(h, weight, bias, v0, b, z, factor, rows, dim, o, o.Threads);
            for (int r = 0; r < rows; r++)
            {
                Span<float> row = z.Slice(r * b, b);
                int y = t[r];
                if (y == o.IgnoreIndex)
                {
                    row.Clear();
                    continue;
                }
                double lse = sums[r];
                float a = (float)(scale * (1 + 2 * o.ZLoss * lse)), k = (float)(scale * eps / v);
                TensorPrimitives.Subtract(row, (float)lse, row);
                TensorPrimitives.Exp(row, row);
                TensorPrimitives.Multiply(row, a, row);
                TensorPrimitives.Subtract(row, k, row);
                if (y >= v0 && y < v0 + b) row[y - v0] -= (float)(scale * (1 - eps));
            }
            if (factor is not null) TensorPrimitives.Multiply(z, factor.AsSpan(0, rows * b), z);
            Backward(z, h, weight, v0, b, gh, gw, gb, rows, dim, accumulateHidden: v0 > 0, o.Threads);
        }
        return total;
    }

    /// <summary>z (rows × b) = H·W[v0..v0+b]ᵀ + b[v0..v0+b], soft-capped with its derivative in <paramref name="factor"/>.</summary>
    private static void Logits(ReadOnlySpan<float> h, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int v0, int b, Span<float> z, float[]? factor, int rows, int dim, LinearCrossEntropyOptions o, int threads)
    {
        Gemm.Multiply(h, false, weight.Slice(v0 * dim, b * dim), true, z, rows, dim, b, accumulate: false, threads: threads > 0 ? threads : null);
        if (!bias.IsEmpty)
        {
            ReadOnlySpan<float> bb = bias.Slice(v0, b);
            for (int r = 0; r < rows; r++) TensorPrimitives.Add(z.Slice(r * b, b), bb, z.Slice(r * b, b));
        }
        if (factor is null) return;
        float c = o.SoftCap;
        Span<float> f = factor.AsSpan(0, rows * b);
        TensorPrimitives.Divide(z, c, z);
        TensorPrimitives.Tanh(z, z);
        TensorPrimitives.Multiply(z, z, f);
        TensorPrimitives.Negate(f, f);
        TensorPrimitives.Add(f, 1f, f);                 // 1 − tanh²
        TensorPrimitives.Multiply(z, c, z);             // c·tanh(z/c)
    }

    /// <summary>∂H (+)= G·W_blk, ∂W_blk += Gᵀ·H, ∂b_blk += column sums of G.</summary>
    private static void Backward(ReadOnlySpan<float> g, ReadOnlySpan<float> h, ReadOnlySpan<float> weight, int v0, int b, Span<float> gh, Span<float> gw, Span<float> gb, int rows, int dim, bool accumulateHidden, int threads)
    {
        int? th = threads > 0 ? threads : null;
        if (!gh.IsEmpty) Gemm.Multiply(g, false, weight.Slice(v0 * dim, b * dim), false, gh, rows, b, dim, accumulateHidden, th);
        if (!gw.IsEmpty) Gemm.Multiply(g, true, h, false, gw.Slice(v0 * dim, b * dim), b, rows, dim, accumulate: true, th);
        if (!gb.IsEmpty)
        {
            Span<float> bb = gb.Slice(v0, b);
            for (int r = 0; r < rows; r++) TensorPrimitives.Add(bb, g.Slice(r * b, b), bb);
        }
    }

    /// <summary>
    /// The same loss and gradients the direct way: the whole N×V logits matrix, <see cref="FusedCrossEntropy"/> in
    /// place, three GEMMs. The reference the chunked path is tested against, and the baseline of its benchmark.
    /// </summary>
    public static double ComputeUnfused(
        ReadOnlySpan<float> hidden, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<int> targets, int dim,
        Span<float> gradHidden, Span<float> gradWeight, Span<float> gradBias, LinearCrossEntropyOptions? options = null)
    {
        options ??= new();
        var (n, v, count) = Check(hidden, weight, bias, targets, dim, gradHidden, gradWeight, gradBias, options);
        if (n == 0) return options.Reduction == Reduction.Mean ? double.NaN : 0;
        double scale = options.Reduction == Reduction.Mean ? 1.0 / count : 1.0;
        var z = new float[(long)n * v];
        float[]? factor = options.SoftCap > 0 ? new float[z.Length] : null;
        Logits(hidden, weight, bias, 0, v, z, factor, n, dim, options, options.Threads);
        double total = FusedCrossEntropy.SumRows(z, targets, v, z, default, v, options.IgnoreIndex, options.LabelSmoothing, options.ZLoss, scale, default, options.Threads, Simd.Best);
        if (factor is not null) TensorPrimitives.Multiply(z, factor, z);
        gradWeight.Clear();
        gradBias.Clear();
        Backward(z, hidden, weight, 0, v, gradHidden, gradWeight, gradBias, n, dim, accumulateHidden: false, options.Threads);
        return options.Reduction == Reduction.Mean ? total / count : total;
    }

    private static (int N, int V, double Count) Check(
        ReadOnlySpan<float> hidden, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<int> targets, int dim,
        Span<float> gradHidden, Span<float> gradWeight, Span<float> gradBias, LinearCrossEntropyOptions o)
    {
        if (dim <= 0) throw LossArgumentException.Value($"LinearCrossEntropy: dim must be ≥ 1, got {dim}");
        int n = targets.Length;
        if ((long)n * dim != hidden.Length) throw LossArgumentException.Shape($"LinearCrossEntropy: hidden has {hidden.Length} values but targets ({n}) × dim ({dim}) = {(long)n * dim}");
        if (weight.Length == 0 || weight.Length % dim != 0) throw LossArgumentException.Shape($"LinearCrossEntropy: weight has {weight.Length} values, not a positive multiple of dim {dim} (shape (V, D))");
        int v = weight.Length / dim;
        if (!bias.IsEmpty && bias.Length != v) throw LossArgumentException.Shape($"LinearCrossEntropy: bias has {bias.Length} values; expected V = {v}");
        if (!gradHidden.IsEmpty && gradHidden.Length != hidden.Length) throw LossArgumentException.Shape($"LinearCrossEntropy: gradHidden has {gradHidden.Length} values; expected {hidden.Length}");
        if (!gradWeight.IsEmpty && gradWeight.Length != weight.Length) throw LossArgumentException.Shape($"LinearCrossEntropy: gradWeight has {gradWeight.Length} values; expected {weight.Length}");
        if (!gradBias.IsEmpty && gradBias.Length != v) throw LossArgumentException.Shape($"LinearCrossEntropy: gradBias has {gradBias.Length} values; expected {v}");
        if (o.Reduction is not (Reduction.Mean or Reduction.Sum)) throw LossArgumentException.Value($"LinearCrossEntropy: reduction {o.Reduction} is not supported (mean or sum)");
        if (!(o.LabelSmoothing >= 0 && o.LabelSmoothing <= 1)) throw LossArgumentException.Value($"LinearCrossEntropy: label_smoothing must be in [0, 1], got {o.LabelSmoothing}");
        if (!(o.ZLoss >= 0) || !float.IsFinite(o.ZLoss)) throw LossArgumentException.Value($"LinearCrossEntropy: z_loss must be a finite number ≥ 0, got {o.ZLoss}");
        if (!(o.SoftCap >= 0) || !float.IsFinite(o.SoftCap)) throw LossArgumentException.Value($"LinearCrossEntropy: soft_cap must be a finite number ≥ 0 (0 = off), got {o.SoftCap}");
        if (o.ChunkRows < 0 || o.VocabBlock < 0) throw LossArgumentException.Value($"LinearCrossEntropy: chunk rows and vocabulary block must be ≥ 0 (0 = automatic), got {o.ChunkRows} and {o.VocabBlock}");
        return (n, v, ClassRows.Denominator("LinearCrossEntropy", targets, v, o.IgnoreIndex, default));
    }
}
