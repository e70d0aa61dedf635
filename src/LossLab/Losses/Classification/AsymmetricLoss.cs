using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Asymmetric loss (ASL; Ridnik et al., ICCV 2021) for multi-label classification, where each image or row has few
/// positive labels among many: binary cross-entropy on each logit with the negatives' probability shifted down by a
/// margin m (<c>clip</c>, which discards easy negatives outright) and a focal weight with separate exponents for positives
/// (γ₊) and negatives (γ₋), so that the many easy negatives stop swamping the few positives.
/// </summary>
/// <remarks>
/// <para><b>Definition</b> (the authors' <c>AsymmetricLoss</c>, per element, with p = σ(x)): the negatives' probability
/// p_m = max(p − m, 0), i.e. xs_neg = min(1 − p + m, 1); L = y·log max(p, ε) + (1 − y)·log max(xs_neg, ε); with
/// 1 − p_t = y(1 − p) + (1 − y)·p_m and γ = γ₊y + γ₋(1 − y), ℓ = −(1 − p_t)^γ·L. Their default reduction is the sum.</para>
/// <para><b>Derivation:</b> ∂ log σ(x)/∂x = 1 − p (0 where p &lt; ε, the clamp); ∂ xs_neg/∂x = −p(1 − p) while
/// 1 − p + m ≤ 1 and 0 past it, so ∂ log xs_neg/∂x = −p(1 − p)/xs_neg. With the focal weight w = (1 − p_t)^γ held
/// constant (<c>disable_torch_grad_focal_loss</c>, the authors' default) ∂ℓ/∂x = −w·∂L/∂x; otherwise
/// ∂ℓ/∂x = −w·∂L/∂x − L·γ(1 − p_t)^(γ−1)·∂(1 − p_t)/∂x, with ∂(1 − p_t)/∂x = −y·p(1 − p) − (1 − y)·∂xs_neg/∂x, and 0 for
/// that term where ∂(1 − p_t)/∂x = 0 (an exact zero even where (1 − p_t)^(γ−1) is infinite).</para>
/// <para><b>Precision:</b> 1 − p and log p come from the stable forms σ(−x) and −softplus(−x), and 1 − p_t from y(1 − p)
/// + (1 − y)(p − m) rather than 1 − p_t, so that confident logits keep their digits; the authors' float formula rounds
/// 1 − σ(x) to 0 from x ≈ 17. Labels are checked in [0, 1]. Finite for every finite input.</para>
/// </remarks>
public sealed class AsymmetricLoss : ElementwiseLoss<AsymmetricLoss.Kernel>, ILossDefinition
{
    private readonly Kernel _kernel;

    public AsymmetricLoss() : this(new Options()) { }

    public AsymmetricLoss(Options options) : base(options.Reduction, null)
    {
        string name = Entry.Name;
        if (!(options.GammaNegative >= 0) || !(options.GammaPositive >= 0) || !double.IsFinite(options.GammaNegative + options.GammaPositive))
            throw LossArgumentException.Value($"{name}: gamma_neg and gamma_pos must be finite and ≥ 0, got {options.GammaNegative} and {options.GammaPositive}");
        if (!(options.Clip is >= 0 and < 1)) throw LossArgumentException.Value($"{name}: clip (the negatives' margin) must be in [0, 1), got {options.Clip}");
        if (!(options.Eps is > 0 and < 1)) throw LossArgumentException.Value($"{name}: eps must be in (0, 1), got {options.Eps}");
        _kernel = new Kernel(options.GammaNegative, options.GammaPositive, options.Clip, options.Eps, options.DetachFocalWeight);
    }

    public sealed record Options
    {
        /// <summary>The authors' default is the sum over every element.</summary>
        public Reduction Reduction { get; init; } = Reduction.Sum;

        /// <summary>γ₋, the focusing exponent of negatives (4).</summary>
        public double GammaNegative { get; init; } = 4;

        /// <summary>γ₊, the focusing exponent of positives (1).</summary>
        public double GammaPositive { get; init; } = 1;

        /// <summary>m, the probability margin of negatives (0.05); 0 turns the shift off.</summary>
        public double Clip { get; init; } = 0.05;

        /// <summary>The lower clamp of each probability inside the logs (1e-8).</summary>
        public double Eps { get; init; } = 1e-8;

        /// <summary>Whether the focal weight is held constant in the gradient (the authors' default, true).</summary>
        public bool DetachFocalWeight { get; init; } = true;
    }

