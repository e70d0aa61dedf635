using System.Numerics;
using LossLab.Numerics;

namespace LossLab.Losses.Core;

/// <summary>
/// The math of an elementwise loss ℓ(x, y; a): its value and its partial derivatives. <c>a</c> is a per-element
/// auxiliary parameter (BCE-with-logits' broadcast pos_weight); other kernels ignore it. Kernels are structs so
/// the JIT specializes the driver loops for each (no virtual call per element).
/// </summary>
public interface IElementwiseKernel
{
    T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>;

    /// <summary>(∂ℓ/∂x, ∂ℓ/∂y) at one element.</summary>
    (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>;
}

/// <summary>How a weighted <see cref="Reduction.Mean"/> normalizes (PyTorch differs per loss).</summary>
public enum WeightedMean
{
    /// <summary>Σ wᵢℓᵢ / numel (BCE, huber).</summary>
    Numel,
    /// <summary>Σ wᵢℓᵢ / Σ wᵢ (mse, l1 with the functional <c>weight</c> argument).</summary>
    SumOfWeights,
}

/// <summary>
/// The span drivers of elementwise losses: <c>loss[i] = w[i]·ℓ(x[i], y[i]; a[i])</c> and its gradient times an
/// upstream scale. Empty weight/aux spans mean "all ones"/"unused". Shapes: every span has length n.
/// These loops never allocate.
/// </summary>
public static class Elementwise
{
    public static void Forward<T, TKernel>(TKernel kernel, ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> weight, ReadOnlySpan<T> aux, Span<T> loss)
        where T : struct, IFloatingPointIeee754<T>
        where TKernel : struct, IElementwiseKernel
    {
        for (int i = 0; i < x.Length; i++)
        {
            T a = aux.IsEmpty ? T.One : aux[i];
            T v = kernel.Value(x[i], y[i], a);
            loss[i] = weight.IsEmpty ? v : weight[i] * v;
        }
    }

    /// <summary>gradX[i] = g·w[i]·∂ℓ/∂x, gradY[i] = g·w[i]·∂ℓ/∂y (gradY may be empty when the target is not differentiated).</summary>
    public static void Backward<T, TKernel>(TKernel kernel, ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> weight, ReadOnlySpan<T> aux, T upstream, Span<T> gradX, Span<T> gradY)
        where T : struct, IFloatingPointIeee754<T>
        where TKernel : struct, IElementwiseKernel
    {
        for (int i = 0; i < x.Length; i++)
        {
            T a = aux.IsEmpty ? T.One : aux[i];
            var (dx, dy) = kernel.Derivative(x[i], y[i], a);
            T g = weight.IsEmpty ? upstream : upstream * weight[i];
            gradX[i] = g * dx;
            if (!gradY.IsEmpty) gradY[i] = g * dy;
        }
    }

    /// <summary>
    /// Keras's mean over the last axis: means[r] = Σ_k ℓ(x[r·L + k], y[r·L + k]) / L over rows of L =
    /// <paramref name="last"/> elements (x, y: means.Length·L), summed in order in T.
    /// </summary>
    public static void RowMeans<T, TKernel>(TKernel kernel, ReadOnlySpan<T> x, ReadOnlySpan<T> y, int last, Span<T> means)
        where T : struct, IFloatingPointIeee754<T>
        where TKernel : struct, IElementwiseKernel
    {
        for (int r = 0; r < means.Length; r++)
        {
            T s = T.Zero;
            for (int k = 0; k < last; k++) s += kernel.Value(x[r * last + k], y[r * last + k], T.One);
            means[r] = s / T.CreateTruncating(last);
        }
    }

