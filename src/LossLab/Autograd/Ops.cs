using LossLab.Numerics;

namespace LossLab.Autograd;

/// <summary>
/// The primitive operations and their backward rules: elementwise here, reductions in Ops.Reductions.cs, shapes and
/// indexing in Ops.Shapes.cs. Everything else (custom losses, the expression language, layers) is composed from these.
/// Each rule maps ∂L/∂out (g) to ∂L/∂input.
/// Kinks follow PyTorch: relu' (0) = 0, |x|' (0) = 0, clamp passes the gradient on its bounds, min/max split it
/// in half at a tie, pow with exponent 0 has gradient 0.
/// Strong zero: an upstream gradient of exactly 0 contributes exactly 0, even where the local derivative is
/// infinite or NaN. So the branch a <c>where</c> did not take never leaks NaN into the gradient (the classic
/// where-NaN trap of PyTorch and JAX), and masked rows stay at 0 as PyTorch's masked_fill keeps them.
/// </summary>
public static partial class Ops
{
    // ================================================================ elementwise, broadcasting

    public static Tensor Add(Tensor a, Tensor b) => Binary(a, b, "add", (x, y) => x + y, (x, y, o, g) => (g, g));

    public static Tensor Sub(Tensor a, Tensor b) => Binary(a, b, "sub", (x, y) => x - y, (x, y, o, g) => (g, -g));

    public static Tensor Mul(Tensor a, Tensor b) => Binary(a, b, "mul", (x, y) => x * y, (x, y, o, g) => (g * y, g * x));

    public static Tensor Div(Tensor a, Tensor b) => Binary(a, b, "div", (x, y) => x / y, (x, y, o, g) => (g / y, -g * x / (y * y)));

    /// <summary>x^y; ∂/∂x = y·x^(y−1) (0 when y = 0), ∂/∂y = x^y·log x (0 where x = 0 and y ≥ 0... as PyTorch, 0 at x = 0).</summary>
    public static Tensor Pow(Tensor a, Tensor b) => Binary(a, b, "pow", Math.Pow,
        (x, y, o, g) => (y == 0 ? 0 : g * y * Math.Pow(x, y - 1), x == 0 ? 0 : g * o * Math.Log(x)));

    /// <summary>Elementwise minimum; at a tie each operand gets half the gradient (torch.minimum).</summary>
    public static Tensor Minimum(Tensor a, Tensor b) => Binary(a, b, "minimum", Math.Min,
        (x, y, o, g) => x < y ? (g, 0) : x > y ? (0, g) : (g / 2, g / 2));

    /// <summary>Elementwise maximum; at a tie each operand gets half the gradient (torch.maximum).</summary>
    public static Tensor Maximum(Tensor a, Tensor b) => Binary(a, b, "maximum", Math.Max,
        (x, y, o, g) => x > y ? (g, 0) : x < y ? (0, g) : (g / 2, g / 2));

    // Comparisons give 0/1 tensors and no gradient.
    public static Tensor Less(Tensor a, Tensor b) => Compare(a, b, "lt", (x, y) => x < y);

    public static Tensor LessEqual(Tensor a, Tensor b) => Compare(a, b, "le", (x, y) => x <= y);

    public static Tensor Greater(Tensor a, Tensor b) => Compare(a, b, "gt", (x, y) => x > y);

    public static Tensor GreaterEqual(Tensor a, Tensor b) => Compare(a, b, "ge", (x, y) => x >= y);

    public static Tensor Equal(Tensor a, Tensor b) => Compare(a, b, "eq", (x, y) => x == y);

    public static Tensor NotEqual(Tensor a, Tensor b) => Compare(a, b, "ne", (x, y) => x != y);

