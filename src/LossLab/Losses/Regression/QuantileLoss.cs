using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Regression;

/// <summary>
/// Quantile (pinball) loss: with d = y − x, ℓ = τ·d where d ≥ 0 (the prediction is below the target) and (τ − 1)·d
/// where d &lt; 0. Its minimizer over a distribution of y is the τ-quantile: τ = 0.5 is half the absolute error and
/// trains the median, τ = 0.9 a prediction that 90 % of the targets fall below.
/// </summary>
/// <remarks>
/// <para><b>Derivation:</b> ℓ(x) is piecewise linear in x, so ∂ℓ/∂x = −τ where x &lt; y and 1 − τ where x &gt; y. At
/// x = y any value in [−τ, 1 − τ] is a subgradient; the kernel takes 0 there, as PyTorch's L1 takes sgn(0) = 0.
/// ∂ℓ/∂y = −∂ℓ/∂x. The expected gradient E[∂ℓ/∂x] = P(y &lt; x) − τ vanishes at the τ-quantile.</para>
/// <para>scikit-learn <c>mean_pinball_loss(y_true, y_pred, alpha=0.5, sample_weight)</c> (the weighted mean
/// Σwℓ/Σw), TensorFlow Addons <c>PinballLoss(tau=0.5)</c>, the quantile objective of LightGBM and XGBoost. τ in
/// [0, 1]. Finite for every finite input.</para>
/// </remarks>
public sealed class QuantileLoss : ElementwiseLoss<QuantileLoss.Kernel>, ILossDefinition
{
    private readonly Kernel _kernel;

    public QuantileLoss() : this(new Options()) { }

    public QuantileLoss(Options options) : base(options.Reduction, options.Weight)
    {
        if (!(options.Quantile is >= 0 and <= 1)) throw LossArgumentException.Value($"QuantileLoss: quantile must be in [0, 1], got {options.Quantile}");
        Quantile = options.Quantile;
        _kernel = new Kernel(options.Quantile);
    }

    /// <summary>The quantile τ that the loss trains a prediction to.</summary>
    public double Quantile { get; }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>τ in [0, 1]: the share of targets a minimizing prediction lies above.</summary>
        public double Quantile { get; init; } = 0.5;

        /// <summary>Per-element weights of the input's shape; the weighted mean is Σwℓ / Σw.</summary>
        public TensorData? Weight { get; init; }
    }

    /// <summary>ℓ = τ·d for d = y − x ≥ 0, (τ − 1)·d below; ∂ℓ/∂x = −τ, 1 − τ, 0 at d = 0.</summary>
    public readonly struct Kernel(double quantile) : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T tau = T.CreateTruncating(quantile), d = y - x;
            return d >= T.Zero ? tau * d : (tau - T.One) * d;
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T tau = T.CreateTruncating(quantile), d = y - x;
            T dx = d > T.Zero ? -tau : d < T.Zero ? T.One - tau : T.Zero;
            return (dx, -dx);
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "QuantileLoss",
        Aliases = ["quantile_loss", "pinball_loss", "PinballLoss", "mean_pinball_loss"],
        Family = LossFamily.Regression,
        Task = LossTask.Regression,
        Inputs = [new("input", InputKind.Floating, true, "predictions, any shape"), new("target", InputKind.Floating, true, "targets, same shape")],
        Options =
        [
            OptionSpec.Reduction(StandardReductions),
            OptionSpec.Float("quantile", 0.5, "τ in [0, 1]: the quantile trained (0.5 = the median; scikit-learn's alpha, TF Addons' tau)"),
            OptionSpec.Tensor("weight", "per-element weights (input's shape); mean = Σwℓ/Σw"),
        ],
        Sample = (r, s) => new LossInputs().Add("input", Samples.Normal(r, Samples.Or(s, 3, 4))).Add("target", Samples.Normal(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = w·max(τ(y − x), (τ − 1)(y − x))",
        Gradient = "∂ℓ/∂x = −w·τ where x < y, w(1 − τ) where x > y, 0 at x = y;  ∂ℓ/∂y = −∂ℓ/∂x",
        Reference = "sklearn.metrics.mean_pinball_loss; Koenker & Bassett, Regression Quantiles, 1978",
        Stability = "finite for every finite input",
        Libraries = "scikit-learn (mean_pinball_loss), TensorFlow Addons (PinballLoss), LightGBM and XGBoost (quantile objective)",
        Factory = o => new QuantileLoss(new Options { Reduction = o.Reduction, Quantile = o.Float("quantile"), Weight = o.Tensor("weight") }),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => _kernel;

    protected override WeightedMean WeightedMean => WeightedMean.SumOfWeights;
}
