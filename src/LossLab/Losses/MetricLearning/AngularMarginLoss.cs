using System.Numerics;
using System.Numerics.Tensors;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// The shared body of the additive-margin softmax losses (<see cref="ArcFaceLoss"/>, <see cref="CosFaceLoss"/>), as
/// pytorch-metric-learning's <c>LargeMarginSoftmaxLoss</c> family computes them: cosines c_ij = ê_i·ŵ_j between the
/// L2-normalized embeddings (N, D) and the normalized columns of the class weights W (D, C); the target class's cosine
/// replaced by a margin function f(c) that makes it harder to win; cross-entropy of s·(those logits).
/// </summary>
/// <remarks>
/// <para><b>Derivation:</b> with p = softmax(s·ĉ), ∂ℓ/∂c_ij = s(p_ij − [j = y_i]) off the target and s(p_iy − 1)·f′(c_iy)
/// at it. Then ∂c_ij/∂ê_i = ŵ_j and ∂c_ij/∂ŵ_j = ê_i, and x̂ = x/‖x‖ passes the gradient on as (g − (g·x̂)x̂)/‖x‖ (norms
/// clamped at 1e-12, so that a zero vector has cosine 0 and no gradient). O(N·C·K·D) time as three matrix products a chunk
/// of at least 64 rows at a time (cosines Ê·W divided by the column norms, ∂ŵ += Êᵀ·G, ∂ê += (G/‖w‖)·Wᵀ taken as
/// W·(G/‖w‖)ᵀ), with W read in its own (D, C·K) layout: the memory is W in double (no copy when it is double already),
/// its gradient, and two chunk buffers of 64 × C·K at most, never N × C·K (at 256 × 512 and 100000 classes: 1.6 s and
/// 0.52 GB, where transposed and normalized copies of W and chunks of two rows took 29 s and 2.5 GB).</para>
/// <para>W is a parameter of the loss in pytorch-metric-learning (<c>loss.W</c>); here it is an input with its
/// gradient, to be updated by the caller's optimizer. Default reduction: the mean over rows (its MeanReducer).</para>
/// </remarks>
public abstract class AngularMarginLoss(string name, double scale, Reduction reduction, int subCenters = 1) : Loss, IClassParameterLoss
{
    public string ParameterInput => "W";

    /// <summary>W is (D, C·K).</summary>
    public Shape ParameterShape(int dimension, int classes) => new(dimension, classes * SubCenters);

    /// <summary>Class j's columns j·K … j·K + K − 1 of W (D, C·K), each as D values.</summary>
    public double[][] ClassVectors(ReadOnlySpan<double> parameters, int dimension, int classes) => Columns(parameters, dimension, classes, SubCenters);

    /// <summary>Class j's K columns of W (D, C·K) one after another (D values each), for every class.</summary>
    internal static double[][] Columns(ReadOnlySpan<double> parameters, int dimension, int classes, int k)
    {
        int columns = classes * k;
        if (parameters.Length != (long)dimension * columns) throw LossArgumentException.Shape($"W needs {dimension}·{columns} values for ({dimension}, {columns}), got {parameters.Length}");
        var vectors = new double[classes][];
        for (int j = 0; j < classes; j++)
        {
            var v = vectors[j] = new double[k * dimension];
            for (int s = 0; s < k; s++)
            {
                for (int d = 0; d < dimension; d++) v[s * dimension + d] = parameters[d * columns + j * k + s];
            }
        }
        return vectors;
    }

    /// <summary>
    /// K, the weight vectors per class (<see cref="SubCenterArcFaceLoss"/>): W has C·K columns, class j's being
    /// j·K … j·K + K − 1, and the class's cosine is the largest of its K (its gradient goes to that column alone).
    /// </summary>
    public int SubCenters { get; } = subCenters >= 1 ? subCenters : throw LossArgumentException.Value($"{name}: sub_centers must be at least 1, got {subCenters}");

    public double Scale { get; } = scale > 0 && double.IsFinite(scale) ? scale : throw LossArgumentException.Value($"{name}: scale must be a finite number > 0, got {scale}");

    public Reduction Reduction { get; } = reduction;

    /// <summary>f(c): the target class's logit (before the scale) for its cosine c in [−1, 1], and f′(c).</summary>
    protected abstract (double F, double Df) Target(double c);

