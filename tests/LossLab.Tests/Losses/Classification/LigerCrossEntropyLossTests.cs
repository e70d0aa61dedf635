using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>
/// Liger's cross-entropy against the catalog's own pieces: cross_entropy itself without a cap, the fused linear loss
/// with an identity layer (the same cap, z-loss and weights), the cap's bound, and errors in Liger's option names.
/// </summary>
public sealed class LigerCrossEntropyLossTests
{
    private static readonly TensorData Logits = T.Shaped([1.5, -2, 0.5, 3, 0, -1, 2, 2.5, -0.5, 4, 1, -3], 3, 4);
    private static readonly TensorData Targets = T.I(3, -100, 1);

    [Fact]
    public void Without_a_cap_it_is_cross_entropy_with_the_z_loss()
    {
        var weight = T.D(1, 2, 0.5, 3);
        LossResult liger = LossRegistry.Default.Create("liger_cross_entropy", T.Opt(("weight", weight), ("label_smoothing", 0.1), ("lse_square_scale", 0.01)))
            .Evaluate(T.In(("_input", Logits), ("target", Targets)));
        LossResult ce = LossRegistry.Default.Create("cross_entropy", T.Opt(("weight", weight), ("label_smoothing", 0.1), ("z_loss", 0.01)))
            .Evaluate(T.In(("input", Logits), ("target", Targets)));
        T.Close(ce.Scalar, liger.Scalar, 0);
        T.Close(T.Values(ce.Gradient("input")), liger.Gradient("_input"), 0);
    }

    [Fact]
    public void It_is_the_fused_linear_loss_with_an_identity_layer()
    {
        TensorData identity = T.Shaped([1.0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 4, 4);
        foreach (var (options, _) in new[] { (T.Opt(("softcap", 2.0), ("lse_square_scale", 0.05)), 0), (T.Opt(("softcap", 0.5), ("reduction", "none")), 1) })
        {
            LossResult liger = LossRegistry.Default.Create("LigerCrossEntropyLoss", options).Evaluate(T.In(("_input", Logits), ("target", Targets)));
            LossResult linear = LossRegistry.Default.Create("linear_cross_entropy", options).Evaluate(T.In(("lin_weight", identity), ("_input", Logits), ("target", Targets)));
            T.Close(T.Values(linear.Value), liger.Value, 1e-15);
            T.Close(T.Values(linear.Gradient("_input")), liger.Gradient("_input"), 1e-15);
        }
    }

    [Fact]
    public void The_cap_bounds_the_logits_so_a_huge_logit_cannot_dominate()
    {
        // With c = 1 every capped logit is within ±1: a row's loss is at most log(1 + (V − 1)·e²) whatever the logits.
        LossResult r = LossRegistry.Default.Create("liger_cross_entropy", T.Opt(("softcap", 1.0), ("reduction", "none")))
            .Evaluate(T.In(("_input", T.Shaped([1e4, -1e4, 0, 0], 1, 4)), ("target", T.I(1))));
        Assert.InRange(r.Value.GetDouble(0), 0, Math.Log(1 + 3 * Math.E * Math.E));
        T.Close(Math.Log(Math.E + 2 + Math.Exp(-1)) + 1, r.Value.GetDouble(0), 1e-15);
    }

    [Fact]
    public void Errors_use_liger_s_names()
    {
        Assert.Contains("softcap must be a finite number > 0", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("liger_cross_entropy", T.Opt(("softcap", 0.0)))).Message);
        Assert.Contains("LigerCrossEntropyLoss: lse_square_scale", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("liger_cross_entropy", T.Opt(("lse_square_scale", -1.0)))).Message);
        var range = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("liger_cross_entropy").Evaluate(T.In(("_input", Logits), ("target", T.I(3, 4, 0)))));
        Assert.StartsWith("LigerCrossEntropyLoss: ", range.Message);
        Assert.Contains("4", range.Message);
    }
}
