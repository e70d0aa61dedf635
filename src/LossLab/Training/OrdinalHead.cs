using LossLab.Numerics;

namespace LossLab.Training;

/// <summary>
/// How an ordinal model's K − 1 outputs x (one per rank threshold) give s_k = P(rank &gt; k), k = 0..K − 2, and so the
/// probabilities of the K ranks, p_k = s_{k−1} − s_k with s_{−1} = 1 and s_{K−1} = 0.
/// </summary>
public enum OrdinalHead
{
    /// <summary>Not an ordinal model: the outputs are class logits (softmax) or per-output logits (sigmoid).</summary>
    None,

    /// <summary>
    /// CORAL (Cao, Mirjalili and Raschka 2020): s_k = σ(x_k) with x_k = w·h + b_k, one weight vector shared by every
    /// threshold (<see cref="Nn.SharedThresholds"/>). The thresholds are read in decreasing order of x (the order of the
    /// biases, the same in every row), so that s never increases even while the biases are out of order: then the
    /// median rank is the count of s_k &gt; ½, coral_pytorch's <c>proba_to_label</c>, whatever the order.
    /// </summary>
    Cumulative,

    /// <summary>
    /// CORN (Shi, Cao and Raschka 2023): x_k is the logit of P(rank &gt; k | rank &gt; k − 1), so s_k = Π_{j≤k} σ(x_j), which
    /// never increases; the median rank is the count of s_k &gt; ½, coral_pytorch's <c>corn_label_from_logits</c>.
    /// </summary>
    Conditional,
}

/// <summary>Reads an ordinal model's outputs as rank probabilities and ranks (<see cref="OrdinalHead"/>).</summary>
public static class OrdinalRanks
{
    /// <summary>
    /// The probabilities (N × K, row-major) of the K = <paramref name="thresholds"/> + 1 ranks from outputs (N × (K − 1));
    /// a NaN output makes its row NaN.
    /// </summary>
    public static double[] Probabilities(ReadOnlySpan<double> outputs, int thresholds, OrdinalHead head)
    {
        if (head == OrdinalHead.None) throw new ArgumentException("not an ordinal head", nameof(head));
        if (thresholds < 1 || outputs.Length % thresholds != 0)
        {
            throw new ArgumentException($"{outputs.Length} outputs do not make rows of {thresholds} rank thresholds", nameof(outputs));
        }
        int n = outputs.Length / thresholds, k = thresholds + 1;
        var p = new double[n * k];
        var s = new double[thresholds];
        for (int i = 0; i < n; i++)
        {
            Exceeding(outputs.Slice(i * thresholds, thresholds), head, s);
            Span<double> row = p.AsSpan(i * k, k);
            double above = 1;
            for (int j = 0; j < thresholds; j++)
            {
                row[j] = above - s[j];
                above = s[j];
            }
            row[thresholds] = above;
        }
        return p;
    }

    /// <summary>s_k = P(rank &gt; k) of one row of outputs, never increasing in k (NaN when an output is).</summary>
    public static void Exceeding(ReadOnlySpan<double> x, OrdinalHead head, Span<double> s)
    {
        if (head == OrdinalHead.Cumulative)
        {
            // Decreasing logits: a NaN would make the sort's order undefined, so it spreads to the whole row instead.
            x.CopyTo(s);
            bool nan = false;
            foreach (double v in s) nan |= double.IsNaN(v);
            if (nan)
            {
                s.Fill(double.NaN);
                return;
            }
            s.Sort((a, b) => b.CompareTo(a));
            for (int j = 0; j < s.Length; j++) s[j] = Stable.Sigmoid(s[j]);
            return;
        }
        // Π σ(x_j) as exp(Σ log σ(x_j)) = exp(−Σ softplus(−x_j)): no underflow to 0 before the product does.
        double log = 0;
        for (int j = 0; j < x.Length; j++)
        {
            log -= Stable.Softplus(-x[j]);
            s[j] = Math.Exp(log);
        }
    }

    /// <summary>
    /// The median rank of each row of rank probabilities (N × K): the smallest k whose cumulative probability reaches ½,
    /// which for the ordinal heads is the number of thresholds with s_k &gt; ½ (the reference libraries' label).
    /// </summary>
    public static int[] MedianRanks(ReadOnlySpan<double> probabilities, int ranks)
    {
        int n = probabilities.Length / ranks;
        var median = new int[n];
        for (int i = 0; i < n; i++)
        {
            double below = 0;
            int r = 0;
            // 1 − Σ_{j≤r} p_j = s_r: stop at the first r with s_r ≤ ½, as the count of s_k > ½ does.
            while (r < ranks - 1 && 1 - (below += probabilities[i * ranks + r]) > 0.5) r++;
            median[i] = r;
        }
        return median;
    }
}
