using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// The cosine-similarity matrix S = Û·Ûᵀ (N×N, Û the unit rows (N, D)) streamed in blocks of anchor rows, and the
/// way back: each block's ∂loss/∂S rows G (B×N) are folded into ∂Û without ever holding N×N.
/// </summary>
/// <remarks>
/// <para>Memory is O(N·D + B·N): Û, its transpose Ûᵀ (D×N, so that a block is one matrix product with unit-stride
/// columns), ∂Û, ∂Ûᵀ and two B×N blocks, with B chosen so that a block holds at most 2¹⁸ doubles (2 MiB).</para>
/// <para>For s_aj = û_a·û_j, ∂/∂û_a += g_aj·û_j and ∂/∂û_j += g_aj·û_a. Over a block of anchors A (rows a0..a0+B):
/// ∂Û[A] += G·Û (B×N · N×D) and ∂Ûᵀ += Û[A]ᵀ·G (D×B · B×N); the two halves are added at the end. All three products
/// run through <see cref="GemmF64"/>, in double.</para>
/// </remarks>
internal sealed class SimilarityBlocks
{
    private const int MaxBlockDoubles = 1 << 18;
    private readonly double[] _unit, _unitT;
    private readonly int _n, _d;
    private readonly double[] _s;
    private readonly double[]? _g, _gUnit, _gUnitT, _blockT;

    /// <param name="unit">The unit rows Û (N, D), row-major.</param>
    /// <param name="n">N.</param>
    /// <param name="d">D.</param>
    /// <param name="gradients">Whether to hold the gradient buffers (<see cref="GradientRows"/>, <see cref="AddGradient"/>).</param>
    /// <param name="blockRows">Anchors per block; by default as many as fit 2¹⁸ doubles, 4 to 256 (tests pass small ones).</param>
    public SimilarityBlocks(double[] unit, int n, int d, bool gradients, int? blockRows = null)
    {
        (_unit, _n, _d) = (unit, n, d);
        BlockRows = Math.Max(1, Math.Min(n, blockRows ?? BlockRowsOnThisThread ?? Math.Max(4, Math.Min(256, MaxBlockDoubles / Math.Max(1, n)))));
        _unitT = Transpose(unit, n, d);
        _s = new double[BlockRows * n];
        if (!gradients) return;
        _g = new double[BlockRows * n];
        _gUnit = new double[n * d];
        _gUnitT = new double[d * n];
        _blockT = new double[d * BlockRows];
    }

    /// <summary>When set, the block size of every loss on this thread (tests: many small blocks on small inputs).</summary>
    [ThreadStatic] internal static int? BlockRowsOnThisThread;

    /// <summary>Anchors per block (B).</summary>
    public int BlockRows { get; }

    /// <summary>S[a0 .. a0 + count) (count×N, row-major), each entry multiplied by <paramref name="scale"/>.</summary>
    public Span<double> Rows(int a0, int count, double scale)
    {
        Span<double> s = _s.AsSpan(0, count * _n);
        s.Clear();
        GemmF64.MultiplyAdd(_unit.AsSpan(a0 * _d), _d, _unitT, _n, s, _n, count, _d, _n);
        if (scale != 1) System.Numerics.Tensors.TensorPrimitives.Multiply(s, scale, s);
        return s;
    }

    /// <summary>A cleared count×N block for ∂loss/∂S of the anchors a0 .. a0 + count (then <see cref="AddGradient"/>).</summary>
    public Span<double> GradientRows(int count)
    {
        Span<double> g = (_g ?? throw new InvalidOperationException("SimilarityBlocks was created without gradients")).AsSpan(0, count * _n);
        g.Clear();
        return g;
    }

    /// <summary>Folds the block of <see cref="GradientRows"/> (∂loss/∂s_aj for the anchors a0 .. a0 + count) into ∂Û.</summary>
    public void AddGradient(int a0, int count)
    {
        if (_g is null || _gUnit is null || _gUnitT is null || _blockT is null) throw new InvalidOperationException("SimilarityBlocks was created without gradients");
        ReadOnlySpan<double> g = _g.AsSpan(0, count * _n);
        GemmF64.MultiplyAdd(g, _n, _unit, _d, _gUnit.AsSpan(a0 * _d), _d, count, _n, _d);
        for (int i = 0; i < count; i++)
            for (int k = 0; k < _d; k++) _blockT[k * count + i] = _unit[(a0 + i) * _d + k];
        GemmF64.MultiplyAdd(_blockT, count, g, _n, _gUnitT, _n, _d, count, _n);
    }

    /// <summary>∂loss/∂Û (N, D): both halves of every pair's gradient, each multiplied by <paramref name="scale"/>.</summary>
    public double[] UnitGradient(double scale = 1)
    {
        double[] g = _gUnit ?? throw new InvalidOperationException("SimilarityBlocks was created without gradients");
        for (int i = 0; i < _n; i++)
            for (int k = 0; k < _d; k++) g[i * _d + k] = scale * (g[i * _d + k] + _gUnitT![k * _n + i]);
        return g;
    }

    private static double[] Transpose(double[] x, int rows, int cols)
    {
        var t = new double[x.Length];
        for (int i = 0; i < rows; i++)
            for (int k = 0; k < cols; k++) t[k * rows + i] = x[i * cols + k];
        return t;
    }
}
