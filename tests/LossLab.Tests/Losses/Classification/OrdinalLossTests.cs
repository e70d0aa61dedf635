using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>coral_pytorch's ordinal losses at zero logits (every binary question at σ = ½, ln 2 each), by hand.</summary>
public sealed class OrdinalLossTests
{
    private static readonly double Ln2 = Math.Log(2);

    [Fact]
    public void Coral_sums_the_logistic_losses_of_the_rank_thresholds()
    {
        // Rank 1 of 3 classes: levels (1, 0); each threshold's loss is ln 2, its slope σ(0) − y.
        LossResult r = LossRegistry.Default.Create("coral_loss").Evaluate(T.In(("logits", T.D2(new double[,] { { 0, 0 } })), ("levels", T.D(1))));
        T.Close(2 * Ln2, r.Scalar, rel: 1e-15);
        T.Close([-0.5, 0.5], r.Gradient("logits"), rel: 1e-15);
        // Levels given as such, and importance weights (2, 3).
        LossResult w = LossRegistry.Default.Create("coral_loss", T.Opt(("importance_weights", T.D(2, 3))))
            .Evaluate(T.In(("logits", T.D2(new double[,] { { 0, 0 } })), ("levels", T.D2(new double[,] { { 1, 0 } }))));
        T.Close(5 * Ln2, w.Scalar, rel: 1e-15);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("coral_loss").Evaluate(T.In(("logits", T.D2(new double[,] { { 0, 0 } })), ("levels", T.D(3)))));
        Assert.Equal("CoralLoss: rank 3 at position 0 is not in 0..2 (3 classes)", e.Message);
    }

    [Fact]
    public void Corn_trains_each_threshold_on_the_rows_that_reached_it()
    {
        // Rank 0 reaches threshold 0 only (target 0); rank 2 reaches both (targets 1, 1): three pairs, ln 2 each, over 3.
        LossResult r = LossRegistry.Default.Create("corn_loss").Evaluate(T.In(("logits", T.D2(new double[,] { { 0, 0 }, { 0, 0 } })), ("labels", T.I(0, 2))));
        T.Close(Ln2, r.Scalar, rel: 1e-15);
        T.Close([0.5 / 3, 0, -0.5 / 3, -0.5 / 3], r.Gradient("logits"), rel: 1e-15, abs: 0);
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("corn_loss").Evaluate(T.In(("logits", T.D2(new double[,] { { 0, 0 } })), ("labels", T.I(3)))));
        Assert.Equal("CornLoss: label 3 at position 0 is not a rank in [0, 2] (3 classes)", e.Message);
    }
}
