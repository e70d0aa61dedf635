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
/// O(N·C·D) time as matrix products a chunk of classes at a time in the proxies' own (C, D) layout; memory O((N + C)·D)
/// and a chunk of 2¹⁸ cosines, never N × C.</para>
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
        var hasPositive = new bool[c];
        foreach (long y in labels) hasPositive[y] = true;
        int withPositives = hasPositive.Count(h => h);
        // Every class's terms are sums over the batch, so the work goes a chunk of classes at a time in the classes'
        // own layout: Sᵀ = P[chunk]·Êᵀ (classes × N), each row divided by its proxy's norm (no normalized or transposed
        // copy of the proxies: at 100000 of 512 each is 410 MB), then each class's two log-sum-exps along its row, and
        // its gradient row in place; ∂p̂[chunk] = Gᵀ·Ê and ∂Êᵀ += P[chunk]ᵀ·(Gᵀ/‖p‖) before the next chunk.
        double[] normP = Embeddings.Norms(proxies, c, d);
        double[] unitET = GemmF64.Transposed(unitE, n, d);   // Êᵀ (D, N)
        int chunk = PairBlock.Chunk(c, n);
        var block = new double[chunk * n];
        bool grads = computeGradients;
        double[] gUnitET = grads ? new double[d * n] : [], gUnitP = grads ? new double[c * d] : [], pT = grads ? new double[d * chunk] : [];
        double pos = 0, neg = 0;   // Σ_j L⁺_j (0 for a class with no embedding) and Σ_j L⁻_j, in class order
        for (int j0 = 0; j0 < c; j0 += chunk)
        {
            int count = Math.Min(chunk, c - j0);
            Span<double> sT = block.AsSpan(0, count * n);
            sT.Clear();
            GemmF64.MultiplyAdd(proxies.AsSpan(j0 * d), d, unitET, n, sT, n, count, d, n);
            for (int jj = 0; jj < count; jj++)
            {
                int j = j0 + jj;
                Span<double> row = sT.Slice(jj * n, n);
                System.Numerics.Tensors.TensorPrimitives.Divide<double>(row, normP[j], row);   // the cosines c_ij, i = 0..N−1
                // a_ij = α(δ − c_ij) for i in class j, b_ij = α(c_ij + δ) otherwise; log(1 + Σ e^t) as a log-sum-exp from e⁰.
                double mPos = 0, mNeg = 0;
                for (int i = 0; i < n; i++)
                {
                    bool own = labels[i] == j;
                    double t = row[i] = own ? Alpha * (Margin - row[i]) : Alpha * (row[i] + Margin);
                    if (own) mPos = Math.Max(mPos, t); else mNeg = Math.Max(mNeg, t);
                }
                double sPos = Math.Exp(-mPos), sNeg = Math.Exp(-mNeg);
                for (int i = 0; i < n; i++)
                {
                    if (labels[i] == j) sPos += Math.Exp(row[i] - mPos);
                    else sNeg += Math.Exp(row[i] - mNeg);
                }
                double lsePos = mPos + Math.Log(sPos), lseNeg = mNeg + Math.Log(sNeg);
                pos += lsePos;
                neg += lseNeg;
                if (!grads) continue;
                for (int i = 0; i < n; i++)
                    row[i] = labels[i] == j ? -Alpha * Math.Exp(row[i] - lsePos) / withPositives : Alpha * Math.Exp(row[i] - lseNeg) / c;
            }
            if (!grads) continue;
            GemmF64.MultiplyAdd(sT, n, unitE, d, gUnitP.AsSpan(j0 * d), d, count, n, d);   // ∂p̂[chunk] = Gᵀ·Ê
            for (int jj = 0; jj < count; jj++) System.Numerics.Tensors.TensorPrimitives.Divide<double>(sT.Slice(jj * n, n), normP[j0 + jj], sT.Slice(jj * n, n));
            GemmF64.Transpose(proxies.AsSpan(j0 * d, count * d), count, d, pT.AsSpan(0, d * count));
            GemmF64.MultiplyAdd(pT, count, sT, n, gUnitET, n, d, count, n);   // ∂Êᵀ += Pᵀ·(Gᵀ/‖p‖)
        }
        double loss = (withPositives > 0 ? pos / withPositives : 0) + neg / c;
        TensorData value = FromDoubles<T>([loss], Shape.Scalar);
        if (!grads) return Result(value);
        double[] gUnitE = GemmF64.Transposed(gUnitET, d, n);
        Embeddings.BackThroughNormsInPlace(gUnitP, proxies, normP, c, d);
        return Result(value, ("embeddings", FromDoubles<T>(Embeddings.BackThroughNormalize(gUnitE, unitE, normE, n, d), es)),
            ("proxies", FromDoubles<T>(gUnitP, ps)));
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
