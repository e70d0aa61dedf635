using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.MetricLearning;

/// <summary>
/// Center loss (Wen, Zhang, Li &amp; Qiao, A Discriminative Feature Learning Approach for Deep Face Recognition, ECCV
/// 2016): ℓ_i = ‖x_i − c_{y_i}‖², the squared distance of each embedding (N, D) to its class's centre, the centres
/// (C, D) learned with the model. The mean over the batch is pytorch-center-loss's value (KaiyangZhou's, the common
/// PyTorch implementation: the masked distance matrix summed and divided by the batch size).
/// </summary>
/// <remarks>
/// <para><b>Use:</b> it pulls each class together and nothing pushes classes apart: alone, embeddings and centres
/// collapse to one point at zero loss. The paper adds λ times it (with its ½) to softmax cross-entropy, λ about 0.003 to
/// 0.01: L = CE + λ·½·Σ_i ℓ_i/N.</para>
/// <para><b>Gradient:</b> ∂ℓ_i/∂x_i = 2(x_i − c_{y_i}), ∂/∂c_j = −2·Σ_{i: y_i = j}(x_i − c_j), times the reduction's factor.
/// The paper moves the centres by its own damped average, Δc_j = Σ_{i: y_i = j}(c_j − x_i)/(1 + n_j) at rate α, and
/// pytorch-center-loss by this gradient rescaled (1/λ) under a separate learning rate: the choice of optimizer is the
/// caller's.</para>
/// <para><b>Against pytorch-center-loss:</b> it clamps the whole masked (N, C) distance matrix to [1e-12, 1e12], so each
/// of the N(C − 1) masked zeros adds 1e-12 to the sum (and a distance above 1e12 would be capped, a distance below
/// 1e-12 raised): left out here, the paper's formula. Each distance is computed as Σ_k (x_ik − c_jk)², not its
/// ‖x‖² + ‖c‖² − 2x·c expansion, which loses the digits of a small distance between long vectors.</para>
/// </remarks>
public sealed class CenterLoss(Reduction reduction = Reduction.Mean) : Loss, ILossDefinition
{
    private const string Name = "CenterLoss";

    public Reduction Reduction { get; } = reduction;

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        var (es, n, d, x, labels) = Embeddings.Read(inputs, Name);
        Shape cs = inputs["centers"].Shape;
        if (cs.Rank != 2 || cs[1] != d || cs[0] == 0) throw LossArgumentException.Shape($"{Name}: 'centers' has shape {cs}; expected (C, D) = (C, {d}) for embeddings {es}");
        int classes = cs[0];
        for (int i = 0; i < n; i++)
            if (labels[i] < 0 || labels[i] >= classes) throw LossArgumentException.Value($"{Name}: label {labels[i]} at row {i} is not one of the {classes} centres' classes");
        double[] centers = inputs["centers"].ToArray<double>();
        var loss = new T[n];
        for (int i = 0; i < n; i++)
        {
            int y = (int)labels[i];
            double sum = 0;
            for (int k = 0; k < d; k++)
            {
                double diff = x[i * d + k] - centers[y * d + k];
                sum += diff * diff;
            }
            loss[i] = T.CreateTruncating(sum);
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, Reduction, n);
        TensorData value = ValueTensor(Reduction, reduced, loss, new Shape(n));
        if (!computeGradients) return Result(value);
        var gx = new double[n * d];
        var gc = new double[classes * d];
        for (int i = 0; i < n; i++)
        {
            int y = (int)labels[i];
            for (int k = 0; k < d; k++)
            {
                double g = 2 * reduced.Scale * (x[i * d + k] - centers[y * d + k]);
                gx[i * d + k] = g;
                gc[y * d + k] -= g;
            }
        }
        return Result(value, ("embeddings", FromDoubles<T>(gx, es)), ("centers", FromDoubles<T>(gc, cs)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["center_loss", "centre_loss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs =
        [
            new("embeddings", InputKind.Floating, true, "embeddings (N, D)"),
            new("labels", InputKind.Indices, false, "class labels (N) in [0, C)"),
            new("centers", InputKind.Floating, true, "one centre per class (C, D), the loss's parameters (pytorch-center-loss's centers)"),
        ],
        Options = [OptionSpec.Reduction()],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(6, 4);
            return new LossInputs().Add("embeddings", Samples.Normal(r, x)).Add("labels", Samples.Classes(r, new Shape(x[0]), 3))
                .Add("centers", Samples.Normal(r, new Shape(3, x[1])));
        },
        Formula = "ℓ_i = ‖x_i − c_{y_i}‖²  (the paper's L_C = ½·Σ_i ℓ_i, added to softmax cross-entropy with a weight λ)",
        Gradient = "∂ℓ_i/∂x_i = 2(x_i − c_{y_i});  ∂/∂c_j = −2·Σ_{i: y_i = j}(x_i − c_j)",
        Reference = "Wen, Zhang, Li & Qiao, A Discriminative Feature Learning Approach for Deep Face Recognition, ECCV 2016; KaiyangZhou/pytorch-center-loss",
        Stability = "a sum of squared differences: finite for every finite input, exact for small distances between long vectors",
        Libraries = "pytorch-center-loss (KaiyangZhou), many face-recognition codebases",
        Factory = o => new CenterLoss(o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
