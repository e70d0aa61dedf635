using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Proxy Anchor (Kim et al., CVPR 2020), as pytorch-metric-learning's
/// <c>ProxyAnchorLoss(num_classes, embedding_size, margin=0.1, alpha=32)</c>: one learned proxy per class acts as an
/// anchor; it pulls in all of its class's embeddings in the batch and pushes away all others, each weighted by how
/// hard it is (a soft max over the batch), so every sample interacts with every proxy without mining pairs.
/// </summary>
/// <remarks>
/// <para><b>Math:</b> with cosines c_ij between the L2-normalized embeddings (N, D) and proxies (C, D),
/// ℓ = (1/|P⁺|) Σ_{j∈P⁺} log(1 + Σ_{i: y_i = j} e^{α(δ − c_ij)}) + (1/C) Σ_j log(1 + Σ_{i: y_i ≠ j} e^{α(c_ij + δ)}), where P⁺
/// is the set of classes with at least one embedding in the batch (pytorch-metric-learning's DivisorReducer divides
/// the positive sum by |P⁺| and the negative sum by C). One value per batch: there is no reduction option.</para>
/// <para><b>Derivation:</b> ∂ℓ/∂c_ij = −α·e^{a_ij − L⁺_j}/|P⁺| for i in class j and α·e^{b_ij − L⁻_j}/C otherwise, where
/// a, b are the exponents above and L⁺_j, L⁻_j the two log(1 + Σ e^·) (computed as log-sum-exp with the 1 as e⁰, so
/// α = 32 cannot overflow). The cosines pass it on to both normalizations as in <see cref="AngularMarginLoss"/>.
/// O(N·C·D) time, O(N·C) memory.</para>
/// <para>The proxies are a parameter of the loss in pytorch-metric-learning (<c>loss.proxies</c>); here they are an input
/// with its gradient, trained with the model by <c>losslab train</c>.</para>
/// </remarks>
public sealed class ProxyAnchorLoss : Loss, ILossDefinition, IClassParameterLoss
{
    public string ParameterInput => "proxies";

    /// <summary>The proxies are (C, D).</summary>
    public Shape ParameterShape(int dimension, int classes) => new(classes, dimension);

    public bool ClassifiesByCosine => true;

    /// <summary>Class c's proxy: row c.</summary>
    public double[][] ClassVectors(ReadOnlySpan<double> parameters, int dimension, int classes) => Embeddings.ProxyRows(parameters, dimension, classes);

    public double Margin { get; }

    public double Alpha { get; }

