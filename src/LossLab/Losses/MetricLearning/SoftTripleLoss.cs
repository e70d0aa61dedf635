using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// SoftTriple (Qian et al., ICCV 2019), pytorch-metric-learning's <c>SoftTripleLoss(num_classes, embedding_size,
/// centers_per_class=10, la=20, gamma=0.1, reg_weight=0.2, margin=0.01)</c>: K learned centres per class, an
/// embedding's similarity to a class the softmax-weighted mean of its cosines to the class's centres, then a
/// margin softmax; a regularizer pulls each class's centres together, so that superfluous ones merge.
/// </summary>
/// <remarks>
/// <para><b>Math:</b> c_ick = ê_i·ŵ_ck (W = fc (D, C·K), class c's columns c·K … c·K + K − 1), q_ick = softmax_k(c_ick/γ),
/// S_ic = Σ_k q_ick·c_ick, ℓ_i = −log softmax_c(λ(S_ic − δ·[c = y_i]))_{y_i}. Regularizer (K &gt; 1, reg_weight &gt; 0):
/// R = Σ over pairs k &lt; k′ of one class of √(2 + tiny − min(2·ŵ_ck·ŵ_ck′, 2)) / (2·pairs), the distances between
/// the class's unit centres (tiny the smallest normal double, pytorch-metric-learning's small_val).</para>
/// <para><b>Gradient:</b> ∂S_ic/∂c_ick = q_ick(1 + (c_ick − S_ic)/γ), so ∂ℓ_i/∂c_ick = λ(p_ic − [c = y_i])·q_ick(1 +
/// (c_ick − S_ic)/γ); ∂R/∂(ŵ_ck·ŵ_ck′) = −1/(√(…)·2·pairs) where the clamp is inactive. Both pass through the L2
/// normalizations (norms clamped at 1e-12). Two identical centres give R's slope 1/√tiny ≈ 7e153, as in
/// pytorch-metric-learning.</para>
/// <para><b>Reductions</b> (pytorch-metric-learning adds the regularizer to the reduced loss): <c>mean</c> = mean_i ℓ_i +
/// reg_weight·R, <c>sum</c> = Σ_i ℓ_i + reg_weight·R, <c>none</c> = ℓ_i + reg_weight·R/N per row (they sum to
/// <c>sum</c>). fc is a parameter of the loss there; here it is an input with its gradient, trained with the model by
/// <c>losslab train</c>.</para>
/// </remarks>
public sealed class SoftTripleLoss : Loss, ILossDefinition, IClassParameterLoss
{
    public SoftTripleLoss(int centersPerClass = 10, double la = 20, double gamma = 0.1, double regWeight = 0.2, double margin = 0.01, Reduction reduction = Reduction.Mean)
    {
        const string name = "SoftTripleLoss";
        CentersPerClass = centersPerClass >= 1 ? centersPerClass : throw LossArgumentException.Value($"{name}: centers_per_class must be at least 1, got {centersPerClass}");
        La = la > 0 && double.IsFinite(la) ? la : throw LossArgumentException.Value($"{name}: la must be a finite number > 0, got {la}");
        Gamma = gamma > 0 && double.IsFinite(gamma) ? gamma : throw LossArgumentException.Value($"{name}: gamma must be a finite number > 0, got {gamma}");
        RegWeight = regWeight >= 0 && double.IsFinite(regWeight) ? regWeight : throw LossArgumentException.Value($"{name}: reg_weight must be a finite number ≥ 0, got {regWeight}");
        Margin = double.IsFinite(margin) ? margin : throw LossArgumentException.Value($"{name}: margin must be finite, got {margin}");
        Reduction = reduction;
    }

    public int CentersPerClass { get; }

    /// <summary>λ, the scale of the class similarities in the softmax.</summary>
    public double La { get; }

    /// <summary>γ, the temperature of the softmax over a class's centres.</summary>
    public double Gamma { get; }

    public double RegWeight { get; }

    /// <summary>δ, subtracted from the target class's similarity.</summary>
    public double Margin { get; }

    public Reduction Reduction { get; }

    public string ParameterInput => "fc";

    /// <summary>fc is (D, C·K).</summary>
    public Shape ParameterShape(int dimension, int classes) => new(dimension, classes * CentersPerClass);

    public bool ClassifiesByCosine => true;

