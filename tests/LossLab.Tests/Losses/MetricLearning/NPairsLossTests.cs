using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.MetricLearning;

/// <summary>N-pairs by hand: which rows pair up (pytorch-metric-learning's first pair per label) and the softmax over the pairs' cosines.</summary>
public sealed class NPairsLossTests
{
    [Fact]
    public void The_first_two_rows_of_each_label_pair_up_and_each_anchor_picks_its_positive()
    {
        // Labels 5, 2, 5, 2, 5, 9: pairs (1, 3) for label 2 and (0, 2) for label 5, in label order; 9 has one row.
        // Unit rows: 0 (1, 0), 1 (0, 1), 2 (1, 0), 3 (0, 1), 4 (−1, 0), 5 (1, 1)/√2.
        double[] e = [2, 0, 0, 3, 1, 0, 0, 0.5, -1, 0, 1, 1];
        LossResult r = LossRegistry.Default.Create("n_pairs_loss", T.Opt(("reduction", "none")))
            .Evaluate(T.In(("embeddings", T.Shaped(e, 6, 2)), ("labels", T.I(5, 2, 5, 2, 5, 9))));
        // Anchor 1 against positives (3, 2): cosines (1, 0); anchor 0 against (3, 2): (0, 1). Both −log(e/(e + 1)).
        double each = -Math.Log(Math.E / (Math.E + 1));
        T.Close([each, each, 0, 0, 0, 0], r.Value, 1e-15, 0);
        double mean = LossRegistry.Default.Create("n_pairs_loss").Evaluate(T.In(("embeddings", T.Shaped(e, 6, 2)), ("labels", T.I(5, 2, 5, 2, 5, 9)))).Scalar;
        T.Close(each, mean, 1e-15, 0);   // over the 2 anchors
        Assert.Equal(0, LossRegistry.Default.Create("n_pairs_loss").Evaluate(T.In(("embeddings", T.Shaped(e, 6, 2)), ("labels", T.I(0, 1, 2, 3, 4, 5)))).Scalar);
    }

    /// <summary>
    /// Past 512 pairs the anchors go in several blocks (each block's similarities one matrix product): value and gradient
    /// equal a direct per-pair computation in double to round-off.
    /// </summary>
    [Fact]
    public void Several_blocks_of_anchors_equal_the_direct_computation()
    {
        int pairs = 700, d = 5, n = 2 * pairs;
        var r = new Random(8);
        double[] e = [.. Enumerable.Range(0, n * d).Select(_ => r.NextDouble() * 2 - 1)];
        long[] labels = [.. Enumerable.Range(0, n).Select(i => (long)(i % pairs))];   // rows i and i + pairs share a label
        LossResult result = LossRegistry.Default.Create("n_pairs_loss")
            .Evaluate(new LossInputs().Add("embeddings", TensorData.FromArray(e, n, d)).Add("labels", TensorData.FromArray(labels, n)));
        // Direct: unit rows, s_ij = â_i·p̂_j with anchor i = row i, positive j = row j + pairs.
        var (u, norm) = DirectNormalization.Unit(e, n, d);
        double Dot(int i, int j) => Enumerable.Range(0, d).Sum(k => u[i * d + k] * u[j * d + k]);
        double total = 0;
        var gu = new double[n * d];
        for (int i = 0; i < pairs; i++)
        {
            double[] s = [.. Enumerable.Range(0, pairs).Select(j => Dot(i, j + pairs))];
            double max = s.Max(), lse = max + Math.Log(s.Sum(v => Math.Exp(v - max)));
            total += lse - s[i];
            for (int j = 0; j < pairs; j++)
            {
                double g = (Math.Exp(s[j] - lse) - (i == j ? 1 : 0)) / pairs;
                for (int k = 0; k < d; k++)
                {
                    gu[i * d + k] += g * u[(j + pairs) * d + k];
                    gu[(j + pairs) * d + k] += g * u[i * d + k];
                }
            }
        }
        T.Close(total / pairs, result.Scalar, 1e-12, 0);
        T.Close(DirectNormalization.Back(gu, u, norm, n, d), result.Gradient("embeddings"), 1e-9, 1e-15);
    }
}
