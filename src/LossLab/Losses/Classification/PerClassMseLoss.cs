using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// dlordinal's <c>MCELoss(num_classes, weight=None, reduction='mean')</c>: the mean squared error of each class,
/// between the softmax of the logits (N, J) and the one-hot targets, averaged over the batch class by class:
/// MSE_j = (1/N)·Σ_i w_j·(t_ij − p_ij)², then the mean (default) or sum over the J classes, or the J values (none).
/// Each class's error counts alike however rare the class, which is why dlordinal pairs it with the weighted kappa.
/// </summary>
/// <remarks>
/// <para><b>Without cancellation:</b> for the true class t − p = 1 − p_y is the sum of the other probabilities, so a
/// confident row's small error keeps its digits.</para>
/// <para><b>Gradient:</b> ∂MSE_j/∂p_ij = −2·w_j·(t_ij − p_ij)/N, times the reduction's factor (1/J for mean), and through
/// the softmax ∂ℓ/∂x_ik = p_ik·(g_ik − Σ_j p_ij·g_ij). An empty batch gives 0/0 = NaN per class, as torch.mean does.</para>
/// </remarks>
public sealed class PerClassMseLoss : Loss, ILossDefinition
{
    private const string Name = "PerClassMseLoss";
    private readonly double[]? _weight;

    public PerClassMseLoss(Reduction reduction = Reduction.Mean, TensorData? weight = null)
    {
        if (reduction is not (Reduction.None or Reduction.Mean or Reduction.Sum)) throw LossArgumentException.Value($"{Name}: reduction must be none, mean or sum");
        if (weight is not null && weight.Shape.Rank != 1) throw LossArgumentException.Shape($"{Name}: weight must be one weight per class (J), got shape {weight.Shape}");
        Reduction = reduction;
        _weight = weight?.ToArray<double>();
    }

    public Reduction Reduction { get; }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        Shape s = inputs["input"].Shape;
        if (s.Rank != 2 || s[1] < 1) throw LossArgumentException.Shape($"{Name}: 'input' must be logits (N, J), got shape {s}");
        int n = s[0], j = s[1];
        ClassTargets.RequireWeights(_weight, Name, "weight", s, j);
        long[] y = ClassTargets.Read(inputs, Name, n, j);
        double[] x = inputs["input"].ToArray<double>();
        double factor = Reduction == Reduction.Mean ? 1.0 / j : 1.0;
        double[]? gx = computeGradients ? new double[x.Length] : null;
        double[] perClass = PerClass(x, y, n, j, _weight, factor, gx);
        TensorData value = Reduction == Reduction.None ? FromDoubles<T>(perClass, new Shape(j)) : FromDoubles<T>([factor * perClass.Sum()], Shape.Scalar);
        return gx is null ? Result(value) : Result(value, ("input", FromDoubles<T>(gx, s)));
    }

    /// <summary>
    /// The J per-class errors of logits x (N, J) against labels y (checked by the caller), and the gradient of
    /// factor·Σ_j MSE_j for x into <paramref name="gx"/> unless null. Shared with <see cref="MceAndWkLoss"/>.
    /// </summary>
    internal static double[] PerClass(double[] x, long[] y, int n, int j, double[]? weight, double factor, double[]? gx)
    {
        var p = new double[x.Length];
        var d = new double[x.Length];   // t − p, the true class's as the sum of the others
        for (int i = 0; i < n; i++)
        {
            Stable.Softmax<double>(x.AsSpan(i * j, j), p.AsSpan(i * j, j));
            double others = 0;
            for (int k = 0; k < j; k++)
            {
                d[i * j + k] = -p[i * j + k];
                if (k != y[i]) others += p[i * j + k];
            }
            d[i * j + y[i]] = others;
        }
        var perClass = new double[j];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < j; k++) perClass[k] += (weight?[k] ?? 1) * d[i * j + k] * d[i * j + k];
        for (int k = 0; k < j; k++) perClass[k] /= n;
        if (gx is null) return perClass;
        var gp = new double[j];
        for (int i = 0; i < n; i++)
        {
            double mean = 0;
            for (int k = 0; k < j; k++)
            {
                gp[k] = -2 * (weight?[k] ?? 1) * d[i * j + k] / n * factor;
                mean += p[i * j + k] * gp[k];
            }
            for (int k = 0; k < j; k++) gx[i * j + k] = p[i * j + k] * (gp[k] - mean);
        }
        return perClass;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["mce_loss", "MCELoss", "dlordinal.MCELoss", "per_class_mse_loss"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("input", InputKind.Floating, true, "logits (N, J)"),
            new("target", InputKind.Indices, false, "class indices (N) in [0, J)"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Tensor("weight", "one weight per class (J), multiplying that class's squared errors"),
        ],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(6, 4);
            return new LossInputs().Add("input", Samples.Normal(r, x, 2)).Add("target", Samples.Classes(r, new Shape(x[0]), x[1]));
        },
        Formula = "MSE_j = (1/N)·Σ_i w_j·(onehot(y_i)_j − softmax(x_i)_j)²;  ℓ = mean_j MSE_j (sum, or the J values)",
        Gradient = "∂ℓ/∂p_ij = −2·w_j·(t_ij − p_ij)/(N·J);  ∂ℓ/∂x_ik = p_ik·(g_ik − Σ_j p_ij·g_ij)",
        Reference = "dlordinal MCELoss (ayrna/dlordinal, dlordinal/losses/mceloss.py)",
        Stability = "max-shifted softmax in double; the true class's 1 − p as the sum of the other probabilities",
        Libraries = "dlordinal (MCELoss)",
        LowerBound = 0,
        Factory = o => new PerClassMseLoss(o.Reduction, o.Tensor("weight")),
    };

    public override LossDescriptor Descriptor => Entry;
}
