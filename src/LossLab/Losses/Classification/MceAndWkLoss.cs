using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// dlordinal's <c>MCEAndWKLoss(num_classes, C=0.5, wk_penalization_type='quadratic', weight=None)</c>: C times the
/// weighted kappa loss plus (1 − C) times the per-class MSE, so that the kappa term keeps the ordinal error distances
/// small while the MCE term keeps every class among the predictions. One value per batch.
/// </summary>
/// <remarks>
/// <para><b>As dlordinal computes it:</b> both terms receive the model's outputs (N, J). <see cref="PerClassMseLoss"/>
/// takes their softmax; <see cref="WeightedKappaLoss"/>'s kappa takes them as they are, raised to the penalization's
/// power (2 or 1) and normalized per row, as dlordinal's <c>WKLoss</c> does with whatever it is given. With logits and
/// the quadratic penalty that is the squared logits normalized; with the linear penalty negative outputs can make a row
/// sum vanish, so feed the linear variant non-negative outputs. The class weights reach both terms, as in dlordinal;
/// dlordinal's <c>reduction</c> argument is accepted there but never used (the MCE term is its mean over classes).</para>
/// <para><b>Gradient:</b> C·∂kappa/∂y + (1 − C)·∂MCE/∂x, each its loss's own.</para>
/// </remarks>
public sealed class MceAndWkLoss : Loss, ILossDefinition
{
    private const string Name = "MceAndWkLoss";
    private readonly double _c;
    private readonly int _power;
    private readonly double[]? _weight;

    public MceAndWkLoss(double c = 0.5, string wkPenalizationType = "quadratic", TensorData? weight = null)
    {
        if (!(c >= 0 && c <= 1)) throw LossArgumentException.Value($"{Name}: C must be in [0, 1], got {c}");
        _power = wkPenalizationType switch
        {
            "quadratic" => 2,
            "linear" => 1,
            _ => throw LossArgumentException.Value($"{Name}: wk_penalization_type must be quadratic or linear, got '{wkPenalizationType}'"),
        };
        if (weight is not null && weight.Shape.Rank != 1) throw LossArgumentException.Shape($"{Name}: weight must be one weight per class (J), got shape {weight.Shape}");
        (_c, _weight) = (c, weight?.ToArray<double>());
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        Shape s = inputs["input"].Shape;
        if (s.Rank != 2 || s[0] == 0 || s[1] < 2) throw LossArgumentException.Shape($"{Name}: 'input' must be the model's outputs (N, J) with N ≥ 1 and J ≥ 2, got shape {s}");
        int n = s[0], j = s[1];
        ClassTargets.RequireWeights(_weight, Name, "weight", s, j);
        long[] y = ClassTargets.Read(inputs, Name, n, j);
        var oneHot = new double[n * j];
        for (int i = 0; i < n; i++) oneHot[i * j + y[i]] = 1;
        double[] x = inputs["input"].ToArray<double>();
        double[]? gKappa = computeGradients ? new double[x.Length] : null, gMce = computeGradients ? new double[x.Length] : null;
        double kappa = WeightedKappaLoss.Kappa(x, oneHot, n, j, _power, 1e-10, _weight, gKappa);
        double mce = PerClassMseLoss.PerClass(x, y, n, j, _weight, 1.0 / j, gMce).Sum() / j;
        TensorData value = FromDoubles<T>([_c * kappa + (1 - _c) * mce], Shape.Scalar);
        if (!computeGradients) return Result(value);
        var g = new double[x.Length];
        for (int q = 0; q < g.Length; q++) g[q] = _c * gKappa![q] + (1 - _c) * gMce![q];
        return Result(value, ("input", FromDoubles<T>(g, s)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["mce_and_wk_loss", "MCEAndWKLoss", "dlordinal.MCEAndWKLoss"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("input", InputKind.Floating, true, "the model's outputs (N, J): softmaxed by the MCE term, taken as they are by the kappa term (dlordinal)"),
            new("target", InputKind.Indices, false, "class indices (N) in [0, J)"),
        ],
        Options =
        [
            OptionSpec.Float("C", 0.5, "the kappa term's weight C in [0, 1]; the MCE term gets 1 − C"),
            OptionSpec.Choice("wk_penalization_type", "quadratic", "the power on the outputs in the kappa term, 2 or 1", "quadratic", "linear"),
            OptionSpec.Tensor("weight", "one weight per class (J), for both terms"),
        ],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(6, 4);
            return new LossInputs().Add("input", Samples.Normal(r, x, 2)).Add("target", Samples.Classes(r, new Shape(x[0]), x[1]));
        },
        Formula = "ℓ = C·O(y)/(E(y) + ε) + (1 − C)·mean_j MSE_j(softmax(x)),  y = x^e / Σ_k x^e per row (WKLoss on the outputs as given)",
        Gradient = "C·∂kappa/∂x + (1 − C)·∂MCE/∂x (the two losses' own)",
        Reference = "dlordinal MCEAndWKLoss (ayrna/dlordinal, dlordinal/losses/mcewkloss.py); de la Torre, Puig and Valls, Pattern Recognition Letters 2018",
        Stability = "the MCE term finite for any logits; the kappa term as WeightedKappaLoss's (ε in each row's sum and the expectation)",
        Libraries = "dlordinal (MCEAndWKLoss)",
        LowerBound = double.NegativeInfinity,   // the linear kappa term on negative outputs is unbounded
        Factory = o => new MceAndWkLoss(o.Float("C"), o.Choice("wk_penalization_type"), o.Tensor("weight")),
    };

    public override LossDescriptor Descriptor => Entry;
}
