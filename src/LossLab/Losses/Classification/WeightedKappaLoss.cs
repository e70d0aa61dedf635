using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// The weighted kappa loss (de la Torre, Puig and Valls, Weighted kappa loss function for multi-class classification of
/// ordinal data in deep learning, 2018; dlordinal's <c>WKLoss</c>): 1 − κ of a batch with soft predictions, as the ratio
/// of the weighted disagreement observed to that expected by chance. One value per batch.
/// </summary>
/// <remarks>
/// <para><b>Definition</b> (probabilities y (N, K), targets Y (N, K): one-hot ranks or given rows): q = y^e with e = 2
/// (penalization_type quadratic) or 1 (linear), P = q / (ε + Σ_k q) row by row, C = Pᵀ·Y (the soft confusion matrix),
/// W_ab = (a − b)²/(K − 1)²·w_b (w: optional class weights, 1 by default), O = Σ_ab W_ab·C_ab, E = Σ_ab W_ab·h_a·t_b / N
/// with h = Σ_i P_i and t = Σ_i Y_i, and ℓ = O / (E + ε). As in the authors' code and dlordinal, the penalization type is
/// the exponent on the predictions; the class-distance weights are quadratic for both.</para>
/// <para><b>Gradient:</b> with U = W·Yᵀ per row (U_ia = Σ_b W_ab·Y_ib) and V = W·t, ∂ℓ/∂P_ia = U_ia/D − O·V_a/(N·D²),
/// D = E + ε; through the row normalization ∂ℓ/∂q_ik = (G_ik − Σ_a G_ia·P_ia)/(ε + s_i), and ∂q/∂y = e·y^{e−1}.</para>
/// </remarks>
public sealed class WeightedKappaLoss : Loss, ILossDefinition
{
    private const string Name = "WeightedKappaLoss";
    private readonly int _power;
    private readonly double _epsilon;
    private readonly double[]? _weight;

    public WeightedKappaLoss(string penalization = "quadratic", TensorData? weight = null, double epsilon = 1e-10)
    {
        _power = penalization switch
        {
            "quadratic" => 2,
            "linear" => 1,
            _ => throw LossArgumentException.Value($"{Name}: penalization_type must be quadratic or linear, got '{penalization}'"),
        };
        if (!(epsilon >= 0) || double.IsInfinity(epsilon)) throw LossArgumentException.Value($"{Name}: epsilon must be finite and ≥ 0, got {epsilon}");
        if (weight is TensorData w)
        {
            if (w.Shape.Rank != 1) throw LossArgumentException.Shape($"{Name}: weight must be one weight per class (K), got shape {w.Shape}");
            _weight = w.ToArray<double>();
        }
        _epsilon = epsilon;
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        TensorData pT = inputs["input"], yT = inputs["target"];
        if (pT.Shape.Rank != 2 || pT.Shape[0] == 0 || pT.Shape[1] < 2)
            throw LossArgumentException.Shape($"{Name}: 'input' must be probabilities (N, K) with N ≥ 1 and K ≥ 2, got shape {pT.Shape}");
        int n = pT.Shape[0], k = pT.Shape[1];
        if (_weight is not null && _weight.Length != k) throw LossArgumentException.Shape($"{Name}: weight has {_weight.Length} entries but 'input' {pT.Shape} has {k} classes");
        double[] y = pT.ToArray<double>();
        for (int q = 0; q < y.Length; q++)
        {
            if (!(y[q] >= 0) || double.IsInfinity(y[q])) throw LossArgumentException.Value($"{Name}: 'input' holds {y[q]} at row {q / k}, class {q % k}; it takes probabilities (a softmax output), which are finite and ≥ 0");
        }
        double[] t = Targets(yT, inputs, n, k);
        double[]? g = computeGradients ? new double[n * k] : null;
        double loss = Kappa(y, t, n, k, _power, _epsilon, _weight, g);
        TensorData value = FromDoubles<T>([loss], Shape.Scalar);
        return g is null ? Result(value) : Result(value, ("input", FromDoubles<T>(g, pT.Shape)));
    }

