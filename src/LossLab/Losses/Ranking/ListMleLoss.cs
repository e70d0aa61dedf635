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
/// past a logit of 88 in float32, and p-ListMLE's weights 2^{n−k} − 1 past 127 documents (∞/∞); here the weights are
/// normalized scaled by 2^−n, finite at any length.</para>
/// <para>The gradient's sums over suffixes are one backward recurrence (see Compute): O(n) per query.</para>
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
        var weights = new double[l];
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
            Weights(count, weights);
            for (int k = 0; k < count; k++) losses[q] -= weights[k] * (s[order[k]] - logSuffix[k]);
            if (!computeGradients) continue;
            // Σ_{k≤m} c_k·e^{s_m − L_k} = e^{s_m − L_m}·R_m with R_m = Σ_{k≤m} c_k·e^{L_m − L_k} = c_m + e^{L_m − L_{m−1}}·R_{m−1}:
            // O(n) instead of a sum per document, and every exponent ≤ 0 (L_k = log(S_k + ε) falls with k, and s_m ≤ L_m).
            double r = 0;
            for (int m = 0; m < count; m++)
            {
                r = weights[m] + (m == 0 ? 0 : Math.Exp(logSuffix[m] - logSuffix[m - 1]) * r);
                g[order[m]] = scale * (-weights[m] + Math.Exp(s[order[m]] - logSuffix[m]) * r);
            }
        }
        TensorData value = ReduceRows<T>(losses, _reduction, new Shape(n)).Value;
        if (!computeGradients) return Result(value);
        return Result(value, ("logits", FromDoubles<T>(g, inputs["logits"].Shape)));
    }

    /// <summary>
    /// c_k = w_k/(Σ w + ε) for p-ListMLE (w_k = 2^{n−k} − 1, k = 0..n−1), 1 for ListMLE, into <paramref name="c"/>. Both
    /// sides scaled by 2^−n, so that lists past 1023 documents (where 2^n overflows and the quotient was ∞/∞ = NaN)
    /// keep their weights: w_k·2^−n = 2^−k − 2^−n, ε·2^−n (0 from about 1100 documents, where it no longer counts).
    /// </summary>
    private void Weights(int count, double[] c)
    {
        if (!_position)
        {
            Array.Fill(c, 1, 0, count);
            return;
        }
        double tail = Math.ScaleB(1, -count), sum = 0;
        for (int k = 0; k < count; k++) sum += c[k] = Math.ScaleB(1, -k) - tail;
        double norm = 1 / (sum + Eps * tail);
        for (int k = 0; k < count; k++) c[k] *= norm;
    }

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
