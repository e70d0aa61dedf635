using LossLab.Losses.MetricLearning;
using LossLab.Numerics.Simd;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.MetricLearning;

/// <summary>PnP's way back over an anchor's negatives: the vector form against the scalar loop at every width and length.</summary>
public sealed class PnpRowTests
{
    [Theory]
    [MemberData(nameof(LaneWidths.All), MemberType = typeof(LaneWidths))]
    public void Vector_slopes_match_the_scalar_slopes_at_every_length(SimdWidth width)
    {
        var r = new Random(11);
        for (int m = 0; m <= 300; m++)
        {
            // Cosines in [−1, 1] at τ = 0.01: gaps past the ±50 clamp and inside it.
            double[] negatives = new double[m], sig = new double[m], g0 = new double[m], g1 = new double[m];
            for (int t = 0; t < m; t++)
            {
                negatives[t] = 2 * r.NextDouble() - 1;
                sig[t] = r.NextDouble();
                g0[t] = g1[t] = r.NextDouble();   // the slopes add to what is there
            }
            double sk = 0.6 * r.NextDouble() - 0.3;
            double expected = PnpLoss.Slopes(negatives, sk, sig, -0.37, 0.01, g0, SimdWidth.Scalar);
            double actual = PnpLoss.Slopes(negatives, sk, sig, -0.37, 0.01, g1, width);
            T.Close(expected, actual, rel: 1e-12, abs: 1e-300);
            for (int t = 0; t < m; t++) T.Close(g0[t], g1[t], rel: 1e-15, abs: 1e-300);
        }
    }
}
