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
}
