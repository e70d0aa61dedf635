using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Proxy-NCA (Movshovitz-Attias et al., ICCV 2017), pytorch-metric-learning's
/// <c>ProxyNCALoss(num_classes, embedding_size, softmax_scale=1)</c>: NCA with one learned proxy per class as the
/// references, ℓ_i = −log softmax_j(−s·‖ê_i − p̂_j‖²) at j = y_i, the proxies L2-normalized like the embeddings.
/// </summary>
/// <remarks>
/// <para>For unit vectors ‖ê − p̂‖² = 2 − 2·cos, so this is cross-entropy of 2s·cos(ê_i, p̂_j): the normalized softmax
/// with temperature 1/(2s) and the proxies laid out (C, D) (tested). A zero embedding (whose normalized vector is 0,
/// not unit) is at distance 1 from every proxy, as in pytorch-metric-learning. <c>mean</c> averages the rows.</para>
/// <para>The proxies are a parameter of the loss in pytorch-metric-learning (<c>loss.proxies</c>); here they are an
/// input with its gradient, trained with the model by <c>losslab train</c>. Shared computation:
/// <see cref="NcaLoss"/>.</para>
/// </remarks>
public sealed class ProxyNcaLoss(double softmaxScale = 1, Reduction reduction = Reduction.Mean) : Loss, ILossDefinition, IClassParameterLoss
{
    public double SoftmaxScale { get; } = softmaxScale > 0 && double.IsFinite(softmaxScale) ? softmaxScale
        : throw LossArgumentException.Value($"ProxyNcaLoss: softmax_scale must be a finite number > 0, got {softmaxScale}");

    public Reduction Reduction { get; } = reduction;

    public string ParameterInput => "proxies";

    /// <summary>The proxies are (C, D).</summary>
    public Shape ParameterShape(int dimension, int classes) => new(classes, dimension);

    public bool ClassifiesByCosine => true;

    /// <summary>Class c's proxy: row c.</summary>
    public double[][] ClassVectors(ReadOnlySpan<double> parameters, int dimension, int classes) => Embeddings.ProxyRows(parameters, dimension, classes);

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        const string name = "ProxyNcaLoss";
        var (es, n, d, x, labels) = Embeddings.Read(inputs, name);
        var (c, ps, proxies) = Embeddings.ReadProxies(inputs, name, es, labels);
        var (unitE, normE) = Embeddings.Normalize(x, n, d);
        var (unitP, normP) = Embeddings.Normalize(proxies, c, d);
        long[] proxyLabels = [.. Enumerable.Range(0, c).Select(j => (long)j)];
        var r = Nca.Run(unitE, n, unitP, c, d, labels, proxyLabels, SoftmaxScale, excludeSelf: false, computeGradients);
        T[] losses = [.. r.Losses.Select(T.CreateTruncating)];
        Reducer.Reduced reduced = Reducer.Reduce<T>(losses, Reduction, Math.Max(r.Kept, 1));
        TensorData value = ValueTensor(Reduction, reduced, losses, new Shape(n));
        if (!computeGradients) return Result(value);
        // Both are Nca.Run's own arrays: scaled in place (at 100000 proxies of 512 a copy is 410 MB).
        double[] ge = r.GradQuery!, gp = r.GradReference!;
        System.Numerics.Tensors.TensorPrimitives.Multiply<double>(ge, reduced.Scale, ge);
        System.Numerics.Tensors.TensorPrimitives.Multiply<double>(gp, reduced.Scale, gp);
        return Result(value, ("embeddings", FromDoubles<T>(Embeddings.BackThroughNormalize(ge, unitE, normE, n, d), es)),
            ("proxies", FromDoubles<T>(Embeddings.BackThroughNormalizeInPlace(gp, unitP, normP, c, d), ps)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "ProxyNcaLoss",
        Aliases = ["proxy_nca_loss", "proxy_nca", "pml.ProxyNCALoss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Embeddings.ProxyInputs,
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Float("softmax_scale", 1, "s > 0, the softmax's scale on minus the squared distances"),
        ],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(6, 4);
            return new LossInputs().Add("embeddings", Samples.Normal(r, x)).Add("labels", Samples.Classes(r, new Shape(x[0]), 4))
                .Add("proxies", Samples.Normal(r, new Shape(4, x[1])));
        },
        Formula = "ℓ_i = −log softmax_j(−s·‖ê_i − p̂_j‖²)_{y_i}",
        Gradient = "∂ℓ_i/∂z_ij = softmax_j − [j = y_i], z_ij = −s·d_ij; ∂d_ij/∂ê_i = 2(ê_i − p̂_j) = −∂d_ij/∂p̂_j; through both L2 normalizations",
        Reference = "Movshovitz-Attias et al., No Fuss Distance Metric Learning using Proxies, ICCV 2017; pytorch-metric-learning ProxyNCALoss",
        Stability = "finite for every finite input (log-sum-exps; norms clamped at 1e-12)",
        Libraries = "pytorch-metric-learning (ProxyNCALoss)",
        Factory = o => new ProxyNcaLoss(o.Float("softmax_scale"), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
