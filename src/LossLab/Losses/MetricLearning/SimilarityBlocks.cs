using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// One anchor's (query's) work in a pairwise loss: its row of similarities s_a· (one per reference, already scaled), the
/// row ∂loss/∂s_a· to fill (empty without gradients; cleared before the call), and <c>scratchRows</c> rows of its own
/// scratch, each as long as the similarity row.
/// </summary>
internal delegate void AnchorRow(int anchor, ReadOnlySpan<double> similarities, Span<double> gradient, Span<double> scratch);

/// <summary>
/// The similarity matrix S = Q·Rᵀ of query rows Q (N, D) against reference rows R (M, D) — for most losses the unit
/// rows against themselves, S = Û·Ûᵀ — streamed in blocks of query rows, and the way back: each block's ∂loss/∂S rows
/// G (B×M) are folded into ∂Q and ∂R without ever holding N×M.
/// </summary>
/// <remarks>
/// <para>Memory is O((N + M)·D + B·M) per part: Q, Rᵀ (D×M, so that a block is one matrix product with unit-stride
/// columns), ∂Q, a part's ∂Rᵀ and two B×M blocks, with B chosen so that a block holds at most 2¹⁸ doubles
/// (2 MiB) — but at least 64 queries when R is larger than 2²⁰ doubles (8 MiB, past the caches), since each block's
/// product streams all of R: Proxy-NCA's 100000 proxies of 512 (410 MB) were read once per 4 queries. Such an R is
/// also never transposed: a block's similarities come as Sᵀ = R·Q[A]ᵀ (M×B, transposed back in the block) and ∂R
/// (M×D) accumulates Gᵀ·Q[A] in R's own layout. Each entry is the same sum of the same products in the same order as
/// on the other path (a·b = b·a), so the bits agree; what goes is two M×D copies and their strided transposes.</para>
/// <para>For s_ij = q_i·r_j, ∂/∂q_i += g_ij·r_j and ∂/∂r_j += g_ij·q_i. Over a block of queries A (rows a0..a0+B):
/// ∂Q[A] += G·R (B×M · M×D) and ∂Rᵀ += Q[A]ᵀ·G (D×B · B×M). When R is Q, the two halves are added
/// (<see cref="UnitGradient"/>). All three products run through <see cref="GemmF64"/>, in double.</para>
/// <para>Large inputs split the queries into two parts that run on the thread pool, each with its own blocks and
/// ∂Rᵀ, added in part order at the end. The split depends only on N, M and D, never on the number of cores, so the
/// results are the same on any machine. A large R runs as one part (each part's ∂Rᵀ is R's size; the products split
/// between the cores themselves).</para>
/// </remarks>
internal sealed class SimilarityBlocks
{
    private const int MaxBlockDoubles = 1 << 18;

    /// <summary>Products at least this large (N·M·D) are split into two parts.</summary>
    private const long TwoPartWork = 1L << 22;

    /// <summary>References of more doubles than this (M·D) take blocks of at least 64 queries and one part.</summary>
    private const long LargeReference = 1L << 20;

    private readonly double[] _query, _reference;
    private readonly double[]? _referenceT;   // Rᵀ (D×M), for a small R only
    private readonly int _n, _m, _d, _scratchRows;
    private readonly double[]? _gQuery;
    private readonly Part[] _parts;

    /// <summary>The unit rows against themselves: S = Û·Ûᵀ.</summary>
    /// <param name="unit">The unit rows Û (N, D), row-major.</param>
    /// <param name="n">N.</param>
    /// <param name="d">D.</param>
    /// <param name="gradients">Whether the anchors fill gradient rows (then <see cref="UnitGradient"/> gives ∂Û).</param>
    /// <param name="scratchRows">Rows of N doubles of scratch each anchor gets.</param>
    /// <param name="blockRows">Anchors per block; by default as many as fit 2¹⁸ doubles, 4 to 256 (tests pass small ones).</param>
    public SimilarityBlocks(double[] unit, int n, int d, bool gradients, int scratchRows, int? blockRows = null)
        : this(unit, n, unit, n, d, gradients, scratchRows, blockRows)
    {
    }

