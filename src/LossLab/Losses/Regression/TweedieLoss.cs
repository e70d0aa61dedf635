using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Regression;

/// <summary>
/// Tweedie deviance for 1 ≤ ρ &lt; 2 (scikit-learn's <c>mean_tweedie_deviance</c>; the objective of LightGBM and XGBoost
/// for insurance claims, rainfall and other counts with many exact zeros): the compound Poisson–gamma distribution
/// whose variance grows as μ^ρ. ρ = 1 is the Poisson deviance; ρ → 2 approaches the gamma.
/// </summary>
/// <remarks>
/// <para><b>Definition</b> (unit deviance, y ≥ 0, μ &gt; 0, 1 &lt; ρ &lt; 2):
/// ℓ = 2·(y^(2−ρ)/((1−ρ)(2−ρ)) − y·μ^(1−ρ)/(1−ρ) + μ^(2−ρ)/(2−ρ)); at ρ = 1, 2·(y·log(y/μ) − y + μ) with 0·log 0 = 0.
/// It is 0 at μ = y and positive elsewhere. With <c>log_input</c> (the default, as the boosting libraries' raw score and
/// <c>poisson_nll_loss</c>) the input is log μ, so any real score is a valid prediction.</para>
/// <para><b>Derivation:</b> ∂ℓ/∂μ = 2μ^(−ρ)(μ − y); with μ = eˣ, ∂ℓ/∂x = 2(μ^(2−ρ) − y·μ^(1−ρ)), computed as
/// 2(e^((2−ρ)x) − y·e^((1−ρ)x)). The targets are data (counts, amounts): they get no gradient.</para>
/// <para>scikit-learn's weighted mean Σwℓ/Σw (its sample_weight). Targets must be ≥ 0 and, without log_input,
/// predictions &gt; 0: errors naming the element otherwise. Finite while μ^(2−ρ) fits in a double.</para>
/// </remarks>
public sealed class TweedieLoss : ElementwiseLoss<TweedieLoss.Kernel>, ILossDefinition
{
    private readonly Kernel _kernel;
    private readonly bool _logInput;

    public TweedieLoss() : this(new Options()) { }

    public TweedieLoss(Options options) : base(options.Reduction, options.Weight)
    {
        if (!(options.Power is >= 1 and < 2)) throw LossArgumentException.Value($"TweedieLoss: power must be in [1, 2) (compound Poisson–gamma; 1 is Poisson), got {options.Power}");
        _logInput = options.LogInput;
        _kernel = new Kernel(options.Power, options.LogInput);
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>ρ in [1, 2): the variance power (LightGBM's tweedie_variance_power, default 1.5).</summary>
        public double Power { get; init; } = 1.5;

        /// <summary>The input is log μ (a raw score) rather than μ.</summary>
        public bool LogInput { get; init; } = true;

        /// <summary>Per-element weights of the input's shape; the weighted mean is Σwℓ / Σw.</summary>
        public TensorData? Weight { get; init; }
    }

    /// <summary>The unit deviance of a prediction (μ, or log μ) and a target y ≥ 0; ∂/∂input.</summary>
    public readonly struct Kernel(double power, bool logInput) : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            double input = double.CreateTruncating(x), target = double.CreateTruncating(y), rho = power;
            double logMu = logInput ? input : Math.Log(input);
            if (Near(input, logMu, target, out double t))
            {
                // Near the optimum the three terms below cancel (at μ = y(1 + 1e-10) they gave 0 for 1e-20). With
                // t = log(μ/y) the deviance is 2y^(2−ρ)·(E((2−ρ)t)/(2−ρ) − E((1−ρ)t)/(1−ρ)), E(z) = eᶻ − 1 − z ≥ 0, whose
                // two terms are both ≥ 0 (the constant and linear parts cancel exactly); ρ = 1: 2y·E(t).
                double d = rho == 1 ? target * ExpRemainder(t)
                    : Math.Pow(target, 2 - rho) * (ExpRemainder((2 - rho) * t) / (2 - rho) - ExpRemainder((1 - rho) * t) / (1 - rho));
                return T.CreateTruncating(2 * d);
            }
            if (rho == 1)
            {
                double mu = Math.Exp(logMu);
                return T.CreateTruncating(2 * ((target > 0 ? target * (Math.Log(target) - logMu) : 0) - target + mu));
            }
            double yTerm = target > 0 ? Math.Pow(target, 2 - rho) / ((1 - rho) * (2 - rho)) : 0;
            // A zero target has no y·μ^(1−ρ) term: at a very negative log μ that power overflows, and 0·∞ is NaN.
            double crossTerm = target > 0 ? target * Math.Exp((1 - rho) * logMu) / (1 - rho) : 0;
            return T.CreateTruncating(2 * (yTerm - crossTerm + Math.Exp((2 - rho) * logMu) / (2 - rho)));
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            double input = double.CreateTruncating(x), target = double.CreateTruncating(y), rho = power;
            double logMu = logInput ? input : Math.Log(input);
            // ∂ℓ/∂log μ = 2(μ^(2−ρ) − y·μ^(1−ρ)) = 2μ^(1−ρ)·y·expm1(t) near the optimum (no cancellation); without
            // log_input, ∂ℓ/∂μ is that over μ.
            double dLogMu = Near(input, logMu, target, out double t)
                ? 2 * Math.Exp((1 - rho) * logMu) * target * Stable.Expm1(t)
                : 2 * (Math.Exp((2 - rho) * logMu) - (target > 0 ? target * Math.Exp((1 - rho) * logMu) : 0));
            return (T.CreateTruncating(logInput ? dLogMu : dLogMu / input), T.Zero);
        }

