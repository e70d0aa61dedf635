using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Two-class logistic loss on ±1 labels: ℓ = log(1 + e^(−y·x)). Gradient ∂ℓ/∂x = −y·σ(−y·x).
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.soft_margin_loss(input, target, reduction='mean')</c>. Computed as softplus(−y·x),
/// so it is exact where PyTorch overflows: at −y·x = 1e4 it returns 1e4 (PyTorch returns ∞ and a NaN gradient in
/// float32 beyond −y·x ≈ 88). The target holds labels and is not differentiated.
/// </remarks>
public sealed class SoftMarginLoss(SoftMarginLoss.Options options) : ElementwiseLoss<SoftMarginLoss.Kernel>(options.Reduction, null), ILossDefinition
{
    public SoftMarginLoss() : this(new Options()) { }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;
    }

    /// <summary>ℓ = softplus(−y·x); ∂ℓ/∂x = −y·σ(−y·x).</summary>
    public readonly struct Kernel : IElementwiseKernel
    {
        public T Value<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T> => Stable.Softplus(-y * x);

        public (T Dx, T Dy) Derivative<T>(T x, T y, T a) where T : struct, IFloatingPointIeee754<T>
            => (-y * Stable.Sigmoid(-y * x), T.Zero);
    }

    protected override bool TargetDifferentiable => false;

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "SoftMarginLoss",
        Aliases = ["soft_margin_loss", "logistic_loss"],
        Family = LossFamily.Classification,
        Task = LossTask.BinaryClassification,
        Inputs = [new("input", InputKind.Floating, true, "scores"), new("target", InputKind.Floating, false, "labels ±1, same shape")],
        Options = [OptionSpec.Reduction(StandardReductions)],
        Sample = (r, s) => new LossInputs().Add("input", Samples.Normal(r, Samples.Or(s, 3, 4), 2)).Add("target", Samples.Signs(r, Samples.Or(s, 3, 4))),
        Formula = "ℓ = log(1 + exp(−y·x))",
        Gradient = "∂ℓ/∂x = −y·σ(−y·x)",
        Reference = "torch.nn.functional.soft_margin_loss",
        Stability = "exact for |x| ≤ 1e4 and beyond (softplus form; PyTorch overflows past 88 in float32)",
        Libraries = "PyTorch, TorchSharp, ML.NET (LogLoss)",
        Factory = o => new SoftMarginLoss(new Options { Reduction = o.Reduction }),
    };

    public override LossDescriptor Descriptor => Entry;

    protected override Kernel ElementKernel => default;
}
