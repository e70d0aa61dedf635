using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Tests.TestKit;

/// <summary>
/// Central finite differences in double: for every element of every differentiable input,
/// (Σℓ(x + h) − Σℓ(x − h)) / 2h against the analytic gradient of Σℓ, retried once at h/100 where they disagree.
/// </summary>
internal static class FiniteDifferences
{
    internal sealed record Mismatch(string Input, int Index, double Analytic, double Numeric);

    public static List<Mismatch> Check(ILoss loss, LossInputs inputs, IEnumerable<string> differentiable, double h = 1e-5, double rel = 1e-5, double abs = 1e-7)
    {
        LossResult result = loss.Evaluate(inputs);
        var bad = new List<Mismatch>();
        foreach (string name in differentiable)
        {
            TensorData original = inputs[name];
            Assert.Equal(DType.Float64, original.DType);
            TensorData analytic = result.Gradient(name);
            Assert.Equal(original.Shape, analytic.Shape);
            double[] data = (double[])original.Data;
            for (int i = 0; i < data.Length; i++)
            {
                double a = analytic.GetDouble(i);
                double numeric = Central(loss, inputs, data, i, h);
                // A kink (a hinge, a max, a histogram bin's edge) within ±h of a random input makes the stencil average two
                // slopes; it is crossed with probability ∝ h, so one retry at h/100 tells a kink from a wrong gradient,
                // which stays wrong at every step.
                if (!Agrees(a, numeric, rel, abs)) numeric = Central(loss, inputs, data, i, h / 100);
                // A kink closer than h/100 still mixes the slopes in the central stencil; the one-sided stencil on the
                // input's own side of it does not, and the analytic (sub)gradient is that side's slope.
                if (!Agrees(a, numeric, rel, abs) && OneSided(loss, inputs, data, i, h / 100).Any(s => Agrees(a, s, rel, abs))) continue;
                if (!Agrees(a, numeric, rel, abs)) bad.Add(new(name, i, a, numeric));
            }
        }
        return bad;
    }

    private static bool Agrees(double analytic, double numeric, double rel, double abs) =>
        Math.Abs(analytic - numeric) <= abs + rel * Math.Max(Math.Abs(numeric), 1.0);

    private static double Central(ILoss loss, LossInputs inputs, double[] data, int i, double h)
    {
        double saved = data[i];
        data[i] = saved + h;
        double plus = SumOfValue(loss, inputs);
        data[i] = saved - h;
        double minus = SumOfValue(loss, inputs);
        data[i] = saved;
        return (plus - minus) / (2 * h);
    }

    /// <summary>The forward and the backward difference at step h.</summary>
    private static double[] OneSided(ILoss loss, LossInputs inputs, double[] data, int i, double h)
    {
        double saved = data[i], at = SumOfValue(loss, inputs);
        data[i] = saved + h;
        double plus = SumOfValue(loss, inputs);
        data[i] = saved - h;
        double minus = SumOfValue(loss, inputs);
        data[i] = saved;
        return [(plus - at) / h, (at - minus) / h];
    }

    public static double SumOfValue(ILoss loss, LossInputs inputs)
    {
        TensorData v = loss.Evaluate(inputs, computeGradients: false).Value;
        double s = 0;
        for (int i = 0; i < v.Length; i++) s += v.GetDouble(i);
        return s;
    }
}