    /// <summary>cond ≠ 0 ? a : b, broadcasting all three; the gradient goes to the branch taken.</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        Shape shape = Broadcasting.Shape(Broadcasting.Shape(condition.Shape, a.Shape, "where"), b.Shape, "where");
        int[] mc = Broadcasting.Map(condition.Shape, shape), ma = Broadcasting.Map(a.Shape, shape), mb = Broadcasting.Map(b.Shape, shape);
        var data = new double[shape.Numel];
        for (int i = 0; i < data.Length; i++) data[i] = condition.Data[mc[i]] != 0 ? a.Data[ma[i]] : b.Data[mb[i]];
        return Make(data, shape, Promote(a, b), [condition, a, b], g =>
        {
            var ga = new double[a.Length];
            var gb = new double[b.Length];
            for (int i = 0; i < g.Length; i++)
            {
                if (condition.Data[mc[i]] != 0) ga[ma[i]] += g[i];
                else gb[mb[i]] += g[i];
            }
            return [null, ga, gb];
        });
    }

    // ================================================================ elementwise, unary

    public static Tensor Neg(Tensor a) => Unary(a, x => -x, (x, o, g) => -g);

    public static Tensor Exp(Tensor a) => Unary(a, Math.Exp, (x, o, g) => g * o);

    public static Tensor Log(Tensor a) => Unary(a, Math.Log, (x, o, g) => g / x);

    public static Tensor Sqrt(Tensor a) => Unary(a, Math.Sqrt, (x, o, g) => g / (2 * o));

    /// <summary>|x|, with gradient sgn(x) (0 at 0).</summary>
    public static Tensor Abs(Tensor a) => Unary(a, Math.Abs, (x, o, g) => g * Numerics.Stable.Sign(x));

    /// <summary>max(x, 0), with gradient 0 at x = 0 (tinygrad's note: maximum(x, 0) would pass half).</summary>
    public static Tensor Relu(Tensor a) => Unary(a, x => x <= 0 ? 0 : x, (x, o, g) => x <= 0 ? 0 : g);   // NaN stays NaN and passes the gradient, as torch.relu

    public static Tensor Sigmoid(Tensor a) => Unary(a, Stable.Sigmoid, (x, o, g) => g * o * (1 - o));

    public static Tensor Tanh(Tensor a) => Unary(a, Math.Tanh, (x, o, g) => g * (1 - o * o));

    /// <summary>log(1 + eˣ) without overflow; gradient σ(x).</summary>
    public static Tensor Softplus(Tensor a) => Unary(a, Stable.Softplus, (x, o, g) => g * Stable.Sigmoid(x));

    /// <summary>x^p for a constant p (0 gradient when p = 0).</summary>
    public static Tensor Pow(Tensor a, double p) => Unary(a, x => p == 2 ? x * x : Math.Pow(x, p), (x, o, g) => p == 0 ? 0 : g * p * Math.Pow(x, p - 1));

    /// <summary>min(max(x, lo), hi); the gradient passes where lo ≤ x ≤ hi (PyTorch's clamp).</summary>
    public static Tensor Clamp(Tensor a, double lo = double.NegativeInfinity, double hi = double.PositiveInfinity)
        => Unary(a, x => Math.Min(Math.Max(x, lo), hi), (x, o, g) => x >= lo && x <= hi ? g : 0);

    /// <summary>
    /// log Z(α) of Barron's robust distribution (<see cref="RobustDistribution.LogPartition"/>), elementwise, α ≥ 0:
    /// with ρ it composes the adaptive robust loss, ρ(x/c, α) + log c + log Z(α).
    /// </summary>
    public static Tensor RobustLogPartition(Tensor alpha)
    {
        var slope = new double[alpha.Length];
        var data = new double[alpha.Length];
        RobustDistribution.LogPartitions(alpha.Data, data, slope);
        return Make(data, alpha.Shape, alpha.DType, [alpha], g => [g.Select((v, i) => v == 0 ? 0 : v * slope[i]).ToArray()]);
    }

    // ================================================================ machinery

    /// <summary>Creates an operation's result; the node is kept only when some input requires gradients.</summary>
    internal static Tensor Make(double[] data, Shape shape, DType dtype, Tensor[] inputs, Func<double[], double[]?[]> backward)
        => new(data, shape, dtype, false, inputs.Any(t => t.RequiresGrad) ? new Node(inputs, backward) : null);

    internal static DType Promote(Tensor a, Tensor b) => a.DType == DType.Float64 || b.DType == DType.Float64 ? DType.Float64 : DType.Float32;

    internal static int ClassAxis(Tensor a) => a.Shape.Rank >= 2 ? 1 : 0;

    private static Tensor Unary(Tensor a, Func<double, double> f, Func<double, double, double, double> df)
    {
        var data = new double[a.Length];
        for (int i = 0; i < data.Length; i++) data[i] = f(a.Data[i]);
        Tensor result = Make(data, a.Shape, a.DType, [a], null!);
        if (result.Node is null) return result;
        double[] output = result.Data;
        return new Tensor(output, a.Shape, a.DType, false, new Node([a], g =>
        {
            var ga = new double[a.Length];
            for (int i = 0; i < ga.Length; i++) ga[i] = g[i] == 0 ? 0 : df(a.Data[i], output[i], g[i]);
            return [ga];
        }));
    }

    private static Tensor Binary(Tensor a, Tensor b, string op, Func<double, double, double> f, Func<double, double, double, double, (double, double)> df)
    {
        Shape shape = Broadcasting.Shape(a.Shape, b.Shape, op);
        int[] ma = Broadcasting.Map(a.Shape, shape), mb = Broadcasting.Map(b.Shape, shape);
        var data = new double[shape.Numel];
        for (int i = 0; i < data.Length; i++) data[i] = f(a.Data[ma[i]], b.Data[mb[i]]);
        DType dtype = Promote(a, b);
        if (!a.RequiresGrad && !b.RequiresGrad) return new Tensor(data, shape, dtype, false, null);
        var result = new Tensor(data, shape, dtype, false, null);
        double[] output = result.Data;
        return new Tensor(output, shape, dtype, false, new Node([a, b], g =>
        {
            var ga = new double[a.Length];
            var gb = new double[b.Length];
            for (int i = 0; i < g.Length; i++)
            {
                if (g[i] == 0) continue;   // strong zero
                var (da, db) = df(a.Data[ma[i]], b.Data[mb[i]], output[i], g[i]);
                ga[ma[i]] += da;
                gb[mb[i]] += db;
            }
            return [ga, gb];
        }));
    }

    private static Tensor Compare(Tensor a, Tensor b, string op, Func<double, double, bool> f)
    {
        Shape shape = Broadcasting.Shape(a.Shape, b.Shape, op);
        int[] ma = Broadcasting.Map(a.Shape, shape), mb = Broadcasting.Map(b.Shape, shape);
        var data = new double[shape.Numel];
        for (int i = 0; i < data.Length; i++) data[i] = f(a.Data[ma[i]], b.Data[mb[i]]) ? 1 : 0;
        return new Tensor(data, shape, Promote(a, b), false, null);
    }
}
