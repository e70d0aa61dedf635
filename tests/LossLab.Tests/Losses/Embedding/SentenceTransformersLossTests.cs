using LossLab.Losses.Core;
using LossLab.Losses.Embedding;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.Embedding;

/// <summary>
/// sentence-transformers' in-batch negatives, CoSENT and AnglE on vectors whose similarities are known by hand (the
/// values below are derived from the papers' formulas, not from the implementation); random cases against torch
/// references written from sentence-transformers' code are in torch_diff.
/// </summary>
public sealed class SentenceTransformersLossTests
{
    private static readonly double R = Math.Sqrt(0.5);

    /// <summary>q₁ = (1, 0), q₂ = (0, 1); p₁ = (1, 0), p₂ = (1, 1): cos(q₁, p₁) = 1, cos(q₁, p₂) = cos(q₂, p₂) = √½, cos(q₂, p₁) = 0.</summary>
    private static LossInputs Pairs() => T.In(("anchors", T.D2(new double[,] { { 1, 0 }, { 0, 1 } })), ("positives", T.D2(new double[,] { { 1, 0 }, { 1, 1 } })));

    private static double Lse(params double[] v) { double m = v.Max(); return m + Math.Log(v.Sum(x => Math.Exp(x - m))); }

    private static double Mnrl(Dictionary<string, object?> options, LossInputs? inputs = null)
        => LossRegistry.Default.Create("multiple_negatives_ranking_loss", options).Evaluate(inputs ?? Pairs()).Scalar;

    [Fact]
    public void In_batch_negatives_is_cross_entropy_over_every_document()
    {
        double expected = ((Lse(1, R) - 1) + (Lse(0, R) - R)) / 2;
        T.Close(expected, Mnrl(T.Opt(("scale", 1.0))), rel: 1e-14);
        // scale 20 (the default) multiplies every similarity. Each row's loss is log(1 + e^(other − own)), written as
        // log1p here: Lse(20, 20R) − 20 would subtract nearly equal numbers and keep only 12 digits of 0.0014.
        static double Log1p(double e) { double u = 1 + e; return u == 1 ? e : Math.Log(u) * e / (u - 1); }
        T.Close((Log1p(Math.Exp(20 * R - 20)) + Log1p(Math.Exp(-20 * R))) / 2, Mnrl(T.Opt()), rel: 1e-14);
    }

    [Fact]
    public void The_symmetric_term_and_the_partitions()
    {
        // doc_to_query: p₁ against q₁, q₂ (1, 0); p₂ against q₁, q₂ (√½, √½).
        double perDirection = ((Lse(1, R) + Lse(1, 0)) / 2 - 1 + (Lse(0, R) + Lse(R, R)) / 2 - R) / 2;
        T.Close(perDirection, Mnrl(T.Opt(("scale", 1.0), ("doc_to_query", true), ("partition_mode", "per_direction"))), rel: 1e-14);
        double joint = ((Lse(1, R, 1, 0) - 1) + (Lse(0, R, R, R) - R)) / 2;
        T.Close(joint, Mnrl(T.Opt(("scale", 1.0), ("doc_to_query", true))), rel: 1e-14);
        // query_to_query adds cos(q₁, q₂) = 0 to both rows (each query's own similarity left out).
        T.Close(((Lse(1, R, 0) - 1) + (Lse(0, R, 0) - R)) / 2, Mnrl(T.Opt(("scale", 1.0), ("query_to_query", true))), rel: 1e-14);
        // doc_to_doc: p₁ against p₂ (√½) and p₂ against p₁ — the anchor's own documents left out.
        T.Close(((Lse(1, R, R) - 1) + (Lse(0, R, R) - R)) / 2, Mnrl(T.Opt(("scale", 1.0), ("doc_to_doc", true))), rel: 1e-14);
    }

