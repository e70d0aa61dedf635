using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// Cosine embedding loss for pairs: ℓ = 1 − cos(x₁, x₂) for y = 1, max(0, cos(x₁, x₂) − margin) for y = −1.
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.cosine_embedding_loss(input1, input2, target, margin=0, reduction='mean')</c>.
/// Shapes: inputs (N, D) with target (N), or (D) with a 0-dim target. cos = P/√(A·B) with P = x₁·x₂,
/// A = ‖x₁‖² + ε, B = ‖x₂‖² + ε, ε = 1e-12 (PyTorch's EPSILON), so a zero vector gives cos = 0, not NaN.
/// Derivation: ∂cos/∂x₁ = x₂/√(AB) − cos·x₁/A, ∂cos/∂x₂ = x₁/√(AB) − cos·x₂/B; the y = 1 term contributes −∂cos,
/// the y = −1 term +∂cos where cos − margin ≥ 0 (clamp_min passes the tie). Labels other than ±1 contribute 0.
/// Dot products are accumulated in double. Finite for |x| ≤ 1e18 in float32.
/// </remarks>
public sealed class CosineEmbeddingLoss(CosineEmbeddingLoss.Options options) : Loss, ILossDefinition
{
    private const double Epsilon = 1e-12;

    public CosineEmbeddingLoss() : this(new Options()) { }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>Dissimilar pairs are penalized only above this cosine (PyTorch suggests 0 to 0.5).</summary>
        public double Margin { get; init; }
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        RequireSameShape(inputs, "input1", "input2");
        Shape shape = inputs["input1"].Shape, targetShape = inputs["target"].Shape;
        bool batched = shape.Rank == 2;
        if (!(shape.Rank is 1 or 2) || targetShape != (batched ? new Shape(shape[0]) : Shape.Scalar))
        {
            throw LossArgumentException.Shape(
                $"CosineEmbeddingLoss: inputs must be (N, D) with target (N), or (D) with a 0-dim target; got inputs {shape} and target {targetShape}");
        }
        int n = batched ? shape[0] : 1, d = shape[shape.Rank - 1];
        T[] a = inputs.Floating<T>("input1"), b = inputs.Floating<T>("input2"), y = inputs.Floating<T>("target");
        var loss = new T[n];
        var cos = new double[n];
        var norms = new (double A, double B, double Root)[n];
        for (int i = 0; i < n; i++)
        {
            double p = 0, aa = Epsilon, bb = Epsilon;
            for (int k = 0; k < d; k++)
            {
                double u = double.CreateTruncating(a[i * d + k]), v = double.CreateTruncating(b[i * d + k]);
                p += u * v;
                aa += u * u;
                bb += v * v;
            }
            double root = Math.Sqrt(aa * bb);
            cos[i] = p / root;
            norms[i] = (aa, bb, root);
            loss[i] = y[i] == T.One ? T.CreateTruncating(1 - cos[i])
                : y[i] == -T.One ? T.CreateTruncating(Math.Max(cos[i] - options.Margin, 0))
                : T.Zero;
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, options.Reduction, n);
        TensorData value = ValueTensor(options.Reduction, reduced, loss, targetShape);
        if (!computeGradients) return Result(value);
        var ga = new T[a.Length];
        var gb = new T[b.Length];
        for (int i = 0; i < n; i++)
        {
            // s = ∂ℓ/∂cos: −1 for similar pairs, +1 for dissimilar pairs above the margin, 0 otherwise.
            double s = y[i] == T.One ? -1 : y[i] == -T.One && cos[i] - options.Margin >= 0 ? 1 : 0;
            if (s == 0) continue;
            s *= reduced.Scale;
            var (aa, bb, root) = norms[i];
            for (int k = 0; k < d; k++)
            {
                double u = double.CreateTruncating(a[i * d + k]), v = double.CreateTruncating(b[i * d + k]);
                ga[i * d + k] = T.CreateTruncating(s * (v / root - cos[i] * u / aa));
                gb[i * d + k] = T.CreateTruncating(s * (u / root - cos[i] * v / bb));
            }
        }
        return Result(value, ("input1", Wrap(ga, shape)), ("input2", Wrap(gb, shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "CosineEmbeddingLoss",
        Aliases = ["cosine_embedding_loss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs =
        [
            new("input1", InputKind.Floating, true, "embeddings (N, D) or (D)"),
            new("input2", InputKind.Floating, true, "embeddings, same shape"),
            new("target", InputKind.Floating, false, "1 for similar pairs, −1 for dissimilar; (N) or ()"),
        ],
        Options = [OptionSpec.Reduction("none", "mean", "sum"), OptionSpec.Float("margin", 0.0, "cosine above which dissimilar pairs are penalized")],
        Sample = (r, s) => { Shape x = Samples.Or(s, 4, 5); return new LossInputs().Add("input1", Samples.Normal(r, x)).Add("input2", Samples.Normal(r, x)).Add("target", Samples.Signs(r, x.Rank == 2 ? new Shape(x[0]) : Shape.Scalar)); },
        Formula = "ℓ = 1 − cos(x₁, x₂) if y = 1;  max(0, cos(x₁, x₂) − margin) if y = −1",
        Gradient = "∂cos/∂x₁ = x₂/√(AB) − cos·x₁/A,  A = ‖x₁‖² + 1e-12, B = ‖x₂‖² + 1e-12",
        Reference = "torch.nn.functional.cosine_embedding_loss",
        Stability = "finite for every finite input; a zero vector gives cos = 0 (ε = 1e-12 in both norms)",
        Libraries = "PyTorch, TorchSharp",
        Factory = o => new CosineEmbeddingLoss(new Options { Reduction = o.Reduction, Margin = o.Float("margin") }),
    };

    public override LossDescriptor Descriptor => Entry;
}
