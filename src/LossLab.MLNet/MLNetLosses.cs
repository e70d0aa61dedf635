using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Losses.Regression;
using Microsoft.ML.Trainers;

namespace LossLab.MLNet;

/// <summary>
/// LossLab losses as ML.NET loss components: pass them to <c>OnlineGradientDescent</c>, <c>Sdca</c>,
/// <c>SgdNonCalibrated</c> or <c>SdcaNonCalibrated</c>. Values and derivatives come from LossLab's kernels
/// (ML.NET's contract is scalar: one raw output, one label, binary labels are label &gt; 0). The losses with a known
/// Fenchel conjugate (squared, logistic, hinge, smoothed hinge) also implement ML.NET's SDCA dual update.
/// </summary>
public static class MLNetLosses
{
    // ---------------------------------------------------------------- regression

    /// <summary>(o − y)², derivative 2(o − y); SDCA-capable (conjugate −α(α/4 − y)).</summary>
    public static ISupportSdcaRegressionLoss Squared() => new SquaredAdapter();

    /// <summary>|o − y|, derivative sgn(o − y).</summary>
    public static IRegressionLoss Absolute() => new KernelRegression<L1Loss.Kernel>(default);

    /// <summary>Huber with threshold δ: ½d² inside, δ(|d| − δ/2) outside.</summary>
    public static IRegressionLoss Huber(double delta = 1.0) => new KernelRegression<HuberLoss.Kernel>(new HuberLoss.Kernel(delta));

    /// <summary>log cosh(o − y), derivative tanh(o − y); computed as softplus(2d) − d − log 2 (no overflow).</summary>
    public static IRegressionLoss LogCosh() => new KernelRegression<LogCoshKernel>(default);

    /// <summary>Poisson on a log-rate output: e^o − y·o, derivative e^o − y (ML.NET's PoissonLoss convention).</summary>
    public static IRegressionLoss Poisson() => new KernelRegression<PoissonNllLoss.Kernel>(new PoissonNllLoss.Kernel(true, false, 1e-8));

    /// <summary>Pinball loss of quantile τ: τ·d for d = y − o ≥ 0, (τ − 1)·d otherwise.</summary>
    public static IRegressionLoss Quantile(double tau = 0.5)
        => tau is > 0 and < 1 ? new KernelRegression<QuantileKernel>(new QuantileKernel(tau)) : throw new ArgumentOutOfRangeException(nameof(tau), $"τ must be in (0, 1), got {tau}");

    // ---------------------------------------------------------------- binary classification (label > 0 is positive)

    /// <summary>Logistic loss −log σ(t·o): LossLab's BCE-with-logits kernel; SDCA-capable (ML.NET's dual update).</summary>
    public static ISupportSdcaClassificationLoss Logistic() => new LogisticAdapter();

    /// <summary>max(0, margin − t·o), t = ±1; SDCA-capable.</summary>
    public static ISupportSdcaClassificationLoss Hinge(float margin = 1) => new HingeAdapter(margin);

    /// <summary>Smoothed hinge with smoothing s (Shalev-Shwartz &amp; Zhang, 2013); SDCA-capable.</summary>
    public static ISupportSdcaClassificationLoss SmoothedHinge(float smoothing = 1) => smoothing >= 0 ? new SmoothedHingeAdapter(smoothing) : throw new ArgumentOutOfRangeException(nameof(smoothing), "must be ≥ 0");

    /// <summary>Exponential loss e^{−β·t·o} (AdaBoost's; the catalog's <c>ExpLoss</c>), derivative −β·t·e^{−β·t·o}.</summary>
    public static IClassificationLoss Exp(double beta = 1) => double.IsFinite(beta) ? new ExpAdapter(new Losses.Classification.ExpLoss.Kernel(beta)) : throw new ArgumentOutOfRangeException(nameof(beta), "must be finite");

    /// <summary>max(0, 1 − t·o)², derivative −2t·max(0, 1 − t·o).</summary>
    public static IClassificationLoss SquaredHinge() => new SquaredHingeAdapter();

    /// <summary>Sigmoid focal loss (torchvision semantics) on the raw output with 0/1 labels.</summary>
    public static IClassificationLoss Focal(double alpha = 0.25, double gamma = 2) => new FocalAdapter(new SigmoidFocalLoss.Kernel(alpha, gamma));

    // ---------------------------------------------------------------- adapters

    private class KernelRegression<TKernel>(TKernel kernel) : IRegressionLoss where TKernel : struct, IElementwiseKernel
    {
        public double Loss(float output, float label) => kernel.Value<float>(output, label, 1);

        public float Derivative(float output, float label) => kernel.Derivative<float>(output, label, 1).Dx;   // float, as ML.NET computes
    }

    private sealed class SquaredAdapter : KernelRegression<MseLoss.Kernel>, ISupportSdcaRegressionLoss
    {
        public SquaredAdapter() : base(default) { }

        public float ComputeDualUpdateInvariant(float scaledFeaturesNormSquared) => 1 / (0.5f + scaledFeaturesNormSquared);

        public float DualUpdate(float output, float label, float dual, float invariant, int maxNumThreads)
        {
            float full = (label - output - 0.5f * dual) * invariant;
            return maxNumThreads >= 2 ? full / maxNumThreads : full;
        }

        public double DualLoss(float label, float dual) => -dual * (dual / 4.0 - label);
    }

    private static float Truth(float label) => label > 0 ? 1 : -1;

    private sealed class LogisticAdapter : ISupportSdcaClassificationLoss
    {
        private static readonly BinaryCrossEntropyWithLogits.Kernel Kernel = default;

