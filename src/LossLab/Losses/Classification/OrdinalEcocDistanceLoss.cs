using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// dlordinal's <c>OrdinalECOCDistanceLoss(num_classes, weights=None)</c> (Barbero-Gómez et al., Error-correcting output
/// codes in the framework of deep ordinal classification, Neural Processing Letters 2023), for models with one sigmoid
/// output per threshold: the squared distance between the predicted threshold probabilities P(y &gt; q) (N, K − 1) and
/// the ideal code of the true class, ones below its rank and zeros from it on (code_q = [q &lt; y]), summed.
/// </summary>
/// <remarks>
/// <para><b>Value:</b> ℓ_i = w_{y_i}·Σ_q (p_iq − [q &lt; y_i])², and dlordinal's value is their sum (its default here;
/// none gives the rows, mean their mean). The class weight of a row is its true class's.</para>
/// <para><b>Gradient:</b> ∂ℓ_i/∂p_iq = 2·w_{y_i}·(p_iq − [q &lt; y_i]). The inputs are taken as given (dlordinal does not
/// check them to be probabilities either).</para>
/// </remarks>
public sealed class OrdinalEcocDistanceLoss : Loss, ILossDefinition
{
    private const string Name = "OrdinalEcocDistanceLoss";
    private readonly double[]? _weights;

    public OrdinalEcocDistanceLoss(Reduction reduction = Reduction.Sum, TensorData? weights = null)
    {
        if (reduction is not (Reduction.None or Reduction.Mean or Reduction.Sum)) throw LossArgumentException.Value($"{Name}: reduction must be none, mean or sum");
        if (weights is not null && weights.Shape.Rank != 1) throw LossArgumentException.Shape($"{Name}: weights must be one weight per class (K), got shape {weights.Shape}");
        (Reduction, _weights) = (reduction, weights?.ToArray<double>());
    }

    public Reduction Reduction { get; }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        Shape s = inputs["input"].Shape;
        if (s.Rank != 2) throw LossArgumentException.Shape($"{Name}: 'input' must be threshold probabilities (N, K − 1), got shape {s}");
        int n = s[0], thresholds = s[1];
        ClassTargets.RequireWeights(_weights, Name, "weights", s, thresholds + 1);
        long[] y = ClassTargets.Read(inputs, Name, n, thresholds + 1);
        double[] p = inputs["input"].ToArray<double>();
        var rows = new double[n];
        var g = computeGradients ? new double[p.Length] : null;
        double scale = Reducer.Scale(Reduction, n);
        for (int i = 0; i < n; i++)
        {
            double w = _weights?[y[i]] ?? 1, sum = 0;
            for (int q = 0; q < thresholds; q++)
            {
                double d = p[i * thresholds + q] - (q < y[i] ? 1 : 0);
                sum += d * d;
                if (g is not null) g[i * thresholds + q] = 2 * w * d * scale;
            }
            rows[i] = w * sum;
        }
        TensorData value = Reduction == Reduction.None ? FromDoubles<T>(rows, new Shape(n)) : FromDoubles<T>([Reducer.Reduce<double>(rows, Reduction, n).Value], Shape.Scalar);
        return g is null ? Result(value) : Result(value, ("input", FromDoubles<T>(g, s)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["ordinal_ecoc_distance_loss", "OrdinalECOCDistanceLoss", "dlordinal.OrdinalECOCDistanceLoss", "ecoc_loss"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("input", InputKind.Floating, true, "threshold probabilities P(y > q) (N, K − 1), one sigmoid output per threshold"),
            new("target", InputKind.Indices, false, "class indices (N) in [0, K)"),
        ],
        Options =
        [
            OptionSpec.Choice("reduction", "sum", "sum (dlordinal's value), mean over the rows, or none (the rows)", "none", "mean", "sum"),
            OptionSpec.Tensor("weights", "one weight per class (K), the true class's weighting its row"),
        ],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(6, 3);
            return new LossInputs().Add("input", Samples.Uniform(r, x, 0.02, 0.98)).Add("target", Samples.Classes(r, new Shape(x[0]), x[1] + 1));
        },
        Formula = "ℓ_i = w_{y_i}·Σ_q (p_iq − [q < y_i])²,  summed over the rows",
        Gradient = "∂ℓ_i/∂p_iq = 2·w_{y_i}·(p_iq − [q < y_i])",
        Reference = "Barbero-Gómez, Gutiérrez, Hervás-Martínez, Error-correcting output codes in the framework of deep ordinal classification, Neural Processing Letters 2023; dlordinal OrdinalECOCDistanceLoss",
        Stability = "a sum of squares: finite for every finite input",
        Libraries = "dlordinal (OrdinalECOCDistanceLoss, with its OBDECOCModel)",
        Factory = o => new OrdinalEcocDistanceLoss(Reducer.Parse(o.Choice("reduction")), o.Tensor("weights")),
    };

    public override LossDescriptor Descriptor => Entry;
}