    /// <summary>Query rows against reference rows: S = Q·Rᵀ (N×M), a row of M similarities per query.</summary>
    /// <param name="query">Q (N, D), row-major.</param>
    /// <param name="n">N.</param>
    /// <param name="reference">R (M, D), row-major; the same array as <paramref name="query"/> for S = Û·Ûᵀ.</param>
    /// <param name="m">M.</param>
    /// <param name="d">D.</param>
    /// <param name="gradients">Whether the queries fill gradient rows (then <see cref="QueryGradient"/> and <see cref="ReferenceGradient"/>).</param>
    /// <param name="scratchRows">Rows of M doubles of scratch each query gets.</param>
    /// <param name="blockRows">Queries per block; by default as many as fit 2¹⁸ doubles, 4 to 256.</param>
    public SimilarityBlocks(double[] query, int n, double[] reference, int m, int d, bool gradients, int scratchRows, int? blockRows = null)
    {
        (_query, _reference, _n, _m, _d, _scratchRows) = (query, reference, n, m, d, scratchRows);
        bool large = LargeReferenceOnThisThread || (long)m * d > LargeReference;
        BlockRows = Math.Max(1, Math.Min(n, blockRows ?? BlockRowsOnThisThread ?? Math.Max(large ? 64 : 4, Math.Min(256, MaxBlockDoubles / Math.Max(1, m)))));
        if (!large)
        {
            _referenceT = new double[m * d];
            GemmF64.Transpose(reference, m, d, _referenceT);
        }
        if (gradients) _gQuery = new double[n * d];
        int parts = (long)n * m * d >= TwoPartWork && n >= 8 && !large && !OnePartOnThisThread ? 2 : 1;
        // Buffers are allocated here, on the calling thread, so that the caller's allocation count sees them.
        _parts = new Part[parts];
        for (int p = 0; p < parts; p++) _parts[p] = new Part(this, gradients, n * p / parts, n * (p + 1) / parts);
    }

    /// <summary>When set, the block size of every loss on this thread (tests: many small blocks on small inputs).</summary>
    [ThreadStatic] internal static int? BlockRowsOnThisThread;

    /// <summary>When set, every loss on this thread takes the large-reference path (tests: it gives the same bits).</summary>
    [ThreadStatic] internal static bool LargeReferenceOnThisThread;

    /// <summary>When set, every loss on this thread runs its anchors as one part (tests: the split changes nothing).</summary>
    [ThreadStatic] internal static bool OnePartOnThisThread;

    /// <summary>Queries per block (B).</summary>
    public int BlockRows { get; }

    /// <summary>How many parts the queries are split into (1 or 2; by N, M and D only).</summary>
    public int Parts => _parts.Length;

    /// <summary>
    /// Calls <paramref name="body"/> once per query with its row of S·<paramref name="scale"/>, then folds the gradient
    /// rows it filled into ∂Q and ∂R. Queries of one part run in order; the two parts may run at the same time, so the
    /// body may write only its own query's entries of shared arrays.
    /// </summary>
    public void Run(double scale, AnchorRow body)
    {
        if (_parts.Length == 1) { _parts[0].Run(scale, body); return; }
        Parallel.For(0, _parts.Length, p => _parts[p].Run(scale, body));
    }

    /// <summary>∂loss/∂Û (N, D) for S = Û·Ûᵀ: both halves of every pair's gradient, each multiplied by <paramref name="scale"/>.</summary>
    public double[] UnitGradient(double scale = 1)
    {
        double[] g = QueryGradient(), r = ReferenceGradient();
        for (int i = 0; i < g.Length; i++) g[i] = scale * (g[i] + r[i]);
        return g;
    }

    /// <summary>∂loss/∂Q (N, D): Σ_j g_ij·r_j (the blocks' own array, which <see cref="UnitGradient"/> completes in place).</summary>
    public double[] QueryGradient() => _gQuery ?? throw new InvalidOperationException("SimilarityBlocks was created without gradients");

