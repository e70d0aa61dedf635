using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Probabilistic;

/// <summary>
/// Pointwise Kullback–Leibler divergence between a target distribution t and log-probabilities x:
/// ℓ = t·(log t − x) (0 where t = 0), or with log_target ℓ = eᵗ(t − x).
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.kl_div(input, target, reduction='mean', log_target=False)</c>. The input must be
/// log-probabilities. <c>mean</c> divides by numel, which is not the KL divergence; <c>batchmean</c>
/// (Σℓ / input.size(0)) is (pytorch#2259). Gradients: ∂ℓ/∂x = −t (−eᵗ with log_target);
/// ∂ℓ/∂t = log t + 1 − x (eᵗ(t − x + 1) with log_target). At t = 0 the target derivative is its limit −∞ (PyTorch's
/// autograd returns NaN there). Negative probability targets are rejected.
/// </remarks>
public sealed class KLDivergence : ElementwiseLoss<KLDivergence.Kernel>, ILossDefinition
{
    private readonly Kernel _kernel;
    private readonly bool _logTarget;

    public KLDivergence() : this(new Options()) { }

    public KLDivergence(Options options) : base(options.Reduction, null)
    {
        _logTarget = options.LogTarget;
        _kernel = new Kernel(options.LogTarget);
    }

    public sealed record Options
    {
        /// <summary>Default mean (PyTorch's); use <see cref="Reduction.BatchMean"/> for the true KL per sample.</summary>
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>The target is given as log-probabilities.</summary>
        public bool LogTarget { get; init; }
    }

    /// <summary>ℓ = xlogy(t, t) − t·x, or eᵗ(t − x) with log targets.</summary>
    public readonly struct Kernel(bool logTarget) : IElementwiseKernel
    {
        public T Value<T>(T x, T t, T a) where T : struct, IFloatingPointIeee754<T>
            => logTarget ? T.Exp(t) * (t - x) : Stable.Xlogy(t, t) - t * x;

        public (T Dx, T Dy) Derivative<T>(T x, T t, T a) where T : struct, IFloatingPointIeee754<T>
        {
            if (logTarget)
            {
                T e = T.Exp(t);
                return (-e, e * (t - x + T.One));
            }
            T dt = t == T.Zero ? T.NegativeInfinity : T.Log(t) + T.One - x;
            return (-t, dt);
        }
    }

    protected override void Validate<T>(T[] input, T[] target)
    {
        if (_logTarget) return;
        for (int i = 0; i < target.Length; i++)
        {
            if (target[i] < T.Zero || T.IsNaN(target[i])) throw NotAProbability(i, target[i]);
        }
    }

    /// <summary>The error for a negative or NaN target at flat index <paramref name="index"/>; the fused kernel raises the same.</summary>
    internal static LossArgumentException NotAProbability<T>(int index, T value)
        => LossArgumentException.Value($"KLDivergence: 'target' holds probabilities and must be ≥ 0; target[{index}] = {value} (for log-probabilities set log_target, logTarget in the fused kernel)");

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KLDivergence",
        Aliases = ["kl_div", "KLDivLoss", "kl_divergence"],
        Family = LossFamily.Probabilistic,
        Task = LossTask.Distribution,
        Inputs = [new("input", InputKind.Floating, true, "log-probabilities") { AcceptsNegativeInfinity = true }, new("target", InputKind.Floating, true, "probabilities (or log-probabilities), same shape") { AcceptsNegativeInfinity = true }],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum", "batchmean"),
            OptionSpec.Bool("log_target", false, "the target is given as log-probabilities"),
        ],
        Sample = (r, s) => new LossInputs().Add("input", Samples.Simplex(r, Samples.Or(s, 3, 4), log: true)).Add("target", Samples.Simplex(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = t·(log t − x)   (log_target: eᵗ·(t − x))",
        Gradient = "∂ℓ/∂x = −t (−eᵗ); ∂ℓ/∂t = log t + 1 − x (eᵗ(t − x + 1))",
        Reference = "torch.nn.functional.kl_div",
        Stability = "finite for finite log-probabilities; t = 0 contributes exactly 0",
        LowerBound = double.NegativeInfinity,   // pointwise t(log t − x) is not bounded; the sum over a distribution is ≥ 0
        Libraries = "PyTorch, TorchSharp, Keras (KLDivergence), Optax (kl_divergence)",
        Factory = o => new KLDivergence(new Options { Reduction = o.Reduction, LogTarget = o.Bool("log_target") }),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => _kernel;
}
