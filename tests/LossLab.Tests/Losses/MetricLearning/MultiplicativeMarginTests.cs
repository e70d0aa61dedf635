using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.MetricLearning;

/// <summary>
/// L-Softmax and SphereFace by hand: ψ(θ) = (−1)^k cos(mθ) − 2k at m = 2 on both sides of θ = π/2, and the identities
/// at m = 1 (L-Softmax is cross-entropy of the linear logits xᵀW, SphereFace of xᵀŴ). The torch references
/// (pytorch-metric-learning's code written out) are in torch_diff.
/// </summary>
public sealed class MultiplicativeMarginTests
{
    private static readonly TensorData X = T.D2(new double[,] { { 1, 2 }, { -0.5, 0.3 }, { 2, -1 } });
    private static readonly TensorData W = T.D2(new double[,] { { 0.5, -1, 2 }, { 1.5, 0.2, -0.4 } });   // (D = 2, C = 3)
    private static readonly TensorData Labels = T.I(1, 0, 2);

    private static LossResult Run(string loss, params (string, object?)[] options)
        => LossRegistry.Default.Create(loss, T.Opt(options)).Evaluate(T.In(("embeddings", X), ("labels", Labels), ("W", W)));

    private static double[] Logits(Func<int, int, double> logit)
    {
        var z = new double[9];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) z[i * 3 + j] = logit(i, j);
        return z;
    }

    private static double CrossEntropy(double[] z, long[] y)
    {
        double total = 0;
        for (int i = 0; i < 3; i++)
        {
            double max = z.Skip(i * 3).Take(3).Max();
            double lse = max + Math.Log(z.Skip(i * 3).Take(3).Sum(v => Math.Exp(v - max)));
            total += lse - z[i * 3 + y[i]];
        }
        return total / 3;
    }

    private static double Norm(params double[] v) => Math.Sqrt(v.Sum(a => a * a));

    private static double X_(int i, int q) => X.GetDouble(i * 2 + q);

    private static double W_(int q, int j) => W.GetDouble(q * 3 + j);

    private static double Cos(int i, int j) => (X_(i, 0) * W_(0, j) + X_(i, 1) * W_(1, j)) / (Norm(X_(i, 0), X_(i, 1)) * Norm(W_(0, j), W_(1, j)));

    [Fact]
    public void At_margin_one_l_softmax_is_cross_entropy_of_the_linear_logits_and_sphereface_of_normalized_weights()
    {
        long[] y = [1, 0, 2];
        double linear = CrossEntropy(Logits((i, j) => 2 * (X_(i, 0) * W_(0, j) + X_(i, 1) * W_(1, j))), y);
        T.Close(linear, Run("large_margin_softmax_loss", ("margin", 1L), ("scale", 2.0)).Scalar, 1e-13, 0);
        double sphere = CrossEntropy(Logits((i, j) => Norm(X_(i, 0), X_(i, 1)) * Cos(i, j)), y);
        T.Close(sphere, Run("sphereface_loss", ("margin", 1L)).Scalar, 1e-13, 0);
    }

    [Fact]
    public void At_margin_two_the_target_takes_psi_on_the_right_branch_and_lambda_blends_it()
    {
        long[] y = [1, 0, 2];
        // ψ(c) = 2c² − 1 for θ < π/2 (c > 0) and −(2c² − 1) − 2 for θ ≥ π/2: continuous at c = 0 (−1 from both sides).
        static double Psi(double c) => c > 0 ? 2 * c * c - 1 : -(2 * c * c - 1) - 2;
        double[] targets = [Cos(0, 1), Cos(1, 0), Cos(2, 2)];
        Assert.Contains(targets, c => c > 0);
        Assert.Contains(targets, c => c < 0);
        double Expected(double lambda, bool weights) => CrossEntropy(Logits((i, j) =>
        {
            double c = Cos(i, j), f = j == y[i] ? (lambda * c + Psi(c)) / (1 + lambda) : c;
            return Norm(X_(i, 0), X_(i, 1)) * (weights ? Norm(W_(0, j), W_(1, j)) : 1) * f;
        }), y);
        T.Close(Expected(0, true), Run("large_margin_softmax_loss", ("margin", 2L)).Scalar, 1e-13, 0);
        T.Close(Expected(0, false), Run("sphereface_loss", ("margin", 2L)).Scalar, 1e-13, 0);
        T.Close(Expected(5, true), Run("l_softmax", ("margin", 2L), ("lambd", 5.0)).Scalar, 1e-13, 0);
        T.Close(Expected(5, false), Run("a_softmax", ("margin", 2L), ("lambd", 5.0)).Scalar, 1e-13, 0);
    }

    [Fact]
    public void A_margin_outside_one_to_sixty_four_or_a_negative_lambda_is_named()
    {
        Assert.Contains("margin must be an integer in [1, 64], got 0", Assert.Throws<LossArgumentException>(() => Run("sphereface_loss", ("margin", 0L))).Message);
        Assert.Contains("lambd must be a finite number ≥ 0, got -1", Assert.Throws<LossArgumentException>(() => Run("large_margin_softmax_loss", ("lambd", -1.0))).Message);
    }
}
