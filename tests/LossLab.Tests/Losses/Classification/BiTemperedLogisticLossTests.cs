using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>The bi-tempered logistic loss where its tempered softmax has a closed form (t = 2: exp_2(u) = 1/(1 − u)).</summary>
public sealed class BiTemperedLogisticLossTests
{
    private static readonly double Phi = (Math.Sqrt(5) - 1) / 2;   // 0.618…, φ² = 1 − φ

    [Fact]
    public void The_tempered_softmax_at_t_2_is_the_golden_ratio_split()
    {
        // a = (1, 0), t = 2: p_j = 1/(1 − (a_j − 1 − λ)), Σ p = 1 gives λ² + λ − 1 = 0, λ = φ; p = (φ, φ²).
        var p = new double[2];
        double lambda = BiTemperedLogisticLoss.TemperedSoftmax([1.0, 0.0], 2, p);
        T.Close(1 + Phi, lambda, rel: 1e-15);
        T.Close([Phi, Phi * Phi], T.D(p), rel: 1e-15);
        foreach (double t in new[] { 0.2, 0.5, 0.8, 1.0, 1.2, 2.0, 4.0, 10.0 })
        {
            var q = new double[5];
            BiTemperedLogisticLoss.TemperedSoftmax([3.0, -1.0, 0.5, 0.5, -20.0], t, q);
            T.Close(1, q.Sum(), rel: 1e-14);
        }
    }

    [Fact]
    public void With_t1_1_and_t2_2_the_loss_and_its_gradient_by_hand()
    {
        // ℓ = log(1 + 1e-10) − log φ (the −(y − p) part sums to 0 at t1 = 1).
        LossResult r = LossRegistry.Default.Create("bi_tempered_logistic_loss", T.Opt(("t1", 1.0), ("t2", 2.0)))
            .Evaluate(T.In(("activations", T.D2(new double[,] { { 1, 0 } })), ("labels", T.D(0))));
        T.Close(Math.Log(1 + 1e-10) - Math.Log(Phi), r.Scalar, rel: 1e-15);
        // (p − y)·p^{t2−t1} = (−φ³, φ⁴), their sum −φ⁵; escorts p²/Σp² = (1, φ²)/(1 + φ²).
        double g0 = -Math.Pow(Phi, 3) + Math.Pow(Phi, 5) / (1 + Phi * Phi);
        T.Close([g0, -g0], r.Gradient("activations"), rel: 1e-14);
    }

    [Fact]
    public void At_both_temperatures_1_it_is_cross_entropy()
    {
        var rnd = new Random(2);
        TensorData a = T.Shaped(LossSamples.Normal(rnd, 12, 2), 3, 4);
        LossResult bt = LossRegistry.Default.Create("bi_tempered_logistic_loss", T.Opt(("t1", 1.0), ("t2", 1.0))).Evaluate(T.In(("activations", a), ("labels", T.D(0, 3, 1))));
        LossResult ce = LossRegistry.Default.Create("cross_entropy").Evaluate(T.In(("input", a), ("target", T.I(0, 3, 1))));
        T.Close(ce.Scalar + Math.Log(1 + 1e-10), bt.Scalar, rel: 1e-14);   // y·log(y + 1e-10) = log(1 + 1e-10)
        T.Close(T.Values(ce.Gradient("input")), bt.Gradient("activations"), rel: 1e-12, abs: 1e-15);
    }

    [Fact]
    public void Classes_outside_a_short_tailed_softmax_add_nothing()
    {
        // t2 = 0.5 has compact support: exp_0.5(u) = [1 + u/2]₊² is 0 for u ≤ −2, so at a = (5, 0, 0) p = (1, 0, 0) and
        // the labelled class is certain: ℓ = log_0.8(1 + 1e-10) ≈ 1e-10 and no slope. With t1 > t2, (p − y)·p^{t2 − t1}
        // is 0·∞ at the empty classes; their limit is 0 (the reference gives NaN).
        LossResult r = LossRegistry.Default.Create("bi_tempered_logistic_loss", T.Opt(("t1", 0.8), ("t2", 0.5)))
            .Evaluate(T.In(("activations", T.D2(new double[,] { { 5, 0, 0 } })), ("labels", T.D(0))));
        T.Close(1e-10, r.Scalar, rel: 1e-6);
        Assert.Equal([0.0, 0, 0], T.Values(r.Gradient("activations")));
    }

    [Fact]
    public void Bad_temperatures_and_labels_are_named()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("bi_tempered_loss", T.Opt(("t1", 2.0))));
        Assert.Equal("BiTemperedLogisticLoss: t1 must be in [0, 2) (the tempered log's temperature; 1 is log), got 2", e.Message);
        ILoss loss = LossRegistry.Default.Create("bi_tempered_loss");
        e = Assert.Throws<LossArgumentException>(() => loss.Evaluate(T.In(("activations", T.D2(new double[,] { { 1, 0 } })), ("labels", T.D(2)))));
        Assert.Equal("BiTemperedLogisticLoss: label 2 at position 0 is not a class index in [0, 1]", e.Message);
        e = Assert.Throws<LossArgumentException>(() => loss.Evaluate(T.In(("activations", T.D2(new double[,] { { 1, 0 } })), ("labels", T.D(0.5, 0.25, 0.25)))));
        Assert.Equal(LossErrorCode.InvalidShape, e.Code);
        Assert.Equal("BiTemperedLogisticLoss: 'labels' must be probabilities (1, 2) or class indices (1), got shape (3,)", e.Message);
    }
}
