namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Euclidean distances ‖x̂_i − x̂_j‖ between rows of (N, D) embeddings from their dot products s = x̂_i·x̂_j (the
/// similarity rows <see cref="SimilarityBlocks"/> streams), for the losses on pytorch-metric-learning's default
/// <c>LpDistance(p=2)</c>: contrastive and the lifted-structure losses.
/// </summary>
/// <remarks>
/// The gradient of a term w·d_ij goes back through the same blocks: ∂d_ij/∂x̂_i = (x̂_i − x̂_j)/d_ij, so the
/// similarity-gradient entry is G_ij = −w/d_ij (the blocks fold it into both rows) and each row keeps a diagonal
/// coefficient Σ w/d that <see cref="AddDiagonal"/> adds as coefficient·x̂_i. A pair at distance 0 gets gradient 0
/// (the subgradient torch.cdist also takes).
/// </remarks>
internal sealed class PairDistances
{
    private readonly double[] _unit, _squares;
    private readonly int _d;

    /// <param name="unit">The rows x̂ (N, D), row-major: unit rows, or the raw embeddings without normalization.</param>
    /// <param name="n">N.</param>
    /// <param name="d">D.</param>
    public PairDistances(double[] unit, int n, int d)
    {
        (_unit, _d) = (unit, d);
        _squares = new double[n];
        for (int i = 0; i < n; i++) _squares[i] = System.Numerics.Tensors.TensorPrimitives.Dot<double>(unit.AsSpan(i * d, d), unit.AsSpan(i * d, d));
    }

    /// <summary>
    /// ‖x̂_i − x̂_j‖ from the dot product s = x̂_i·x̂_j as √(‖x̂_i‖² + ‖x̂_j‖² − 2s), which loses digits only when the two
    /// are close: below a sixteenth of ‖x̂_i‖² + ‖x̂_j‖² (about 20° apart for unit rows) the difference is summed term by
    /// term instead, so that near-duplicate pairs keep their digits (2 − 2s would not).
    /// </summary>
    public double Between(double s, int i, int j)
    {
        double both = _squares[i] + _squares[j], fast = both - 2 * s;
        if (fast >= both / 16) return Math.Sqrt(fast);
        double sum = 0;
        for (int k = 0; k < _d; k++)
        {
            double diff = _unit[i * _d + k] - _unit[j * _d + k];
            sum += diff * diff;
        }
        return Math.Sqrt(sum);
    }

    /// <summary>
    /// ∂L/∂x̂ (N, D) for L = Σ_a ℓ_a where anchor a's term depends on its distances d_aj (or, <paramref name="squared"/>,
    /// on d_aj²): <paramref name="slope"/>(a, j, d) = ∂ℓ_a/∂d_aj, the reduction's factor included, 0 where the term is
    /// flat. Anchor a's row takes both terms on its pair, w_aj and w_ja, so that every row's diagonal part is its own:
    /// G_aj = −w_aj/d_aj and diagonal Σ_j (w_aj + w_ja)/d_aj (squared: −2w_aj and 2Σ_j (w_aj + w_ja)); a pair at distance
    /// 0 gets no gradient through d (the subgradient torch.cdist takes).
    /// </summary>
    public double[] Backward(Func<int, int, double, double> slope, bool squared = false)
    {
        int n = _squares.Length;
        var diagonal = new double[n];
        var blocks = new SimilarityBlocks(_unit, n, _d, gradients: true, scratchRows: 0);
        blocks.Run(1, (a, s, g, scratch) =>
        {
            double rowSum = 0;
            for (int j = 0; j < n; j++)
            {
                if (j == a) continue;
                double dist = Between(s[j], a, j);
                if (squared)
                {
                    double d2 = dist * dist, wa = slope(a, j, d2), wj = slope(j, a, d2);
                    g[j] = -2 * wa;
                    rowSum += 2 * (wa + wj);
                }
                else if (dist != 0)
                {
                    double wa = slope(a, j, dist), wj = slope(j, a, dist);
                    g[j] = -wa / dist;
                    rowSum += (wa + wj) / dist;
                }
            }
            diagonal[a] = rowSum;
        });
        double[] gUnit = blocks.UnitGradient();
        AddDiagonal(gUnit, diagonal);
        return gUnit;
    }

    /// <summary>gUnit_i += diagonal_i·x̂_i for every row: the x̂_i half of each term's (x̂_i − x̂_j)/d.</summary>
    public void AddDiagonal(double[] gUnit, double[] diagonal)
    {
        for (int i = 0; i < diagonal.Length; i++)
        {
            if (diagonal[i] == 0) continue;
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(_unit.AsSpan(i * _d, _d), diagonal[i], gUnit.AsSpan(i * _d, _d), gUnit.AsSpan(i * _d, _d));
        }
    }
}
