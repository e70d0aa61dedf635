using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Keras;

/// <summary>
/// The shared machinery of Keras 3 losses: inputs <c>y_true</c>, <c>y_pred</c> of equal shape, a per-sample loss
/// (most losses average over the last axis), then Keras's reduction with an optional <c>sample_weight</c>.
/// </summary>
/// <remarks>
/// <para>Reductions (<c>keras/src/losses/loss.py</c>): <c>sum_over_batch_size</c> (default) and <c>mean</c> divide the
/// weighted sum by the number of per-sample values; <c>mean_with_sample_weight</c> divides by Σ sample_weight as given
/// (after rank matching, not broadcast: a scalar weight therefore gives the sum); <c>sum</c>; <c>none</c>. Every division
/// is divide_no_nan (0/0 = 0, and then the gradient is 0). A scalar per-sample loss (dice with axis=None) is never
/// reduced. A sample_weight with one more trailing dim of 1 than the values ((N, 1) against (N,)) is squeezed, as
/// Keras's squeeze_or_expand_to_same_rank does; otherwise it broadcasts against the values.</para>
/// <para>epsilon = 1e-7 lives in a float32 tensor in Keras: the clip bounds are float32(1e-7) and
/// float32(1 − 1e-7) = 1 − 2⁻²³ (<see cref="Epsilon{T}"/>, <see cref="OneMinusEpsilon{T}"/>).</para>
/// </remarks>
public abstract class KerasLoss : Loss
{
    protected KerasLoss(string reduction, TensorData? sampleWeight)
    {
        if (!Reductions.Contains(reduction)) throw new LossArgumentException(LossErrorCode.UnsupportedOption, $"reduction '{reduction}' is not one of {string.Join(", ", Reductions)}");
        ReductionName = reduction;
        SampleWeight = sampleWeight;
    }

    public static readonly string[] Reductions = ["sum_over_batch_size", "mean", "sum", "none", "mean_with_sample_weight"];

    public string ReductionName { get; }

    public TensorData? SampleWeight { get; }

    /// <summary>Keras's epsilon as float32: 1.0000000116860974e-07.</summary>
    public static T Epsilon<T>() where T : struct, IFloatingPointIeee754<T> => T.CreateTruncating((double)1e-7f);

    /// <summary>float32(1 − 1e-7) = 1 − 2⁻²³.</summary>
    public static T OneMinusEpsilon<T>() where T : struct, IFloatingPointIeee754<T> => T.CreateTruncating((double)(1f - 1e-7f));

    /// <summary>Keras's probability clip: clip(p, ε, 1 − ε).</summary>
    public static T ClipProbability<T>(T p) where T : struct, IFloatingPointIeee754<T> => T.Clamp(p, Epsilon<T>(), OneMinusEpsilon<T>());

    /// <summary>Keras's label smoothing ε in [0, 1]; outside it the smoothed targets leave [0, 1]: an error naming the loss.</summary>
    internal static double CheckedSmoothing(string loss, double smoothing) => smoothing is >= 0 and <= 1 ? smoothing
        : throw LossArgumentException.Value($"{loss}: label_smoothing must be in [0, 1], got {smoothing}");

    /// <summary>Whether p is strictly inside the clip, where the clip passes the gradient.</summary>
    public static bool InsideClip<T>(T p) where T : struct, IFloatingPointIeee754<T> => p > Epsilon<T>() && p < OneMinusEpsilon<T>();

    /// <summary>
    /// Σ of a group of probabilities, which the categorical losses divide it by. A group summing to 0 is an error naming
    /// it: Keras's 0/0 would be a NaN loss.
    /// </summary>
    protected T SumOf<T>(ReadOnlySpan<T> x) where T : struct, IFloatingPointIeee754<T>
    {
        T s = T.Zero;
        foreach (T v in x) s += v;
        if (s == T.Zero)
        {
            string shown = string.Join(", ", x[..Math.Min(x.Length, 8)].ToArray()) + (x.Length > 8 ? ", ..." : "");
            throw LossArgumentException.Value($"{Descriptor.Name}: a group of y_pred sums to 0 ([{shown}]); probabilities are divided by their sum (from_logits=false), so each group needs a nonzero one");
        }
        return s;
    }

    /// <summary>Whether y_true is differentiated (false for hinge-type losses, whose ±1 conversion is a branch).</summary>
    protected virtual bool TargetDifferentiable => true;

    /// <summary>The per-sample values (shape <paramref name="valueShape"/>) of y_true/y_pred of shape <paramref name="shape"/>.</summary>
    protected abstract T[] PerSample<T>(T[] yTrue, T[] yPred, Shape shape, out Shape valueShape) where T : struct, IFloatingPointIeee754<T>;