        public double Loss(float output, float label) => Kernel.Value<double>(output, label > 0 ? 1 : 0, 1);

        public float Derivative(float output, float label) => (float)Kernel.Derivative<double>(output, label > 0 ? 1 : 0, 1).Dx;

        public float ComputeDualUpdateInvariant(float scaledFeaturesNormSquared) => 1 / Math.Max(1, 0.25f + scaledFeaturesNormSquared);

        public float DualUpdate(float output, float label, float dual, float invariant, int maxNumThreads)
        {
            float t = Truth(label);
            float full = ((float)Numerics.Stable.Sigmoid(-(double)t * output) * t - dual) * invariant;
            return maxNumThreads >= 2 && Math.Abs(full) > 0.5f ? full / maxNumThreads : full;
        }

        public double DualLoss(float label, float dual)
        {
            double a = label > 0 ? dual : -dual;
            if (a < 0 || a > 1) return double.NegativeInfinity;
            return (a > 0 ? -a * Math.Log(a) : 0) + (a < 1 ? -(1 - a) * Math.Log(1 - a) : 0);   // binary entropy in nats
        }
    }

    private sealed class HingeAdapter(float margin) : ISupportSdcaClassificationLoss
    {
        public double Loss(float output, float label) => Math.Max(0, margin - Truth(label) * output);

        public float Derivative(float output, float label) => margin > Truth(label) * output ? -Truth(label) : 0;

        public float ComputeDualUpdateInvariant(float scaledFeaturesNormSquared) => 1 / scaledFeaturesNormSquared;

        public float DualUpdate(float output, float label, float alpha, float invariant, int maxNumThreads)
        {
            float t = Truth(label);
            float tmp = (margin - output * t) * invariant + alpha * t;
            float full = t * Math.Max(0, Math.Min(1, tmp)) - alpha;
            return maxNumThreads >= 2 && Math.Abs(full) > 0.5f ? full / maxNumThreads : full;
        }

        public double DualLoss(float label, float dual)
        {
            double a = label > 0 ? dual : -dual;
            return a < 0 || a > 1 ? double.NegativeInfinity : margin * a;
        }
    }

    private sealed class SmoothedHingeAdapter(float s) : ISupportSdcaClassificationLoss
    {
        // The catalog's kernel (SmoothedHingeLoss); in float its derivative is ML.NET's operation for operation.
        private readonly Losses.Classification.SmoothedHingeLoss.Kernel _kernel = new(s);

        public double Loss(float output, float label) => _kernel.Value<double>(output, Truth(label), 1);

        public float Derivative(float output, float label) => _kernel.Derivative(output, Truth(label), 1f).Dx;

        public float ComputeDualUpdateInvariant(float scaledFeaturesNormSquared) => 1 / (scaledFeaturesNormSquared + s);

        public float DualUpdate(float output, float label, float alpha, float invariant, int maxNumThreads)
        {
            float t = Truth(label);
            float tmp = (1 - output * t - s * alpha * t) * invariant + alpha * t;
            float full = t * Math.Max(0, Math.Min(1, tmp)) - alpha;
            return maxNumThreads >= 2 && Math.Abs(full) > 0.5f ? full / maxNumThreads : full;
        }

        public double DualLoss(float label, float dual)
        {
            double a = label > 0 ? dual : -dual;
            return a < 0 || a > 1 ? double.NegativeInfinity : a * (1 - a * s / 2);
        }
    }

    private sealed class SquaredHingeAdapter : IClassificationLoss
    {
        public double Loss(float output, float label)
        {
            double u = Math.Max(0, 1 - Truth(label) * output);
            return u * u;
        }

        public float Derivative(float output, float label) => -2 * Truth(label) * Math.Max(0, 1 - Truth(label) * output);
    }

    private sealed class ExpAdapter(Losses.Classification.ExpLoss.Kernel kernel) : IClassificationLoss
    {
        public double Loss(float output, float label) => kernel.Value<double>(output, Truth(label), 1);

        public float Derivative(float output, float label) => (float)kernel.Derivative<double>(output, Truth(label), 1).Dx;
    }

    private sealed class FocalAdapter(SigmoidFocalLoss.Kernel kernel) : IClassificationLoss
    {
        public double Loss(float output, float label) => kernel.Value<double>(output, label > 0 ? 1 : 0, 1);

        public float Derivative(float output, float label) => (float)kernel.Derivative<double>(output, label > 0 ? 1 : 0, 1).Dx;
    }

    /// <summary>log cosh(x − y) = softplus(2d) − d − log 2; derivative tanh(d).</summary>
    private readonly struct LogCoshKernel : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, System.Numerics.IFloatingPointIeee754<T>
        {
            T d = x - y;
            return Numerics.Stable.Softplus(d + d) - d - T.CreateTruncating(Math.Log(2));
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, System.Numerics.IFloatingPointIeee754<T>
        {
            T t = T.Tanh(x - y);
            return (t, -t);
        }
    }

    /// <summary>Pinball: with d = y − x, τ·d if d ≥ 0 else (τ − 1)·d; ∂/∂x = −τ or 1 − τ (−τ at d = 0).</summary>
    private readonly struct QuantileKernel(double tau) : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, System.Numerics.IFloatingPointIeee754<T>
        {
            T d = y - x, t = T.CreateTruncating(tau);
            return d >= T.Zero ? t * d : (t - T.One) * d;
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, System.Numerics.IFloatingPointIeee754<T>
        {
            T t = T.CreateTruncating(tau);
            T dx = y - x >= T.Zero ? -t : T.One - t;
            return (dx, -dx);
        }
    }
}