    /// <summary>
    /// The way back of <see cref="RowMeans{T, TKernel}"/>: gradX[i] = u_r/L·∂ℓ/∂x and gradY[i] = u_r/L·∂ℓ/∂y for element i of
    /// row r, u = <paramref name="upstream"/> (one per row); rows whose upstream is 0 are left as they are.
    /// </summary>
    public static void RowMeansBackward<T, TKernel>(TKernel kernel, ReadOnlySpan<T> x, ReadOnlySpan<T> y, int last, ReadOnlySpan<T> upstream,
        Span<T> gradX, Span<T> gradY)
        where T : struct, IFloatingPointIeee754<T>
        where TKernel : struct, IElementwiseKernel
    {
        for (int i = 0; i < upstream.Length * last; i++)
        {
            T u = upstream[i / last] / T.CreateTruncating(last);
            if (u == T.Zero) continue;
            var (dx, dy) = kernel.Derivative(x[i], y[i], T.One);
            gradX[i] = u * dx;
            gradY[i] = u * dy;
        }
    }
}

/// <summary>
/// Base of two-input elementwise losses (<c>input</c>, <c>target</c> of equal shape, optional <c>weight</c>):
/// shape checks, weights, the shared reduction and both gradients.
/// </summary>
public abstract class ElementwiseLoss<TKernel> : Loss where TKernel : struct, IElementwiseKernel
{
    protected ElementwiseLoss(Reduction reduction, TensorData? weight)
    {
        Reduction = reduction;
        Weight = weight;
    }

    public Reduction Reduction { get; }

    /// <summary>Per-element weights (shape rules per loss), or null.</summary>
    public TensorData? Weight { get; }

    protected abstract TKernel ElementKernel { get; }

    /// <summary>The names of the two inputs (torchvision's focal loss says <c>inputs</c>/<c>targets</c>).</summary>
    protected virtual (string Input, string Target) InputNames => ("input", "target");

    /// <summary>Whether the weight may broadcast (BCE) or must match the input shape exactly (mse, l1, huber).</summary>
    protected virtual bool WeightBroadcasts => false;

    protected virtual WeightedMean WeightedMean => WeightedMean.Numel;

    /// <summary>Whether PyTorch differentiates the target (false for ±1 labels).</summary>
    protected virtual bool TargetDifferentiable => true;

    /// <summary>Checks the domain of the values (BCE probabilities...); throws <see cref="LossArgumentException"/>.</summary>
    protected virtual void Validate<T>(T[] input, T[] target) where T : struct, IFloatingPointIeee754<T> { }

    /// <summary>The per-element auxiliary parameter broadcast to the input shape, or null.</summary>
    protected virtual T[]? Aux<T>(Shape shape) where T : struct, IFloatingPointIeee754<T> => null;

    /// <summary>Denominator of <see cref="Reduction.BatchMean"/> (KL only).</summary>
    protected virtual double BatchMeanDenominator(Shape shape) => shape.Rank == 0 ? 1 : shape[0];

    protected sealed override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (inputName, targetName) = InputNames;
        RequireSameShape(inputs, inputName, targetName);
        Shape shape = inputs[inputName].Shape;
        T[] x = inputs.Floating<T>(inputName);
        T[] y = inputs.Floating<T>(targetName);
        Validate(x, y);
        T[]? w = null;
        if (Weight is not null)
        {
            if (!WeightBroadcasts && Weight.Shape != shape)
            {
                throw LossArgumentException.Shape($"{Descriptor.Name}: 'weight' has shape {Weight.Shape} but '{inputName}' has shape {shape}; they must be equal");
            }
            w = BroadcastOption<T>(Weight, "weight", shape);
        }
        T[]? aux = Aux<T>(shape);
        var loss = new T[x.Length];
        ElementwiseParts.Forward(ElementKernel, x, y, w, aux, loss);

        double denominator = Reduction switch
        {
            Reduction.BatchMean => BatchMeanDenominator(shape),
            _ when w is not null && WeightedMean == WeightedMean.SumOfWeights => Reducer.Sum<T>(w),
            _ => x.Length,
        };
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, Reduction, denominator);
        TensorData value = ValueTensor(Reduction, reduced, loss, shape);
        if (!computeGradients) return Result(value);

        var gx = new T[x.Length];
        T[] gy = TargetDifferentiable ? new T[x.Length] : [];
        ElementwiseParts.Backward(ElementKernel, x, y, w, aux, T.CreateTruncating(reduced.Scale), gx, gy);
        return Result(value, (inputName, Wrap(gx, shape)), (targetName, TargetDifferentiable ? Wrap(gy, shape) : null));
    }

    /// <summary>The reduction option's allowed values.</summary>
    protected static readonly string[] StandardReductions = ["none", "mean", "sum"];
}