        /// <summary>
        /// Whether μ is within a factor e of a positive target, and t = log(μ/y) (by log1p of (μ − y)/y, exact by
        /// Sterbenz, where μ is an input within a factor 2 of y).
        /// </summary>
        private bool Near(double input, double logMu, double target, out double t)
        {
            t = 0;
            if (!(target > 0) || !double.IsFinite(logMu)) return false;
            t = !logInput && input >= 0.5 * target && input <= 2 * target ? Stable.Log1p((input - target) / target) : logMu - Math.Log(target);
            return Math.Abs(t) < 1;
        }

        /// <summary>E(z) = eᶻ − 1 − z for |z| &lt; 1, by its series z²/2! + z³/3! + …, with no cancellation.</summary>
        private static double ExpRemainder(double z)
        {
            double term = z * z / 2, sum = term;
            for (int k = 3; k < 30 && Math.Abs(term) > 1e-18 * Math.Abs(sum); k++)
            {
                term *= z / k;
                sum += term;
            }
            return sum;
        }
    }

    protected override bool TargetDifferentiable => false;

    protected override void Validate<T>(T[] input, T[] target)
    {
        for (int i = 0; i < target.Length; i++)
        {
            if (!(target[i] >= T.Zero)) throw LossArgumentException.Value($"TweedieLoss: target {target[i]} at index {i} is negative; Tweedie targets are ≥ 0");
            if (!_logInput && !(input[i] > T.Zero))
                throw LossArgumentException.Value($"TweedieLoss: input {input[i]} at index {i} is not a positive mean μ (with log_input false); pass log μ with log_input true");
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "TweedieLoss",
        Aliases = ["tweedie_loss", "tweedie_deviance", "mean_tweedie_deviance"],
        Family = LossFamily.Regression,
        Task = LossTask.CountRegression,
        Inputs = [new("input", InputKind.Floating, true, "log μ (log_input) or μ > 0, any shape"), new("target", InputKind.Floating, false, "targets ≥ 0, same shape")],
        Options =
        [
            OptionSpec.Reduction(StandardReductions),
            OptionSpec.Float("power", 1.5, "ρ in [1, 2): the variance power (1 = Poisson)"),
            OptionSpec.Bool("log_input", true, "the input is log μ (a raw score), as the boosting libraries' and poisson_nll_loss's"),
            OptionSpec.Tensor("weight", "per-element weights (input's shape); mean = Σwℓ/Σw"),
        ],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 3, 4);
            // Claims-like targets: many zeros, the rest positive amounts.
            double[] y = [.. Enumerable.Range(0, x.Numel).Select(_ => r.Next(3) == 0 ? 0 : 3 * r.NextDouble() + 0.1)];
            return new LossInputs().Add("input", Samples.Normal(r, x)).Add("target", TensorData.Create(x, DType.Float64, y));
        },
        Formula = "ℓ = 2·(y^(2−ρ)/((1−ρ)(2−ρ)) − y·μ^(1−ρ)/(1−ρ) + μ^(2−ρ)/(2−ρ)),  μ = eˣ (log_input)",
        Gradient = "∂ℓ/∂x = 2(μ^(2−ρ) − y·μ^(1−ρ)) with log_input, 2μ^(−ρ)(μ − y) without",
        Reference = "sklearn.metrics.mean_tweedie_deviance; Jørgensen, The Theory of Dispersion Models, 1997",
        Stability = "finite while μ^(2−ρ) fits in a double (exponentials of the log input in double)",
        Libraries = "scikit-learn (mean_tweedie_deviance), LightGBM and XGBoost (tweedie objective)",
        Factory = o => new TweedieLoss(new Options { Reduction = o.Reduction, Power = o.Float("power"), LogInput = o.Bool("log_input"), Weight = o.Tensor("weight") }),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => _kernel;

    protected override WeightedMean WeightedMean => WeightedMean.SumOfWeights;
}