    /// <summary>
    /// The loss O / (E + ε) of predictions y (N, K) taken as they are (raised to <paramref name="power"/> and
    /// row-normalized) against target rows t (N, K), and its gradient for y into <paramref name="gradient"/> unless null.
    /// Shared with <see cref="MceAndWkLoss"/>, which feeds it raw model outputs as dlordinal does.
    /// </summary>
    internal static double Kappa(double[] y, double[] t, int n, int k, int power, double epsilon, double[]? classWeight, double[]? gradient)
    {
        // Row-normalized powers of the predictions, and the class-distance weights W (K × K).
        double[] p = new double[n * k], norm = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int a = 0; a < k; a++) s += p[i * k + a] = power == 2 ? y[i * k + a] * y[i * k + a] : y[i * k + a];
            norm[i] = epsilon + s;
            for (int a = 0; a < k; a++) p[i * k + a] /= norm[i];
        }
        // W_ab = (a − b)²/(K − 1)²·c_b, formed where it is used rather than held as a K × K matrix (134 MB at K = 4096):
        // only the true classes' columns are ever needed.
        double span2 = (double)(k - 1) * (k - 1);
        double W(int a, int b) => (double)(a - b) * (a - b) / span2 * (classWeight?[b] ?? 1);

        // U = Y·Wᵀ (row i: Σ_b W_ab·Y_ib), the true histogram t, V = W·t, the predicted histogram h.
        var u = new double[n * k];
        var hist = new double[k];
        var trueHist = new double[k];
        for (int i = 0; i < n; i++)
            for (int b = 0; b < k; b++)
            {
                double yb = t[i * k + b];
                trueHist[b] += yb;
                if (yb != 0) for (int a = 0; a < k; a++) u[i * k + a] += W(a, b) * yb;
            }
        var v = new double[k];
        for (int b = 0; b < k; b++)
        {
            if (trueHist[b] == 0) continue;   // a zero term: the same sums without it
            for (int a = 0; a < k; a++) v[a] += W(a, b) * trueHist[b];
        }
        double observed = 0, expected = 0;
        for (int i = 0; i < n; i++)
            for (int a = 0; a < k; a++)
            {
                observed += p[i * k + a] * u[i * k + a];
                hist[a] += p[i * k + a];
            }
        for (int a = 0; a < k; a++) expected += hist[a] * v[a];
        expected /= n;
        double d = expected + epsilon, loss = observed / d;
        if (gradient is null) return loss;

        for (int i = 0; i < n; i++)
        {
            double dot = 0;
            Span<double> gi = gradient.AsSpan(i * k, k);
            for (int a = 0; a < k; a++)
            {
                gi[a] = u[i * k + a] / d - observed * v[a] / (n * d * d);   // ∂ℓ/∂P_ia
                dot += gi[a] * p[i * k + a];
            }
            for (int a = 0; a < k; a++)
            {
                double dq = (gi[a] - dot) / norm[i];   // ∂ℓ/∂q_ia
                gi[a] = power == 2 ? 2 * y[i * k + a] * dq : dq;
            }
        }
        return loss;
    }

    /// <summary>The targets as rows (N, K): one-hot from ranks (N), or the given non-negative rows.</summary>
    private static double[] Targets(TensorData yT, LossInputs inputs, int n, int k)
    {
        var t = new double[n * k];
        if (yT.Shape.Rank == 1 && yT.Shape[0] == n)
        {
            long[] ranks = inputs.Indices("target");
            for (int i = 0; i < n; i++)
            {
                if (ranks[i] < 0 || ranks[i] >= k) throw LossArgumentException.Value($"{Name}: target {ranks[i]} at position {i} is not a rank in [0, {k - 1}]");
                t[i * k + ranks[i]] = 1;
            }
            return t;
        }
        if (yT.Shape.Rank != 2 || yT.Shape[0] != n || yT.Shape[1] != k)
            throw LossArgumentException.Shape($"{Name}: 'target' must be ranks ({n}) or rows ({n}, {k}) like 'input', got shape {yT.Shape}");
        double[] rows = yT.ToArray<double>();
        for (int q = 0; q < rows.Length; q++)
        {
            if (!(rows[q] >= 0) || double.IsInfinity(rows[q])) throw LossArgumentException.Value($"{Name}: 'target' holds {rows[q]} at row {q / k}, class {q % k}; its rows are one-hot or non-negative weights");
        }
        return rows;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["weighted_kappa_loss", "wk_loss", "WKLoss", "qwk_loss"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("input", InputKind.Floating, true, "probabilities (N, K) over K ordered classes (a softmax output)"),
            new("target", InputKind.IndicesOrFloating, false, "ranks (N) in [0, K), or one-hot rows (N, K)"),
        ],
        Options =
        [
            OptionSpec.Choice("penalization_type", "quadratic", "the exponent on the predictions, 2 or 1 (as in the authors' code and dlordinal; the class-distance weights are quadratic for both)", "quadratic", "linear"),
            OptionSpec.Tensor("weight", "one weight per class (K), multiplying the weights of the true class's column"),
            OptionSpec.Float("epsilon", 1e-10, "added to each row's sum and to the expected disagreement"),
        ],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 6, 4);
            int n = x[0], k = x[x.Rank - 1];
            var probs = new double[n * k];
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                for (int a = 0; a < k; a++) sum += probs[i * k + a] = Math.Exp(2 * (r.NextDouble() - 0.5) * 2);
                for (int a = 0; a < k; a++) probs[i * k + a] /= sum;
            }
            long[] ranks = [.. Enumerable.Range(0, n).Select(i => (long)(i % k == 0 ? 0 : r.Next(k)))];
            return new LossInputs().Add("input", TensorData.Create(new Shape(n, k), DType.Float64, probs)).Add("target", TensorData.FromArray(ranks, n));
        },
        Formula = "ℓ = Σ W_ab·(Pᵀ·Y)_ab / (Σ W_ab·h_a·t_b / N + ε),  W_ab = (a − b)²/(K − 1)²·w_b,  P = y^e / (ε + Σ_k y^e)",
        Gradient = "∂ℓ/∂P_ia = U_ia/D − O·V_a/(N·D²) (U = Y·Wᵀ, V = W·t, D = E + ε), then through the row normalization and y^e",
        Reference = "de la Torre, Puig and Valls, Weighted kappa loss function for multi-class classification of ordinal data in deep learning, Pattern Recognition Letters 2018; dlordinal WKLoss",
        Stability = "computed in double; ε keeps an all-zero row and a batch of one class finite",
        LowerBound = 0,
        Libraries = "dlordinal (WKLoss); the authors' Keras code",
        Factory = o => new WeightedKappaLoss(o.Choice("penalization_type"), o.Tensor("weight"), o.Float("epsilon")),
    };

    public override LossDescriptor Descriptor => Entry;
}
