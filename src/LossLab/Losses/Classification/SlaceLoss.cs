using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// SLACE, soft labels accumulating cross-entropy (Nachmani et al. 2025; dlordinal's <c>SLACELoss(alpha,
/// num_classes, weight=None, use_logits=True)</c>), for ordered classes: the target is the soft distribution
/// q = softmax(−α·|j − y|) over the classes, and the prediction for class i is the accumulated mass
/// A_i = Σ_{j: |j − y| ≤ |i − y|} p_j of every class at least as close to the true one; ℓ = −Σ_i q_i·log(A_i + 10⁻⁹).
/// Moving mass toward the true class never raises the loss (monotonicity), whichever side it comes from.
/// </summary>
/// <remarks>
/// <para><b>In O(K):</b> A_i depends on i only through d = |i − y|, so A is a running sum over the distance from y and the
/// slope below a suffix sum over it (a K-class row costs O(K), not the O(K²) of the definition's accumulation matrix).</para>
/// <para><b>Gradient:</b> ∂ℓ/∂p_j = −Σ_{i: |j − y| ≤ |i − y|} q_i/(A_i + 10⁻⁹), then through the softmax when the inputs are
/// logits: ∂ℓ/∂x_k = p_k·(g_k − Σ_j p_j·g_j). A class weight multiplies its rows. dlordinal returns the batch mean (this
/// loss's default; sum and none as well) and has no default α.</para>
/// </remarks>
public sealed class SlaceLoss : Loss, ILossDefinition
{
    private const string Name = "SlaceLoss";
    private const double Floor = 1e-9;   // dlordinal's log(A + 1e-9)
    private readonly double _alpha;
    private readonly bool _logits;
    private readonly double[]? _weight;

    public SlaceLoss(double alpha = 1.0, bool useLogits = true, TensorData? weight = null, Reduction reduction = Reduction.Mean)
    {
        if (!double.IsFinite(alpha)) throw LossArgumentException.Value($"{Name}: alpha must be finite, got {alpha}");
        if (reduction is not (Reduction.None or Reduction.Mean or Reduction.Sum)) throw LossArgumentException.Value($"{Name}: reduction must be none, mean or sum");
        if (weight is not null && weight.Shape.Rank != 1) throw LossArgumentException.Shape($"{Name}: weight must be one weight per class (K), got shape {weight.Shape}");
        (_alpha, _logits, _weight, Reduction) = (alpha, useLogits, weight?.ToArray<double>(), reduction);
    }

    public Reduction Reduction { get; }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        Shape s = inputs["input"].Shape;
        if (s.Rank != 2) throw LossArgumentException.Shape($"{Name}: 'input' must be {(_logits ? "logits" : "probabilities")} (N, K), got shape {s}");
        int n = s[0], k = s[1];
        ClassTargets.RequireWeights(_weight, Name, "weight", s, k);
        long[] y = ClassTargets.Read(inputs, Name, n, k, columnToo: true);
        double[] x = inputs["input"].ToArray<double>();
        if (!_logits)
            for (int q = 0; q < x.Length; q++)
                if (!(x[q] >= 0)) throw LossArgumentException.Value($"{Name}: 'input' holds {x[q]} at row {q / k}, class {q % k}; with use_logits false it takes probabilities (≥ 0)");
        double scale = Reducer.Scale(Reduction, n);
        var rows = new double[n];
        var g = computeGradients ? new double[x.Length] : null;
        var p = new double[k];
        var target = new double[k];
        var mass = new double[k];
        var gp = new double[k];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> xi = x.AsSpan(i * k, k);
            if (_logits) Stable.Softmax<double>(xi, p);
            else xi.CopyTo(p);
            int yi = (int)y[i];
            for (int c = 0; c < k; c++) target[c] = -_alpha * Math.Abs(c - yi);
            Stable.Softmax<double>(target, target);
            // A_c depends on c only through d = |c − y|: A(d) = the mass within distance d of y, a running sum over d,
            // and the slope of p_j collects q_c/A over the classes c at distance ≥ |j − y|, a suffix sum over d: O(K).
            int far = Math.Max(yi, k - 1 - yi);
            double running = 0, loss = 0;
            for (int d = 0; d <= far; d++)
            {
                running += (yi - d >= 0 ? p[yi - d] : 0) + (d > 0 && yi + d < k ? p[yi + d] : 0);
                mass[d] = running + Floor;
                double qd = (yi - d >= 0 ? target[yi - d] : 0) + (d > 0 && yi + d < k ? target[yi + d] : 0);
                loss -= qd * Math.Log(mass[d]);
                gp[d] = qd / mass[d];   // T(d), summed from the far end below
            }
            double w = _weight?[yi] ?? 1;
            rows[i] = w * loss;
            if (g is null) continue;
            for (int d = far - 1; d >= 0; d--) gp[d] += gp[d + 1];
            for (int d = far; d >= 0; d--) gp[d] *= -w * scale;   // ∂ℓ/∂p_j = gp[|j − y|]
            Span<double> gi = g.AsSpan(i * k, k);
            for (int j = 0; j < k; j++) gi[j] = gp[Math.Abs(j - yi)];
            if (!_logits) continue;
            double dot = 0;
            for (int j = 0; j < k; j++) dot += p[j] * gi[j];
            for (int j = 0; j < k; j++) gi[j] = p[j] * (gi[j] - dot);
        }
        TensorData value = Reduction == Reduction.None ? FromDoubles<T>(rows, new Shape(n)) : FromDoubles<T>([Reducer.Reduce<double>(rows, Reduction, n).Value], Shape.Scalar);
        return g is null ? Result(value) : Result(value, ("input", FromDoubles<T>(g, s)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["slace_loss", "SLACELoss", "dlordinal.SLACELoss"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("input", InputKind.Floating, true, "logits (N, K) over K ordered classes, or probabilities with use_logits false"),
            new("target", InputKind.Indices, false, "class indices (N) or (N, 1) in [0, K)"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("alpha", 1.0, "α: the sharpness of the soft target softmax(−α·|j − y|) (dlordinal requires it; no default there)"),
            OptionSpec.Bool("use_logits", true, "true: softmax the input first; false: the input is probabilities"),
            OptionSpec.Tensor("weight", "one weight per class (K), the true class's weighting its row"),
        ],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(6, 5);
            return new LossInputs().Add("input", Samples.Normal(r, x, 2)).Add("target", Samples.Classes(r, new Shape(x[0]), x[1]));
        },
        Formula = "ℓ = −Σ_i q_i·log(A_i + 1e-9),  q = softmax(−α·|j − y|),  A_i = Σ_{j: |j − y| ≤ |i − y|} p_j",
        Gradient = "∂ℓ/∂p_j = −Σ_{i: |j − y| ≤ |i − y|} q_i/(A_i + 1e-9), then through the softmax",
        Reference = "Nachmani et al., SLACE: a monotone and balance-sensitive loss function for ordinal regression, 2025; dlordinal SLACELoss",
        Stability = "softmaxes in double; the 1e-9 inside the log keeps an empty accumulated mass finite (as dlordinal)",
        Libraries = "dlordinal (SLACELoss)",
        LowerBound = -1e-9,   // all the mass on the true class: every A_i = 1, ℓ = −log(1 + 1e-9)
        Factory = o => new SlaceLoss(o.Float("alpha"), o.Bool("use_logits"), o.Tensor("weight"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