    public ProxyAnchorLoss(double margin = 0.1, double alpha = 32)
    {
        Margin = double.IsFinite(margin) ? margin : throw LossArgumentException.Value($"ProxyAnchorLoss: margin must be finite, got {margin}");
        Alpha = alpha > 0 && double.IsFinite(alpha) ? alpha : throw LossArgumentException.Value($"ProxyAnchorLoss: alpha must be a finite number > 0, got {alpha}");
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        const string name = "ProxyAnchorLoss";
        var (es, n, d, x, labels) = Embeddings.Read(inputs, name);
        var (c, ps, proxies) = Embeddings.ReadProxies(inputs, name, es, labels);
        var (unitE, normE) = Embeddings.Normalize(x, n, d);
        var (unitP, normP) = Embeddings.Normalize(proxies, c, d);
        // Every cosine at once (one matrix product, N × C, as the exponents were held before), then per class the two
        // log-sum-exps row by row: their maxima first, then the sums.
        var block = new PairBlock(unitE, unitP, c, d);
        var exponent = new double[n * c];   // a_ij for i in class j, b_ij otherwise; later ∂ℓ/∂cos_ij
        block.Similarities(0, n, exponent);
        // log(1 + Σ e^t) as a log-sum-exp that starts from e⁰.
        double[] mPos = new double[c], mNeg = new double[c], sPos = new double[c], sNeg = new double[c];
        for (int i = 0; i < n; i++)
        {
            Span<double> row = exponent.AsSpan(i * c, c);
            int own = (int)labels[i];
            for (int j = 0; j < c; j++)
            {
                double t = row[j] = j == own ? Alpha * (Margin - row[j]) : Alpha * (row[j] + Margin);
                if (j == own) mPos[j] = Math.Max(mPos[j], t); else mNeg[j] = Math.Max(mNeg[j], t);
            }
        }
        for (int j = 0; j < c; j++) (sPos[j], sNeg[j]) = (Math.Exp(-mPos[j]), Math.Exp(-mNeg[j]));
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> row = exponent.AsSpan(i * c, c);
            int own = (int)labels[i];
            for (int j = 0; j < c; j++)
            {
                if (j == own) sPos[j] += Math.Exp(row[j] - mPos[j]);
                else sNeg[j] += Math.Exp(row[j] - mNeg[j]);
            }
        }
        var lsePos = new double[c];
        var lseNeg = new double[c];
        for (int j = 0; j < c; j++) (lsePos[j], lseNeg[j]) = (mPos[j] + Math.Log(sPos[j]), mNeg[j] + Math.Log(sNeg[j]));
        var hasPositive = new bool[c];
        foreach (long y in labels) hasPositive[y] = true;
        int withPositives = hasPositive.Count(h => h);
        double pos = 0, neg = 0;
        for (int j = 0; j < c; j++) { pos += lsePos[j]; neg += lseNeg[j]; }   // L⁺_j = 0 for a class with no embedding
        double loss = (withPositives > 0 ? pos / withPositives : 0) + neg / c;
        TensorData value = FromDoubles<T>([loss], Shape.Scalar);
        if (!computeGradients) return Result(value);
        var gUnitE = new double[n * d];
        var gUnitP = new double[c * d];
        for (int i = 0; i < n; i++)
        {
            Span<double> row = exponent.AsSpan(i * c, c);
            int own = (int)labels[i];
            for (int j = 0; j < c; j++)
                row[j] = j == own ? -Alpha * Math.Exp(row[j] - lsePos[j]) / withPositives : Alpha * Math.Exp(row[j] - lseNeg[j]) / c;
        }
        block.Fold(exponent, 0, n, gUnitE, gUnitP, new double[n * c]);
        return Result(value, ("embeddings", FromDoubles<T>(Embeddings.BackThroughNormalize(gUnitE, unitE, normE, n, d), es)),
            ("proxies", FromDoubles<T>(Embeddings.BackThroughNormalize(gUnitP, unitP, normP, c, d), ps)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "ProxyAnchorLoss",
        Aliases = ["proxy_anchor_loss", "proxy_anchor", "pml.ProxyAnchorLoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.ProxyInputs,
        Options =
        [
            OptionSpec.Float("margin", 0.1, "δ, the cosine margin on both sides"),
            OptionSpec.Float("alpha", 32, "α, the scale: how sharply the hardest samples dominate each proxy's sum"),
        ],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(6, 4);
            return new LossInputs().Add("embeddings", Samples.Normal(r, x)).Add("labels", Samples.Classes(r, new Shape(x[0]), 4))
                .Add("proxies", Samples.Normal(r, new Shape(4, x[1])));
        },
        Formula = "ℓ = (1/|P⁺|) Σ_{j∈P⁺} log(1 + Σ_{y_i=j} e^{α(δ − c_ij)}) + (1/C) Σ_j log(1 + Σ_{y_i≠j} e^{α(c_ij + δ)}),  c_ij = ê_i·p̂_j",
        Gradient = "∂ℓ/∂c_ij = −α·softmax weight/|P⁺| (own class), +α·softmax weight/C (other classes), each weight e^{t − log(1 + Σ e^t)}; through both L2 normalizations",
        Reference = "Kim et al., Proxy Anchor Loss for Deep Metric Learning, CVPR 2020; pytorch-metric-learning ProxyAnchorLoss",
        Stability = "finite for every finite input (log(1 + Σ e^t) as a max-shifted log-sum-exp; norms clamped at 1e-12)",
        Libraries = "pytorch-metric-learning (ProxyAnchorLoss)",
        Factory = o => new ProxyAnchorLoss(o.Float("margin"), o.Float("alpha")),
    };

    public override LossDescriptor Descriptor => Entry;
}
