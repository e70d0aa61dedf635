using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// One anchor's work in a pairwise loss: its row of similarities s_a· (N, already scaled), the row ∂loss/∂s_a· to fill
/// (empty without gradients; cleared before the call), and <c>scratchRows</c>·N doubles of its own scratch.
/// </summary>
internal delegate void AnchorRow(int anchor, ReadOnlySpan<double> similarities, Span<double> gradient, Span<double> scratch);

/// <summary>
/// The cosine-similarity matrix S = Û·Ûᵀ (N×N, Û the unit rows (N, D)) streamed in blocks of anchor rows, and the
/// way back: each block's ∂loss/∂S rows G (B×N) are folded into ∂Û without ever holding N×N.
/// </summary>
/// <remarks>
/// <para>Memory is O(N·D + B·N) per part: Û, its transpose Ûᵀ (D×N, so that a block is one matrix product with
/// unit-stride columns), ∂Û, a part's ∂Ûᵀ and two B×N blocks, with B chosen so that a block holds at most 2¹⁸ doubles
/// (2 MiB).</para>
/// <para>For s_aj = û_a·û_j, ∂/∂û_a += g_aj·û_j and ∂/∂û_j += g_aj·û_a. Over a block of anchors A (rows a0..a0+B):
/// ∂Û[A] += G·Û (B×N · N×D) and ∂Ûᵀ += Û[A]ᵀ·G (D×B · B×N); the two halves are added at the end. All three products
/// run through <see cref="GemmF64"/>, in double.</para>
/// <para>Large inputs split the anchors into two parts that run on the thread pool, each with its own blocks and
/// ∂Ûᵀ, added in part order at the end. The split depends only on N and D, never on the number of cores, so the
/// results are the same on any machine.</para>
/// </remarks>
internal sealed class SimilarityBlocks
{
    private const int MaxBlockDoubles = 1 << 18;

    /// <summary>Products at least this large (N²·D) are split into two parts.</summary>
    private const long TwoPartWork = 1L << 22;

    private readonly double[] _unit, _unitT;
    private readonly int _n, _d, _scratchRows;
    private readonly double[]? _gUnit;
    private readonly Part[] _parts;

    /// <param name="unit">The unit rows Û (N, D), row-major.</param>
    /// <param name="n">N.</param>
    /// <param name="d">D.</param>
    /// <param name="gradients">Whether the anchors fill gradient rows (then <see cref="UnitGradient"/> gives ∂Û).</param>
    /// <param name="scratchRows">Rows of N doubles of scratch each anchor gets.</param>
    /// <param name="blockRows">Anchors per block; by default as many as fit 2¹⁸ doubles, 4 to 256 (tests pass small ones).</param>
    public SimilarityBlocks(double[] unit, int n, int d, bool gradients, int scratchRows, int? blockRows = null)
    {
        (_unit, _n, _d, _scratchRows) = (unit, n, d, scratchRows);
        BlockRows = Math.Max(1, Math.Min(n, blockRows ?? BlockRowsOnThisThread ?? Math.Max(4, Math.Min(256, MaxBlockDoubles / Math.Max(1, n)))));
        _unitT = new double[n * d];
        Transpose(unit, n, d, _unitT);
        if (gradients) _gUnit = new double[n * d];
        int parts = (long)n * n * d >= TwoPartWork && n >= 8 && !OnePartOnThisThread ? 2 : 1;
        // Buffers are allocated here, on the calling thread, so that the caller's allocation count sees them.
        _parts = new Part[parts];
        for (int p = 0; p < parts; p++) _parts[p] = new Part(this, gradients, n * p / parts, n * (p + 1) / parts);
    }

    /// <summary>When set, the block size of every loss on this thread (tests: many small blocks on small inputs).</summary>
    [ThreadStatic] internal static int? BlockRowsOnThisThread;

    /// <summary>When set, every loss on this thread runs its anchors as one part (tests: the split changes nothing).</summary>
    [ThreadStatic] internal static bool OnePartOnThisThread;

