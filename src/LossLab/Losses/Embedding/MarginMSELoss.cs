using LossLab.Losses.Core;
using LossLab.Losses.MetricLearning;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// sentence-transformers' <c>MarginMSELoss(similarity_fct=pairwise_dot_score)</c> (Hofstätter et al. 2020, cross-architecture
/// distillation): for a query q, a first passage p and one or more second passages n_k, the student's margin
/// sim(q, p) − sim(q, n_k) is fitted to the teacher's margin y_k by squared error, ℓ_ik = (sim(q_i, p_i) − sim(q_i, n_ik)
/// − y_ik)², averaged over every (query, second passage) (MSELoss's mean). The passages need not be a positive and a
/// negative: the teacher's margin says which is more relevant, and by how much.
/// </summary>
/// <remarks>
/// <b>Gradient:</b> with e = 2(margin − y): ∂/∂q = e·(∂sim(q, p)/∂q − ∂sim(q, n)/∂q), ∂/∂p = e·∂sim/∂p, ∂/∂n = −e·∂sim/∂n;
/// for the dot product ∂(q·p)/∂q = p, for the cosine through x̂ = x/max(‖x‖, 1e-12) (0 for a zero row). The teacher's
/// margins get −e, as MSELoss's target gradient.
/// </remarks>
public sealed class MarginMSELoss : SentenceEmbeddingLoss, ILossDefinition
{
    private const string Name = "MarginMSELoss";
    private readonly Reduction _reduction;
    private readonly bool _cosine;

    public MarginMSELoss(Reduction reduction = Reduction.Mean, bool cosine = false) => (_reduction, _cosine) = (reduction, cosine);

    protected override string[] EmbeddingInputs => ["query", "passage", "negatives"];

    protected override LossResult ComputeEmbeddings<T>(LossInputs inputs, bool computeGradients)
    {
        TensorData qT = inputs["query"], pT = inputs["passage"], nT = inputs["negatives"], yT = inputs["labels"];
        if (qT.Shape.Rank != 2) throw LossArgumentException.Shape($"{Name}: 'query' must be (N, D), got shape {qT.Shape}");
        int n = qT.Shape[0], d = qT.Shape[1];
        if (pT.Shape != qT.Shape) throw LossArgumentException.Shape($"{Name}: 'passage' has shape {pT.Shape}; expected {qT.Shape}, one per query");
        int k = EmbeddingPairs.NegativesPerRow(nT, n, d, Name, "second passages per query");
        Shape rows = nT.Shape.Rank == 2 ? new Shape(n) : new Shape(n, k);
        if (yT.Shape != rows && !(k == 1 && (yT.Shape == new Shape(n, 1) || yT.Shape == new Shape(n))))
            throw LossArgumentException.Shape($"{Name}: 'labels' has shape {yT.Shape}; expected {rows}, the teacher's margin sim(q, p) − sim(q, n) per second passage");
        double[] q = qT.ToArray<double>(), p = pT.ToArray<double>(), neg = nT.ToArray<double>(), y = yT.ToArray<double>();
        double[] qNorms = [], pNorms = [], nNorms = [];
        if (_cosine) { (q, qNorms) = Embeddings.Normalize(q, n, d); (p, pNorms) = Embeddings.Normalize(p, n, d); (neg, nNorms) = Embeddings.Normalize(neg, n * k, d); }
        var losses = new double[n * k];
        double[] gq = computeGradients ? new double[q.Length] : [], gp = computeGradients ? new double[p.Length] : [], gn = computeGradients ? new double[neg.Length] : [], gy = computeGradients ? new double[y.Length] : [];
        double scale = Reducer.Scale(_reduction, n * k);
        for (int i = 0; i < n; i++)
        {
            double positive = Embeddings.Dot(q, i, p, i, d);
            for (int c = 0; c < k; c++)
            {
                int row = i * k + c;
                double e = positive - Embeddings.Dot(q, i, neg, row, d) - y[row];
                losses[row] = e * e;
                if (!computeGradients) continue;
                double g = scale * 2 * e;
                gy[row] = -g;
                Embeddings.AddPair(gq, q, i, gp, p, i, g, d);
                Embeddings.AddPair(gq, q, i, gn, neg, row, -g, d);
            }
        }
        TensorData value = ReduceRows<T>(losses, _reduction, rows).Value;
        if (!computeGradients) return Result(value);
        if (_cosine)
        {
            gq = Embeddings.BackThroughNormalize(gq, q, qNorms, n, d);
            gp = Embeddings.BackThroughNormalize(gp, p, pNorms, n, d);
            gn = Embeddings.BackThroughNormalize(gn, neg, nNorms, n * k, d);
        }
        return Result(value, ("query", FromDoubles<T>(gq, qT.Shape)), ("passage", FromDoubles<T>(gp, pT.Shape)), ("negatives", FromDoubles<T>(gn, nT.Shape)), ("labels", FromDoubles<T>(gy, yT.Shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["margin_mse_loss", "st.MarginMSELoss", "margin_mse"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs =
        [
            new("query", InputKind.Floating, true, "query embeddings (N, D)"),
            new("passage", InputKind.Floating, true, "each query's first passage (N, D)"),
            new("negatives", InputKind.Floating, true, "second passages (N, K, D), or (N, D) for one"),
            new("labels", InputKind.Floating, true, "the teacher's margins sim(q, p) − sim(q, n) (N, K), or (N) for one"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Choice("similarity_fct", "pairwise_dot_score", "pairwise_dot_score (the default) or pairwise_cos_sim", "pairwise_dot_score", "pairwise_cos_sim"),
            .. MatryoshkaOptions,
        ],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(4, 3);
            return new LossInputs().Add("query", Samples.Normal(r, x)).Add("passage", Samples.Normal(r, x))
                .Add("negatives", Samples.Normal(r, new Shape(x[0], 2, x[1]))).Add("labels", Samples.Normal(r, new Shape(x[0], 2)));
        },
        Formula = "ℓ_ik = (sim(q_i, p_i) − sim(q_i, n_ik) − y_ik)²,  sim the dot product (or the cosine)",
        Gradient = "e = 2(margin − y):  ∂q = e·(p − n), ∂p = e·q, ∂n = −e·q (dot product)",
        Reference = "sentence-transformers MarginMSELoss; Hofstätter et al. 2020 (Margin-MSE)",
        Stability = "products in double: finite for any finite input",
        Libraries = "sentence-transformers (MarginMSELoss)",
        Factory = o => new MarginMSELoss(o.Reduction, o.Choice("similarity_fct") == "pairwise_cos_sim") { Matryoshka = MatryoshkaDims.From(o, "MarginMSELoss") },
    };

    public override LossDescriptor Descriptor => Entry;
}
