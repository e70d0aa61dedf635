namespace LossLab.Losses.Core;

/// <summary>Tolerances of <see cref="GradCheck"/>: an element passes when |analytic − numeric| ≤ atol + rtol·|numeric|.</summary>
public sealed record GradCheckOptions
{
    /// <summary>Central-difference step, relative to max(1, |x|).</summary>
    public double Step { get; init; } = 1e-6;

    public double RelativeTolerance { get; init; } = 1e-5;

    public double AbsoluteTolerance { get; init; } = 1e-7;

    /// <summary>How many of the worst elements the report lists.</summary>
    public int Worst { get; init; } = 5;
}

/// <summary>One checked gradient element.</summary>
public sealed record GradCheckEntry(string Input, int Index, double Analytic, double Numeric)
{
    public double AbsoluteError => Math.Abs(Analytic - Numeric);

    public double RelativeError => AbsoluteError / Math.Max(Math.Abs(Numeric), 1e-300);
}

/// <summary>The outcome: pass or fail, how many elements were checked and failed, and the worst elements.</summary>
public sealed record GradCheckReport(bool Passed, int Checked, int Failed, IReadOnlyList<GradCheckEntry> Worst);

/// <summary>
/// Checks a loss's gradient against central finite differences in double: for every element x of every
/// differentiable floating input, (Σℓ(x + h) − Σℓ(x − h)) / 2h. Works for catalog, custom and expression losses.
/// Inputs are copied to float64 first, so the check measures the math, not float32 round-off.
/// </summary>
public static class GradCheck
{
    public static GradCheckReport Run(ILoss loss, LossInputs inputs, GradCheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= new GradCheckOptions();
        var work = new LossInputs(inputs.Tensors.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.DType.IsFloating() ? kv.Value.ToDType(DType.Float64) : kv.Value)));
        foreach (var (name, t) in work.Tensors)
        {
            if (t.DType == DType.Float64 && ReferenceEquals(t, inputs[name])) work.Add(name, TensorData.Create(t.Shape, DType.Float64, (double[])((double[])t.Data).Clone()));
        }
        LossResult result = loss.Evaluate(work);
        var entries = new List<GradCheckEntry>();
        int failed = 0;
        foreach (var (name, analytic) in result.Gradients)
        {
            double[] x = (double[])work[name].Data;
            for (int i = 0; i < x.Length; i++)
            {
                double saved = x[i], h = options.Step * Math.Max(1, Math.Abs(saved));
                x[i] = saved + h;
                double plus = Total(loss, work);
                x[i] = saved - h;
                double minus = Total(loss, work);
                x[i] = saved;
                var entry = new GradCheckEntry(name, i, analytic.GetDouble(i), (plus - minus) / (2 * h));
                bool ok = entry.AbsoluteError <= options.AbsoluteTolerance + options.RelativeTolerance * Math.Abs(entry.Numeric)
                          || (double.IsNaN(entry.Analytic) && double.IsNaN(entry.Numeric));
                if (!ok) failed++;
                entries.Add(entry);
            }
        }
        var worst = entries.OrderByDescending(e => double.IsNaN(e.AbsoluteError) ? double.PositiveInfinity : e.AbsoluteError / (options.AbsoluteTolerance + options.RelativeTolerance * Math.Abs(e.Numeric)))
            .Take(options.Worst).ToList();
        return new GradCheckReport(failed == 0, entries.Count, failed, worst);
    }

    private static double Total(ILoss loss, LossInputs inputs)
    {
        TensorData v = loss.Evaluate(inputs, computeGradients: false).Value;
        double s = 0;
        for (int i = 0; i < v.Length; i++) s += v.GetDouble(i);
        return s;
    }
}