    /// <summary>gTrue, gPred += Σ_r upstream[r]·∂value_r/∂(y_true, y_pred) (both start at zero).</summary>
    protected abstract void Backward<T>(T[] yTrue, T[] yPred, Shape shape, T[] upstream, T[] gTrue, T[] gPred) where T : struct, IFloatingPointIeee754<T>;

    protected sealed override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        Shape shape = inputs["y_pred"].Shape;
        T[] yTrue = TrueValues<T>(inputs), yPred = inputs.Floating<T>("y_pred");
        T[] values = PerSample(yTrue, yPred, shape, out Shape valueShape);
        var (weights, weightSum) = Weights<T>(valueShape);
        int n = values.Length;
        bool[]? valid = Valid(inputs) ?? (MaskNonPositive ? [.. values.Select(v => v > T.Zero)] : null);
        if (valid is not null) (weights, weightSum) = Masked(weights, valid);
        var weighted = new T[n];
        for (int i = 0; i < n; i++) weighted[i] = weights is null ? values[i] : values[i] * weights[i];
        double denominator = ReductionName switch
        {
            "sum" or "none" => 1,
            "mean_with_sample_weight" => SampleWeight is null && valid is null ? n : weightSum,
            _ => n,
        };
        bool scalar = valueShape.Rank == 0;
        bool reduce = !scalar && ReductionName != "none";
        double total = Reducer.Sum<T>(weighted);
        double value = denominator == 0 ? 0 : total / denominator;                    // divide_no_nan
        double scale = !reduce || ReductionName == "sum" ? 1 : denominator == 0 ? 0 : 1 / denominator;
        TensorData result = reduce ? Wrap(new[] { T.CreateTruncating(value) }, Shape.Scalar) : Wrap(weighted, valueShape);
        if (!computeGradients) return Result(result);
        var upstream = new T[n];
        for (int i = 0; i < n; i++) upstream[i] = T.CreateTruncating(scale) * (weights is null ? T.One : weights[i]);
        var gTrue = new T[yTrue.Length];
        var gPred = new T[yPred.Length];
        Backward(yTrue, yPred, shape, upstream, gTrue, gPred);
        return Result(result, ("y_true", TargetDifferentiable ? Wrap(gTrue, shape) : null), ("y_pred", Wrap(gPred, shape)));
    }

    /// <summary>y_true as values after the shape checks (default: same shape as y_pred, any real values).</summary>
    protected virtual T[] TrueValues<T>(LossInputs inputs) where T : struct, IFloatingPointIeee754<T>
    {
        RequireSameShape(inputs, "y_true", "y_pred");
        return inputs.Floating<T>("y_true");
    }

    /// <summary>
    /// Integer labels y_true of shape (N, d1..) (or with a trailing 1) for y_pred (N, d1.., C), each in [0, C) unless it
    /// equals <paramref name="ignoreClass"/>. Keras's one-hot would turn an out-of-range label into a silent 0; here it
    /// is an error naming it.
    /// </summary>
    protected T[] IntegerLabels<T>(LossInputs inputs, long? ignoreClass = null) where T : struct, IFloatingPointIeee754<T>
    {
        Shape pred = inputs["y_pred"].Shape, labels = inputs["y_true"].Shape;
        if (pred.Rank < 1)
            throw LossArgumentException.Shape($"{Descriptor.Name}: y_pred must have a class axis, got shape {pred}");
        Shape rows = pred.WithoutAxis(pred.Rank - 1);
        bool squeezable = labels.Rank == pred.Rank && labels[labels.Rank - 1] == 1 && labels.WithoutAxis(labels.Rank - 1) == rows;
        if (labels != rows && !squeezable)
            throw LossArgumentException.Shape($"{Descriptor.Name}: y_true has shape {labels} but y_pred {pred} needs integer labels of shape {rows} (or {new Shape(rows.Dims.Add(1))})");
        long[] y = inputs.Indices("y_true");
        int classes = pred[pred.Rank - 1];
        for (int i = 0; i < y.Length; i++)
        {
            if (y[i] == ignoreClass) continue;
            if (y[i] < 0 || y[i] >= classes)
                throw LossArgumentException.Value($"{Descriptor.Name}: label {y[i]} at position {i} is out of range: labels must be in [0, {classes - 1}]"
                    + (ignoreClass is null ? "" : $" (or ignore_class {ignoreClass})"));
        }
        return [.. y.Select(v => T.CreateTruncating(v))];
    }

    /// <summary>Whether the loss masks its values that are not &gt; 0 out of the reduction (Keras's circle sets that mask).</summary>
    protected virtual bool MaskNonPositive => false;

    /// <summary>Which per-sample values count (Keras's loss mask, e.g. ignore_class); null = all.</summary>
    protected virtual bool[]? Valid(LossInputs inputs) => null;

    /// <summary>
    /// Keras's apply_mask: the mask joins the sample weights. For sum_over_batch_size and mean the valid entries get
    /// divide_no_nan(total, valid), so that the mean runs over the valid entries only (0 when none is valid).
    /// </summary>
    private (T[] Weights, double Sum) Masked<T>(T[]? weights, bool[] valid) where T : struct, IFloatingPointIeee754<T>
    {
        int n = valid.Length, count = valid.Count(v => v);
        double scale = ReductionName is "sum_over_batch_size" or "mean" ? (count == 0 ? 0 : (double)n / count) : 1;
        var merged = new T[n];
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            merged[i] = valid[i] ? T.CreateTruncating(scale) * (weights is null ? T.One : weights[i]) : T.Zero;
            sum += double.CreateTruncating(merged[i]);
        }
        return (merged, sum);
    }

    /// <summary>sample_weight matched to the values' shape (squeezed or broadcast), and Σ of the weight as given.</summary>
    private (T[]? Weights, double Sum) Weights<T>(Shape valueShape) where T : struct, IFloatingPointIeee754<T>
    {
        if (SampleWeight is null) return (null, 0);
        TensorData w = SampleWeight;
        if (w.Shape.Rank == valueShape.Rank + 1 && w.Shape[w.Shape.Rank - 1] == 1) w = w.Reshape(w.Shape.WithoutAxis(w.Shape.Rank - 1));
        T[] b = BroadcastOption<T>(w, "sample_weight", valueShape)
            ?? throw LossArgumentException.Shape($"{Descriptor.Name}: sample_weight of shape {SampleWeight.Shape} does not match the per-sample losses {valueShape}");
        return (b, Reducer.Sum<T>(SampleWeight.ToArray<T>()));
    }

    // ---------------------------------------------------------------- shared descriptor parts

    internal static readonly InputSpec[] TrueAndPred =
    [
        new("y_true", InputKind.Floating, true, "targets"),
        new("y_pred", InputKind.Floating, true, "predictions, same shape"),
    ];

    /// <summary>A sample for the integer-label losses: labels (N, d1..) and probability rows (N, d1.., C) (default (3, 4)).</summary>
    internal static LossInputs LabelsAndProbabilities(Random r, Shape s)
    {
        Shape x = Samples.Or(s, 3, 4);
        return new LossInputs().Add("y_true", Samples.Classes(r, x.WithoutAxis(x.Rank - 1), x[x.Rank - 1])).Add("y_pred", Samples.Simplex(r, x));
    }

    internal static OptionSpec ReductionOption => OptionSpec.Choice("reduction", "sum_over_batch_size", "Keras reduction", Reductions);

    internal static OptionSpec SampleWeightOption => OptionSpec.Tensor("sample_weight", "per-sample weights (Keras __call__ argument)");
}

