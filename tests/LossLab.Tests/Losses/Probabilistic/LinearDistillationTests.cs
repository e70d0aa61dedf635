using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Probabilistic;

/// <summary>
/// Liger-Kernel's distillation losses: the generalized JSD on log-values and the fused linear JSD and cosine losses.
/// Golden values and gradients from the definitions in mpmath at 40 digits (derivatives by mpmath's diff), the KL cases
/// of β against kl_div, the padded teacher vocabulary, Liger's masking and denominator, and errors.
/// </summary>
public sealed class LinearDistillationTests
{
    private static readonly TensorData X = T.Shaped([-0.5, -1.5, -2, -1, -0.25, -3], 2, 3), Y = T.Shaped([-1.2, -0.7, -1.9, -2, -0.5, -1], 2, 3);

    [Fact]
    public void Generalized_jsd_values_and_gradient_match_the_definition()
    {
        LossResult r = LossRegistry.Default.Create("LigerJSD", T.Opt(("beta", 0.3), ("reduction", "none"))).Evaluate(T.In(("_input", X), ("target", Y)));
        T.Close([0.044838285493699312, 0.091803368451597667], r.Value, 1e-15);
        T.Close([0.069512896017293305, -0.048903892702328062, -0.0029428161072658087, 0.054148310875880811, 0.037432959706608853, -0.03730649721120563], r.Gradient("_input"), 1e-14);
        Assert.False(r.Gradients.ContainsKey("target"));   // the teacher gets none, as Liger
    }

    [Theory]
    [InlineData(0.0, "target", "_input")]   // β = 0: forward KL(P‖Q), P the teacher
    [InlineData(1.0, "_input", "target")]   // β = 1: reverse KL(Q‖P)
    public void Beta_zero_and_one_are_the_two_kl_divergences(double beta, string klTarget, string klInput)
    {
        var inputs = new Dictionary<string, TensorData> { ["_input"] = X, ["target"] = Y };
        LossResult jsd = LossRegistry.Default.Create("liger_jsd", T.Opt(("beta", beta), ("reduction", "sum"))).Evaluate(T.In(("_input", X), ("target", Y)));
        LossResult kl = LossRegistry.Default.Create("kl_div", T.Opt(("reduction", "sum"), ("log_target", true))).Evaluate(T.In(("input", inputs[klInput]), ("target", inputs[klTarget])));
        T.Close(kl.Scalar, jsd.Scalar, 1e-15);
    }

    [Fact]
    public void Generalized_jsd_counts_only_labelled_rows_and_is_zero_when_none_is()
    {
        ILoss loss = LossRegistry.Default.Create("liger_jsd", T.Opt(("beta", 0.3)));
        LossResult one = loss.Evaluate(T.In(("_input", X), ("target", Y), ("shift_labels", T.I(4, -100))));
        T.Close(0.044838285493699312, one.Scalar, 1e-15);   // the first row alone, divided by 1
        Assert.All(T.Values(one.Gradient("_input")).Skip(3), g => Assert.Equal(0, g));
        LossResult none = loss.Evaluate(T.In(("_input", X), ("target", Y), ("shift_labels", T.I(-100, -100))));
        Assert.Equal(0, none.Scalar);   // Liger writes zeros and returns 0, not 0/0
        Assert.All(T.Values(none.Gradient("_input")), g => Assert.Equal(0, g));
    }

    // N = 2 rows, student D_s = 2, V_s = 2 with a bias; teacher D_t = 1, V_t = 3 (the student's logits padded with a 0);
    // labels [1, ignored], T = 2, β = ½, both weights ½, mean.
    private static LossInputs Fused() => T.In(
        ("student_input", T.Shaped([0.5, -1, 2, 0.25], 2, 2)), ("student_weight", T.Shaped([1, 0.5, -0.5, 1.5], 2, 2)),
        ("teacher_input", T.Shaped([1.5, -0.5], 2, 1)), ("teacher_weight", T.Shaped([1, -2, 0.5], 3, 1)),
        ("true_labels", T.I(1, -100)), ("student_bias", T.D(0.1, -0.2)));