    /// <summary>Anchors per block (B).</summary>
    public int BlockRows { get; }

    /// <summary>How many parts the anchors are split into (1 or 2; by N and D only).</summary>
    public int Parts => _parts.Length;

    /// <summary>
    /// Calls <paramref name="body"/> once per anchor with its row of S·<paramref name="scale"/>, then folds the gradient
    /// rows it filled into ∂Û. Anchors of one part run in order; the two parts may run at the same time, so the body
    /// may write only its own anchor's entries of shared arrays.
    /// </summary>
    public void Run(double scale, AnchorRow body)
    {
        if (_parts.Length == 1) { _parts[0].Run(scale, body); return; }
        Parallel.For(0, _parts.Length, p => _parts[p].Run(scale, body));
    }

    /// <summary>∂loss/∂Û (N, D): both halves of every pair's gradient, each multiplied by <paramref name="scale"/>.</summary>
    public double[] UnitGradient(double scale = 1)
    {
        double[] g = _gUnit ?? throw new InvalidOperationException("SimilarityBlocks was created without gradients");
        for (int i = 0; i < _n; i++)
            for (int k = 0; k < _d; k++)
            {
                double t = 0;
                foreach (Part part in _parts) t += part.GUnitT![k * _n + i];
                g[i * _d + k] = scale * (g[i * _d + k] + t);
            }
        return g;
    }

    /// <summary>t (cols×rows) = xᵀ for x (rows×cols), both row-major.</summary>
    private static void Transpose(ReadOnlySpan<double> x, int rows, int cols, Span<double> t)
    {
        for (int i = 0; i < rows; i++)
            for (int k = 0; k < cols; k++) t[k * rows + i] = x[i * cols + k];
    }

    /// <summary>The anchors [first, end) with their own blocks, scratch and half of ∂Ûᵀ.</summary>
    private sealed class Part(SimilarityBlocks owner, bool gradients, int first, int end)
    {
        private static int Rows(SimilarityBlocks owner, int first, int end) => Math.Min(owner.BlockRows, end - first);
        private readonly double[] _s = new double[Rows(owner, first, end) * owner._n];
        private readonly double[]? _g = gradients ? new double[Rows(owner, first, end) * owner._n] : null;
        private readonly double[]? _blockT = gradients ? new double[owner._d * Rows(owner, first, end)] : null;
        private readonly double[] _scratch = new double[owner._scratchRows * owner._n];
        public readonly double[]? GUnitT = gradients ? new double[owner._d * owner._n] : null;

        public void Run(double scale, AnchorRow body)
        {
            int n = owner._n, d = owner._d;
            for (int a0 = first; a0 < end; a0 += owner.BlockRows)
            {
                int count = Math.Min(owner.BlockRows, end - a0);
                Span<double> s = _s.AsSpan(0, count * n);
                s.Clear();
                GemmF64.MultiplyAdd(owner._unit.AsSpan(a0 * d), d, owner._unitT, n, s, n, count, d, n);
                if (scale != 1) System.Numerics.Tensors.TensorPrimitives.Multiply(s, scale, s);
                Span<double> g = _g is null ? default : _g.AsSpan(0, count * n);
                g.Clear();
                for (int i = 0; i < count; i++)
                    body(a0 + i, s.Slice(i * n, n), g.IsEmpty ? default : g.Slice(i * n, n), _scratch);
                if (_g is null || _blockT is null || GUnitT is null) continue;
                // ∂Û[block] += G·Û; ∂Ûᵀ += Û[block]ᵀ·G.
                GemmF64.MultiplyAdd(g, n, owner._unit, d, owner._gUnit.AsSpan(a0 * d), d, count, n, d);
                Transpose(owner._unit.AsSpan(a0 * d, count * d), count, d, _blockT);
                GemmF64.MultiplyAdd(_blockT, count, g, n, GUnitT, n, d, count, n);
            }
        }
    }
}
