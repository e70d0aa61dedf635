using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Ranking;

/// <summary>
/// ListMLE (Xia et al. 2008) and its position-aware form p-ListMLE (Lan et al. 2014); sentence-transformers'
/// cross-encoder <c>ListMLELoss</c> and <c>PListMLELoss</c>: the negative log-likelihood of the documents' relevance order
/// under the Plackett–Luce model of the scores. For a query whose documents in that order have scores s_1..s_n,
/// ℓ_q = −Σ_k w_k·(s_k − log(Σ_{m≥k} e^{s_m} + ε)), ε = 1e-10; w_k = 1 (ListMLE) or, with lambda_weight=position,
/// (2^{n−k} − 1) normalized to sum to 1 (k = 0..n−1, p-ListMLE's default discount). The mean over queries.
/// </summary>
/// <remarks>
/// <para>The order is the input order (respect_input_order, the default: the documents are given most relevant first,
/// the labels then only mark the lists) or the labels' descending order, ties kept in input order.</para>
/// <para><b>Gradient:</b> ∂ℓ_q/∂s_m = −w_m + Σ_{k≤m} w_k·e^{s_m}/(S_k + ε), S_k = Σ_{m≥k} e^{s_m}; each log(S_k + ε) is a
/// log-sum-exp by its maximum (log-add-exp with log ε), in double, so large scores do not overflow.</para>
/// <para>Differences, in README: sentence-transformers pads short lists with logits 1e-16, whose exponential is 1, so each
/// padding slot adds 1 to the preceding documents' sums; padding is left out here (the same value for full lists). It
/// sorts the labels with torch's unstable sort; tied labels keep their input order here. Its exponential overflows
/// past a logit of 88 in float32.</para>
/// </remarks>
public sealed class ListMleLoss : Loss, ILossDefinition
{
    private const string Name = "ListMleLoss";
    private const double Eps = 1e-10;
    private readonly Reduction _reduction;
    private readonly bool _position, _inputOrder;

    public ListMleLoss(Reduction reduction = Reduction.Mean, bool positionWeights = false, bool respectInputOrder = true)
        => (_reduction, _position, _inputOrder) = (reduction, positionWeights, respectInputOrder);

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (n, l, s, y, valid) = DocumentLists.Read(inputs, Name);
        var losses = new double[n];
        double[] g = computeGradients ? new double[s.Length] : [];
        double scale = Reducer.Scale(_reduction, n), logEps = Math.Log(Eps);
        var order = new List<int>(l);
        var logSuffix = new double[l];
        for (int q = 0; q < n; q++)
        {
            order.Clear();
            for (int j = 0; j < l; j++) if (valid[q * l + j]) order.Add(q * l + j);
            // A stable sort (List.Sort is not): by label, descending, ties in input order.
            if (!_inputOrder) order = [.. order.OrderByDescending(i => y[i])];
            int count = order.Count;
            // log(S_k + ε) from the last document back: S_k = e^{s_k} + S_{k+1}, as log-add-exps.
            double running = double.NegativeInfinity;
            for (int k = count - 1; k >= 0; k--)
            {
                running = Stable.LogAddExp(running, s[order[k]]);
                logSuffix[k] = Stable.LogAddExp(running, logEps);
            }
            double weightSum = 0;
            for (int k = 0; k < count; k++) weightSum += Weight(k, count);
            double norm = _position ? 1 / (weightSum + Eps) : 1;
            for (int k = 0; k < count; k++) losses[q] -= Weight(k, count) * norm * (s[order[k]] - logSuffix[k]);
            if (!computeGradients) continue;
            for (int m = 0; m < count; m++)
            {
                double d = -Weight(m, count) * norm;
                for (int k = 0; k <= m; k++) d += Weight(k, count) * norm * Math.Exp(s[order[m]] - logSuffix[k]);
                g[order[m]] = scale * d;
            }
        }
        TensorData value = ReduceRows<T>(losses, _reduction, new Shape(n)).Value;
        if (!computeGradients) return Result(value);
        return Result(value, ("logits", FromDoubles<T>(g, inputs["logits"].Shape)));
    }

    /// <summary>w_k before normalization: 1, or p-ListMLE's 2^{n−k} − 1 for position k = 0..n−1.</summary>
    private double Weight(int k, int count) => _position ? Math.Pow(2, count - k) - 1 : 1;

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["list_mle_loss", "ListMLELoss", "listmle", "ce.ListMLELoss"],
        Family = LossFamily.Ranking,
        Task = LossTask.Ranking,
        Inputs = DocumentLists.Inputs(labelsDifferentiable: false),   // they only order the documents
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Choice("lambda_weight", "none", "none: ListMLE; position: p-ListMLE's weights 2^(n−k) − 1, normalized (sentence-transformers' PListMLELoss default)", "none", "position"),
            OptionSpec.Bool("respect_input_order", true, "true: the documents are given in relevance order; false: order them by label, descending"),
        ],
        Sample = DocumentLists.Sample,
        Formula = "ℓ_q = −Σ_k w_k·(s_k − log(Σ_{m≥k} e^{s_m} + 1e-10)),  documents in relevance order; w = 1 or (2^{n−k} − 1)/Σ",
        Gradient = "∂ℓ/∂s_m = −w_m + Σ_{k≤m} w_k·e^{s_m}/(S_k + ε)",
        Reference = "sentence-transformers cross_encoder ListMLELoss / PListMLELoss; Xia et al. 2008 (ListMLE); Lan et al. 2014 (p-ListMLE)",
        Stability = "suffix sums as log-add-exps in double: finite for any finite input",
        Libraries = "sentence-transformers (cross-encoder ListMLELoss, PListMLELoss), allRank",
        Factory = o => new ListMleLoss(o.Reduction, o.Choice("lambda_weight") == "position", o.Bool("respect_input_order")),
    };

    public override LossDescriptor Descriptor => Entry;
}
