using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// sentence-transformers' <c>CosineSimilarityLoss(loss_fct=MSELoss(), cos_score_transformation=Identity())</c>: the
/// squared error between each pair's cosine and its gold score, ℓ_k = (cos(u_k, v_k) − y_k)², averaged over the pairs
/// (MSELoss's mean). Scores live in the cosine's range [−1, 1] (STS scores rescaled to [0, 1] are common).
/// </summary>
/// <remarks>
/// <b>Gradient:</b> ∂ℓ_k/∂û_k = 2(cos − y)·v̂_k, then through û = u/max(‖u‖, 1e-12): (g − (g·û)û)/‖u‖ (0 for a zero row,
/// where PyTorch's clamp gives g/1e-12); ∂ℓ_k/∂y_k = −2(cos − y), as MSELoss's target gradient.
/// </remarks>
public sealed class CosineSimilarityLoss : SentenceEmbeddingLoss, ILossDefinition
{
    private readonly Reduction _reduction;

    public CosineSimilarityLoss(Reduction reduction = Reduction.Mean) => _reduction = reduction;

    protected override string[] EmbeddingInputs => ["embeddings1", "embeddings2"];

    protected override LossResult ComputeEmbeddings<T>(LossInputs inputs, bool computeGradients)
    {
        const string name = "CosineSimilarityLoss";
        var (n, d, u, v) = EmbeddingPairs.Read(inputs, name);
        double[] y = EmbeddingPairs.Labels(inputs, name, n, "one score per pair");
        var losses = new double[n];
        double[] gu = computeGradients ? new double[u.Length] : [], gv = computeGradients ? new double[v.Length] : [], gy = computeGradients ? new double[n] : [];
        double scale = Reducer.Scale(_reduction, n);
        var pu = new double[d];
        var pv = new double[d];
        for (int k = 0; k < n; k++)
        {
            bool grad = computeGradients;
            Array.Clear(pu);
            Array.Clear(pv);
            double c = PairRanking.Cosine(u.AsSpan(k * d, d), v.AsSpan(k * d, d), grad ? pu : [], grad ? pv : [], name, k);
            double e = c - y[k];
            losses[k] = e * e;
            if (!grad) continue;
            gy[k] = -scale * 2 * e;
            for (int q = 0; q < d; q++)
            {
                gu[k * d + q] = scale * 2 * e * pu[q];
                gv[k * d + q] = scale * 2 * e * pv[q];
            }
        }
        TensorData value = ReduceRows<T>(losses, _reduction, new Shape(n)).Value;
        if (!computeGradients) return Result(value);
        return Result(value, ("embeddings1", FromDoubles<T>(gu, inputs["embeddings1"].Shape)), ("embeddings2", FromDoubles<T>(gv, inputs["embeddings2"].Shape)),
            ("labels", FromDoubles<T>(gy, inputs["labels"].Shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "CosineSimilarityLoss",
        Aliases = ["cosine_similarity_loss", "st.CosineSimilarityLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = EmbeddingPairs.Inputs("each pair's gold cosine (N)", labelsDifferentiable: true),
        Options = [OptionSpec.Reduction("none", "mean", "sum"), .. MatryoshkaOptions],
        Sample = (r, s) => EmbeddingPairs.Sample(r, s, (r, n) => Samples.Uniform(r, n, -1, 1)),
        Formula = "ℓ_k = (cos(u_k, v_k) − y_k)²",
        Gradient = "∂ℓ_k/∂û_k = 2(cos − y)·v̂_k, through û = u/max(‖u‖, 1e-12)",
        Reference = "sentence-transformers CosineSimilarityLoss (loss_fct MSELoss)",
        Stability = "normalized rows in double: finite for any finite input",
        Libraries = "sentence-transformers (CosineSimilarityLoss)",
        Factory = o => new CosineSimilarityLoss(o.Reduction) { Matryoshka = MatryoshkaDims.From(o, "CosineSimilarityLoss") },
    };

    public override LossDescriptor Descriptor => Entry;
}