    [Fact]
    public void Hard_negatives_join_every_row_and_dot_score_skips_the_normalization()
    {
        // One hard negative per anchor, n₁ = (−1, 0), n₂ = (0, 2): cosines q₁·n = (−1, 0), q₂·n = (0, 1).
        LossInputs withNegatives = Pairs().Add("negatives", T.D2(new double[,] { { -1, 0 }, { 0, 2 } }));
        T.Close(((Lse(1, R, -1, 0) - 1) + (Lse(0, R, 0, 1) - R)) / 2, Mnrl(T.Opt(("scale", 1.0)), withNegatives), rel: 1e-14);
        LossInputs asColumns = Pairs().Add("negatives", T.Shaped(new double[] { -1, 0, 0, 2 }, 2, 1, 2));
        Assert.Equal(Mnrl(T.Opt(("scale", 1.0)), withNegatives), Mnrl(T.Opt(("scale", 1.0)), asColumns));
        // dot_score: q·p = 1, 1 / 0, 1.
        T.Close(((Lse(1, 1) - 1) + (Lse(0, 1) - 1)) / 2, Mnrl(T.Opt(("scale", 1.0), ("similarity_fct", "dot_score"))), rel: 1e-14);
    }

    [Fact]
    public void Bad_shapes_and_empty_directions_are_named()
    {
        var e = Assert.Throws<LossArgumentException>(() => Mnrl(T.Opt(), Pairs().Add("negatives", T.D2(new double[,] { { 1, 0, 0 }, { 0, 1, 0 } }))));
        Assert.Contains("'negatives' has shape (2, 3); expected (N, K, D) = (2, K, 2)", e.Message);
        var one = T.In(("anchors", T.D2(new double[,] { { 1, 0 } })), ("positives", T.D2(new double[,] { { 1, 1 } })));
        e = Assert.Throws<LossArgumentException>(() => Mnrl(T.Opt(("query_to_query", true), ("partition_mode", "per_direction")), one));
        Assert.Contains("with one anchor, query_to_query has no entry to normalize over", e.Message);
        T.Close(0, Mnrl(T.Opt(("query_to_query", true)), one), abs: 1e-12);   // joint: the empty block drops out, the positive is alone
        e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("mnrl", T.Opt(("scale", 0.0))));
        Assert.Contains("scale must be a positive value", e.Message);
    }

    private static LossInputs Scored(double[,] u, double[,] v, params double[] labels) => T.In(("embeddings1", T.D2(u)), ("embeddings2", T.D2(v)), ("labels", T.D(labels)));

    [Fact]
    public void A_confident_row_keeps_the_digits_of_its_gradient()
    {
        // q = p = I (2 × 2), scale 40, dot_score: each row is (40, 0) around its positive, so 1 − P_ii = e^{−40}/(1 + e^{−40})
        // ≈ 4.25e-18, the whole gradient; with P_ii rounded to 1 (or its lse to 40) it would come out 0 or 0.5% off.
        TensorData eye = T.D2(new double[,] { { 1, 0 }, { 0, 1 } });
        double tail = Math.Exp(-40) / (1 + Math.Exp(-40));
        foreach (var options in new[] { T.Opt(("similarity_fct", "dot_score"), ("scale", 40.0)),
                     T.Opt(("similarity_fct", "dot_score"), ("scale", 40.0), ("doc_to_query", true), ("partition_mode", "per_direction")) })
        {
            LossResult r = LossRegistry.Default.Create("multiple_negatives_ranking_loss", options).Evaluate(T.In(("anchors", eye), ("positives", eye)));
            T.Close(Math.Exp(-40), r.Scalar, rel: 1e-14, abs: 0);   // log(1 + e^{−40}) = e^{−40} to 1e-17
            // ∂ℓ/∂q_0 = (40/N)·((P_00 − 1)·p_0 + P_01·p_1) = 20·(−tail, tail) from query_to_doc; per_direction halves it
            // and adds the same from doc_to_query's row, whose positive is the same pair.
            T.Close([-20 * tail, 20 * tail, 20 * tail, -20 * tail], r.Gradient("anchors"), rel: 1e-13, abs: 0);
        }
    }

    [Fact]
    public void CoSENT_penalizes_a_pair_ranked_below_another_for_its_similarity()
    {
        // cos = 1 for the pair labelled 0 and 0 for the one labelled 1: ℓ = log(1 + e^{20(1 − 0)}).
        LossInputs inputs = Scored(new double[,] { { 1, 0 }, { 1, 0 } }, new double[,] { { 2, 0 }, { 0, 3 } }, 0, 1);
        T.Close(Math.Log(1 + Math.Exp(20.0)), LossRegistry.Default.Create("cosent_loss").Evaluate(inputs).Scalar, rel: 1e-14);
        // Labels in the right order, and ties, are not ranked: ℓ = log(1 + e^{s₂ − s₁}) only.
        LossInputs ordered = Scored(new double[,] { { 1, 0 }, { 1, 0 }, { 1, 0 } }, new double[,] { { 2, 0 }, { 0, 3 }, { 1, 1 } }, 1, 0, 0);
        T.Close(Math.Log(1 + Math.Exp(5 * (0 - 1)) + Math.Exp(5 * (R - 1))),
            LossRegistry.Default.Create("cosent_loss", T.Opt(("scale", 5.0))).Evaluate(ordered).Scalar, rel: 1e-14);
    }

    [Fact]
    public void AnglE_is_CoSENT_with_the_angle_similarity()
    {
        // x = 1 + 2i, y = 3 − i: Σ ac + be + bc − ae = 3 − 2 + 6 + 1 = 8, over √5·√10; x = 0.5 − i, y = 2 + 2i: |−4|/(√1.25·√8).
        Assert.Equal(8 / Math.Sqrt(50), AnglELoss.AngleSimilarity([1, 2], [3, -1], [], [], "t", 0), 1e-15);
        Assert.Equal(4 / Math.Sqrt(10), AnglELoss.AngleSimilarity([0.5, -1], [2, 2], [], [], "t", 0), 1e-15);
        // An odd D is padded with one zero: (1, 2, 3 | 0) against (3, −1, 0.5 | 0): 11 / √(14·10.25) (torch: 0.9182622582426503).
        Assert.Equal(0.9182622582426503, AnglELoss.AngleSimilarity([1, 2, 3], [3, -1, 0.5], [], [], "t", 0), 1e-15);
        LossInputs inputs = Scored(new double[,] { { 1, 2 }, { 0.5, -1 } }, new double[,] { { 3, -1 }, { 2, 2 } }, 1, 0);
        T.Close(Math.Log(1 + Math.Exp(20 * (4 / Math.Sqrt(10) - 8 / Math.Sqrt(50)))), LossRegistry.Default.Create("angle_loss").Evaluate(inputs).Scalar, rel: 1e-14);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("angle_loss").Evaluate(Scored(new double[,] { { 1, 2 }, { 0, 0 } }, new double[,] { { 3, -1 }, { 2, 2 } }, 1, 0)));
        Assert.Contains("embeddings1[1] is a zero vector", e.Message);
    }

    [Fact]
    public void CosineSimilarityLoss_is_the_squared_error_of_the_cosine()
    {
        // cos((1, 0), (1, 1)) = √½ against 0.5; cos((0, 2), (0, −1)) = −1 against −1.
        LossInputs inputs = Scored(new double[,] { { 1, 0 }, { 0, 2 } }, new double[,] { { 1, 1 }, { 0, -1 } }, 0.5, -1);
        LossResult r = LossRegistry.Default.Create("cosine_similarity_loss").Evaluate(inputs);
        T.Close((R - 0.5) * (R - 0.5) / 2, r.Scalar, rel: 1e-14);
        T.Close([-(R - 0.5), 0], r.Gradient("labels"), rel: 1e-14);
    }

    [Fact]
    public void MarginMSELoss_fits_the_students_margin_to_the_teachers()
    {
        // q = (1, 2), p = (3, 0), n = (0, 1): dot products 3 and 2, margin 1 against the teacher's 0.25.
        LossInputs Inputs(double[] labels, params int[] labelShape) => T.In(("query", T.D2(new double[,] { { 1, 2 } })), ("passage", T.D2(new double[,] { { 3, 0 } })),
            ("negatives", T.D2(new double[,] { { 0, 1 } })), ("labels", T.Shaped(labels, labelShape)));
        T.Close(0.5625, LossRegistry.Default.Create("margin_mse_loss").Evaluate(Inputs([0.25], 1)).Scalar, rel: 1e-14);
        T.Close(0.5625, LossRegistry.Default.Create("margin_mse_loss").Evaluate(Inputs([0.25], 1, 1)).Scalar, rel: 1e-14);
        // The cosine: 3/(√5·3) − 2/√5 = −1/√5.
        double m = -1 / Math.Sqrt(5);
        T.Close((m - 0.25) * (m - 0.25), LossRegistry.Default.Create("margin_mse_loss", T.Opt(("similarity_fct", "pairwise_cos_sim"))).Evaluate(Inputs([0.25], 1)).Scalar, rel: 1e-14);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("margin_mse_loss").Evaluate(Inputs([0.25, 1], 2)));
        Assert.Contains("'labels' has shape (2,); expected (1,), the teacher's margin", e.Message);
    }

    [Fact]
    public void GistEmbedLoss_leaves_out_what_the_guide_ranks_above_the_positive()
    {
        // Self-guided: a₁ = (1, 0), a₂ = (0, 1), p₁ = (1, 0), p₂ = (1, 2): cos(a₁, p₂) = cos(p₁, p₂) = 1/√5, cos(a₂, p₂) = 2/√5.
        double s1 = 1 / Math.Sqrt(5), s2 = 2 / Math.Sqrt(5);
        double[,] a = { { 1, 0 }, { 0, 1 } }, p = { { 1, 0 }, { 1, 2 } };
        LossInputs inputs = T.In(("anchors", T.D2(a)), ("positives", T.D2(p)), ("guide_anchors", T.D2(a)), ("guide_positives", T.D2(p)));
        // Row 1's guide threshold is cos(a₁, p₁) = 1: nothing exceeds it, the self-similarities stay. Row 2's is 2/√5: a₂·a₂
        // and p₂·p₂ (1) are left out.
        double row1 = Lse(1, s1, 1, 0, 1, s1) - 1, row2 = Lse(0, s2, 0, s1) - s2;
        T.Close((row1 + row2) / 2, LossRegistry.Default.Create("gist_embed_loss", T.Opt(("temperature", 1.0))).Evaluate(inputs).Scalar, rel: 1e-14);
        // An absolute margin of 0.1 lowers row 1's threshold to 0.9: its self-similarities go too.
        T.Close((Lse(1, s1, 0, s1) - 1 + row2) / 2, LossRegistry.Default.Create("gist_embed_loss", T.Opt(("temperature", 1.0), ("margin", 0.1))).Evaluate(inputs).Scalar, rel: 1e-14);
        // Without the anchor and positive blocks it is in-batch negatives over the positives (MNRL at scale 1/τ).
        var plain = T.Opt(("temperature", 0.5), ("contrast_anchors", false), ("contrast_positives", false));
        T.Close(Mnrl(T.Opt(("scale", 2.0)), T.In(("anchors", T.D2(a)), ("positives", T.D2(p)))),
            LossRegistry.Default.Create("gist_embed_loss", plain).Evaluate(inputs).Scalar, rel: 1e-14);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("gist_embed_loss").Evaluate(new LossInputs(inputs.Tensors).Add("negatives", T.D2(a))));
        Assert.Contains("'negatives' and 'guide_negatives' go together", e.Message);
    }

    [Fact]
    public void Pair_contrastive_losses_pull_similar_pairs_and_push_dissimilar_ones_inside_the_margin()
    {
        // Cosine distances: (1, 0)–(1, 0) 0; (1, 0)–(0, 1) 1; (1, 0)–(1, 1) 1 − √½; (0, 1)–(0, −1) 2.
        LossInputs inputs = Scored(new double[,] { { 1, 0 }, { 1, 0 }, { 1, 0 }, { 0, 1 } }, new double[,] { { 1, 0 }, { 0, 1 }, { 1, 1 }, { 0, -1 } }, 1, 1, 0, 0);
        double near = 1 - R;
        // ½(y·d² + (1 − y)·max(0, 0.5 − d)²): 0, ½, ½(0.5 − near)², 0.
        T.Close((0.5 + 0.5 * (0.5 - near) * (0.5 - near)) / 4, LossRegistry.Default.Create("pair_contrastive_loss").Evaluate(inputs).Scalar, rel: 1e-14);
        // Online: similar distances {0, 1}, dissimilar {near, 2}. Hard similar: above min(near, 2) = near: the pair at 1.
        // Hard dissimilar: below max(0, 1) = 1: the pair at near. Σ d² + Σ max(0, m − d)², m = 0.5.
        T.Close(1 + (0.5 - near) * (0.5 - near), LossRegistry.Default.Create("online_contrastive_loss").Evaluate(inputs).Scalar, rel: 1e-14);
        // One similar pair only: the dissimilar threshold is their own mean, (near + 2)/2, so only the pair at near is hard;
        // the similar pair (at 1) is hard above min(near, 2).
        LossInputs lone = Scored(new double[,] { { 1, 0 }, { 1, 0 }, { 0, 1 } }, new double[,] { { 0, 1 }, { 1, 1 }, { 0, -1 } }, 1, 0, 0);
        T.Close(1 + (0.5 - near) * (0.5 - near), LossRegistry.Default.Create("online_contrastive_loss").Evaluate(lone).Scalar, rel: 1e-14);
    }

    /// <summary>1-d embeddings 0, 1 (class 0) and 3, 4 (class 1): distances d01 = d23 = 1, d12 = 2, d02 = d13 = 3, d03 = 4.</summary>
    private static LossInputs Line(params double[] x) => T.In(("embeddings", T.Shaped(x, x.Length, 1)), ("labels", T.I([.. Enumerable.Range(0, x.Length).Select(i => (long)(i < 2 ? 0 : 1))])));

    private static double Batch(string loss, LossInputs inputs, params (string, object?)[] options) => LossRegistry.Default.Create(loss, T.Opt(options)).Evaluate(inputs).Scalar;

    [Fact]
    public void Batch_triplet_losses_pick_their_triplets_as_sentence_transformers()
    {
        LossInputs line = Line(0, 1, 3, 4);
        // Hard: anchors 1 and 2 have hardest positive 1 and hardest negative 2: max(0, 1 − 2 + 2) = 1; anchors 0 and 3: 0.
        T.Close(0.5, Batch("batch_hard_triplet_loss", line, ("margin", 2.0)), rel: 1e-15);
        double Sp(double v) => Math.Log(1 + Math.Exp(v));
        T.Close((Sp(-2) + Sp(-1) + Sp(-1) + Sp(-2)) / 4, Batch("batch_hard_triplet_loss", line, ("soft_margin", true)), rel: 1e-15);
        // All: the triplets (1, 0, 2) and (2, 3, 1) score 1, the others 0: 2 over a count of 2.
        T.Close(1, Batch("batch_all_triplet_loss", line, ("margin", 2.0)), rel: 1e-15);
        // Semi-hard: (1, 0) and (2, 3) take the negative at 2 (the nearest beyond 1): 1 each, over 4 positive pairs.
        T.Close(0.5, Batch("batch_semi_hard_triplet_loss", line, ("margin", 2.0)), rel: 1e-15);
        // No negative farther than the positive: the farthest negative instead. 0, 5 (class 0) and 1 (class 1), margin 0.5:
        // (0, 1) at 5 against 1: 4.5; (1, 0) at 5 against 4: 1.5.
        LossInputs far = T.In(("embeddings", T.Shaped(new double[] { 0, 5, 1 }, 3, 1)), ("labels", T.I(0, 0, 1)));
        T.Close(3, Batch("batch_semi_hard_triplet_loss", far, ("margin", 0.5)), rel: 1e-15);
        // No positive pair: 0 (sentence-transformers: 0/0).
        Assert.Equal(0, Batch("batch_semi_hard_triplet_loss", T.In(("embeddings", T.Shaped(new double[] { 0, 5 }, 2, 1)), ("labels", T.I(0, 1)))));
    }

    [Fact]
    public void SoftmaxLoss_is_cross_entropy_of_a_linear_classifier_over_the_pair_features()
    {
        // u = (1, 2), v = (3, 1): f = [u, v, |u − v|] = (1, 2, 3, 1, 2, 1). W picks f₀ + f₅ for class 0 and f₂ for class 1: z = (2, 3) + b.
        double[,] w = { { 1, 0, 0, 0, 0, 1 }, { 0, 0, 1, 0, 0, 0 } };
        LossInputs inputs = T.In(("embeddings1", T.D2(new double[,] { { 1, 2 } })), ("embeddings2", T.D2(new double[,] { { 3, 1 } })), ("labels", T.I(0)),
            ("classifier.weight", T.D2(w)), ("classifier.bias", T.D(0.5, 0)));
        T.Close(Lse(2.5, 3) - 2.5, LossRegistry.Default.Create("softmax_loss").Evaluate(inputs).Scalar, rel: 1e-15);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("softmax_loss", T.Opt(("concatenation_sent_multiplication", true))).Evaluate(inputs));
        Assert.Contains("'classifier.weight' has shape (2, 6); expected (num_labels, 8) = (C, 4·2)", e.Message);
        Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("softmax_loss", T.Opt(("concatenation_sent_rep", false), ("concatenation_sent_difference", false))));
        e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("softmax_loss").Evaluate(new LossInputs(inputs.Tensors).Add("labels", T.I(2))));
        Assert.Contains("labels[0] = 2 is out of range: classes are [0, 1]", e.Message);
    }
}