/// <summary>
/// A Keras loss that is the mean over the last axis of an elementwise function f(y_true, y_pred): the kernel gives f
/// and its two partial derivatives.
/// </summary>
public abstract class KerasMeanLoss<TKernel>(string reduction, TensorData? sampleWeight) : KerasLoss(reduction, sampleWeight)
    where TKernel : struct, IElementwiseKernel
{
    protected abstract TKernel ElementKernel { get; }

    /// <summary>A per-call transform of y_true (hinge: {0, 1} → ±1 when every label is 0 or 1).</summary>
    protected virtual T[] PrepareTrue<T>(T[] yTrue) where T : struct, IFloatingPointIeee754<T> => yTrue;

    protected override T[] PerSample<T>(T[] yTrue, T[] yPred, Shape shape, out Shape valueShape)
    {
        int last = shape.Rank == 0 ? 1 : shape[shape.Rank - 1];
        valueShape = shape.Rank == 0 ? Shape.Scalar : shape.WithoutAxis(shape.Rank - 1);
        T[] t = PrepareTrue(yTrue);
        var values = new T[valueShape.Numel];
        if (last == 0) Array.Fill(values, T.NaN);   // the mean of an empty last axis is 0/0, as Keras's (and PyTorch's)
        else ElementwiseParts.RowMeans(ElementKernel, t, yPred, last, values);   // Kernel convention: (x, y) = (y_true, y_pred)
        return values;
    }

    protected override void Backward<T>(T[] yTrue, T[] yPred, Shape shape, T[] upstream, T[] gTrue, T[] gPred)
    {
        int last = shape.Rank == 0 ? 1 : shape[shape.Rank - 1];
        T[] t = PrepareTrue(yTrue);
        if (last > 0) ElementwiseParts.RowMeansBackward(ElementKernel, t, yPred, last, upstream, gTrue, gPred);
    }
}
