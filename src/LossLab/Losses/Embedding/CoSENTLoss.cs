using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// sentence-transformers' <c>CoSENTLoss(scale=20.0, similarity_fct=pairwise_cos_sim)</c> (Su 2022, "CoSENT"): for
/// sentence pairs (u_k, v_k) with gold similarity scores y_k, s_k = scale·cos(u_k, v_k) and
/// ℓ = log(1 + Σ_{(i, j): y_i &lt; y_j} e^{s_i − s_j}): every pair ranked below another by the labels is pushed to a
/// lower similarity. One value per batch, as sentence-transformers computes it.
/// </summary>
/// <remarks>
/// <para><b>Gradient:</b> with w_ij = e^{s_i − s_j − ℓ}, ∂ℓ/∂s_i = Σ_j w_ij − Σ_j w_ji; then ∂s_k/∂û_k = scale·v̂_k and
/// through û = u/max(‖u‖, 1e-12) (0 for a zero row, where PyTorch's clamp gives g/1e-12). sentence-transformers masks the
/// unranked pairs by subtracting 10¹² from their scores; here they are left out, the same value unless |s| nears 10¹².</para>
/// <para>sentence-transformers also accepts (anchor, positive, negative…) tuples and turns them into pairs (the
/// anchor against each, label 1 for the positive and 0 for the negatives): build those pairs as inputs.</para>
/// </remarks>
public sealed class CoSENTLoss : SentenceEmbeddingLoss, ILossDefinition
{
    private readonly double _scale;

    public CoSENTLoss(double scale = 20.0) => _scale = PairRanking.CheckScale(scale, "CoSENTLoss");

    protected override string[] EmbeddingInputs => ["embeddings1", "embeddings2"];

    protected override LossResult ComputeEmbeddings<T>(LossInputs inputs, bool computeGradients)
        => PairRanking.Compute<T>(inputs, computeGradients, _scale, "CoSENTLoss", PairRanking.Cosine);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "CoSENTLoss",
        Aliases = ["cosent_loss", "st.CoSENTLoss", "cosent"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = PairRanking.Inputs,
        Options = [OptionSpec.Float("scale", 20.0, "the similarities are multiplied by it (inverse temperature)"), .. MatryoshkaOptions],
        Sample = PairRanking.Sample,
        Formula = "ℓ = log(1 + Σ_{y_i < y_j} e^{s_i − s_j}),  s_k = scale·cos(u_k, v_k)",
        Gradient = "∂ℓ/∂s_i = Σ_j w_ij − Σ_j w_ji,  w_ij = e^{s_i − s_j − ℓ} over ranked pairs;  ∂s/∂û = scale·v̂",
        Reference = "sentence-transformers CoSENTLoss; Su 2022 (CoSENT)",
        Stability = "a log-sum-exp with the 0 term by its maximum, in double: finite for any finite input",
        Libraries = "sentence-transformers (CoSENTLoss); one value per batch",
        Factory = o => new CoSENTLoss(o.Float("scale")) { Matryoshka = MatryoshkaDims.From(o, "CoSENTLoss") },
    };

    public override LossDescriptor Descriptor => Entry;
}

/// <summary>The ranking core CoSENT and AnglE share: the pairs' similarities, log(1 + Σ e^{s_i − s_j}) and its gradient.</summary>
internal static class PairRanking
{
    /// <summary>One pair's similarity and, when <paramref name="gu"/> is not empty, its gradient into gu and gv.</summary>
    public delegate double Similarity(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> gu, Span<double> gv, string loss, int row);

    public static double CheckScale(double scale, string loss)
        => scale > 0 && double.IsFinite(scale) ? scale : throw LossArgumentException.Value($"{loss}: scale must be a finite number > 0, got {scale}");

    public static readonly InputSpec[] Inputs = EmbeddingPairs.Inputs("each pair's gold similarity score (N); only their order matters");

    public static LossInputs Sample(Random r, Shape s) => EmbeddingPairs.Sample(r, s, (r, n) => Samples.Uniform(r, n, 0, 5));

    public static LossResult Compute<T>(LossInputs inputs, bool computeGradients, double scale, string loss, Similarity similarity)
        where T : struct, System.Numerics.IFloatingPointIeee754<T>
    {
        var (n, d, u, v) = EmbeddingPairs.Read(inputs, loss);
        double[] y = EmbeddingPairs.Labels(inputs, loss, n, "one score per pair");
        double[] gu = computeGradients ? new double[u.Length] : [], gv = computeGradients ? new double[v.Length] : [];
        var s = new double[n];
        for (int k = 0; k < n; k++)
        {
            s[k] = scale * similarity(u.AsSpan(k * d, d), v.AsSpan(k * d, d), [], [], loss, k);
        }
        var (value, gs) = RankedPairs(s, y, computeGradients);
        TensorData result = Loss.FromDoubles<T>([value], Shape.Scalar);
        if (!computeGradients) return new LossResult(result, new Dictionary<string, TensorData>());
        var pu = new double[d];
        var pv = new double[d];
        for (int k = 0; k < n; k++)
        {
            if (gs[k] == 0) continue;
            Array.Clear(pu);
            Array.Clear(pv);
            similarity(u.AsSpan(k * d, d), v.AsSpan(k * d, d), pu, pv, loss, k);
            for (int q = 0; q < d; q++)
            {
                gu[k * d + q] = scale * gs[k] * pu[q];
                gv[k * d + q] = scale * gs[k] * pv[q];
            }
        }
        return new LossResult(result, new Dictionary<string, TensorData>
        {
            ["embeddings1"] = Loss.FromDoubles<T>(gu, inputs["embeddings1"].Shape),
            ["embeddings2"] = Loss.FromDoubles<T>(gv, inputs["embeddings2"].Shape),
        });
    }