    [Fact]
    public void Fused_linear_jsd_matches_the_definition_with_a_padded_teacher_vocabulary_and_an_ignored_row()
    {
        LossResult r = LossRegistry.Default.Create("LigerFusedLinearJSDLoss", T.Opt(("temperature", 2.0))).Evaluate(Fused());
        T.Close(1.0932905341570043, r.Scalar, 1e-15);
        T.Close([0.65293746816181533, -0.43656409785000049, 0, 0], r.Gradient("student_input"), 1e-14);   // the ignored row: no loss at all
        T.Close([0.21746404380506364, -0.43492808761012728, -0.21800938055168805, 0.43601876110337609], r.Gradient("student_weight"), 1e-14);
        T.Close([0.43492808761012728, -0.43601876110337609], r.Gradient("student_bias"), 1e-14);
        Assert.False(r.Gradients.ContainsKey("teacher_input") || r.Gradients.ContainsKey("teacher_weight"));
    }

    [Fact]
    public void Fused_linear_cosine_sums_the_soft_term_over_every_row_but_counts_only_labelled_ones()
    {
        // Liger's cosine loss does not mask: the ignored row's β(1 − cos) is in the sum and in its gradient.
        LossResult r = LossRegistry.Default.Create("LigerFusedLinearCosineSimilarityLoss", T.Opt(("temperature", 2.0))).Evaluate(Fused());
        T.Close(1.5401972045445154, r.Scalar, 1e-15);
        T.Close([0.61572613398887425, -0.47182981070625875, 0.0085094012827823473, -0.11099219064498714], r.Gradient("student_input"), 1e-14);
        T.Close([0.14764180629625766, -0.3990613108455783, -0.35448012652748832, 0.42907494564520074], r.Gradient("student_weight"), 1e-14);
        T.Close([0.36853845841820683, -0.51139415370689953], r.Gradient("student_bias"), 1e-14);
        // The temperature scales both logits: the cosine, and so the loss, does not change with it.
        T.Close(r.Scalar, LossRegistry.Default.Create("linear_cosine_similarity_loss", T.Opt(("temperature", 0.25))).Evaluate(Fused()).Scalar, 1e-15);
    }

    [Fact]
    public void A_student_equal_to_its_teacher_has_no_soft_loss_and_the_hard_loss_is_cross_entropy()
    {
        TensorData h = T.Shaped([0.3, -1, 2, 0.5, -0.7, 1.1], 3, 2), w = T.Shaped([1, 0.5, -0.5, 1.5, 2, -1], 3, 2);
        LossInputs same = T.In(("student_input", h), ("student_weight", w), ("teacher_input", h), ("teacher_weight", w), ("true_labels", T.I(0, 2, 1)));
        foreach (string name in new[] { "linear_jsd_loss", "linear_cosine_similarity_loss" })
        {
            LossResult soft = LossRegistry.Default.Create(name, T.Opt(("weight_hard_loss", 0.0), ("weight_soft_loss", 1.0))).Evaluate(same);
            T.Close(0, soft.Scalar, 0, 1e-15);
            T.Close(new double[6], soft.Gradient("student_input"), 0, 1e-15);
            LossResult hard = LossRegistry.Default.Create(name, T.Opt(("weight_hard_loss", 1.0), ("weight_soft_loss", 0.0))).Evaluate(same);
            LossResult ce = LossRegistry.Default.Create("linear_cross_entropy").Evaluate(T.In(("lin_weight", w), ("_input", h), ("target", T.I(0, 2, 1))));
            T.Close(ce.Scalar, hard.Scalar, 1e-15);
            T.Close(T.Values(ce.Gradient("_input")), hard.Gradient("student_input"), 1e-13);   // sums in another order
            T.Close(T.Values(ce.Gradient("lin_weight")), hard.Gradient("student_weight"), 1e-13);
        }
    }

