using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Tests.TestKit;

/// <summary>
/// Central finite differences in double: for every element of every differentiable input,
/// (Σℓ(x + h) − Σℓ(x − h)) / 2h against the analytic gradient of Σℓ.
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
                double saved = data[i];
                data[i] = saved + h;
                double plus = SumOfValue(loss, inputs);
                data[i] = saved - h;
                double minus = SumOfValue(loss, inputs);
                data[i] = saved;
                double numeric = (plus - minus) / (2 * h);
                double a = analytic.GetDouble(i);
                if (!(Math.Abs(a - numeric) <= abs + rel * Math.Max(Math.Abs(numeric), 1.0))) bad.Add(new(name, i, a, numeric));
            }
        }
        return bad;
    }

    public static double SumOfValue(ILoss loss, LossInputs inputs)
    {
        TensorData v = loss.Evaluate(inputs, computeGradients: false).Value;
        double s = 0;
        for (int i = 0; i < v.Length; i++) s += v.GetDouble(i);
        return s;
    }
}