    /// <summary>Class c's columns c·K … c·K + K − 1 of fc (D, C·K), each as D values.</summary>
    public double[][] ClassVectors(ReadOnlySpan<double> parameters, int dimension, int classes)
    {
        int k = CentersPerClass, columns = classes * k;
        if (parameters.Length != (long)dimension * columns) throw LossArgumentException.Shape($"fc needs {dimension}·{columns} values for ({dimension}, {columns}), got {parameters.Length}");
        var vectors = new double[classes][];
        for (int c = 0; c < classes; c++)
        {
            var v = vectors[c] = new double[k * dimension];
            for (int s = 0; s < k; s++) for (int d = 0; d < dimension; d++) v[s * dimension + d] = parameters[d * columns + c * k + s];
        }
        return vectors;
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        const string name = "SoftTripleLoss";
        var (es, n, d, x, labels) = Embeddings.Read(inputs, name);
        Shape fs = inputs["fc"].Shape;
        int k = CentersPerClass;
        if (fs.Rank != 2 || fs[0] != d || fs[1] == 0 || fs[1] % k != 0)
        {
            throw LossArgumentException.Shape($"{name}: 'fc' has shape {fs}; expected (D, C·K) = ({d}, C·{k}) for embeddings {es} and centers_per_class {k}");
        }
        int columns = fs[1], c = columns / k;
        for (int i = 0; i < n; i++)
            if (labels[i] < 0 || labels[i] >= c) throw LossArgumentException.Value($"{name}: label {labels[i]} at row {i} is not one of the {c} classes of fc's {columns} columns ({k} centres each)");
        // fc read in its own (D, C·K) layout (never written: ToArray may return the tensor's own array), its columns'
        // normalization folded into the products (ClassColumns): no transposed or normalized copy of the centres.
        double[] f = inputs["fc"].ToArray<double>();
        double[] normW = ClassColumns.Norms(f, d, columns);
        var (unitE, normE) = Embeddings.Normalize(x, n, d);

        double invGamma = 1 / Gamma;
        var q = new double[columns];     // softmax over each class's centres
        var sim = new double[c];          // S_ic
        var logits = new double[c];
        var rows = new double[n];
        double rowScale = Reduction is Reduction.None or Reduction.Sum ? 1 : n == 0 ? 0 : 1.0 / n;
        bool grads = computeGradients;
        // Each row's cosines against every centre, then (with gradients) its ∂ℓ_i/∂c_ick times the reduction's factor.
        var (gUnitE, gUnitW) = ClassColumns.Run(unitE, f, normW, n, d, columns, grads, (i, cos) =>
        {
            int y = (int)labels[i];
            for (int cl = 0; cl < c; cl++)
            {
                double max = double.NegativeInfinity, total = 0, s = 0;
                for (int t = cl * k; t < cl * k + k; t++) max = Math.Max(max, cos[t] * invGamma);
                for (int t = cl * k; t < cl * k + k; t++) total += q[t] = Math.Exp(cos[t] * invGamma - max);
                for (int t = cl * k; t < cl * k + k; t++) s += (q[t] /= total) * cos[t];
                sim[cl] = s;
                logits[cl] = La * (s - (cl == y ? Margin : 0));
            }
            rows[i] = Stable.SoftmaxCrossEntropy(logits, y, grads ? logits : default);   // the slopes overwrite the logits
            if (!grads) return;
            for (int cl = 0; cl < c; cl++)
            {
                double dz = La * logits[cl];
                for (int t = cl * k; t < cl * k + k; t++) cos[t] = rowScale * (dz * q[t] * (1 + (cos[t] - sim[cl]) * invGamma));
            }
        });

        // The regularizer over each class's pairs of centres, a class's K unit centres gathered into rows at a time.
        double reg = 0;
        int pairs = c * k * (k - 1) / 2;
        if (RegWeight > 0 && k > 1)
        {
            const double tiny = 2.2250738585072014e-308;   // torch.finfo(float64).tiny, the smallest normal double
            double slopeScale = RegWeight / (2.0 * pairs);
            var centres = new double[k * d];
            double[]? gCentres = grads ? new double[k * d] : null;
            for (int cl = 0; cl < c; cl++)
            {
                for (int qd = 0; qd < d; qd++)
                    for (int t = 0; t < k; t++) centres[t * d + qd] = f[qd * columns + cl * k + t] / normW[cl * k + t];
                for (int a = 0; a < k; a++)
                {
                    for (int b = a + 1; b < k; b++)
                    {
                        double twoCos = 2 * Embeddings.Dot(centres, a, centres, b, d);
                        double root = Math.Sqrt(2 + tiny - Math.Min(twoCos, 2));
                        reg += root;
                        // ∂√(2 − 2cos)/∂cos = −1/√…; 0 where the clamp holds.
                        if (gCentres is not null && twoCos < 2) Embeddings.AddPair(gCentres, centres, a, b, slopeScale * (-1 / root), d);
                    }
                }
                if (gCentres is null) continue;
                for (int qd = 0; qd < d; qd++)
                    for (int t = 0; t < k; t++) gUnitW[qd * columns + cl * k + t] += gCentres[t * d + qd];
                Array.Clear(gCentres);
            }
            reg /= 2.0 * pairs;
        }
        double regTerm = RegWeight * reg;

        double sum = 0;
        for (int i = 0; i < n; i++) sum += rows[i];
        TensorData value = Reduction switch
        {
            Reduction.None => FromDoubles<T>([.. rows.Select(r => r + regTerm / n)], new Shape(n)),
            Reduction.Sum => FromDoubles<T>([sum + regTerm], Shape.Scalar),
            _ => FromDoubles<T>([(n == 0 ? 0 : sum / n) + regTerm], Shape.Scalar),
        };
        if (!grads) return Result(value);
        double[] gx = Embeddings.BackThroughNormalize(gUnitE, unitE, normE, n, d);
        ClassColumns.BackThroughNorms(gUnitW, f, normW, null, 1, d, columns);
        return Result(value, ("embeddings", FromDoubles<T>(gx, es)), ("fc", FromDoubles<T>(gUnitW, fs)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "SoftTripleLoss",
        Aliases = ["soft_triple_loss", "softtriple", "pml.SoftTripleLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs =
        [
            new("embeddings", InputKind.Floating, true, "embeddings (N, D)"),
            new("labels", InputKind.Indices, false, "class labels (N) in [0, C)"),
            new("fc", InputKind.Floating, true, "the class centres (D, C·K), the loss's parameters (pytorch-metric-learning's loss.fc)"),
        ],
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Int("centers_per_class", 10, "K ≥ 1, the centres of each class"),
            OptionSpec.Float("la", 20, "λ > 0, the scale of the class similarities"),
            OptionSpec.Float("gamma", 0.1, "γ > 0, the temperature of the softmax over a class's centres"),
            OptionSpec.Float("reg_weight", 0.2, "≥ 0, the weight of the regularizer that merges a class's centres"),
            OptionSpec.Float("margin", 0.01, "δ, subtracted from the target class's similarity"),
        ],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(6, 4);
            return new LossInputs().Add("embeddings", Samples.Normal(r, x)).Add("labels", Samples.Classes(r, new Shape(x[0]), 3))
                .Add("fc", Samples.Normal(r, new Shape(x[1], 3 * 10)));
        },
        Formula = "ℓ_i = −log softmax(λ(S_i − δ·onehot))_{y_i},  S_ic = Σ_k softmax_k(c_ick/γ)·c_ick;  + reg_weight·mean ‖ŵ_ck − ŵ_ck′‖ over a class's centre pairs",
        Gradient = "∂ℓ_i/∂c_ick = λ(p_ic − [c = y_i])·q_ick(1 + (c_ick − S_ic)/γ); the regularizer −1/(2·pairs·‖ŵ − ŵ′‖) per pair cosine; through both L2 normalizations",
        Reference = "Qian et al., SoftTriple Loss: Deep Metric Learning Without Triplet Sampling, ICCV 2019; pytorch-metric-learning SoftTripleLoss",
        Stability = "finite for every finite input (max-shifted softmaxes; norms clamped at 1e-12); identical centres give the regularizer a slope of 1/√tiny",
        Libraries = "pytorch-metric-learning (SoftTripleLoss)",
        Factory = o => new SoftTripleLoss((int)Math.Clamp(o.Int("centers_per_class"), int.MinValue, int.MaxValue), o.Float("la"), o.Float("gamma"), o.Float("reg_weight"), o.Float("margin"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
