using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Regression;

/// <summary>
/// Gaussian negative log-likelihood with predicted variance: ℓ = ½(log v + (x − y)²/v) [+ ½log 2π], v = max(var, eps).
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction='mean')</c>.
/// <c>var</c> has the input's shape, or the input's shape without its last dim, or with a last dim of 1 (one variance
/// shared along the last dim). Negative variances are rejected. The clamp to eps happens under no_grad in PyTorch, so
/// the gradient with respect to var is straight-through: evaluated at the clamped v, never zeroed.
/// Gradients: ∂ℓ/∂x = (x − y)/v = −∂ℓ/∂y, ∂ℓ/∂var = ½(1/v − (x − y)²/v²), summed where var is shared.
/// The mean divides by input.numel(). Finite for every finite input (v ≥ eps &gt; 0).
/// </remarks>
public sealed class GaussianNllLoss : Loss, ILossDefinition
{
    private readonly Options _options;

    public GaussianNllLoss() : this(new Options()) { }

    public GaussianNllLoss(Options options)
    {
        if (!(options.Eps > 0)) throw LossArgumentException.Value($"GaussianNllLoss: eps must be > 0, got {options.Eps}");
        _options = options;
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>Add the constant ½·log(2π) to each element.</summary>
        public bool Full { get; init; }

        /// <summary>Lower clamp of the variance (value only; gradient straight-through).</summary>
        public double Eps { get; init; } = 1e-6;
    }

    /// <summary>
    /// loss[i] = ½(log v + d²/v) (+ ½log 2π), v = max(var[i / share], eps). Shapes: x, y, loss (n); var (n / share).
    /// </summary>
    public static void Forward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> var, int share, T eps, bool full, Span<T> loss)
        where T : struct, IFloatingPointIeee754<T>
    {
        T half = T.CreateTruncating(0.5);
        T constant = full ? T.CreateTruncating(0.5 * Math.Log(2 * Math.PI)) : T.Zero;
        for (int i = 0; i < x.Length; i++)
        {
            T v = T.Max(var[i / share], eps);
            T d = x[i] - y[i];
            loss[i] = half * (T.Log(v) + d * d / v) + constant;
        }
    }

    /// <summary>gx = g·d/v, gy = −gx, gvar[j] += g·½(1/v − d²/v²) (gvar must start at zero).</summary>
    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> var, int share, T eps, T upstream, Span<T> gx, Span<T> gy, Span<T> gvar)
        where T : struct, IFloatingPointIeee754<T>
    {
        T half = T.CreateTruncating(0.5);
        for (int i = 0; i < x.Length; i++)
        {
            T v = T.Max(var[i / share], eps);
            T d = x[i] - y[i];
            T g = upstream * d / v;
            gx[i] = g;
            gy[i] = -g;
            gvar[i / share] += upstream * half * (T.One / v - d * d / (v * v));
        }
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        RequireSameShape(inputs, "input", "target");
        Shape shape = inputs["input"].Shape, varShape = inputs["var"].Shape;
        int share = VarShare(shape, varShape);
        T[] x = inputs.Floating<T>("input"), y = inputs.Floating<T>("target"), v = inputs.Floating<T>("var");
        for (int i = 0; i < v.Length; i++)
        {
            if (v[i] < T.Zero || T.IsNaN(v[i]))
            {
                throw LossArgumentException.Value($"GaussianNllLoss: 'var' must be ≥ 0; element {i} is {v[i]}");
            }
        }
        T eps = T.CreateTruncating(_options.Eps);
        var loss = new T[x.Length];
        Forward<T>(x, y, v, share, eps, _options.Full, loss);
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, _options.Reduction, x.Length);
        TensorData value = ValueTensor(_options.Reduction, reduced, loss, shape);
        if (!computeGradients) return Result(value);
        var gx = new T[x.Length];
        var gy = new T[x.Length];
        var gv = new T[v.Length];
        Backward<T>(x, y, v, share, eps, T.CreateTruncating(reduced.Scale), gx, gy, gv);
        return Result(value, ("input", Wrap(gx, shape)), ("target", Wrap(gy, shape)), ("var", Wrap(gv, varShape)));
    }

    /// <summary>How many consecutive input elements share one variance: 1 (same shape) or the last dim.</summary>
    private static int VarShare(Shape input, Shape var)
    {
        if (input == var) return 1;
        if (input.Rank >= 1)
        {
            Shape leading = new(input.Dims.RemoveAt(input.Rank - 1));
            bool withoutLast = var == leading;
            bool lastIsOne = var.Rank == input.Rank && var[-1] == 1 && new Shape(var.Dims.RemoveAt(var.Rank - 1)) == leading;
            if (withoutLast || lastIsOne) return input[-1];
        }
        throw LossArgumentException.Shape(
            $"GaussianNllLoss: 'var' has shape {var} but 'input' has shape {input}; var must have the input's shape, " +
            "the input's shape without its last dim, or the input's shape with a last dim of 1");
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "GaussianNllLoss",
        Aliases = ["gaussian_nll_loss", "GaussianNLLLoss"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs =
        [
            new("input", InputKind.Floating, true, "predicted means"),
            new("target", InputKind.Floating, true, "observations, same shape"),
            new("var", InputKind.Floating, true, "predicted variances (≥ 0): input's shape, or shared along the last dim"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Bool("full", false, "add ½·log(2π) per element"),
            OptionSpec.Float("eps", 1e-6, "lower clamp of var (gradient straight-through)"),
        ],
        Sample = (r, s) => new LossInputs().Add("input", Samples.Normal(r, Samples.Or(s, 3, 4))).Add("target", Samples.Normal(r, Samples.Or(s, 3, 4))).Add("var", Samples.Uniform(r, Samples.Or(s, 3, 4), 0.5, 2)),
        Formula = "ℓ = ½·(log v + (x − y)²/v),  v = max(var, eps)",
        Gradient = "∂ℓ/∂x = (x − y)/v; ∂ℓ/∂var = ½(1/v − (x − y)²/v²)",
        Reference = "torch.nn.functional.gaussian_nll_loss (Nix & Weigend, 1994)",
        Stability = "finite for every finite input (v ≥ eps > 0)",
        LowerBound = double.NegativeInfinity,   // ½·log var → −∞ as the variance shrinks
        Libraries = "PyTorch, TorchSharp (different reduction)",
        Factory = o => new GaussianNllLoss(new Options { Reduction = o.Reduction, Full = o.Bool("full"), Eps = o.Float("eps") }),
    };

    public override LossDescriptor Descriptor => Entry;
}
