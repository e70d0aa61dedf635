using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Regression;

/// <summary>
/// Poisson negative log-likelihood of a count y under rate λ: with log_input, x = log λ and ℓ = eˣ − y·x;
/// otherwise x = λ and ℓ = x − y·log(x + eps). <c>full</c> adds Stirling's y·log y − y + ½log(2πy) where y &gt; 1.
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction='mean')</c>.
/// Gradients: log_input ∂ℓ/∂x = eˣ − y, ∂ℓ/∂y = −x; rate ∂ℓ/∂x = 1 − y/(x + eps), ∂ℓ/∂y = −log(x + eps);
/// the Stirling term adds ∂/∂y = log y + 1/(2y) where y &gt; 1 (it is 0, with gradient 0, where y ≤ 1, so it jumps at
/// y = 1 as in PyTorch). A negative rate (log_input=false) is rejected rather than returning NaN.
/// Finite for x ≤ 88 (float32) with log_input.
/// </remarks>
public sealed class PoissonNllLoss : ElementwiseLoss<PoissonNllLoss.Kernel>, ILossDefinition
{
    private readonly Kernel _kernel;
    private readonly bool _logInput;

    public PoissonNllLoss() : this(new Options()) { }

    public PoissonNllLoss(Options options) : base(options.Reduction, null)
    {
        _logInput = options.LogInput;
        _kernel = new Kernel(options.LogInput, options.Full, options.Eps);
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>The input is log λ (true) or λ itself (false).</summary>
        public bool LogInput { get; init; } = true;

        /// <summary>Add the Stirling approximation of log(y!) where y &gt; 1.</summary>
        public bool Full { get; init; }

        /// <summary>Added to λ inside the log when <see cref="LogInput"/> is false.</summary>
        public double Eps { get; init; } = 1e-8;
    }

    public readonly struct Kernel(bool logInput, bool full, double eps) : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T v = logInput ? T.Exp(x) - y * x : x - y * T.Log(x + T.CreateTruncating(eps));
            if (full && y > T.One)
            {
                v += y * T.Log(y) - y + T.CreateTruncating(0.5) * T.Log(T.CreateTruncating(2 * Math.PI) * y);
            }
            return v;
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T dx, dy;
            if (logInput)
            {
                // eˣ − y cancels where eˣ ≈ y; for y in [½, 2], y − 1 is exact (Sterbenz) and expm1(x) − (y − 1) keeps
                // the digits that eˣ's rounding near 1 loses (at x = 1e-10, y = 1: 1.0000000827e-10 against 1e-10).
                dx = y >= T.CreateTruncating(0.5) && y <= T.CreateTruncating(2) ? Stable.Expm1(x) - (y - T.One) : T.Exp(x) - y;
                dy = -x;
            }
            else
            {
                T r = x + T.CreateTruncating(eps);
                dx = T.One - y / r;
                dy = -T.Log(r);
            }
            if (full && y > T.One) dy += T.Log(y) + T.CreateTruncating(0.5) / y;
            return (dx, dy);
        }
    }

    protected override void Validate<T>(T[] input, T[] target)
    {
        if (_logInput) return;
        for (int i = 0; i < input.Length; i++)
        {
            if (input[i] < T.Zero)
            {
                throw LossArgumentException.Value($"PoissonNllLoss: with log_input=false 'input' is a rate and must be ≥ 0; element {i} is {input[i]}");
            }
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "PoissonNllLoss",
        Aliases = ["poisson_nll_loss", "PoissonNLLLoss"],
        Family = LossFamily.Regression,
        Task = LossTask.CountRegression,
        Inputs = [new("input", InputKind.Floating, true, "log-rate (log_input) or rate"), new("target", InputKind.Floating, true, "counts, same shape")],
        Options =
        [
            OptionSpec.Reduction(StandardReductions),
            OptionSpec.Bool("log_input", true, "input is log λ (true) or λ (false)"),
            OptionSpec.Bool("full", false, "add Stirling's term y·log y − y + ½log(2πy) where y > 1"),
            OptionSpec.Float("eps", 1e-8, "added to λ inside the log when log_input is false"),
        ],
        Sample = (r, s) => new LossInputs().Add("input", Samples.Normal(r, Samples.Or(s, 3, 4))).Add("target", Samples.Counts(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = eˣ − y·x (log_input) or x − y·log(x + eps)",
        Gradient = "∂ℓ/∂x = eˣ − y (log_input) or 1 − y/(x + eps)",
        Reference = "torch.nn.functional.poisson_nll_loss",
        Stability = "finite for x ≤ 88 (float32) / 709 (float64) with log_input; rate inputs must be ≥ 0",
        LowerBound = double.NegativeInfinity,   // e^x − y·x has its minimum y − y·log y, unbounded below as y grows
        Libraries = "PyTorch, TorchSharp, Keras (Poisson, rate form), ML.NET (PoissonLoss)",
        Factory = o => new PoissonNllLoss(new Options { Reduction = o.Reduction, LogInput = o.Bool("log_input"), Full = o.Bool("full"), Eps = o.Float("eps") }),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => _kernel;
}
