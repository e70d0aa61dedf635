using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Keras;

/// <summary>
/// Keras <c>categorical_generalized_cross_entropy</c> (Zhang &amp; Sabuncu 2018): integer labels y_true (N) (or (N, 1))
/// against probabilities y_pred (N, C), ℓ = (1 − p_y^q)/q with p_y = y_pred[n, y_n] as given (no clip, no
/// renormalization). <see cref="Classification.GeneralizedCrossEntropy"/> is the same loss on logits.
/// </summary>
/// <remarks>
/// Derivation: ∂ℓ/∂p_y = −q·p_y^(q−1)/q = −p_y^(q−1); every other entry of the row has gradient 0, and the labels are
/// not differentiable. At p_y = 0 the value is 1/q and, for q &lt; 1, the gradient −∞ (the true derivative; Keras's
/// autodiff gives the same). A probability p_y below 0 or NaN is an error naming it (p^q would be NaN), and so is a
/// label outside [0, C) (Keras's one-hot would silently make it p = 0).
/// </remarks>
public sealed class KerasCategoricalGeneralizedCrossEntropy : KerasLoss, ILossDefinition
{
    private readonly double _q;

    public KerasCategoricalGeneralizedCrossEntropy(double q = 0.5, string reduction = "sum_over_batch_size", TensorData? sampleWeight = null)
        : base(reduction, sampleWeight)
    {
        if (!(q > 0 && q <= 1)) throw LossArgumentException.Value($"KerasCategoricalGeneralizedCrossEntropy: q must be in (0, 1], got {q}");
        _q = q;
    }

    protected override bool TargetDifferentiable => false;

    protected override T[] TrueValues<T>(LossInputs inputs) => IntegerLabels<T>(inputs);

    /// <summary>p_y of row r, checked to be a probability (≥ 0; values above 1 are Keras's business and pass).</summary>
    private T Picked<T>(T[] yTrue, T[] yPred, int c, int r) where T : struct, IFloatingPointIeee754<T>
    {
        int y = int.CreateTruncating(yTrue[r]);
        T p = yPred[r * c + y];
        if (!(p >= T.Zero))
            throw LossArgumentException.Value($"{Descriptor.Name}: y_pred[{r}, {y}] = {p} (the labelled class's probability) must be ≥ 0");
        return p;
    }

    protected override T[] PerSample<T>(T[] yTrue, T[] yPred, Shape shape, out Shape valueShape)
    {
        int c = shape[shape.Rank - 1];
        valueShape = shape.WithoutAxis(shape.Rank - 1);
        // (1 − p^q)/q as −expm1(q·log p)/q in double: the same number where Keras's form keeps its digits, and the
        // cross-entropy limit −log p where q is tiny (in float32 a q below 1.4e-45 is 0, and Keras's form 0/0).
        var values = new T[yTrue.Length];
        for (int r = 0; r < values.Length; r++)
            values[r] = T.CreateTruncating(-Stable.Expm1(_q * Math.Log(double.CreateTruncating(Picked(yTrue, yPred, c, r)))) / _q);
        return values;
    }

    protected override void Backward<T>(T[] yTrue, T[] yPred, Shape shape, T[] upstream, T[] gTrue, T[] gPred)
    {
        int c = shape[shape.Rank - 1];
        T qm1 = T.CreateTruncating(_q - 1);
        for (int r = 0; r < yTrue.Length; r++)
        {
            if (upstream[r] == T.Zero) continue;
            T p = Picked(yTrue, yPred, c, r);
            gPred[r * c + int.CreateTruncating(yTrue[r])] = -upstream[r] * T.Pow(p, qm1);
        }
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "KerasCategoricalGeneralizedCrossEntropy",
        Aliases = ["keras.categorical_generalized_cross_entropy", "keras.CategoricalGeneralizedCrossEntropy"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("y_true", InputKind.Indices, false, "integer labels (N) or (N, 1)"),
            new("y_pred", InputKind.Floating, true, "probabilities (N, C)"),
        ],
        Options = [ReductionOption, SampleWeightOption, OptionSpec.Float("q", 0.5, "robustness exponent in (0, 1]: → 0 cross-entropy, 1 MAE-like")],
        Sample = LabelsAndProbabilities,
        Formula = "ℓ = (1 − p_y^q)/q,  p_y = y_pred[y] (probabilities)",
        Gradient = "∂ℓ/∂p_y = −p_y^(q−1); 0 elsewhere",
        Reference = "keras.losses.categorical_generalized_cross_entropy; Zhang & Sabuncu, NeurIPS 2018",
        Stability = "finite for p_y > 0; at p_y = 0 the value is 1/q and the gradient −∞ (q < 1)",
        Libraries = "Keras (on probabilities); the paper's code and LossLab's GeneralizedCrossEntropy take logits",
        Factory = o => new KerasCategoricalGeneralizedCrossEntropy(o.Float("q"), o.Choice("reduction"), o.Tensor("sample_weight")),
    };

    public override LossDescriptor Descriptor => Entry;
}
