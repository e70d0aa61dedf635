using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>The active–passive losses on a row with softmax (¼, ¼, ½) and label 2, worked out by hand (Ma et al. 2020).</summary>
public sealed class ActivePassiveLossTests
{
    private static LossInputs Row => T.In(("input", T.D2(new double[,] { { 0, 0, Math.Log(2) } })), ("target", T.I(2)));

    private static LossResult Eval(params (string, object?)[] options) => LossRegistry.Default.Create("active_passive_loss", T.Opt(options)).Evaluate(Row);

    [Fact]
    public void Normalized_cross_entropy_and_reverse_cross_entropy()
    {
        // log p = (−ln 4, −ln 4, −ln 2): NCE = ln 2 / (5 ln 2) = 1/5; RCE = −log(1e-4)·(¼ + ¼) = 2 ln 10.
        LossResult r = Eval();
        T.Close(0.2 + 2 * Math.Log(10), r.Scalar, rel: 1e-15);
        // ∂NCE = (∂A·B − A·∂B)/B², A = ln 2, B = 5 ln 2, ∂A = p − e_y, ∂B = 3p − 1: (1.5, 1.5, −3)/(25 ln 2).
        // ∂RCE = 4 ln 10·(p_k[k ≠ y] − p_k·½) = 4 ln 10·(⅛, ⅛, −¼).
        double n = 25 * Math.Log(2), rce = 4 * Math.Log(10);
        T.Close([1.5 / n + rce / 8, 1.5 / n + rce / 8, -3 / n - rce / 4], r.Gradient("input"), rel: 1e-14);
    }

    [Fact]
    public void Normalized_focal_and_mean_absolute_error()
    {
        // γ = 1: f_j = −(1 − p_j)·log p_j = (1.5 ln 2, 1.5 ln 2, 0.5 ln 2), so NFL = 0.5/3.5 = 1/7; MAE = 1 − ½.
        T.Close(1.0 / 7 + 0.5, Eval(("active", "nfl"), ("passive", "mae"), ("gamma", 1.0)).Scalar, rel: 1e-15);
        // γ = 0 is NCE; passive none leaves the active term, times α.
        T.Close(0.2, Eval(("active", "nfl"), ("passive", "none"), ("gamma", 0.0)).Scalar, rel: 1e-15);
        T.Close(0.6, Eval(("passive", "none"), ("alpha", 3.0)).Scalar, rel: 1e-15);
    }

    [Fact]
    public void Bad_choices_and_weights_are_named()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("apl", T.Opt(("beta", -1.0))));
        Assert.Equal("ActivePassiveLoss: alpha and beta must be finite weights ≥ 0, got 1 and -1", e.Message);
        e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("apl").Evaluate(T.In(("input", T.D2(new double[,] { { 1 } })), ("target", T.I(0)))));
        Assert.Equal("ActivePassiveLoss: a row needs at least 2 classes to normalize over, got 1", e.Message);
    }

    [Fact]
    public void Taylor_cross_entropy_keeps_t_terms_of_the_logs_series()
    {
        // p = (¼, ¾) and label 1: 1 − p_y = ¼; t = 2: ¼ + (¼)²/2; the gradient is cross-entropy's damped by 1 − (¼)² = 15/16.
        LossInputs row = T.In(("input", T.D2(new double[,] { { 0, Math.Log(3) } })), ("target", T.I(1)));
        LossResult r = LossRegistry.Default.Create("taylor_cross_entropy").Evaluate(row);
        T.Close(0.25 + 0.0625 / 2, r.Scalar, rel: 1e-15);
        T.Close([15.0 / 64, -15.0 / 64], r.Gradient("input"), rel: 1e-14);
        T.Close(0.25, LossRegistry.Default.Create("taylor_cross_entropy", T.Opt(("t", 1L))).Evaluate(row).Scalar, rel: 1e-15);
        // Many terms approach cross-entropy, −log ¾.
        T.Close(-Math.Log(0.75), LossRegistry.Default.Create("taylor_cross_entropy", T.Opt(("t", 200L))).Evaluate(row).Scalar, rel: 1e-12);
    }
}
