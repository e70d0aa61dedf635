using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// P2SGrad (Zhang et al., CVPR 2019, "P2SGrad: Refined Gradients for Optimizing Deep Face Models";
/// pytorch-metric-learning <c>P2SGradLoss(descriptors_dim, num_classes)</c>): the mean squared error between the cosines
/// c_ij = x̂_i·ŵ_j of the embeddings (N, D) with the unit columns of W (D, C) and the one-hot labels — the paper's
/// refined gradient, which needs no scale or margin.
/// </summary>
/// <remarks>
/// <para>pytorch-metric-learning renormalizes W's columns to length 1 in place before each step (outside autograd), so
/// the gradient it returns is the one for the unit columns, not the projected one through a normalization: the same
/// here by default (<c>renorm_in_place</c>), ∂L/∂ŵ_j = Σ_i g_ij·x̂_i, handed back as W's gradient; with
/// <c>renorm_in_place = false</c> W's gradient is the value's own, (∂L/∂ŵ_j − (∂L/∂ŵ_j·ŵ_j)ŵ_j)/‖w_j‖. A column of length ≤ 10⁻⁵ cannot be renormalized (there
/// an assertion fails): an invalid_value error names it. The cosines are clamped to [−1, 1] (no gradient beyond).</para>
/// <para><c>mean</c> averages (c − onehot)² over the N·C entries (torch's MSELoss, pytorch-metric-learning's value),
/// <c>sum</c> adds the rows' means, <c>none</c> gives each row's mean over the C classes. g_ij = 2(c_ij − [j = y_i])
/// times the reduction's factor; ∂c/∂x_i = (ŵ_j − c·x̂_i)/‖x_i‖. A zero embedding has cosine 0 and no gradient (the norm
/// clamped at 10⁻¹²; pytorch-metric-learning divides by 0). W (D, C) is an input, learned by <c>train</c>, which keeps
/// W's columns as its optimizer leaves them (pytorch-metric-learning writes the unit columns back before each step; the
/// value is the same, the optimizer's next step starts from longer or shorter columns).</para>
/// </remarks>
public sealed class P2SGradLoss(Reduction reduction = Reduction.Mean, bool renormInPlace = true) : Loss, IClassParameterLoss, ILossDefinition
{
    public string ParameterInput => "W";

    public Shape ParameterShape(int dimension, int classes) => new(dimension, classes);

    public double[][] ClassVectors(ReadOnlySpan<double> parameters, int dimension, int classes) => AngularMarginLoss.Columns(parameters, dimension, classes, 1);

    public bool ClassifiesByCosine => true;

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        const string name = "P2SGradLoss";
        var (es, n, d, x, labels) = Embeddings.Read(inputs, name);
        Shape ws = inputs["W"].Shape;
        if (ws.Rank != 2 || ws[0] != d || ws[1] == 0) throw LossArgumentException.Shape($"{name}: 'W' has shape {ws}; expected (D, C) = ({d}, C) for embeddings {es}");
        int c = ws[1];
        for (int i = 0; i < n; i++)
            if (labels[i] < 0 || labels[i] >= c) throw LossArgumentException.Value($"{name}: label {labels[i]} at row {i} is not one of W's {c} classes");
        // W read in its own (D, C) layout (never written: ToArray may return the tensor's own array), its columns'
        // renormalization folded into the products (ClassColumns), a chunk of rows at a time: never N × C.
        double[] w = inputs["W"].ToArray<double>();
        double[] columnNorms = ClassColumns.Norms(w, d, c);
        for (int j = 0; j < c; j++)
        {
            double norm = columnNorms[j];
            if (!(norm > 1e-5) && !double.IsNaN(norm))
            {
                double raw = 0;   // the unclamped length, for the message
                for (int k = 0; k < d; k++) raw += w[k * c + j] * w[k * c + j];
                throw LossArgumentException.Value($"{name}: column {j} of 'W' {ws} has length {Math.Sqrt(raw):G3}, too short to renormalize to 1 (pytorch-metric-learning's renorm needs > 1e-5)");
            }
        }
        var (unit, norms) = Embeddings.Normalize(x, n, d);
        var perRow = new double[n];
        double rowScale = _reduction == Reduction.Mean ? 1.0 / ((double)n * c) : 1.0 / c;
        bool grads = computeGradients;
        // ∂/∂x̂ (N, D) and ∂/∂Ŵ (D, C): each chunk's g_ij (written over its cosines) folded back as G·Ŵᵀ and X̂ᵀ·G.
        var (gUnit, gw) = ClassColumns.Run(unit, w, columnNorms, n, d, c, grads, (i, row) =>
        {
            for (int j = 0; j < c; j++)
            {
                double raw = row[j], clamped = Math.Clamp(raw, -1, 1), diff = clamped - (labels[i] == j ? 1 : 0);
                perRow[i] += diff * diff / c;
                // torch.clamp passes the gradient only inside [−1, 1] (both ends included).
                row[j] = raw >= -1 && raw <= 1 ? 2 * diff * rowScale : double.IsNaN(raw) ? double.NaN : 0;
            }
        });
        TensorData value = _reduction switch
        {
            Reduction.None => Wrap(perRow.Select(T.CreateTruncating).ToArray(), new Shape(n)),
            Reduction.Sum => Wrap(new[] { T.CreateTruncating(Reducer.Sum<double>(perRow)) }, Shape.Scalar),
            _ => Wrap(new[] { T.CreateTruncating(Reducer.Sum<double>(perRow) / n) }, Shape.Scalar),
        };
        if (!grads) return Result(value);
        double[] gx = Embeddings.BackThroughNormalize(gUnit, unit, norms, n, d);
        // ∂/∂Ŵ is handed back as W's (renormalized in place), or taken through ŵ = w/‖w‖ per column: (g − (g·ŵ)ŵ)/‖w‖.
        if (!_renormInPlace) ClassColumns.BackThroughNorms(gw, w, columnNorms, null, 1, d, c);
        return Result(value, ("embeddings", FromDoubles<T>(gx, es)), ("W", FromDoubles<T>(gw, ws)));
    }

    private readonly Reduction _reduction = reduction;
    private readonly bool _renormInPlace = renormInPlace;

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "P2SGradLoss",
        Aliases = ["p2s_grad_loss", "p2sgrad", "pml.P2SGradLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = AngularMarginLoss.AngularInputs,
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Bool("renorm_in_place", true, "W's gradient is the one for its renormalized unit columns (pytorch-metric-learning); false: the value's own gradient through the normalization"),
        ],
        Sample = AngularMarginLoss.AngularSample,
        Formula = "ℓ = mean_{i,j} (clamp(x̂_i·ŵ_j, −1, 1) − [j = y_i])²,  ŵ_j W's columns renormalized to length 1",
        Gradient = "2(c − onehot)/(N·C) per cosine (0 where clamped); ∂c/∂x_i = (ŵ_j − c·x̂_i)/‖x_i‖, ∂c/∂ŵ_j = x̂_i handed back as W's (the renormalization held outside, as in pytorch-metric-learning)",
        Reference = "pytorch_metric_learning.losses.P2SGradLoss (Zhang, Zhao, Yan et al., CVPR 2019)",
        Stability = "bounded cosines: finite for every finite input (a zero embedding has cosine 0; a W column shorter than 1e-5 is an invalid_value error)",
        Libraries = "pytorch-metric-learning",
        Factory = o => new P2SGradLoss(o.Reduction, o.Bool("renorm_in_place")),
        TrueGradientOptions = new Dictionary<string, object?> { ["renorm_in_place"] = false },
    };

    public override LossDescriptor Descriptor => Entry;
}
