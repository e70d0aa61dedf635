using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// sentence-transformers' sparse-encoder <c>FlopsLoss(model, threshold=None)</c> (Paria et al. 2020, minimizing FLOPs
/// to learn sparse representations; SPLADE's regularizer): ℓ = Σ_v (mean_i w_iv)², the squared L2 norm of the batch's
/// mean sparse embedding w (N, V). A vocabulary term's mean activation is the fraction of rows that would touch its
/// posting list, so ℓ estimates the retrieval cost; squaring spreads the activations over many terms rather than few.
/// With <c>threshold</c> τ, rows with at most τ non-zero entries are zeroed first (l0 masking, 2025), still counted in N.
/// </summary>
/// <remarks>
/// <b>Gradient:</b> ∂ℓ/∂w_iv = 2·m_v/N for the kept rows, m_v = (1/N)·Σ_{kept i} w_iv; 0 for the masked ones (the count of
/// non-zeros is a step). The paper writes mean |w|; sparse encoders' activations (ReLU, log1p) are ≥ 0, where the two
/// agree, and sentence-transformers takes the plain mean, as here.
/// </remarks>
public sealed class FlopsLoss : Loss, ILossDefinition
{
    private const string Name = "FlopsLoss";
    private readonly double? _threshold;

    public FlopsLoss(double? threshold = null)
    {
        if (threshold is double t && double.IsNaN(t)) throw LossArgumentException.Value($"{Name}: threshold must be a number or None, got NaN");
        _threshold = threshold;
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        TensorData wT = inputs["embeddings"];
        if (wT.Shape.Rank != 2 || wT.Shape[0] == 0)
            throw LossArgumentException.Shape($"{Name}: 'embeddings' must be (N, V), one sparse embedding per row with N ≥ 1, got shape {wT.Shape}");
        int n = wT.Shape[0], v = wT.Shape[1];
        double[] w = wT.ToArray<double>();
        var kept = new bool[n];
        for (int i = 0; i < n; i++)
        {
            int nonZero = 0;
            for (int k = 0; k < v; k++) if (w[i * v + k] != 0) nonZero++;
            kept[i] = _threshold is not double t || nonZero > t;
        }
        var mean = new double[v];
        for (int i = 0; i < n; i++)
        {
            if (!kept[i]) continue;
            for (int k = 0; k < v; k++) mean[k] += w[i * v + k];
        }
        double value = 0;
        for (int k = 0; k < v; k++) { mean[k] /= n; value += mean[k] * mean[k]; }
        TensorData result = FromDoubles<T>([value], Shape.Scalar);
        if (!computeGradients) return Result(result);
        var g = new double[w.Length];
        for (int i = 0; i < n; i++)
        {
            if (!kept[i]) continue;
            for (int k = 0; k < v; k++) g[i * v + k] = 2 * mean[k] / n;
        }
        return Result(result, ("embeddings", FromDoubles<T>(g, wT.Shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["flops_loss", "FLOPSLoss", "st.FlopsLoss", "flops"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = [new("embeddings", InputKind.Floating, true, "sparse embeddings (N, V), e.g. a batch's queries or its documents, activations ≥ 0")],
        Options = [OptionSpec.OptionalFloat("threshold", "zero the rows with at most this many non-zero entries (l0 masking); None: keep all")],
        Sample = (r, s) => new LossInputs().Add("embeddings", Samples.Uniform(r, s.Rank == 2 ? s : new Shape(4, 6), 0.05, 2)),
        Formula = "ℓ = Σ_v (mean_i w_iv)²  (rows with ≤ threshold non-zeros zeroed)",
        Gradient = "∂ℓ/∂w_iv = 2·mean_v/N (0 for masked rows)",
        Reference = "sentence-transformers sparse_encoder FlopsLoss; Paria et al. 2020 (FLOPS regularization); SPLADE (Formal et al. 2021)",
        Stability = "sums in double: finite for any finite input",
        LowerBound = 0,
        Libraries = "sentence-transformers (FlopsLoss, inside SpladeLoss)",
        Factory = o => new FlopsLoss(o.NullableFloat("threshold")),
    };

    public override LossDescriptor Descriptor => Entry;
}
