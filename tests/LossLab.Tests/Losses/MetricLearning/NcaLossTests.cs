using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.MetricLearning;

/// <summary>
/// NCA and Proxy-NCA by hand: the softmax over minus squared distances, rows without a positive left out of NCA's
/// mean, Proxy-NCA as the normalized softmax at T = 1/(2s), and a zero embedding at distance 1 from every proxy. The
/// torch references (pytorch-metric-learning's nca_computation written out) are in torch_diff.
/// </summary>
public sealed class NcaLossTests
{
    [Fact]
    public void Nca_by_hand_leaves_out_the_row_without_a_positive()
    {
        // Unit vectors (1, 0), (0, 2)/2, (−3, 0)/3 with labels 0, 0, 1 and s = 0.5: squared distances 2 (rows 0–1, 1–2)
        // and 4 (rows 0–2). Row 0: p = e^{−1}/(e^{−1} + e^{−2}); row 1: 1/2; row 2 has no positive.
        LossResult r = LossRegistry.Default.Create("nca_loss", T.Opt(("softmax_scale", 0.5), ("reduction", "none")))
            .Evaluate(T.In(("embeddings", T.D2(new double[,] { { 1, 0 }, { 0, 2 }, { -3, 0 } })), ("labels", T.I(0, 0, 1))));
        double row0 = -Math.Log(Math.Exp(-1) / (Math.Exp(-1) + Math.Exp(-2)));
        T.Close([row0, Math.Log(2), 0], r.Value, 1e-15, 0);
        double mean = LossRegistry.Default.Create("nca_loss", T.Opt(("softmax_scale", 0.5)))
            .Evaluate(T.In(("embeddings", T.D2(new double[,] { { 1, 0 }, { 0, 2 }, { -3, 0 } })), ("labels", T.I(0, 0, 1)))).Scalar;
        T.Close((row0 + Math.Log(2)) / 2, mean, 1e-15, 0);   // over the 2 rows kept, not 3
        // One row, or no two rows of a class: nothing kept, 0 (pytorch-metric-learning's zero loss).
        Assert.Equal(0, LossRegistry.Default.Create("nca_loss").Evaluate(T.In(("embeddings", T.D2(new double[,] { { 1, 2 }, { 3, 4 } })), ("labels", T.I(0, 1)))).Scalar);
    }

    [Fact]
    public void Proxy_nca_is_the_normalized_softmax_at_temperature_one_over_two_s()
    {
        var rng = new Random(3);
        double[] e = [.. Enumerable.Range(0, 12).Select(_ => rng.NextDouble() * 4 - 2)], p = [.. Enumerable.Range(0, 9).Select(_ => rng.NextDouble() * 4 - 2)];
        var labels = T.I(2, 0, 1, 2);
        LossResult nca = LossRegistry.Default.Create("proxy_nca_loss", T.Opt(("softmax_scale", 3.0)))
            .Evaluate(T.In(("embeddings", T.Shaped(e, 4, 3)), ("labels", labels), ("proxies", T.Shaped(p, 3, 3))));
        double[] w = new double[9];
        for (int c = 0; c < 3; c++) for (int q = 0; q < 3; q++) w[q * 3 + c] = p[c * 3 + q];   // proxies (C, D) → W (D, C)
        LossResult norm = LossRegistry.Default.Create("normalized_softmax_loss", T.Opt(("temperature", 1.0 / 6)))
            .Evaluate(T.In(("embeddings", T.Shaped(e, 4, 3)), ("labels", labels), ("W", T.Shaped(w, 3, 3))));
        T.Close(norm.Scalar, nca.Scalar, 1e-13, 0);
        T.Close(T.Values(norm.Gradient("embeddings")), nca.Gradient("embeddings"), 1e-12, 1e-14);
        double[] gw = T.Values(norm.Gradient("W")), gp = new double[9];
        for (int c = 0; c < 3; c++) for (int q = 0; q < 3; q++) gp[c * 3 + q] = gw[q * 3 + c];
        T.Close(gp, nca.Gradient("proxies"), 1e-12, 1e-14);
    }

    [Fact]
    public void A_zero_embedding_is_at_distance_one_from_every_proxy()
    {
        // F.normalize leaves a zero row 0, so every proxy is at squared distance 1: a uniform softmax, loss log C.
        LossResult r = LossRegistry.Default.Create("proxy_nca_loss", T.Opt(("reduction", "none")))
            .Evaluate(T.In(("embeddings", T.D2(new double[,] { { 0, 0 }, { 1, 1 } })), ("labels", T.I(1, 0)), ("proxies", T.D2(new double[,] { { 1, 0 }, { 0, 5 }, { -1, -1 } }))));
        T.Close(Math.Log(3), r.Value.GetDouble(0), 1e-15, 0);
        Assert.Equal([0.0, 0.0], T.Values(r.Gradient("embeddings"))[..2]);
        Assert.Contains("softmax_scale must be a finite number > 0, got 0", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("nca_loss", T.Opt(("softmax_scale", 0.0)))).Message);
    }

    /// <summary>
    /// Past 512 rows the queries go in several blocks (the dot products one matrix product per block): value and gradient
    /// equal a direct per-pair computation with ‖ê_i − ê_j‖² summed term by term, near-duplicate rows included.
    /// </summary>
    [Fact]
    public void Several_blocks_equal_the_direct_per_pair_computation()
    {
        int n = 700, d = 4;
        var r = new Random(12);
        double[] e = [.. Enumerable.Range(0, n * d).Select(_ => r.NextDouble() * 2 - 1)];
        for (int k = 0; k < d; k++) e[1 * d + k] = e[0 * d + k] * (1 + 1e-9);   // rows 0 and 1: the same direction
        long[] labels = [.. Enumerable.Range(0, n).Select(i => (long)(i % 7))];
        LossResult result = LossRegistry.Default.Create("nca_loss", T.Opt(("softmax_scale", 2.0)))
            .Evaluate(new LossInputs().Add("embeddings", TensorData.FromArray(e, n, d)).Add("labels", TensorData.FromArray(labels, n)));
        var (u, norm) = DirectNormalization.Unit(e, n, d);
        double total = 0;
        var gu = new double[n * d];
        var z = new double[n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) z[j] = j == i ? double.NegativeInfinity : -2 * Enumerable.Range(0, d).Sum(k => (u[i * d + k] - u[j * d + k]) * (u[i * d + k] - u[j * d + k]));
            double max = z.Max(), all = max + Math.Log(z.Sum(v => Math.Exp(v - max)));
            double[] pz = [.. Enumerable.Range(0, n).Where(j => j != i && labels[j] == labels[i]).Select(j => z[j])];
            double pmax = pz.Max(), positive = pmax + Math.Log(pz.Sum(v => Math.Exp(v - pmax)));
            total += all - positive;
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                double w = -2 * 2 * (Math.Exp(z[j] - all) - (labels[j] == labels[i] ? Math.Exp(z[j] - positive) : 0)) / n;
                for (int k = 0; k < d; k++)
                {
                    gu[i * d + k] += w * (u[i * d + k] - u[j * d + k]);
                    gu[j * d + k] -= w * (u[i * d + k] - u[j * d + k]);
                }
            }
        }
        T.Close(total / n, result.Scalar, 1e-12, 0);
        T.Close(DirectNormalization.Back(gu, u, norm, n, d), result.Gradient("embeddings"), 1e-8, 1e-14);
    }
}
