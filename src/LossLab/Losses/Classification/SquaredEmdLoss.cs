using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// The squared Earth Mover's Distance between the softmax of a row's logits and its one-hot rank, over ordered classes
/// (Hou, Yu and Samaras, Squared Earth Mover's Distance-based Loss for Training Deep Neural Networks, 2016; dlordinal's
/// <c>EMDLoss</c>): ℓ = Σ_{k=0}^{J−1} (P_k − T_k)², P_k = Σ_{j≤k} p_j the predicted CDF, p = softmax(x), and T_k = [k ≥ y]
/// the true one. It equals the ranked probability score (Epstein 1969), a proper scoring rule for ordered outcomes: mass
/// put two ranks away costs more than mass one rank away, which cross-entropy cannot tell apart.
/// </summary>
/// <remarks>
/// <b>Without cancellation:</b> D_k = P_k − T_k is Σ_{j≤k} p_j below the true rank and −Σ_{j&gt;k} p_j from it on
/// (P_k − 1 written as minus the tail), so a confident row's small differences keep their digits.
/// <b>Gradient:</b> ∂ℓ/∂p_j = Σ_{k≥j} 2·D_k =: G_j (p_j enters every P_k with k ≥ j), and through the softmax
/// ∂ℓ/∂x_i = p_i·(G_i − Σ_j p_j·G_j).
/// </remarks>
public sealed class SquaredEmdLoss : IndexedRowLoss, ILossDefinition
{
    public SquaredEmdLoss(Reduction reduction = Reduction.Mean) : base(reduction)
    {
        if (reduction == Reduction.BatchMean) throw LossArgumentException.Value("SquaredEmdLoss: reduction must be none, mean or sum");
    }

    protected override T RowValue<T>(ReadOnlySpan<T> x, int y)
    {
        double[] d = CdfDifferences(RowSoftmax(x).P, y);
        double sum = 0;
        foreach (double v in d) sum += v * v;
        return T.CreateTruncating(sum);
    }

    protected override void RowGradient<T>(ReadOnlySpan<T> x, int y, T scale, Span<T> g)
    {
        double[] p = RowSoftmax(x).P;
        double[] d = CdfDifferences(p, y);
        int c = p.Length;
        var gp = new double[c];
        double tail = 0, mean = 0;
        for (int j = c - 1; j >= 0; j--)
        {
            tail += 2 * d[j];
            gp[j] = tail;
            mean += p[j] * tail;
        }
        double s = double.CreateTruncating(scale);
        for (int i = 0; i < c; i++) g[i] = T.CreateTruncating(s * p[i] * (gp[i] - mean));
    }

    /// <summary>D_k = P_k − [k ≥ y]: the head sum below the true rank, minus the tail sum from it on.</summary>
    private static double[] CdfDifferences(double[] p, int y)
    {
        int c = p.Length;
        var d = new double[c];
        double head = 0;
        for (int k = 0; k < y; k++) d[k] = head += p[k];
        double tail = 0;
        for (int k = c - 1; k >= y; k--)
        {
            d[k] = -tail;   // −Σ_{j>k} p_j
            tail += p[k];
        }
        return d;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "SquaredEmdLoss",
        Aliases = ["squared_emd_loss", "emd_loss", "EMDLoss", "ranked_probability_score", "rps_loss"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("input", InputKind.Floating, true, "logits (N, J) or (J) over J ordered classes"),
            new("target", InputKind.Indices, false, "ranks (N) or () in [0, J); dlordinal's one-hot form is these indices"),
        ],
        Options = [OptionSpec.Reduction("none", "mean", "sum")],
        Sample = Sample,
        Formula = "ℓ = Σ_k (P_k − [k ≥ y])²,  P_k = Σ_{j≤k} softmax(x)_j",
        Gradient = "∂ℓ/∂x_i = p_i·(G_i − Σ_j p_j·G_j),  G_j = 2·Σ_{k≥j} (P_k − [k ≥ y])",
        Reference = "Hou, Yu and Samaras, Squared Earth Mover's Distance-based Loss for Training Deep Neural Networks, 2016; dlordinal EMDLoss (the ranked probability score)",
        Stability = "log-softmax in double; the CDF differences as head or tail sums, never 1 − P_k: finite for every finite logit",
        LowerBound = 0,
        Libraries = "dlordinal (EMDLoss); NIMA's EMD loss is its root-mean form",
        Factory = o => new SquaredEmdLoss(o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