    /// <summary>
    /// ℓ = lse({0} ∪ {s_i − s_j : y_i &lt; y_j}) and, when asked, ∂ℓ/∂s, in O(n log n) rather than over the n² pairs: the
    /// pair terms factor, Σ_{y_i &lt; y_j} e^{s_i − s_j} = Σ_j e^{L_j − s_j} with L_j = lse{s_i : y_i &lt; y_j}, a running
    /// log-sum-exp over the labels in ascending order (each label's group added after its own terms, so that ties make no
    /// pair). Likewise ∂ℓ/∂s_i = Σ_{y_j &gt; y_i} w_ij − Σ_{y_j &lt; y_i} w_ji = e^{s_i + U_i − ℓ} − e^{L_i − s_i − ℓ}, w_ij =
    /// e^{s_i − s_j − ℓ}, with U_i = lse{−s_j : y_j &gt; y_i} from the descending order. Every exponent is a log-sum-exp
    /// difference, so no term overflows or underflows where the pair sums do not; a NaN label is in no pair.
    /// </summary>
    internal static (double Value, double[] Gradient) RankedPairs(double[] s, double[] y, bool computeGradients)
    {
        int n = s.Length;
        int[] order = [.. Enumerable.Range(0, n).Where(k => !double.IsNaN(y[k])).OrderBy(k => y[k])];
        var lower = new double[n];   // L_j, −∞ without a lower label
        double m = double.NegativeInfinity, sum = 0;   // the running lse as m + log(sum)
        for (int g = 0; g < order.Length;)
        {
            int end = g;
            while (end < order.Length && y[order[end]] == y[order[g]]) end++;
            double below = m + Math.Log(sum);
            for (int q = g; q < end; q++) lower[order[q]] = below;
            for (int q = g; q < end; q++) Accumulate(ref m, ref sum, s[order[q]]);
            g = end;
        }
        double max = 0;
        foreach (int k in order) max = Math.Max(max, lower[k] - s[k]);
        double total = Math.Exp(-max);
        foreach (int k in order) total += Math.Exp(lower[k] - s[k] - max);
        double value = max + Math.Log(total);
        if (!computeGradients) return (value, []);
        var gs = new double[n];
        m = double.NegativeInfinity;
        sum = 0;
        for (int g = order.Length - 1; g >= 0;)
        {
            int start = g;
            while (start >= 0 && y[order[start]] == y[order[g]]) start--;
            double above = m + Math.Log(sum);   // U for this group
            for (int q = g; q > start; q--)
            {
                int k = order[q];
                gs[k] = Math.Exp(s[k] + above - value) - Math.Exp(lower[k] - s[k] - value);
            }
            for (int q = g; q > start; q--) Accumulate(ref m, ref sum, -s[order[q]]);
            g = start;
        }
        return (value, gs);
    }

    /// <summary>Adds e^v to the log-sum-exp m + log(sum), rescaling by the new maximum.</summary>
    private static void Accumulate(ref double m, ref double sum, double v)
    {
        if (v > m)
        {
            sum = sum * Math.Exp(m - v) + 1;
            m = v;
        }
        else
        {
            sum += Math.Exp(v - m);
        }
    }

    /// <summary>sentence-transformers' pairwise_cos_sim: û·v̂ with x̂ = x/max(‖x‖, 1e-12).</summary>
    public static double Cosine(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> gu, Span<double> gv, string loss, int row)
    {
        double nu = Math.Max(Norm(u), 1e-12), nv = Math.Max(Norm(v), 1e-12);
        double c = System.Numerics.Tensors.TensorPrimitives.Dot(u, v) / (nu * nv);
        if (gu.IsEmpty) return c;
        // ∂c/∂u = (v̂ − c·û)/‖u‖ (0 for a zero row, as Embeddings.BackThroughNormalize).
        for (int q = 0; q < u.Length; q++)
        {
            if (nu > 1e-12) gu[q] = (v[q] / nv - c * u[q] / nu) / nu;
            if (nv > 1e-12) gv[q] = (u[q] / nu - c * v[q] / nv) / nv;
        }
        return c;
    }

    private static double Norm(ReadOnlySpan<double> x) => Math.Sqrt(System.Numerics.Tensors.TensorPrimitives.Dot(x, x));
}