    /// <summary>One element's asymmetric loss of a logit x and a label y (see the class remarks); computed in double.</summary>
    public readonly struct Kernel(double gammaNegative, double gammaPositive, double clip, double eps, bool detach) : IElementwiseKernel
    {
        private readonly double _logEps = Math.Log(eps);

        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
            => T.CreateTruncating(Terms(double.CreateTruncating(x), double.CreateTruncating(y)).Loss);

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
            => (T.CreateTruncating(Terms(double.CreateTruncating(x), double.CreateTruncating(y)).Dx), T.Zero);

        private (double Loss, double Dx) Terms(double x, double y)
        {
            double p = Stable.SigmoidPair(x, out double q);   // q = 1 − p
            // The negatives' shifted probability: xs_neg = min(q + m, 1), 1 − xs_neg = p_m = max(p − m, 0).
            bool shifted = clip > 0 && q + clip <= 1;
            double xsNeg = clip > 0 ? Math.Min(q + clip, 1) : q;
            double pm = clip > 0 ? (q + clip < 1 ? p - clip : 0) : p;
            double dXsNeg = clip > 0 ? (shifted ? -p * q : 0) : -p * q;
            double logPos = Math.Max(Stable.LogSigmoid(x), _logEps), dLogPos = p >= eps ? q : 0;
            double logNeg = clip > 0 ? Math.Log(Math.Max(xsNeg, eps)) : Math.Max(Stable.LogSigmoid(-x), _logEps);
            double dLogNeg = xsNeg >= eps ? dXsNeg / xsNeg : 0;
            double l = y * logPos + (1 - y) * logNeg, dl = y * dLogPos + (1 - y) * dLogNeg;
            if (gammaNegative == 0 && gammaPositive == 0) return (-l, -dl);
            double gamma = gammaPositive * y + gammaNegative * (1 - y);
            double m1 = y * q + (1 - y) * pm;   // 1 − p_t
            double w = Math.Pow(m1, gamma);
            double dx = -w * dl;
            if (!detach)
            {
                double dm1 = -y * p * q - (1 - y) * dXsNeg;
                if (dm1 != 0 && gamma != 0) dx -= l * gamma * Math.Pow(m1, gamma - 1) * dm1;
            }
            return (-w * l, dx);
        }
    }

    protected override bool TargetDifferentiable => false;   // multi-label targets are labels

    protected override void Validate<T>(T[] input, T[] target)
    {
        for (int i = 0; i < target.Length; i++)
        {
            if (!(target[i] >= T.Zero && target[i] <= T.One))
                throw LossArgumentException.Value($"{Entry.Name}: target {target[i]} at index {i} is not a label in [0, 1]");
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "AsymmetricLoss",
        Aliases = ["asymmetric_loss", "asl", "AsymmetricLossOptimized"],
        Family = LossFamily.Classification,
        Task = LossTask.MultilabelClassification,
        Inputs = [new("input", InputKind.Floating, true, "logits, any shape (N, C) for C labels"), new("target", InputKind.Floating, false, "labels in [0, 1] (multi-hot), same shape")],
        Options =
        [
            OptionSpec.Choice("reduction", "sum", "how per-element losses are combined: none, mean or sum (the authors: sum)", "none", "mean", "sum"),
            OptionSpec.Float("gamma_neg", 4, "γ₋, the focusing exponent of negatives"),
            OptionSpec.Float("gamma_pos", 1, "γ₊, the focusing exponent of positives"),
            OptionSpec.Float("clip", 0.05, "m, the negatives' probability margin: p_m = max(p − m, 0); 0 turns it off"),
            OptionSpec.Float("eps", 1e-8, "lower clamp of each probability inside the logs"),
            OptionSpec.Bool("disable_torch_grad_focal_loss", true, "hold the focal weight constant in the gradient (the authors' default)"),
        ],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 3, 5);
            var labels = new double[x.Numel];
            for (int i = 0; i < labels.Length; i++) labels[i] = r.Next(4) == 0 ? 1 : 0;   // few positives, as multi-label data has
            return new LossInputs().Add("input", Samples.Normal(r, x, 2)).Add("target", TensorData.Create(x, DType.Float64, labels));
        },
        Formula = "ℓ = −(1 − p_t)^γ·[y·log p + (1 − y)·log(1 − p_m)],  p = σ(x), p_m = max(p − m, 0), 1 − p_t = y(1 − p) + (1 − y)p_m, γ = γ₊y + γ₋(1 − y)",
        Gradient = "∂ℓ/∂x = −(1 − p_t)^γ·[y(1 − p) − (1 − y)·p(1 − p)/(1 − p_m)·[p > m]] (focal weight held constant; its own term otherwise)",
        Reference = "Ridnik et al., Asymmetric Loss For Multi-Label Classification, ICCV 2021 (the authors' AsymmetricLoss)",
        Stability = "finite for every finite input (σ(−x) and log σ in stable forms; logs clamped at log ε as the authors')",
        Libraries = "the authors' reference code (Alibaba-MIIL/ASL); timm, MMPretrain",
        TrueGradientOptions = new Dictionary<string, object?> { ["disable_torch_grad_focal_loss"] = false },
        Factory = o => new AsymmetricLoss(new Options
        {
            Reduction = o.Reduction, GammaNegative = o.Float("gamma_neg"), GammaPositive = o.Float("gamma_pos"), Clip = o.Float("clip"),
            Eps = o.Float("eps"), DetachFocalWeight = o.Bool("disable_torch_grad_focal_loss"),
        }),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => _kernel;
}
