using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Probabilistic;

/// <summary>
/// The inputs of the losses between two weighted point clouds (<see cref="SinkhornDivergence"/>,
/// <see cref="KernelMmdLoss"/>): x (N, D), y (M, D) and optional weights x_weights (N), y_weights (M).
/// </summary>
internal static class PointClouds
{
    /// <summary>Checks and reads both clouds: N, M ≥ 1 points of one dimension D.</summary>
    public static (Shape Xs, Shape Ys, int N, int M, int D, double[] X, double[] Y) Read(LossInputs inputs, string loss)
    {
        Shape xs = inputs["x"].Shape, ys = inputs["y"].Shape;
        if (xs.Rank != 2 || xs[0] == 0) throw LossArgumentException.Shape($"{loss}: 'x' must be a cloud of points (N, D) with N ≥ 1, got {xs}");
        if (ys.Rank != 2 || ys[0] == 0 || ys[1] != xs[1]) throw LossArgumentException.Shape($"{loss}: 'y' must be points (M, D) = (M, {xs[1]}) with M ≥ 1 for x {xs}, got {ys}");
        return (xs, ys, xs[0], ys[0], xs[1], inputs["x"].ToArray<double>(), inputs["y"].ToArray<double>());
    }

    /// <summary>A cloud's weights as given (checked to be one per point), or uniform 1/count when absent.</summary>
    public static double[] Weights(LossInputs inputs, string name, int count, string loss)
    {
        if (!inputs.Contains(name)) return [.. Enumerable.Repeat(1.0 / count, count)];
        Shape s = inputs[name].Shape;
        if (s != new Shape(count)) throw LossArgumentException.Shape($"{loss}: '{name}' has shape {s}; expected ({count},), one weight per point");
        return inputs[name].ToArray<double>();
    }

    /// <summary>The four inputs; <paramref name="weights"/> says how the weights are taken.</summary>
    public static InputSpec[] Inputs(string weights) =>
    [
        new("x", InputKind.Floating, true, "the first cloud's points (N, D)"),
        new("y", InputKind.Floating, true, "the second cloud's points (M, D)"),
        new("x_weights", InputKind.Floating, true, $"the first cloud's weights (N), {weights} (uniform 1/N when absent)") { Optional = true },
        new("y_weights", InputKind.Floating, true, $"the second cloud's weights (M), {weights} (uniform 1/M when absent)") { Optional = true },
    ];

    /// <summary>Five points against six in 2-D, spread by <paramref name="spread"/>.</summary>
    public static LossInputs Sample(Random r, Shape s, double spread)
    {
        Shape x = s.Rank == 2 ? s : new Shape(5, 2);
        return new LossInputs().Add("x", Samples.Normal(r, x, spread)).Add("y", Samples.Normal(r, new Shape(x[0] + 1, x[1]), spread));
    }
}
