using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Softmax focal loss on integer labels (Lin et al., 2017), with PyTorch's cross-entropy conventions:
/// ℓ = −w_y·(1 − p_y)^γ·log p_y, p = softmax over the class dim; rows whose target is ignore_index give 0, and
/// <c>mean</c> divides by Σ w_y over the other rows. γ = 0 is cross_entropy with class weights.
/// </summary>
/// <remarks>
/// <para>Requested by Keras users (keras#23442: a sparse categorical focal loss with ignore_index and class weights).
/// Shapes as cross_entropy: input (C), (N, C) or (N, C, d1..dk) logits; target (), (N) or (N, d1..dk).</para>
/// <para>Derivation, with lp = log p_y and q = 1 − p_y = −expm1(lp) (accurate as p_y → 1):
/// ∂ℓ/∂lp = w_y(γ·q^(γ−1)·p_y·lp − q^γ), and ∂lp/∂x_j = δ_jy − p_j. The first term tends to 0 as q → 0 for every
/// γ &gt; 0 and is taken as 0 there, so the gradient stays finite for every γ ≥ 0 and every finite logit.</para>
/// </remarks>
public sealed class SparseCategoricalFocalLoss : Loss, ILossDefinition
{
    private readonly double _gamma;
    private readonly long _ignoreIndex;
    private readonly TensorData? _weight;
    private readonly Reduction _reduction;

    public SparseCategoricalFocalLoss(double gamma = 2.0, TensorData? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        if (!(gamma >= 0) || !double.IsFinite(gamma)) throw LossArgumentException.Value($"SparseCategoricalFocalLoss: gamma must be ≥ 0, got {gamma}");
        (_gamma, _weight, _ignoreIndex, _reduction) = (gamma, weight, ignoreIndex, reduction);
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        const string name = "SparseCategoricalFocalLoss";
        Shape shape = inputs["input"].Shape;
        var L = ClassLayout.Of(name, shape);
        L.RequireIndexTarget(name, shape, inputs["target"].Shape);
        T[] x = inputs.Floating<T>("input");
        T[]? w = L.ClassWeights<T>(name, _weight);
        long[] target = inputs.Indices("target");
        T g = T.CreateTruncating(_gamma);
        var row = new T[L.C];
        var logp = new T[L.C];
        var loss = new T[L.Rows];
        var dLp = new T[L.Rows];   // ∂ℓ_r/∂lp (unscaled), reused by the backward pass
        double denominator = 0;
        for (int r = 0; r < L.Rows; r++)
        {
            long y = target[r];
            L.CheckIndex(name, y, _ignoreIndex, r);
            if (y == _ignoreIndex) continue;
            for (int k = 0; k < L.C; k++) row[k] = x[L.Offset(r) + k * L.S];
            Stable.LogSoftmax<T>(row, logp);
            T lp = logp[y], p = T.Exp(lp), q = -Stable.Expm1(lp), wy = w is null ? T.One : w[y];
            T qg = _gamma == 0 ? T.One : T.Pow(q, g);
            loss[r] = -wy * qg * lp;
            T first = _gamma == 0 || q == T.Zero ? T.Zero : g * T.Pow(q, g - T.One) * p * lp;
            dLp[r] = wy * (first - qg);
            denominator += double.CreateTruncating(wy);
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, _reduction, denominator);
        TensorData value = ValueTensor(_reduction, reduced, loss, L.RowShape);
        if (!computeGradients) return Result(value);
        var grad = new T[x.Length];
        T scale = T.CreateTruncating(reduced.Scale);
        for (int r = 0; r < L.Rows; r++)
        {
            long y = target[r];
            if (y == _ignoreIndex) continue;
            for (int k = 0; k < L.C; k++) row[k] = x[L.Offset(r) + k * L.S];
            Stable.LogSoftmax<T>(row, logp);
            // δ_jy − p_j, with 1 − p_y as −expm1(log p_y): near p_y = 1 the subtraction kept no digit of Σ_{j≠y} p_j.
            for (int k = 0; k < L.C; k++) grad[L.Offset(r) + k * L.S] = scale * dLp[r] * (k == y ? -Stable.Expm1(logp[k]) : -T.Exp(logp[k]));
        }
        return Result(value, ("input", Wrap(grad, shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "SparseCategoricalFocalLoss",
        Aliases = ["sparse_categorical_focal_loss", "softmax_focal_loss"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("input", InputKind.Floating, true, "logits (C), (N, C) or (N, C, d1..dk)"),
            new("target", InputKind.Indices, false, "class indices (), (N) or (N, d1..dk)"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("gamma", 2.0, "focusing exponent (0 = cross-entropy)"),
            OptionSpec.Tensor("weight", "one weight per class (C), e.g. the focal α per class"),
            OptionSpec.Int("ignore_index", -100, "target value whose rows are skipped (and left out of the mean)"),
        ],
        Sample = (r, s) => { Shape x = Samples.Or(s, 4, 5); return new LossInputs().Add("input", Samples.Normal(r, x, 2)).Add("target", Samples.Classes(r, x.Rank >= 2 ? x.WithoutAxis(1) : Shape.Scalar, x.Rank >= 2 ? x[1] : x[0])); },
        Formula = "ℓ = −w_y·(1 − p_y)^γ·log p_y,  p = softmax(x)",
        Gradient = "∂ℓ/∂x_j = w_y(γ(1 − p_y)^(γ−1)p_y·log p_y − (1 − p_y)^γ)(δ_jy − p_j)",
        Reference = "Lin et al., Focal Loss for Dense Object Detection, 2017; keras-team/keras#23442",
        Stability = "finite for every finite logit and every γ ≥ 0 (log-softmax, expm1)",
        Libraries = "Keras (CategoricalFocalCrossentropy, one-hot), kornia (focal_loss), timm",
        Factory = o => new SparseCategoricalFocalLoss(o.Float("gamma"), o.Tensor("weight"), o.Int("ignore_index"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