    /// <summary>
    /// Which vector lengths multiply the logits besides the scale: none (ArcFace, CosFace, normalized softmax: s·ĉ_ij),
    /// the embedding's (SphereFace: s·‖x_i‖·ĉ_ij) or both (L-Softmax: s·‖x_i‖·‖w_j‖·ĉ_ij, the plain linear logit
    /// wherever the margin does not apply).
    /// </summary>
    protected virtual (bool Embedding, bool Weight) Magnitudes => (false, false);

    /// <summary>True unless the class weights' lengths scale the logits (L-Softmax); the embedding's length scales a row's logits alike.</summary>
    public bool ClassifiesByCosine => !Magnitudes.Weight;

    protected sealed override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        string name = Descriptor.Name;
        var (es, n, d, x, labels) = Embeddings.Read(inputs, name);
        Shape ws = inputs["W"].Shape;
        if (ws.Rank != 2 || ws[0] != d) throw LossArgumentException.Shape($"{name}: 'W' has shape {ws}; expected (D, C) = ({d}, C) for embeddings {es}");
        int k = SubCenters, columns = ws[1], c = columns / k;
        if (columns % k != 0 || columns == 0)
        {
            throw LossArgumentException.Shape($"{name}: 'W' has shape {ws}; its {columns} columns are not C classes × {k} sub-centres");
        }
        for (int i = 0; i < n; i++)
        {
            if (labels[i] < 0 || labels[i] >= c)
            {
                throw LossArgumentException.Value(k == 1 ? $"{name}: label {labels[i]} at row {i} is not a class of W's {c} columns"
                    : $"{name}: label {labels[i]} at row {i} is not one of the {c} classes of W's {columns} columns ({k} sub-centres each)");
            }
        }
        // W stays in its (D, C·K) layout, read in place (never written: ToArray may return the tensor's own array): the
        // cosines are Ê·W with each column divided by its norm, and both gradients come back as products with W and Ê,
        // so no transposed or normalized copy of W is made (at 100000 classes × 512 each copy is 410 MB).
        double[] w = inputs["W"].ToArray<double>();
        double[] normW = ClassColumns.Norms(w, d, columns);
        var (unitE, normE) = Embeddings.Normalize(x, n, d);
        var loss = new T[n];
        bool grads = computeGradients;
        var best = new int[c];          // a row's column that gave c_ij (j·K + the best sub-centre)
        var logits = new double[c];
        var (byEmbedding, byWeight) = Magnitudes;
        // ∂ℓ/∂‖x_i‖ and ∂ℓ/∂‖w_s‖ when the lengths scale the logits; ĉ_ij (after the margin) is what they multiply.
        double[]? gNormE = grads && byEmbedding ? new double[n] : null, gNormW = grads && byWeight ? new double[columns] : null;
        var modified = new double[c];
        // Each chunk of rows' cosines against every column as one product, ∂ℓ/∂ĉ folded back the same way (unscaled: the
        // reduction's factor is applied at the end). Each row's cosines are replaced by its gradient row once read.
        var (gUnitE, gUnitW) = ClassColumns.Run(unitE, w, normW, n, d, columns, grads, (i, row) =>
        {
            int y = (int)labels[i];
            double df = 0, a = byEmbedding ? normE[i] : 1;
            if (k == 1 && VectorRow(row, y, a, byWeight ? normW : null, modified, logits, grads, out double rowLoss, out double rowGNormE, gNormW))
            {
                loss[i] = T.CreateTruncating(rowLoss);
                if (gNormE is not null) gNormE[i] = rowGNormE;
                return;
            }
            for (int j = 0; j < c; j++)
            {
                double cos = double.NegativeInfinity;
                for (int s = j * k; s < j * k + k; s++)
                {
                    double cs = Math.Clamp(row[s], -1, 1);
                    // The first of equal maxima, as torch.max, and NaN wins as there (a NaN weight or embedding makes the loss NaN).
                    if (cs > cos || (double.IsNaN(cs) && !double.IsNaN(cos))) (cos, best[j]) = (cs, s);
                }
                if (j == y) (cos, df) = Target(cos);
                modified[j] = cos;
                logits[j] = Scale * a * (byWeight ? normW[best[j]] : 1) * cos;
            }
            loss[i] = T.CreateTruncating(Stable.SoftmaxCrossEntropy(logits, y, grads ? logits : default));   // slopes over the logits
            if (!grads) return;
            row.Clear();   // now ∂ℓ_i/∂ĉ: nonzero only at each class's chosen column
            for (int j = 0; j < c; j++)
            {
                double b = byWeight ? normW[best[j]] : 1;
                double dLogit = Scale * logits[j];   // ∂ℓ/∂(logit / (a·b)) before the margin's f′
                row[best[j]] = dLogit * a * b * (j == y ? df : 1);
                if (gNormE is not null) gNormE[i] += dLogit * b * modified[j];
                if (gNormW is not null) gNormW[best[j]] += dLogit * a * modified[j];
            }
        });
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, Reduction, n);
        TensorData value = ValueTensor(Reduction, reduced, loss, new Shape(n));
        if (!grads) return Result(value);
        TensorPrimitives.Multiply<double>(gUnitE, reduced.Scale, gUnitE);
        double[] gx = Embeddings.BackThroughNormalize(gUnitE, unitE, normE, n, d);
        // ∂‖v‖/∂v = v̂ (0 for a zero vector, whose unit vector is 0).
        if (gNormE is not null) for (int i = 0; i < n; i++) for (int q = 0; q < d; q++) gx[i * d + q] += reduced.Scale * gNormE[i] * unitE[i * d + q];
        ClassColumns.BackThroughNorms(gUnitW, w, normW, gNormW, reduced.Scale, d, columns);
        return Result(value, ("embeddings", FromDoubles<T>(gx, es)), ("W", FromDoubles<T>(gUnitW, ws)));
    }

    /// <summary>
    /// One row with one column per class (K = 1) on vectors: the same function as the loop in Compute, its sums in
    /// another order (TensorPrimitives' lanes; the probabilities as e/Σe). The row's cosines become ∂ℓ/∂ĉ in place.
    /// False, with nothing written, when the logits' maximum is not finite (NaN or overflowing lengths): the loop
    /// handles those.
    /// </summary>
    private bool VectorRow(Span<double> row, int y, double a, double[]? normW, Span<double> modified, Span<double> logits, bool grads,
        out double loss, out double gNormE, double[]? gNormW)
    {
        (loss, gNormE) = (0, 0);
        TensorPrimitives.Max<double>(row, -1.0, modified);   // clamp to [−1, 1]; a NaN stays NaN
        TensorPrimitives.Min<double>(modified, 1.0, modified);
        var (target, df) = Target(modified[y]);
        modified[y] = target;
        TensorPrimitives.Multiply<double>(modified, Scale * a, logits);
        if (normW is not null) TensorPrimitives.Multiply<double>(logits, normW, logits);
        // e = exp(logit − max) into the row (the cosines are no longer needed).
        if (!Stable.TryShiftedExp(logits, row, out double max, out double sum, out double logSum)) return false;
        double lpy = (logits[y] - max) - logSum;   // log p_y, exact for a confident row
        loss = -lpy;
        if (!grads) return true;
        // p = e/Σe, dLogit_j = s·(p_j − [j = y]): ∂ℓ/∂ĉ_j = dLogit_j·a·b_j (times f′ at the target), ∂ℓ/∂‖x‖ =
        // Σ_j dLogit_j·b_j·m_j and ∂ℓ/∂‖w_j‖ += dLogit_j·a·m_j, m the cosines after the margin.
        double py = row[y] / sum, by = normW is null ? 1 : normW[y];
        TensorPrimitives.Multiply<double>(row, Scale / sum, row);   // s·p
        if (gNormW is not null)
        {
            TensorPrimitives.Multiply<double>(row, modified, logits);   // the logits are spent: s·p·m
            TensorPrimitives.MultiplyAdd<double>(logits, a, gNormW, gNormW);
            gNormW[y] -= Scale * a * modified[y];
        }
        if (normW is not null) TensorPrimitives.Multiply<double>(row, normW, row);   // s·b·p
        gNormE = TensorPrimitives.Dot<double>(row, modified) - Scale * by * modified[y];
        TensorPrimitives.Multiply<double>(row, a, row);
        row[y] = Scale * Stable.Expm1(lpy) * a * by * df;   // p_y − 1, its digits kept near p_y = 1
        return true;
    }

    internal static readonly InputSpec[] AngularInputs =
    [
        new("embeddings", InputKind.Floating, true, "embeddings (N, D)"),
        new("labels", InputKind.Indices, false, "class labels (N) in [0, C)"),
        new("W", InputKind.Floating, true, "class weights W (D, C), the loss's parameters (pytorch-metric-learning's loss.W)"),
    ];

    internal static LossInputs AngularSample(Random r, Shape s)
    {
        Shape x = s.Rank == 2 ? s : new Shape(6, 4);
        return new LossInputs().Add("embeddings", Samples.Normal(r, x)).Add("labels", Samples.Classes(r, new Shape(x[0]), 3))
            .Add("W", Samples.Normal(r, new Shape(x[1], 3)));
    }
}
