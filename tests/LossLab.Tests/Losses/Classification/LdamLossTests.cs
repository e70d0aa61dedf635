using LossLab.Data;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using LossLab.Training;
using Xunit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>LDAM on rows whose margins and softmaxes are known by hand (Cao et al. 2019's definition), and its errors.</summary>
public sealed class LdamLossTests
{
    private static readonly TensorData X = T.D2(new double[,] { { 1, 0 }, { 0, 1 } });
    private static readonly TensorData Y = T.I(0, 1);

    [Fact]
    public void The_rarer_class_must_win_by_a_wider_margin()
    {
        // Counts 16 and 1: n^(−1/4) = ½ and 1, so with max_m = 0.5 the margins are 0.25 and 0.5. s = 2:
        // row 0 (class 0) z = 2·(1 − 0.25, 0) = (1.5, 0); row 1 (class 1) z = 2·(0, 1 − 0.5) = (0, 1).
        LossResult r = LossRegistry.Default.Create("ldam_loss", T.Opt(("cls_num_list", T.D(16, 1)), ("s", 2.0))).Evaluate(T.In(("input", X), ("target", Y)));
        double l0 = Math.Log(1 + Math.Exp(-1.5)), l1 = Math.Log(1 + Math.Exp(-1.0));
        T.Close((l0 + l1) / 2, r.Scalar, rel: 1e-15);
        // ∂ℓ/∂x = s·(softmax(z) − onehot)/N: the other class's share q = σ(−margin gap) of each row.
        double q0 = 1 / (1 + Math.Exp(1.5)), q1 = 1 / (1 + Math.Exp(1.0));
        T.Close([-q0, q0, q1, -q1], r.Gradient("input"), rel: 1e-14);
    }

    [Fact]
    public void Without_counts_every_class_gets_max_m_and_without_a_margin_it_is_scaled_cross_entropy()
    {
        LossInputs i = T.In(("input", X), ("target", Y));
        double additive = LossRegistry.Default.Create("ldam_loss", T.Opt(("s", 1.0))).Evaluate(i).Scalar;
        T.Close(Math.Log(1 + Math.Exp(-0.5)), additive, rel: 1e-15);   // both rows: z = (0.5, 0) around the target
        double plain = LossRegistry.Default.Create("ldam_loss", T.Opt(("max_m", 0.0), ("s", 3.0))).Evaluate(i).Scalar;
        double ce = LossRegistry.Default.Create("cross_entropy").Evaluate(T.In(("input", T.D2(new double[,] { { 3, 0 }, { 0, 3 } })), ("target", Y))).Scalar;
        T.Close(ce, plain, rel: 1e-15);
    }

    [Fact]
    public void Class_weights_take_the_weighted_mean()
    {
        // weight (1, 3): (1·ℓ0 + 3·ℓ1)/4, each row as in the first test.
        LossResult r = LossRegistry.Default.Create("ldam_loss", T.Opt(("cls_num_list", T.D(16, 1)), ("s", 2.0), ("weight", T.D(1, 3)))).Evaluate(T.In(("input", X), ("target", Y)));
        T.Close((Math.Log(1 + Math.Exp(-1.5)) + 3 * Math.Log(1 + Math.Exp(-1.0))) / 4, r.Scalar, rel: 1e-15);
    }

    [Fact]
    public void Bad_counts_targets_and_weights_are_named()
    {
        LossInputs i = T.In(("input", X), ("target", Y));
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("ldam_loss", T.Opt(("cls_num_list", T.D(5, 0)))));
        Assert.Equal("LdamLoss: cls_num_list[1] = 0 must be a finite count > 0", e.Message);
        e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("ldam_loss", T.Opt(("cls_num_list", T.D(5, 2, 1)))).Evaluate(i));
        Assert.Equal(LossErrorCode.InvalidShape, e.Code);
        Assert.Equal("LdamLoss: cls_num_list has 3 counts but 'input' has 2 classes", e.Message);
        e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("ldam_loss").Evaluate(T.In(("input", X), ("target", T.I(0, 2)))));
        Assert.Equal("LdamLoss: target 2 at position 1 is out of range: class indices must be in [0, 1]", e.Message);
        e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("ldam_loss", T.Opt(("weight", T.D(1, 2, 3)))).Evaluate(i));
        Assert.StartsWith("LdamLoss: ", e.Message);
    }

    [Fact]
    public void Training_takes_the_class_counts_from_the_training_split()
    {
        Dataset wine = Datasets.Load("wine");
        var options = TaskFit.WithDataOptions(LossRegistry.Default.Get("ldam_loss"), new Dictionary<string, object?>(), wine);
        Assert.Equal([59.0, 71, 48], T.Values((TensorData)options["cls_num_list"]!));
        var own = new Dictionary<string, object?> { ["cls_num_list"] = T.D(1, 2, 3) };
        Assert.Same(own["cls_num_list"], TaskFit.WithDataOptions(LossRegistry.Default.Get("ldam_loss"), own, wine)["cls_num_list"]);
    }
}
