using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Ranking;

/// <summary>
/// ListNet (Cao et al. 2007, top-one probabilities; sentence-transformers' cross-encoder <c>ListNetLoss</c>): per query,
/// the cross-entropy between the softmax of its documents' relevance labels and the softmax of their scores,
/// ℓ_q = −Σ_j p_j·log softmax(s)_j with p = softmax(y), over the query's documents only; the mean over queries.
/// </summary>
/// <remarks>
/// <para>sentence-transformers pads the lists with logits −1e16 and labels −∞ and calls CrossEntropyLoss with the
/// labels' softmax as probabilities: the padding gets weight 0 on both sides, as leaving it out does here. Optax's
/// <c>ranking_softmax_loss</c> is the same cross-entropy with the labels normalized by their sum instead of a softmax.</para>
/// <para><b>Gradient:</b> ∂ℓ_q/∂s_j = softmax(s)_j − p_j over the documents, 0 at padding. Both softmaxes by their
/// maximum, in double. The labels' gradient (a teacher's scores as labels) is −p_j·(log softmax(s)_j + ℓ_q).
/// <c>activation_fn</c> (identity by default) is left to the
/// caller: apply it to the logits first.</para>
/// </remarks>
public sealed class ListNetLoss(Reduction reduction = Reduction.Mean) : Loss, ILossDefinition
{
    private const string Name = "ListNetLoss";

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (n, l, s, y, valid) = DocumentLists.Read(inputs, Name);
        var losses = new double[n];
        double[] g = computeGradients ? new double[s.Length] : [], gy = computeGradients ? new double[y.Length] : [];
        double scale = Reducer.Scale(reduction, n);
        Span<double> p = new double[l], logQ = new double[l];
        for (int q = 0; q < n; q++)
        {
            LogSoftmax(y.AsSpan(q * l, l), valid.AsSpan(q * l, l), p);
            LogSoftmax(s.AsSpan(q * l, l), valid.AsSpan(q * l, l), logQ);
            for (int j = 0; j < l; j++)
            {
                if (!valid[q * l + j]) continue;
                double pj = Math.Exp(p[j]);
                losses[q] -= pj * logQ[j];
                if (computeGradients) g[q * l + j] = scale * (Math.Exp(logQ[j]) - pj);
            }
            if (!computeGradients) continue;
            // ∂ℓ_q/∂y_j = −p_j·(log q_j − Σ_k p_k log q_k) = −p_j·(log q_j + ℓ_q).
            for (int j = 0; j < l; j++) if (valid[q * l + j]) gy[q * l + j] = -scale * Math.Exp(p[j]) * (logQ[j] + losses[q]);
        }
        TensorData value = ReduceRows<T>(losses, reduction, new Shape(n)).Value;
        if (!computeGradients) return Result(value);
        return Result(value, ("logits", FromDoubles<T>(g, inputs["logits"].Shape)), ("labels", FromDoubles<T>(gy, inputs["labels"].Shape)));
    }

    /// <summary>log softmax of x over the valid entries (the others untouched), by the maximum.</summary>
    private static void LogSoftmax(ReadOnlySpan<double> x, ReadOnlySpan<bool> valid, Span<double> result)
    {
        double max = double.NegativeInfinity;
        int top = -1;
        for (int j = 0; j < x.Length; j++) if (valid[j] && (top < 0 || x[j] > max || double.IsNaN(x[j]))) (max, top) = (x[j], j);
        // log1p of the terms other than the maximum's 1 (as Stable.ShiftedLogSumExp): a confident list keeps its digits.
        double others = 0;
        for (int j = 0; j < x.Length; j++) if (valid[j] && j != top) others += Math.Exp(x[j] - max);
        double log = double.IsFinite(max) ? Stable.Log1p(others) : Math.Log(others + Math.Exp(x[top] - max));
        for (int j = 0; j < x.Length; j++) result[j] = valid[j] ? x[j] - max - log : 0;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["list_net_loss", "listnet", "ce.ListNetLoss"],
        Family = LossFamily.Ranking,
        Task = LossTask.Ranking,
        Inputs = DocumentLists.Inputs(labelsDifferentiable: true),
        Options = [OptionSpec.Reduction("none", "mean", "sum")],
        Sample = DocumentLists.Sample,
        Formula = "ℓ_q = −Σ_j softmax(y)_j·log softmax(s)_j  over the query's documents",
        Gradient = "∂ℓ_q/∂s_j = softmax(s)_j − softmax(y)_j;  ∂ℓ_q/∂y_j = −p_j·(log softmax(s)_j + ℓ_q)",
        Reference = "sentence-transformers cross_encoder ListNetLoss; Cao, Qin, Liu, Tsai & Li, ICML 2007 (ListNet)",
        Stability = "log-softmaxes by their maximum in double: finite for any finite input",
        Libraries = "sentence-transformers (cross-encoder ListNetLoss), allRank",
        Factory = o => new ListNetLoss(o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