    /// <summary>∂loss/∂R (M, D): Σ_i g_ij·q_i.</summary>
    public double[] ReferenceGradient()
    {
        if (_referenceT is null) return _parts[0].GReference ?? throw new InvalidOperationException("SimilarityBlocks was created without gradients");   // a large R: one part, ∂R in R's layout
        // ∂Rᵀ (D×M): one part's own, or the parts' halves added in part order, then transposed in tiles (element by
        // element, a strided write missed the cache on every entry: seconds at M = 100000).
        double[] sum = _parts[0].GReferenceT ?? throw new InvalidOperationException("SimilarityBlocks was created without gradients");
        if (_parts.Length > 1)
        {
            sum = new double[_d * _m];
            foreach (Part part in _parts) System.Numerics.Tensors.TensorPrimitives.Add<double>(sum, part.GReferenceT!, sum);
        }
        return GemmF64.Transposed(sum, _d, _m);
    }

    /// <summary>The queries [first, end) with their own blocks, scratch and half of ∂Rᵀ.</summary>
    private sealed class Part(SimilarityBlocks owner, bool gradients, int first, int end)
    {
        private static int Rows(SimilarityBlocks owner, int first, int end) => Math.Min(owner.BlockRows, end - first);
        private readonly double[] _s = new double[Rows(owner, first, end) * owner._m];
        private readonly double[]? _g = gradients ? new double[Rows(owner, first, end) * owner._m] : null;
        private readonly double[]? _blockT = gradients && owner._referenceT is not null ? new double[owner._d * Rows(owner, first, end)] : null;
        private readonly double[] _scratch = new double[owner._scratchRows * owner._m];
        private readonly bool _small = owner._referenceT is not null;
        public readonly double[]? GReferenceT = gradients && owner._referenceT is not null ? new double[owner._d * owner._m] : null;

        // A large R: Q[A]ᵀ (D×B) for every block, Sᵀ then Gᵀ (M×B), and ∂R (M×D).
        private readonly double[]? _queryT = owner._referenceT is null ? new double[owner._d * Rows(owner, first, end)] : null;
        private readonly double[]? _transposed = owner._referenceT is null ? new double[Rows(owner, first, end) * owner._m] : null;
        public readonly double[]? GReference = gradients && owner._referenceT is null ? new double[owner._m * owner._d] : null;

        public void Run(double scale, AnchorRow body)
        {
            int m = owner._m, d = owner._d;
            for (int a0 = first; a0 < end; a0 += owner.BlockRows)
            {
                int count = Math.Min(owner.BlockRows, end - a0);
                Span<double> s = _s.AsSpan(0, count * m);
                if (_small)
                {
                    s.Clear();
                    GemmF64.MultiplyAdd(owner._query.AsSpan(a0 * d), d, owner._referenceT, m, s, m, count, d, m);
                }
                else
                {
                    // Sᵀ = R·Q[A]ᵀ, then back to rows of M.
                    Span<double> qT = _queryT.AsSpan(0, d * count), sT = _transposed.AsSpan(0, m * count);
                    GemmF64.Transpose(owner._query.AsSpan(a0 * d, count * d), count, d, qT);
                    sT.Clear();
                    GemmF64.MultiplyAdd(owner._reference, d, qT, count, sT, count, m, d, count);
                    GemmF64.Transpose(sT, m, count, s);
                }
                if (scale != 1) System.Numerics.Tensors.TensorPrimitives.Multiply(s, scale, s);
                Span<double> g = _g is null ? default : _g.AsSpan(0, count * m);
                g.Clear();
                for (int i = 0; i < count; i++)
                    body(a0 + i, s.Slice(i * m, m), g.IsEmpty ? default : g.Slice(i * m, m), _scratch);
                if (_g is null) continue;
                // ∂Q[block] += G·R; ∂Rᵀ += Q[block]ᵀ·G (a large R: ∂R += Gᵀ·Q[block]).
                GemmF64.MultiplyAdd(g, m, owner._reference, d, owner._gQuery.AsSpan(a0 * d), d, count, m, d);
                if (GReferenceT is not null && _blockT is not null)
                {
                    GemmF64.Transpose(owner._query.AsSpan(a0 * d, count * d), count, d, _blockT);
                    GemmF64.MultiplyAdd(_blockT, count, g, m, GReferenceT, m, d, count, m);
                }
                else if (GReference is not null && _transposed is not null)
                {
                    Span<double> gT = _transposed.AsSpan(0, m * count);
                    GemmF64.Transpose(g, count, m, gT);
                    GemmF64.MultiplyAdd(gT, count, owner._query.AsSpan(a0 * d), d, GReference, d, m, count, d);
                }
            }
        }
    }
}
