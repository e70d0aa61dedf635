using System.Numerics.Tensors;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Cosines between unit embeddings (N, D) and the columns of class weights W (D, cols), read in W's own layout: the
/// products take W as it is and divide by the column norms, so no transposed or normalized copy of W is made (at
/// 100000 classes × 512 each copy is 410 MB). Used a chunk of rows at a time by the angular-margin family, P2SGrad and
/// SoftTriple.
/// </summary>
internal static class ClassColumns
{
    /// <summary>One row's cosines (cols), which the body may turn into ∂ℓ/∂ĉ in place when gradients are asked.</summary>
    public delegate void RowBody(int row, Span<double> cosines);

    /// <summary>
    /// Every row's cosines against the columns, a chunk of rows at a time (<see cref="PairBlock.Chunk"/>: at least 64, so
    /// that W is read once per 64 rows), handed to <paramref name="body"/>; with <paramref name="gradients"/> each chunk's
    /// rows as the body left them (∂ℓ/∂ĉ) are folded back. Returns ∂ℓ/∂ê (N, D) and ∂ℓ/∂ŵ in W's (D, cols) layout
    /// (empty without gradients).
    /// </summary>
    public static (double[] GUnitE, double[] GUnitW) Run(double[] unitE, double[] w, double[] norms, int n, int d, int cols, bool gradients, RowBody body)
    {
        int chunk = PairBlock.Chunk(n, cols);
        var block = new double[chunk * cols];
        double[] gUnitE = gradients ? new double[n * d] : [], gUnitW = gradients ? new double[d * cols] : [];
        double[] scratch = gradients ? new double[chunk * cols] : [], eT = gradients ? new double[d * chunk] : [], gT = gradients ? new double[d * chunk] : [];
        for (int i0 = 0; i0 < n; i0 += chunk)
        {
            int count = Math.Min(chunk, n - i0);
            Span<double> rows = block.AsSpan(0, count * cols);
            Cosines(unitE, w, norms, i0, count, d, cols, rows);
            for (int i = i0; i < i0 + count; i++) body(i, rows.Slice((i - i0) * cols, cols));
            if (gradients) Fold(rows, unitE, w, norms, i0, count, d, cols, gUnitE, gUnitW, scratch, eT, gT);
        }
        return (gUnitE, gUnitW);
    }

    /// <summary>‖w_j‖ of each column of W (D, cols), clamped at 1e-12 as <see cref="Embeddings.Normalize"/> clamps a row's.</summary>
    public static double[] Norms(double[] w, int d, int cols)
    {
        var norms = new double[cols];
        for (int q = 0; q < d; q++)
        {
            ReadOnlySpan<double> r = w.AsSpan(q * cols, cols);
            TensorPrimitives.FusedMultiplyAdd<double>(r, r, norms, norms);
        }
        for (int j = 0; j < cols; j++) norms[j] = Math.Max(Math.Sqrt(norms[j]), 1e-12);
        return norms;
    }

    /// <summary>
    /// The cosines ê_i·ŵ_j of embeddings [from, from + count) against every column: Ê[chunk]·W, each column divided by
    /// its norm, into <paramref name="block"/> (count × cols).
    /// </summary>
    public static void Cosines(double[] unitE, double[] w, double[] norms, int from, int count, int d, int cols, Span<double> block)
    {
        block = block[..(count * cols)];
        block.Clear();
        GemmF64.MultiplyAdd(unitE.AsSpan(from * d), d, w, cols, block, cols, count, d, cols);
        for (int i = 0; i < count; i++) TensorPrimitives.Divide<double>(block.Slice(i * cols, cols), norms, block.Slice(i * cols, cols));
    }

    /// <summary>
    /// A chunk's way back, G = ∂ℓ/∂ĉ (count × cols) in <paramref name="g"/>: ∂ŵ (D, cols) += Ê[chunk]ᵀ·G, then
    /// ∂ê[chunk] += (G/‖w‖)·Wᵀ, as its transpose W·(G/‖w‖)ᵀ (D × count) so that W is read in its own layout.
    /// <paramref name="scratch"/> holds (G/‖w‖)ᵀ, <paramref name="eT"/> Ê[chunk]ᵀ and <paramref name="gT"/> the product.
    /// </summary>
    public static void Fold(Span<double> g, double[] unitE, double[] w, double[] normW, int from, int count, int d, int cols,
        double[] gUnitE, double[] gUnitW, double[] scratch, double[] eT, double[] gT)
    {
        Span<double> et = eT.AsSpan(0, d * count), gt = gT.AsSpan(0, d * count), st = scratch.AsSpan(0, cols * count);
        GemmF64.Transpose(unitE.AsSpan(from * d, count * d), count, d, et);
        GemmF64.MultiplyAdd(et, count, g, cols, gUnitW, cols, d, count, cols);
        for (int i = 0; i < count; i++) TensorPrimitives.Divide<double>(g.Slice(i * cols, cols), normW, g.Slice(i * cols, cols));
        GemmF64.Transpose(g, count, cols, st);
        gt.Clear();
        GemmF64.MultiplyAdd(w, cols, st, count, gt, count, d, cols, count);
        for (int q = 0; q < d; q++)
            for (int i = 0; i < count; i++) gUnitE[(from + i) * d + q] += gt[q * count + i];
    }

    /// <summary>
    /// ∂W (D, cols) from ∂ŵ in place, column by column: (∂ŵ_j − (∂ŵ_j·ŵ_j)·ŵ_j)/‖w_j‖ (0 for a clamped norm), plus
    /// ∂‖w_j‖·ŵ_j where the lengths scale the logits, all times the reduction's <paramref name="scale"/>; the sums run
    /// over the rows of W's layout, a vector of columns at a time.
    /// </summary>
    public static void BackThroughNorms(double[] gHat, double[] w, double[] normW, double[]? gNormW, double scale, int d, int cols)
    {
        var dot = new double[cols];
        for (int q = 0; q < d; q++) TensorPrimitives.FusedMultiplyAdd<double>(gHat.AsSpan(q * cols, cols), w.AsSpan(q * cols, cols), dot, dot);
        var a = new double[cols];   // ∂W = ∂ŵ·a + w·b
        var b = new double[cols];
        for (int j = 0; j < cols; j++)
        {
            double norm = normW[j], along = gNormW is null ? 0 : scale * gNormW[j] / norm;
            bool degenerate = norm <= 1e-12;
            a[j] = degenerate ? 0 : scale / norm;
            b[j] = along - (degenerate ? 0 : scale * dot[j] / (norm * norm * norm));
        }
        for (int q = 0; q < d; q++)
        {
            Span<double> r = gHat.AsSpan(q * cols, cols);
            TensorPrimitives.Multiply<double>(r, a, r);
            TensorPrimitives.FusedMultiplyAdd<double>(w.AsSpan(q * cols, cols), b, r, r);
        }
    }
}
