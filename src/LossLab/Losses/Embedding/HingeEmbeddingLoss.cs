using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Embedding;

/// <summary>
/// Hinge embedding loss on distances x with ±1 labels: ℓ = x for y = 1, max(0, margin − x) for y = −1.
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.hinge_embedding_loss(input, target, margin=1.0, reduction='mean')</c>, computed
/// as <c>where(y ≠ 1, max(0, margin − x), 0) + where(y ≠ −1, x, 0)</c>: a label that is neither 1 nor −1 gets
/// BOTH terms (PyTorch's own test relies on it). Gradient: +1 from the x term, −1 from the margin term where
/// margin − x ≥ 0 (PyTorch's clamp_min passes the gradient at the tie). The target is not differentiated.
/// Finite for every finite input.
/// </remarks>
public sealed class HingeEmbeddingLoss : ElementwiseLoss<HingeEmbeddingLoss.Kernel>, ILossDefinition
{
    private readonly Kernel _kernel;

    public HingeEmbeddingLoss() : this(new Options()) { }

    public HingeEmbeddingLoss(Options options) : base(options.Reduction, null) => _kernel = new Kernel(options.Margin);

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        public double Margin { get; init; } = 1.0;
    }

    /// <summary>ℓ = [y ≠ −1]·x + [y ≠ 1]·max(0, m − x); ∂ℓ/∂x = [y ≠ −1] − [y ≠ 1]·[m − x ≥ 0].</summary>
    public readonly struct Kernel(double margin) : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T v = T.Zero;
            if (y != -T.One) v += x;
            if (y != T.One) v += T.Max(T.CreateTruncating(margin) - x, T.Zero);
            return v;
        }

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
        {
            T d = T.Zero;
            if (y != -T.One) d += T.One;
            if (y != T.One && T.CreateTruncating(margin) - x >= T.Zero) d -= T.One;
            return (d, T.Zero);
        }
    }

    protected override bool TargetDifferentiable => false;

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "HingeEmbeddingLoss",
        Aliases = ["hinge_embedding_loss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = [new("input", InputKind.Floating, true, "distances, any shape"), new("target", InputKind.Floating, false, "labels ±1, same shape")],
        Options = [OptionSpec.Reduction(StandardReductions), OptionSpec.Float("margin", 1.0, "margin for dissimilar pairs")],
        Sample = (r, s) => new LossInputs().Add("input", Samples.Normal(r, Samples.Or(s, 3, 4), 2)).Add("target", Samples.Signs(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = x if y = 1;  max(0, margin − x) if y = −1 (both terms for other y)",
        Gradient = "∂ℓ/∂x = [y ≠ −1] − [y ≠ 1]·[margin − x ≥ 0]",
        Reference = "torch.nn.functional.hinge_embedding_loss",
        Stability = "finite for every finite input",
        LowerBound = double.NegativeInfinity,   // the y = 1 term is the input itself
        Libraries = "PyTorch, TorchSharp",
        Factory = o => new HingeEmbeddingLoss(new Options { Reduction = o.Reduction, Margin = o.Float("margin") }),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => _kernel;
}
