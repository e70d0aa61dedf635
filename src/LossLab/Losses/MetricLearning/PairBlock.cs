using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// The similarities of a chunk of left rows against every right row as one matrix product, S = L[from, from + count)·Rᵀ
/// (count × R), and the way back of its gradient G = ∂ℓ/∂S (count × R): ∂L[chunk] += G·R and ∂R += Gᵀ·L[chunk], all
/// through <see cref="GemmF64"/> in double. For losses whose rows join several such blocks under one softmax
/// (sentence-transformers' in-batch negatives and GISTEmbed), which <see cref="SimilarityBlocks"/>' one matrix per row
/// does not cover; the caller picks the chunk so that its buffers stay small (memory O(chunk·R), never N × R).
/// </summary>
internal sealed class PairBlock
{
    private readonly double[] _left, _right, _rightT;
    private readonly int _r, _d;

    /// <param name="left">L (·, D), row-major.</param>
    /// <param name="right">R (r, D), row-major; may be the same array as <paramref name="left"/>.</param>
    /// <param name="r">The right rows, R's count.</param>
    /// <param name="d">D.</param>
    public PairBlock(double[] left, double[] right, int r, int d)
    {
        (_left, _right, _r, _d) = (left, right, r, d);
        _rightT = GemmF64.Transposed(right.AsSpan(0, r * d), r, d);
    }

    /// <summary>The right rows: each similarity row's length.</summary>
    public int Columns => _r;

    /// <summary>
    /// Left rows per chunk for <paramref name="rows"/> in all: as many as about 2¹⁸ similarities (2 MiB) hold, and at
    /// least 64 (or all): each chunk's product streams the whole right side, which at 100000 classes × 512 is 410 MB;
    /// chunks of two rows read it 128 times for 256 rows.
    /// </summary>
    public int ChunkRows(int rows) => Chunk(rows, _r);

    /// <summary>The same for rows of <paramref name="columns"/> similarities each, when the chunk spans several blocks.</summary>
    public static int Chunk(int rows, int columns) => Math.Max(1, Math.Min(rows, Math.Max(64, (1 << 18) / Math.Max(1, columns))));

    /// <summary>s (count × R) = L[from, from + count)·Rᵀ.</summary>
    public void Similarities(int from, int count, Span<double> s)
    {
        s = s[..(count * _r)];
        s.Clear();
        GemmF64.MultiplyAdd(_left.AsSpan(from * _d), _d, _rightT, _r, s, _r, count, _d, _r);
    }

    /// <summary>
    /// ∂L[from, from + count) += G·R into <paramref name="gLeft"/> and ∂R += Gᵀ·L[chunk] into <paramref name="gRight"/>
    /// (the same array when L is R), for G (count × R); <paramref name="scratch"/> holds Gᵀ (at least R·count).
    /// </summary>
    public void Fold(ReadOnlySpan<double> g, int from, int count, double[] gLeft, double[] gRight, double[] scratch)
    {
        GemmF64.MultiplyAdd(g, _r, _right, _d, gLeft.AsSpan(from * _d), _d, count, _r, _d);
        Span<double> gT = scratch.AsSpan(0, _r * count);
        GemmF64.Transpose(g[..(count * _r)], count, _r, gT);
        GemmF64.MultiplyAdd(gT, count, _left.AsSpan(from * _d), _d, gRight, _d, _r, count, _d);
    }
}