    [Fact]
    public void Bad_vocabularies_labels_and_options_are_typed_errors()
    {
        LossInputs small = Fused().Add("teacher_weight", T.Shaped([1.0], 1, 1));
        var vocab = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("linear_jsd_loss").Evaluate(small));
        Assert.Equal(LossErrorCode.InvalidShape, vocab.Code);
        Assert.Contains("the teacher's vocabulary (1) is smaller than the student's (2)", vocab.Message);
        var label = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("linear_cosine_similarity_loss").Evaluate(Fused().Add("true_labels", T.I(1, 2))));
        Assert.Contains("true_labels[1] = 2 is outside the student's vocabulary [0, 2)", label.Message);
        Assert.Contains("beta must be in [0, 1], got 1.5", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("linear_jsd_loss", T.Opt(("beta", 1.5)))).Message);
        Assert.Contains("beta must be in [0, 1], got -0.1", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("liger_jsd", T.Opt(("beta", -0.1)))).Message);
        Assert.Contains("temperature must be a finite number other than 0, got 0", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("linear_cosine_similarity_loss", T.Opt(("temperature", 0.0)))).Message);
        var rows = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("linear_jsd_loss").Evaluate(Fused().Add("teacher_input", T.Shaped([1.0, 2, 3], 3, 1))));
        Assert.Contains("'teacher_input' has shape (3, 1); expected (N, D_t) = (2, D_t)", rows.Message);
    }

    [Theory]
    [InlineData("linear_jsd_loss")]
    [InlineData("linear_cosine_similarity_loss")]
    public void Rows_in_several_chunks_give_the_sum_of_each_row_alone(string name)
    {
        // V = 8192: chunks of 2¹⁸ / 8192 = 32 rows, so 70 rows run as 32 + 32 + 6; each row alone is one chunk of one.
        const int n = 70, ds = 3, dt = 2, v = 8192;
        var r = new Random(8);
        double[] Normal(int count) => [.. Enumerable.Range(0, count).Select(_ => r.NextDouble() * 2 - 1)];
        double[] h = Normal(n * ds), th = Normal(n * dt), w = Normal(v * ds), tw = Normal(v * dt), b = Normal(v);
        long[] labels = [.. Enumerable.Range(0, n).Select(i => i % 7 == 3 ? -100L : r.Next(v))];
        LossInputs Rows(int from, int count) => T.In(
            ("student_input", T.Shaped(h[(from * ds)..((from + count) * ds)], count, ds)), ("student_weight", T.Shaped(w, v, ds)),
            ("teacher_input", T.Shaped(th[(from * dt)..((from + count) * dt)], count, dt)), ("teacher_weight", T.Shaped(tw, v, dt)),
            ("true_labels", T.Shaped(labels[from..(from + count)], count)), ("student_bias", T.Shaped(b, v)));
        ILoss loss = LossRegistry.Default.Create(name, T.Opt(("reduction", "sum"), ("temperature", 2.0)));
        LossResult all = loss.Evaluate(Rows(0, n));
        double value = 0;
        var gh = new List<double>();
        var gw = new double[v * ds];
        var gb = new double[v];
        for (int i = 0; i < n; i++)
        {
            LossResult one = loss.Evaluate(Rows(i, 1));
            value += one.Scalar;
            gh.AddRange(T.Values(one.Gradient("student_input")));
            double[] w1 = T.Values(one.Gradient("student_weight")), b1 = T.Values(one.Gradient("student_bias"));
            for (int k = 0; k < gw.Length; k++) gw[k] += w1[k];
            for (int k = 0; k < v; k++) gb[k] += b1[k];
        }
        T.Close(value, all.Scalar, 1e-13);
        T.Close([.. gh], all.Gradient("student_input"), 1e-12, 1e-15);
        T.Close(gw, all.Gradient("student_weight"), 1e-11, 1e-15);
        T.Close(gb, all.Gradient("student_bias"), 1e-11, 1e-15);
    }
}
